import AtollRESP
import AtollTestSupport
import NIOCore
import Testing

// MARK: - Helpers

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func command(_ words: String...) -> [[UInt8]] { words.map(bytes) }

/// A multibulk request for `args`, as a client library would send it.
private func multibulk(_ args: [[UInt8]]) -> [UInt8] {
    var out = bytes("*\(args.count)\r\n")
    for a in args {
        out += bytes("$\(a.count)\r\n")
        out += a
        out += bytes("\r\n")
    }
    return out
}

/// The outcome of feeding bytes to a decoder: the commands decoded, the error (if any) and
/// the bytes left unconsumed in the buffer.
private struct Outcome {
    var commands: [[[UInt8]]] = []
    var error: ProtocolError?
    var leftover = 0
}

/// Decodes `input` in one call.
private func decodeAll(_ input: [UInt8], configure: (inout RequestDecoder) -> Void = { _ in }) -> Outcome {
    var decoder = RequestDecoder()
    configure(&decoder)
    var buffer = ByteBuffer(bytes: input)
    var outcome = Outcome()
    do {
        try decoder.decode(&buffer, into: &outcome.commands)
    } catch {
        outcome.error = error
    }
    outcome.leftover = buffer.readableBytes
    return outcome
}

/// Feeds `input` to one decoder in the given pieces, the way a connection receives reads:
/// unconsumed bytes stay in the buffer and the next piece is appended to them.
private func decodeInPieces(_ pieces: [ArraySlice<UInt8>]) throws(ProtocolError) -> (commands: [[[UInt8]]], leftover: Int) {
    var decoder = RequestDecoder()
    var buffer = ByteBuffer()
    var commands: [[[UInt8]]] = []
    for piece in pieces {
        buffer.writeBytes(piece)
        try decoder.decode(&buffer, into: &commands)
    }
    return (commands, buffer.readableBytes)
}

// MARK: - Well-formed requests

