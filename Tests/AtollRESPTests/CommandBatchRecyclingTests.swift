@testable import AtollRESP
import NIOCore
import Testing

/// The batch refills emptied arguments' arrays: what a command kept must never change, and
/// what is decoded must equal what was sent.
@Suite struct CommandBatchRecyclingTests {
    private func request(_ args: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args { out += Array("$\(a.count)\r\n".utf8) + a + Array("\r\n".utf8) }
        return out
    }

    @Test func anArgumentNobodyKeptIsRefilledAndOneKeptIsNot() throws {
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var buffer = ByteBuffer(bytes: request([Array("GET".utf8), Array("key:1".utf8)]) + request([Array("GET".utf8), Array("key:2".utf8)]))
        try decoder.decode(&buffer, into: &batch)
        #expect(batch.count == 2)
        let kept = batch.arguments[3]  // what a command that stores its argument holds
        batch.removeAll()
        #expect(batch.slotCount == 4)
        buffer = ByteBuffer(bytes: request([Array("SET".utf8), Array("key:3".utf8), Array("v".utf8)])
                            + request([Array("SET".utf8), Array("key:4".utf8)]))
        try decoder.decode(&buffer, into: &batch)
        #expect(batch.commands == [[Array("SET".utf8), Array("key:3".utf8), Array("v".utf8)], [Array("SET".utf8), Array("key:4".utf8)]])
        #expect(kept == Array("key:2".utf8))
        #expect(batch.slotCount == 5)
    }

    @Test func largeArraysAreNotKept() throws {
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var buffer = ByteBuffer(bytes: request([Array("SET".utf8), [UInt8](repeating: 7, count: 1000), Array("x".utf8)]))
        try decoder.decode(&buffer, into: &batch)
        batch.removeAll()
        #expect(batch.keptCapacity <= 3 * CommandBatch.maxKeptCapacity)  // the 1,000-byte key's array is gone
    }

    @Test func slotsPastTheLimitAreNotKept() throws {
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var buffer = ByteBuffer(bytes: (0..<1000).flatMap { request([Array("GET".utf8), Array("k\($0)".utf8)]) })
        try decoder.decode(&buffer, into: &batch)
        #expect(batch.count == 1000)
        batch.removeAll()
        #expect(batch.slotCount == CommandBatch.maxKeptSlots)
        // A quiet connection's next batch, of one short command, leaves the fewest kept.
        buffer = ByteBuffer(bytes: request([Array("PING".utf8)]))
        try decoder.decode(&buffer, into: &batch)
        batch.removeAll()
        #expect(batch.slotCount == CommandBatch.minKeptSlots)
    }

