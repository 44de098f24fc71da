import AtollBytes
import AtollRESP
import AtollTestSupport
import NIOCore
import Testing

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private func encode(_ value: RESPValue) -> [UInt8] {
    var buffer = ByteBuffer()
    value.encode(into: &buffer)
    return Array(buffer.readableBytesView)
}

@Suite struct RESPValueTests {
    /// One example of every type, with the exact wire form it has.
    static let samples: [(RESPValue, String)] = [
        (.simpleString(b("OK")), "+OK\r\n"),
        (.simpleString([]), "+\r\n"),
        (.error(b("ERR something bad")), "-ERR something bad\r\n"),
        (.integer(0), ":0\r\n"),
        (.integer(-42), ":-42\r\n"),
        (.integer(Int64.max), ":9223372036854775807\r\n"),
        (.integer(Int64.min), ":-9223372036854775808\r\n"),
        (.bulkString(b("hello")), "$5\r\nhello\r\n"),
        (.bulkString([]), "$0\r\n\r\n"),
        (.bulkString(b("a\r\nb")), "$4\r\na\r\nb\r\n"),
        (.bulkString(nil), "$-1\r\n"),
        (.array([]), "*0\r\n"),
        (.array(nil), "*-1\r\n"),
        (.array([.integer(1), .bulkString(b("two")), .simpleString(b("three"))]), "*3\r\n:1\r\n$3\r\ntwo\r\n+three\r\n"),
        (.null, "_\r\n"),
        (.double(b("1.5")), ",1.5\r\n"),
        (.double(b("inf")), ",inf\r\n"),
        (.double(b("-inf")), ",-inf\r\n"),
        (.boolean(true), "#t\r\n"),
        (.boolean(false), "#f\r\n"),
        (.bigNumber(b("3492890328409238509324850943850943825024385")), "(3492890328409238509324850943850943825024385\r\n"),
        (.verbatim(format: b("txt"), text: b("Some string")), "=15\r\ntxt:Some string\r\n"),
        (.verbatim(format: b("mkd"), text: []), "=4\r\nmkd:\r\n"),
        (.map([(.simpleString(b("first")), .integer(1)), (.bulkString(b("second")), .null)]), "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n_\r\n"),
        (.map([]), "%0\r\n"),
        (.set([.simpleString(b("orange")), .integer(2)]), "~2\r\n+orange\r\n:2\r\n"),
        (.push([.bulkString(b("message")), .bulkString(b("ch")), .bulkString(b("hi"))]), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
        (.attribute([(.simpleString(b("ttl")), .integer(3600))]), "|1\r\n+ttl\r\n:3600\r\n"),
        (.array([.array([.integer(1), .array([])]), .array(nil), .map([(.integer(1), .set([.boolean(true)]))])]),
         "*3\r\n*2\r\n:1\r\n*0\r\n*-1\r\n%1\r\n:1\r\n~1\r\n#t\r\n"),
    ]

    @Test func encodeGivesTheWireForm() {
        for (value, wire) in Self.samples {
            #expect(encode(value) == b(wire), "\(wire.debugDescription)")
        }
    }

    @Test func decodeGivesTheValue() throws {
        for (value, wire) in Self.samples {
            var buffer = ByteBuffer(bytes: b(wire))
            let decoded = try RESPValue.decode(&buffer)
            #expect(decoded == value, "\(wire.debugDescription)")
            #expect(buffer.readableBytes == 0, "\(wire.debugDescription)")
        }
    }

    @Test func roundTripIsByteExact() throws {
        for (value, _) in Self.samples {
            let wire = encode(value)
            var buffer = ByteBuffer(bytes: wire)
            let decoded = try #require(try RESPValue.decode(&buffer))
            #expect(encode(decoded) == wire)
        }
    }

    @Test func incompleteInputReturnsNilAndConsumesNothing() throws {
        for (_, wire) in Self.samples {
            let bytes = b(wire)
            for cut in 0..<bytes.count {
                var buffer = ByteBuffer(bytes: bytes[0..<cut])
                let decoded = try RESPValue.decode(&buffer)
                #expect(decoded == nil, "\(wire.debugDescription) cut at \(cut)")
                #expect(buffer.readableBytes == cut, "\(wire.debugDescription) cut at \(cut)")
            }
        }
    }

    @Test func incompleteInputDoesNotMoveAReaderIndexPastZero() throws {
        // With something already read before the frame, the reader index stays where it was.
        var buffer = ByteBuffer(bytes: b("+OK\r\n*2\r\n:1\r\n"))
        #expect(try RESPValue.decode(&buffer) == .simpleString(b("OK")))
        let before = buffer.readerIndex
        #expect(try RESPValue.decode(&buffer) == nil)
        #expect(buffer.readerIndex == before)
        buffer.writeBytes(b(":2\r\n"))
        #expect(try RESPValue.decode(&buffer) == .array([.integer(1), .integer(2)]))
    }

    @Test func severalFramesInOneBuffer() throws {
        var all: [UInt8] = []
        for (_, wire) in Self.samples { all += b(wire) }
        var buffer = ByteBuffer(bytes: all)
        var index = 0
        while let value = try RESPValue.decode(&buffer) {
            #expect(value == Self.samples[index].0)
            index += 1
            if index > Self.samples.count { break }
        }
        #expect(index == Self.samples.count)
        #expect(buffer.readableBytes == 0)
    }

    @Test func deepNesting() throws {
        var wire = ""
        for _ in 0..<10 { wire += "*1\r\n" }
        wire += ":7\r\n"
        var buffer = ByteBuffer(bytes: b(wire))
        var expected = RESPValue.integer(7)
        for _ in 0..<10 { expected = .array([expected]) }
        #expect(try RESPValue.decode(&buffer) == expected)
    }

    @Test func nestingLimit() {
        var wire = ""
        for _ in 0..<200 { wire += "*1\r\n" }
        wire += ":7\r\n"
        var buffer = ByteBuffer(bytes: b(wire))
        #expect(throws: RESPValue.DecodeError.self) { try RESPValue.decode(&buffer) }
        var shallow = ByteBuffer(bytes: b("*1\r\n*1\r\n:1\r\n"))
        #expect(throws: RESPValue.DecodeError.self) { try RESPValue.decode(&shallow, maxDepth: 2) }
        var ok = ByteBuffer(bytes: b("*1\r\n*1\r\n:1\r\n"))
        #expect((try? RESPValue.decode(&ok, maxDepth: 3)) != nil)
    }

    @Test func malformedFramesThrow() {
        for wire in ["?\r\n", ":abc\r\n", ":01\r\n", "#x\r\n", "#\r\n", "$-2\r\n", "*-2\r\n", "=2\r\nab\r\n", "=3\r\nabc\r\n", "%-1\r\n"] {
            var buffer = ByteBuffer(bytes: b(wire))
            #expect(throws: RESPValue.DecodeError.self, "\(wire.debugDescription)") { try RESPValue.decode(&buffer) }
        }
    }

    @Test func equalityComparesEncodings() {
        #expect(RESPValue.bulkString(b("x")) != .simpleString(b("x")))
        #expect(RESPValue.array(nil) != .array([]))
        #expect(RESPValue.bulkString(nil) != .null)
        #expect(RESPValue.map([(.integer(1), .integer(2))]) == .map([(.integer(1), .integer(2))]))
        #expect(RESPValue.map([(.integer(1), .integer(2))]) != .attribute([(.integer(1), .integer(2))]))
    }
}

@Suite struct ParseStrictInt64Tests {
    private func parse(_ s: String) -> Int64? { parseStrictInt64(Array(s.utf8)) }

    @Test func accepted() {
        #expect(parse("0") == 0)
        #expect(parse("1") == 1)
        #expect(parse("-1") == -1)
        #expect(parse("1234567890") == 1234567890)
        #expect(parse("9223372036854775807") == Int64.max)
        #expect(parse("-9223372036854775808") == Int64.min)
        #expect(parse("-9223372036854775807") == -Int64.max)
    }

    @Test func rejected() {
        for text in ["", "-", "-0", "007", "00", "+1", "+0", " 1", "1 ", "1a", "a1", "1.0", "1e3", "--1", "0x10",
                     "9223372036854775808", "-9223372036854775809",
                     "18446744073709551615", "18446744073709551616", "99999999999999999999",
                     "-99999999999999999999", "123456789012345678901"] {
            #expect(parse(text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func agreesWithInt64ParsingOnCanonicalNumbers() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let v = Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)
            #expect(parse(String(v)) == v)
        }
    }

    @Test func rawBufferOverload() {
        let bytes: [UInt8] = Array("x-42y".utf8)
        let value = bytes.withUnsafeBytes { parseStrictInt64(UnsafeRawBufferPointer(rebasing: $0[1..<4])) }
        #expect(value == -42)
    }
}