@Suite struct RequestDecoderTests {
    @Test func multibulkCommand() throws {
        let result = decodeAll(bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"))
        #expect(result.error == nil)
        #expect(result.commands == [command("SET", "key", "value")])
        #expect(result.leftover == 0)
    }

    /// Arguments equal to those in the same place of the previous command share its arrays;
    /// the decoded values must still be exactly what each command sent, in every position
    /// and across reads, long arguments included.
    @Test func repeatedArgumentsDecodeToTheirOwnValues() throws {
        let long = String(repeating: "v", count: 100)
        let sent = [
            command("EVALSHA", "a9993e364706816aba3e25717850c26c9cd0d89d", "1", "counter"),
            command("EVALSHA", "a9993e364706816aba3e25717850c26c9cd0d89d", "1", "counter"),
            command("EVALSHA", "a9993e364706816aba3e25717850c26c9cd0d89e", "1", "counter2"),
            command("SET", "counter2", long),
            command("SET", "counter2", long),
            command("SET", "counter2", ""),
            command("GET", "", "x"),
            command("GET"),
            command("GET", "counter2"),
        ]
        let input = sent.flatMap(multibulk)
        #expect(decodeAll(input).commands == sent)
        let split = input.count / 2
        #expect(try decodeInPieces([input[..<split], input[split...]]).commands == sent)
    }

    /// A repeated inline line reuses the previous line's arguments; any other line, quoted
    /// or not, is split anew.
    @Test func repeatedInlineLinesDecodeToTheirOwnValues() {
        let input = bytes("PING\r\nPING\r\nPING x\r\nPING x\nPING \"x y\"\r\nPING \"x y\"\r\n\r\nPING\r\nGET k\r\n")
        #expect(decodeAll(input).commands == [
            command("PING"), command("PING"), command("PING", "x"), command("PING", "x"),
            command("PING", "x y"), command("PING", "x y"), command("PING"), command("GET", "k"),
        ])
    }

    @Test func multibulkWithEmptyAndBinaryArguments() {
        let binary: [UInt8] = [0, 13, 10, 255, 36, 42, 13, 10]
        let args: [[UInt8]] = [bytes("SET"), [], binary]
        let result = decodeAll(multibulk(args))
        #expect(result.error == nil)
        #expect(result.commands == [args])
    }

    @Test func multibulkWaitsForTheWholeCommand() {
        let full = bytes("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n")
        for cut in 0..<full.count {
            let result = decodeAll(Array(full[0..<cut]))
            #expect(result.error == nil)
            #expect(result.commands.isEmpty, "cut at \(cut)")
        }
    }

    @Test func inlineCommands() {
        let result = decodeAll(bytes("PING\r\nSET a b\nGET   a  \r\n"))
        #expect(result.error == nil)
        #expect(result.commands == [command("PING"), command("SET", "a", "b"), command("GET", "a")])
        #expect(result.leftover == 0)
    }

    @Test func inlineQuotesAndEscapes() {
        let result = decodeAll(bytes(#"SET "hello world" "a\x41\x4a\n\t\"z" 'it\'s' "" ''"# + "\r\n"))
        #expect(result.error == nil)
        #expect(result.commands == [[bytes("SET"), bytes("hello world"), bytes("aAJ\n\t\"z"), bytes("it's"), [], []]])
    }

    @Test func inlineHexEscapeProducesAnyByte() {
        let result = decodeAll(bytes(#"ECHO "\x00\xff\xAb""# + "\n"))
        #expect(result.commands == [[bytes("ECHO"), [0x00, 0xff, 0xab]]])
    }

    @Test func emptyInlineLinesAreSkipped() {
        let result = decodeAll(bytes("\r\n\n   \r\n\t\nPING\r\n\r\n"))
        #expect(result.error == nil)
        #expect(result.commands == [command("PING")])
        #expect(result.leftover == 0)
    }

    @Test func inlineWaitsForNewline() {
        let result = decodeAll(bytes("SET a b"))
        #expect(result.error == nil)
        #expect(result.commands.isEmpty)
        #expect(result.leftover == 7)
    }

    @Test func pipelineOfManyCommands() {
        var input: [UInt8] = []
        var expected: [[[UInt8]]] = []
        for i in 0..<1000 {
            let args: [[UInt8]] = i % 3 == 0
                ? [bytes("GET"), bytes("key:\(i)")]
                : [bytes("SET"), bytes("key:\(i)"), bytes(String(repeating: "v", count: i % 50))]
            if i % 7 == 0 {
                // Some as inline commands, mixed into the same stream.
                input += bytes(args.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") + "\r\n")
                if args.last!.isEmpty {
                    expected.append(Array(args.dropLast()))   // an empty word vanishes inline
                    continue
                }
            } else {
                input += multibulk(args)
            }
            expected.append(args)
        }
        let result = decodeAll(input)
        #expect(result.error == nil)
        #expect(result.commands.count == expected.count)
        #expect(result.commands == expected)
        #expect(result.leftover == 0)
    }

    @Test func zeroAndNegativeMultibulkCountsProduceNoCommand() {
        for header in ["*0\r\n", "*-1\r\n", "*-5\r\n"] {
            let result = decodeAll(bytes(header + "*1\r\n$4\r\nPING\r\n"))
            #expect(result.error == nil, "\(header)")
            #expect(result.commands == [command("PING")], "\(header)")
            #expect(result.leftover == 0)
        }
        let alone = decodeAll(bytes("*0\r\n"))
        #expect(alone.commands.isEmpty)
        #expect(alone.leftover == 0)
    }

    @Test func bulkTerminatorIsNotChecked() {
        // Redis skips the two bytes after a bulk payload without looking at them.
        let result = decodeAll(bytes("*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n"))
        #expect(result.error == nil)
        #expect(result.commands == [command("PING"), command("PING")])
    }

    @Test func bulkAtExactlyMaxLengthIsAccepted() {
        let result = decodeAll(bytes("*1\r\n$100\r\n") + [UInt8](repeating: 65, count: 100) + bytes("\r\n")) {
            $0.maxBulkLength = 100
        }
        #expect(result.error == nil)
        #expect(result.commands == [[[UInt8](repeating: 65, count: 100)]])
    }

    @Test func authenticatedLimitsDoNotApplyAfterAuth() {
        let args = (0..<11).map { bytes("a\($0)") }
        let result = decodeAll(multibulk(args)) { $0.unauthenticated = false }
        #expect(result.error == nil)
        #expect(result.commands == [args])
    }

    @Test func unauthenticatedAtTheLimitsIsAccepted() throws {
        let ten = (0..<10).map { bytes("a\($0)") }
        let big = [UInt8](repeating: 120, count: 16384)
        var decoder = RequestDecoder()
        decoder.unauthenticated = true
        var buffer = ByteBuffer(bytes: multibulk(ten) + multibulk([bytes("AUTH"), big]))
        var commands: [[[UInt8]]] = []
        for _ in 0..<3 { try decoder.decode(&buffer, into: &commands) }
        #expect(commands == [ten, [bytes("AUTH"), big]])
        #expect(buffer.readableBytes == 0)
    }

    /// Before AUTH each call stops after one command, so that the caller can run it (it may be
    /// the AUTH) before the next is read under the unauthenticated limits or not.
    @Test func unauthenticatedDecodesOneCommandAtATime() throws {
        var decoder = RequestDecoder()
        decoder.unauthenticated = true
        let eleven = (0..<11).map { bytes("a\($0)") }
        var buffer = ByteBuffer(bytes: multibulk([bytes("AUTH"), bytes("pw")]) + multibulk(eleven))
        var commands: [[[UInt8]]] = []
        try decoder.decode(&buffer, into: &commands)
        #expect(commands == [[bytes("AUTH"), bytes("pw")]])
        decoder.unauthenticated = false
        try decoder.decode(&buffer, into: &commands)
        #expect(commands == [[bytes("AUTH"), bytes("pw")], eleven])
        #expect(buffer.readableBytes == 0)
    }

    /// One command per call, whatever the authentication: each call consumes exactly the bytes
    /// of its command (blank lines and empty multibulks before it included), which is how a
    /// replica counts its master's stream; `isBetweenCommands` is false while one is read in part.
    @Test func oneCommandPerCallConsumesEachCommandsBytes() throws {
        var decoder = RequestDecoder()
        decoder.oneCommandPerCall = true
        let set = multibulk(command("SET", "b", "2"))
        var buffer = ByteBuffer(bytes: bytes("\r\n*0\r\n") + set + multibulk(command("PING")) + bytes("*1\r\n$4\r\nPI"))
        var commands: [[[UInt8]]] = []
        var consumed: [Int] = []
        for _ in 0..<3 {
            let before = buffer.readerIndex
            try decoder.decode(&buffer, into: &commands)
            consumed.append(buffer.readerIndex - before)
        }
        #expect(commands == [command("SET", "b", "2"), command("PING")])
        #expect(consumed == [6 + set.count, 14, 8])
        #expect(!decoder.isBetweenCommands)
        buffer.writeBytes(bytes("NG\r\n"))
        try decoder.decode(&buffer, into: &commands)
        #expect(commands.count == 3)
        #expect(decoder.isBetweenCommands)
    }

    /// With `proto-max-bulk-len` at its largest, a header announcing 2^63-1 bytes waits for
    /// them instead of overflowing.
    @Test func largestBulkLengthWaitsForData() {
        let result = decodeAll(bytes("*1\r\n$9223372036854775807\r\nabc")) { $0.maxBulkLength = Int.max }
        #expect(result.error == nil)
        #expect(result.commands.isEmpty)
    }

    @Test func pendingArgumentBytesTracksPartialCommand() throws {
        var decoder = RequestDecoder()
        var buffer = ByteBuffer(bytes: bytes("*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$10\r\nab"))
        var commands: [[[UInt8]]] = []
        try decoder.decode(&buffer, into: &commands)
        #expect(commands.isEmpty)
        #expect(decoder.pendingArgumentBytes == 8 + 2 * RequestDecoder.argumentOverhead)
        // The unread part is the partial payload only: the headers were consumed.
        #expect(buffer.readableBytes == 2)
        buffer.writeBytes(bytes("cdefghij\r\n"))
        try decoder.decode(&buffer, into: &commands)
        #expect(commands == [command("SET", "hello", "abcdefghij")])
        #expect(decoder.pendingArgumentBytes == 0)
        #expect(buffer.readableBytes == 0)
    }

    // MARK: - Every split point

    /// Several commands: a binary bulk with CR LF inside, an empty bulk, inline commands with
    /// quotes and escapes, an empty line, a `*0`, and a big-ish bulk.
    static let mixedStream: [UInt8] = {
        var s: [UInt8] = []
        s += multibulk([bytes("SET"), bytes("bin"), [0, 13, 10, 13, 10, 0xff, 42, 36, 13]])
        s += multibulk([bytes("SET"), [], bytes("x")])
        s += bytes("SET  \"a b\\r\\n\" 'c\\'d' \"\\x41\\x7a\"\r\n")
        s += bytes("\r\n")
        s += bytes("*0\r\n")
        s += multibulk([bytes("ECHO"), [UInt8](repeating: 0x61, count: 300)])
        s += bytes("PING\n")
        s += multibulk([bytes("MSET")] + (0..<12).map { bytes("k\($0)") })
        return s
    }()

    static let mixedExpected: [[[UInt8]]] = [
        [bytes("SET"), bytes("bin"), [0, 13, 10, 13, 10, 0xff, 42, 36, 13]],
        [bytes("SET"), [], bytes("x")],
        [bytes("SET"), bytes("a b\r\n"), bytes("c'd"), bytes("Az")],
        [bytes("ECHO"), [UInt8](repeating: 0x61, count: 300)],
        [bytes("PING")],
        [bytes("MSET")] + (0..<12).map { bytes("k\($0)") },
    ]

    @Test func oneShotDecodeOfMixedStream() {
        let result = decodeAll(Self.mixedStream)
        #expect(result.error == nil)
        #expect(result.commands == Self.mixedExpected)
        #expect(result.leftover == 0)
    }

    @Test func everyTwoPieceSplitDecodesTheSame() throws {
        let stream = Self.mixedStream
        var failures = 0
        for cut in 0...stream.count {
            let (commands, leftover) = try decodeInPieces([stream[0..<cut], stream[cut...]])
            if commands != Self.mixedExpected || leftover != 0 {
                failures += 1
                Issue.record("split at \(cut) decoded differently")
                if failures > 5 { break }
            }
        }
        #expect(failures == 0)
    }

    @Test func oneByteAtATimeDecodesTheSame() throws {
        let stream = Self.mixedStream
        let pieces = stream.indices.map { stream[$0...$0] }
        let (commands, leftover) = try decodeInPieces(pieces)
        #expect(commands == Self.mixedExpected)
        #expect(leftover == 0)
    }

    @Test func randomChunkingDecodesTheSame() throws {
        var rng = SplitMix64(seed: 0xA7011)
        let stream = Self.mixedStream
        for _ in 0..<200 {
            var pieces: [ArraySlice<UInt8>] = []
            var start = 0
            while start < stream.count {
                let n = Int(rng.next() % 40) + 1
                let end = min(stream.count, start + n)
                pieces.append(stream[start..<end])
                start = end
            }
            let (commands, leftover) = try decodeInPieces(pieces)
            #expect(commands == Self.mixedExpected)
            #expect(leftover == 0)
        }
    }

    @Test func errorAfterSplitStillReportsCommandsBefore() {
        // A good command, then a bad one, fed at every split point: the good one always comes out
        // and the error is always the same.
        let stream = multibulk([bytes("PING")]) + bytes("*1\r\nx3\r\n")
        for cut in 0...stream.count {
            var commands: [[[UInt8]]] = []
            var error: ProtocolError?
            do {
                var decoder = RequestDecoder()
                var buffer = ByteBuffer(bytes: stream[0..<cut])
                try decoder.decode(&buffer, into: &commands)
                buffer.writeBytes(stream[cut...])
                try decoder.decode(&buffer, into: &commands)
            } catch let e {
                error = e
            }
            #expect(commands == [command("PING")], "cut \(cut)")
            #expect(error == ProtocolError("Protocol error: expected '$', got 'x'"), "cut \(cut)")
        }
    }

    // MARK: - Malformed requests

    private func expectError(_ input: [UInt8], _ message: String,
                             configure: (inout RequestDecoder) -> Void = { _ in },
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let result = decodeAll(input, configure: configure)
        #expect(result.error == ProtocolError(message), sourceLocation: sourceLocation)
        #expect(result.error?.message == message, sourceLocation: sourceLocation)
    }

    @Test func invalidMultibulkLength() {
        expectError(bytes("*abc\r\n"), "Protocol error: invalid multibulk length")
        expectError(bytes("*3000000000\r\n"), "Protocol error: invalid multibulk length")
        expectError(bytes("*2147483648\r\n"), "Protocol error: invalid multibulk length")
        expectError(bytes("*+1\r\n"), "Protocol error: invalid multibulk length")
        expectError(bytes("*01\r\n"), "Protocol error: invalid multibulk length")
        expectError(bytes("*\r\n"), "Protocol error: invalid multibulk length")
        expectError(bytes("*99999999999999999999999\r\n"), "Protocol error: invalid multibulk length")
    }

    @Test func largestMultibulkCountIsAcceptedAndWaits() {
        let result = decodeAll(bytes("*2147483647\r\n$4\r\nPING\r\n"))
        #expect(result.error == nil)
        #expect(result.commands.isEmpty)
    }

    @Test func expectedDollar() {
        expectError(bytes("*1\r\nx3\r\n"), "Protocol error: expected '$', got 'x'")
        expectError(bytes("*2\r\n$4\r\nECHO\r\n:1\r\n"), "Protocol error: expected '$', got ':'")
    }

    @Test func invalidBulkLength() {
        expectError(bytes("*1\r\n$-5\r\n"), "Protocol error: invalid bulk length")
        expectError(bytes("*1\r\n$-1\r\n"), "Protocol error: invalid bulk length")
        expectError(bytes("*1\r\n$abc\r\n"), "Protocol error: invalid bulk length")
        expectError(bytes("*1\r\n$\r\n"), "Protocol error: invalid bulk length")
        expectError(bytes("*1\r\n$101\r\n"), "Protocol error: invalid bulk length") { $0.maxBulkLength = 100 }
        expectError(bytes("*1\r\n$536870913\r\n"), "Protocol error: invalid bulk length")
    }

    @Test func unbalancedQuotes() {
        expectError(bytes("SET \"abc\r\n"), "Protocol error: unbalanced quotes in request")
        expectError(bytes("SET 'abc\r\n"), "Protocol error: unbalanced quotes in request")
        expectError(bytes("SET \"abc\"def\r\n"), "Protocol error: unbalanced quotes in request")
    }

    @Test func tooBigInlineRequest() {
        let line = [UInt8](repeating: UInt8(ascii: "a"), count: 70 * 1024)
        expectError(line, "Protocol error: too big inline request")
    }

    @Test func tooBigMultibulkCountString() {
        let line = bytes("*") + [UInt8](repeating: UInt8(ascii: "1"), count: 70 * 1024)
        expectError(line, "Protocol error: too big mbulk count string")
    }

    @Test func tooBigBulkCountString() {
        let line = bytes("*1\r\n$") + [UInt8](repeating: UInt8(ascii: "1"), count: 70 * 1024)
        expectError(line, "Protocol error: too big bulk count string")
    }

    @Test func longInlineLineUnderTheLimitIsFine() {
        let word = [UInt8](repeating: UInt8(ascii: "a"), count: 60 * 1024)
        let result = decodeAll(bytes("ECHO ") + word + bytes("\r\n"))
        #expect(result.error == nil)
        #expect(result.commands == [[bytes("ECHO"), word]])
    }

    @Test func unauthenticatedLimits() {
        expectError(bytes("*11\r\n"), "Protocol error: unauthenticated multibulk length") { $0.unauthenticated = true }
        expectError(bytes("*1\r\n$20000\r\n"), "Protocol error: unauthenticated bulk length") { $0.unauthenticated = true }
    }

    @Test func commandsBeforeAnErrorAreStillReturned() {
        let result = decodeAll(bytes("PING\r\n*1\r\n$4\r\nECHO\r\n*abc\r\nPING\r\n"))
        #expect(result.commands == [command("PING"), command("ECHO")])
        #expect(result.error == ProtocolError("Protocol error: invalid multibulk length"))
        // The bad request is left unconsumed.
        #expect(result.leftover == bytes("*abc\r\nPING\r\n").count)
    }
}