    /// As the dispatcher uses a batch: each command's arguments moved out to run, some kept by
    /// "commands", input cut at random points (commands read in part wait outside the batch).
    @Test func randomChunkedBatchesRunLikeTheDispatcherKeepEveryKeptArgumentIntact() throws {
        var generator = SystemRandomNumberGenerator()
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var args: [[UInt8]] = []
        var kept: [([UInt8], [UInt8])] = []
        var expected: [[[UInt8]]] = []
        var ran: [[[UInt8]]] = []
        var input: [UInt8] = []
        for _ in 0..<400 {
            let command = (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                (0..<Int.random(in: 0...(Bool.random(using: &generator) ? 12 : 200), using: &generator)).map { _ in UInt8.random(in: 97...100, using: &generator) }
            }
            expected.append(command)
            input += request(command)
        }
        var buffer = ByteBuffer()
        var offset = 0
        while offset < input.count {
            let n = Swift.min(Int.random(in: 1...300, using: &generator), input.count - offset)
            buffer.writeBytes(input[offset..<(offset + n)])
            offset += n
            try decoder.decode(&buffer, into: &batch)
            for i in 0..<batch.count {
                batch.moveArguments(of: i, into: &args)
                ran.append(args)
                for argument in args where Int.random(in: 0..<4, using: &generator) == 0 && kept.count < 300 {
                    kept.append((argument, argument.map { $0 }))
                }
            }
            // As the connection does after a batch that ran whole, at times: the last command's
            // arrays go back into the batch.
            if Bool.random(using: &generator) { batch.removeAll(reclaiming: &args) } else { batch.removeAll() }
            args.removeAll()
            for (held, original) in kept { #expect(held == original) }
        }
        #expect(ran == expected)
    }

    /// An unpipelined client's batches: the arrays the last command ran with come back, and the
    /// next command's arguments are copied into them, not into new ones (seen by the room of
    /// the first key's array, which a new array for a short key would not have).
    @Test func theLastCommandsArraysAreRefilledByTheNextBatch() throws {
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var args: [[UInt8]] = []
        for n in 0..<50 {
            let key = n == 0 ? [UInt8](repeating: 107, count: 100) : Array("key:\(n % 10)".utf8)
            var buffer = ByteBuffer(bytes: request([Array("GET".utf8), key]))
            try decoder.decode(&buffer, into: &batch)
            batch.moveArguments(of: 0, into: &args)
            #expect(args == [Array("GET".utf8), key])
            #expect(args[1].capacity >= 100)
            batch.removeAll(reclaiming: &args)
            args.removeAll(keepingCapacity: true)
        }
    }

    @Test func aCommandsNameIsComparedInPlace() {
        var batch = CommandBatch()
        batch.append([Array("GET".utf8), Array("k".utf8)])
        batch.append([[UInt8]]())
        batch.append([Array("EVALSHA".utf8)])
        #expect(batch.name(of: 0, equals: Array("GET".utf8)) == true)
        #expect(batch.name(of: 0, equals: Array("GETX".utf8)) == false)
        #expect(batch.name(of: 0, equals: []) == false)
        #expect(batch.name(of: 1, equals: Array("GET".utf8)) == nil)
        #expect(batch.name(of: 2, equals: Array("EVALSHA".utf8)) == true)
        #expect(batch.name(of: 2, equals: Array("evalsha".utf8)) == false)
    }

    @Test func randomBatchesKeepEveryKeptArgumentIntact() throws {
        var generator = SystemRandomNumberGenerator()
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var kept: [([UInt8], [UInt8])] = []  // (array held, its bytes when taken)
        for _ in 0..<300 {
            var sent: [[[UInt8]]] = []
            var input: [UInt8] = []
            for _ in 0..<Int.random(in: 1...20, using: &generator) {
                let args = (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                    (0..<Int.random(in: 0...140, using: &generator)).map { _ in UInt8.random(in: 97...100, using: &generator) }
                }
                sent.append(args)
                input += request(args)
            }
            var buffer = ByteBuffer(bytes: input)
            try decoder.decode(&buffer, into: &batch)
            #expect(batch.commands == sent)
            for argument in batch.arguments where Bool.random(using: &generator) && kept.count < 500 {
                kept.append((argument, argument.map { $0 }))
            }
            batch.removeAll()
            for (held, original) in kept { #expect(held == original) }
        }
    }
}

@Suite struct LongCommandOverManyReadsTests {
    /// A command of many arguments arriving in small reads, with whole commands before and
    /// after it in the same reads, decodes whole and once (its arguments wait outside the batch
    /// between reads; they used to be moved in and out at every read).
    @Test func aLongCommandInSmallReadsDecodesWhole() throws {
        let long = [Array("DEL".utf8)] + (0..<20_000).map { Array("key:\($0)".utf8) }
        var input = Array("*1\r\n$4\r\nPING\r\n".utf8)
        input += Array("*\(long.count)\r\n".utf8)
        for a in long { input += Array("$\(a.count)\r\n".utf8) + a + Array("\r\n".utf8) }
        input += Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8)
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var decoded: [[[UInt8]]] = []
        var buffer = ByteBuffer()
        var offset = 0
        while offset < input.count {
            let n = Swift.min(100, input.count - offset)
            buffer.writeBytes(input[offset..<(offset + n)])
            offset += n
            try decoder.decode(&buffer, into: &batch)
            decoded += batch.commands
            batch.removeAll()
        }
        #expect(decoded == [[Array("PING".utf8)], long, [Array("GET".utf8), Array("k".utf8)]])
        #expect(decoder.isBetweenCommands)
    }
}
