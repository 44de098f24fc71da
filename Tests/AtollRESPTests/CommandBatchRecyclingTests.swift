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
        // "key:1" had nobody else; "key:2" is kept here and by the decoder's last command.
        #expect(batch.spareCount == 1)
        buffer = ByteBuffer(bytes: request([Array("SET".utf8), Array("key:3".utf8), Array("v".utf8)]))
        try decoder.decode(&buffer, into: &batch)
        #expect(batch.commands == [[Array("SET".utf8), Array("key:3".utf8), Array("v".utf8)]])
        #expect(kept == Array("key:2".utf8))
        #expect(batch.spareCount == 0)
    }

    @Test func longArgumentsAreNotKeptAsSpares() throws {
        var decoder = RequestDecoder()
        var batch = CommandBatch()
        var buffer = ByteBuffer(bytes: request([Array("SET".utf8), [UInt8](repeating: 7, count: 1000), Array("x".utf8)]))
        try decoder.decode(&buffer, into: &batch)
        batch.removeAll()
        #expect(batch.spareCount <= 1)  // only the short value; the 1,000-byte key is freed
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
