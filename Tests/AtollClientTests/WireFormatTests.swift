/// The client's own wire code against AtollRESP's reference codec: commands encoded in one
/// pass equal the RESP array of bulk strings, and the fast reply reader gives what
/// `RESPValue.decode` gives, for whole frames and for every split of them.
@testable import AtollClient
import AtollRESP
import NIOCore
import Testing

@Suite struct WireFormatTests {
    @Test func commandsEncodeAsArraysOfBulkStrings() {
        let arguments: [[UInt8]] = [Array("SET".utf8), [], Array(repeating: 0x0d, count: 12), Array(repeating: 7, count: 1234)]
        var fast = ByteBuffer()
        fast.writeCommand(arguments)
        var reference = ByteBuffer()
        RESPValue.array(arguments.map { .bulkString($0) }).encode(into: &reference)
        #expect(fast == reference)
        var typed = ByteBuffer()
        typed.writeCommand("SET", [[] as [UInt8], String(repeating: "\r", count: 12), Array(repeating: UInt8(7), count: 1234)])
        #expect(typed == reference)
    }

    @Test func repliesDecodeAsTheReferenceDoesInEverySplit() throws {
        let frames = ["+OK\r\n", "-ERR bad thing\r\n", ":0\r\n", ":-42\r\n", ":9223372036854775807\r\n", "$-1\r\n", "$0\r\n\r\n",
                      "$5\r\nhe\r\nx\r\n", "_\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+k\r\n#t\r\n", ">2\r\n+message\r\n$0\r\n\r\n",
                      ",1.5\r\n", "*-1\r\n"]
        for frame in frames {
            let bytes = Array(frame.utf8)
            var whole = ByteBuffer(bytes: bytes)
            var reference = ByteBuffer(bytes: bytes)
            let expected = try #require(try RESPValue.decode(&reference))
            #expect(try whole.readReply() == expected, "\(frame.debugDescription)")
            #expect(whole.readableBytes == 0)
            for cut in 0..<bytes.count {
                var partial = ByteBuffer(bytes: bytes[..<cut])
                #expect(try partial.readReply() == nil, "\(frame.debugDescription) cut at \(cut)")
                #expect(partial.readableBytes == cut)
            }
        }
    }

    /// `readReply(as:)`, which hands string replies to the decoder where they lie, gives what
    /// the reference gives: the value (any null as `.null`), an error reply as `RedisError`.
    @Test func typedRepliesDecodeAsTheReferenceDoesInEverySplit() throws {
        let frames = ["+OK\r\n", "+\r\n", "-ERR bad thing\r\n", ":0\r\n", ":-42\r\n", "$-1\r\n", "$0\r\n\r\n",
                      "$5\r\nhe\r\nx\r\n", "$12\r\n0123456789ab\r\n", "_\r\n", "*2\r\n$1\r\na\r\n:1\r\n",
                      ">2\r\n+message\r\n$0\r\n\r\n", ",1.5\r\n", "*-1\r\n", "#f\r\n"]
        for frame in frames {
            let bytes = Array(frame.utf8)
            var whole = ByteBuffer(bytes: bytes)
            var reference = ByteBuffer(bytes: bytes)
            let expected = try #require(try RESPValue.decode(&reference))
            let result = try #require(try whole.readReply(as: RESPValue.self))
            #expect(whole.readableBytes == 0)
            switch (result, expected) {
            case (.failure(let error), .error(let text)): #expect(error as? RedisError == RedisError(reply: text))
            case (.success(let value), _) where expected.isNull: #expect(value == .null, "\(frame.debugDescription)")
            case (.success(let value), _): #expect(value == expected, "\(frame.debugDescription)")
            default: Issue.record("\(frame.debugDescription): \(result)")
            }
            for cut in 0..<bytes.count {
                var partial = ByteBuffer(bytes: bytes[..<cut])
                let none = try partial.readReply(as: String?.self)
                #expect(none == nil, "\(frame.debugDescription) cut at \(cut)")
                #expect(partial.readableBytes == cut)
            }
        }
    }

    @Test func malformedRepliesThrow() {
        for frame in [":12x\r\n", "$abc\r\n", "!nonsense\r\n"] {
            var buffer = ByteBuffer(string: frame)
            #expect(throws: RESPValue.DecodeError.self, "\(frame.debugDescription)") { try buffer.readReply() }
        }
    }
}
