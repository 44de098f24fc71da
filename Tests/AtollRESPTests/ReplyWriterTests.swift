import AtollBytes
import AtollRESP
import AtollTestSupport
import NIOCore
import Testing

/// Runs `body` on a fresh writer and returns what it wrote, as text (bytes kept as Latin-1-ish
/// via UTF-8 decoding; every reply here is ASCII).
private func written(resp3: Bool = false, _ body: (inout ReplyWriter) -> Void) -> String {
    var writer = ReplyWriter(buffer: ByteBuffer(), resp3: resp3)
    body(&writer)
    return String(decoding: writer.buffer.readableBytesView, as: UTF8.self)
}

private func writtenBytes(resp3: Bool = false, _ body: (inout ReplyWriter) -> Void) -> [UInt8] {
    var writer = ReplyWriter(buffer: ByteBuffer(), resp3: resp3)
    body(&writer)
    return Array(writer.buffer.readableBytesView)
}

@Suite struct ReplyWriterTests {
    @Test func simpleReplies() {
        for resp3 in [false, true] {
            #expect(written(resp3: resp3) { $0.ok() } == "+OK\r\n")
            #expect(written(resp3: resp3) { $0.status("PONG") } == "+PONG\r\n")
            #expect(written(resp3: resp3) { $0.status(text: "QUEUED") } == "+QUEUED\r\n")
            #expect(written(resp3: resp3) { $0.error("ERR bad thing") } == "-ERR bad thing\r\n")
            #expect(written(resp3: resp3) { $0.staticError("-WRONGTYPE x\r\n") } == "-WRONGTYPE x\r\n")
        }
    }

    @Test func errorsAndStatusesAreSanitised() {
        #expect(written { $0.error("ERR a\r\nb\nc\rd") } == "-ERR a  b c d\r\n")
        #expect(written { $0.status(text: "x\r\ny") } == "+x  y\r\n")
    }

    @Test func integers() {
        #expect(written { $0.integer(Int64(0)) } == ":0\r\n")
        #expect(written { $0.integer(7) } == ":7\r\n")
        #expect(written { $0.integer(10) } == ":10\r\n")
        #expect(written { $0.integer(-1) } == ":-1\r\n")
        #expect(written { $0.integer(-10) } == ":-10\r\n")
        #expect(written { $0.integer(Int64.max) } == ":9223372036854775807\r\n")
        #expect(written { $0.integer(Int64.min) } == ":-9223372036854775808\r\n")
        #expect(written(resp3: true) { $0.integer(Int64.min) } == ":-9223372036854775808\r\n")
    }

    @Test func writeDecimalMatchesStringConversion() {
        var rng = SplitMix64(seed: 42)
        var values: [Int64] = [0, 1, 9, 10, 99, 100, -1, -9, -10, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        for _ in 0..<500 { values.append(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 63)) }
        for v in values {
            #expect(written { $0.writeDecimal(v) } == String(v))
        }
    }

    @Test func bulkStrings() {
        #expect(written { $0.bulk([UInt8]("hello".utf8)) } == "$5\r\nhello\r\n")
        #expect(written { $0.bulk("") } == "$0\r\n\r\n")
        #expect(writtenBytes { $0.bulk([0, 13, 10, 255]) } == Array("$4\r\n".utf8) + [0, 13, 10, 255] + [13, 10])
        let raw: [UInt8] = Array("abc".utf8)
        #expect(written { w in raw.withUnsafeBytes { w.bulk($0) } } == "$3\r\nabc\r\n")
        let big = String(repeating: "x", count: 1234)
        #expect(written { $0.bulk(big) } == "$1234\r\n" + big + "\r\n")
    }

    @Test func bulkDecimal() {
        #expect(written { $0.bulkDecimal(0) } == "$1\r\n0\r\n")
        #expect(written { $0.bulkDecimal(9) } == "$1\r\n9\r\n")
        #expect(written { $0.bulkDecimal(10) } == "$2\r\n10\r\n")
        #expect(written { $0.bulkDecimal(-5) } == "$2\r\n-5\r\n")
        #expect(written { $0.bulkDecimal(-10) } == "$3\r\n-10\r\n")
        #expect(written { $0.bulkDecimal(Int64.max) } == "$19\r\n9223372036854775807\r\n")
        #expect(written { $0.bulkDecimal(Int64.min) } == "$20\r\n-9223372036854775808\r\n")
    }

    @Test func nulls() {
        #expect(written { $0.null() } == "$-1\r\n")
        #expect(written(resp3: true) { $0.null() } == "_\r\n")
        #expect(written { $0.nullArray() } == "*-1\r\n")
        #expect(written(resp3: true) { $0.nullArray() } == "_\r\n")
    }

    @Test func booleans() {
        #expect(written { $0.boolean(true) } == ":1\r\n")
        #expect(written { $0.boolean(false) } == ":0\r\n")
        #expect(written(resp3: true) { $0.boolean(true) } == "#t\r\n")
        #expect(written(resp3: true) { $0.boolean(false) } == "#f\r\n")
    }

    @Test func doubles() {
        #expect(written { $0.double(1.5) } == "$3\r\n1.5\r\n")
        #expect(written(resp3: true) { $0.double(1.5) } == ",1.5\r\n")
        #expect(written { $0.double(3) } == "$1\r\n3\r\n")
        #expect(written(resp3: true) { $0.double(-3) } == ",-3\r\n")
        // %.17g shows the binary value exactly, as Redis 7.0 does.
        #expect(written { $0.double(0.1) } == "$19\r\n0.10000000000000001\r\n")
        #expect(written(resp3: true) { $0.double(0.1) } == ",0.10000000000000001\r\n")
        #expect(written(resp3: true) { $0.double(1e300) } == ",1.0000000000000001e+300\r\n")
        #expect(written { $0.double(.infinity) } == "$3\r\ninf\r\n")
        #expect(written { $0.double(-.infinity) } == "$4\r\n-inf\r\n")
        #expect(written(resp3: true) { $0.double(.infinity) } == ",inf\r\n")
        #expect(written(resp3: true) { $0.double(-.infinity) } == ",-inf\r\n")
        #expect(written(resp3: true) { $0.double(.nan) } == ",nan\r\n")
    }

    @Test func formatDouble17g() {
        #expect(AtollBytes.formatDouble17g(0) == "0")
        #expect(AtollBytes.formatDouble17g(-0.0) == "-0")
        #expect(AtollBytes.formatDouble17g(2.5) == "2.5")
        #expect(AtollBytes.formatDouble17g(1e17) == "1e+17")
        #expect(AtollBytes.formatDouble17g(123456789012345678) == "1.2345678901234568e+17")
        #expect(AtollBytes.formatDouble17g(1e-5) == "1.0000000000000001e-05")
    }

    @Test func verbatim() {
        #expect(written { $0.verbatim("hello") } == "$5\r\nhello\r\n")
        #expect(written(resp3: true) { $0.verbatim("hello") } == "=9\r\ntxt:hello\r\n")
        #expect(written(resp3: true) { $0.verbatim("") } == "=4\r\ntxt:\r\n")
        #expect(written(resp3: true) { $0.verbatim("a\r\nb\n") } == "=9\r\ntxt:a\r\nb\n\r\n")
    }

    @Test func aggregates() {
        #expect(written { $0.arrayHeader(3) } == "*3\r\n")
        #expect(written(resp3: true) { $0.arrayHeader(0) } == "*0\r\n")
        #expect(written { $0.mapHeader(2) } == "*4\r\n")
        #expect(written(resp3: true) { $0.mapHeader(2) } == "%2\r\n")
        #expect(written { $0.mapHeader(0) } == "*0\r\n")
        #expect(written(resp3: true) { $0.mapHeader(0) } == "%0\r\n")
        #expect(written { $0.setHeader(5) } == "*5\r\n")
        #expect(written(resp3: true) { $0.setHeader(5) } == "~5\r\n")
        #expect(written { $0.arrayHeader(123456) } == "*123456\r\n")
    }

    @Test func rawBytesAreCopied() {
    }

    @Test func repliesAppendToExistingBuffer() {
        var buffer = ByteBuffer()
        buffer.writeString("+A\r\n")
        var writer = ReplyWriter(buffer: buffer)
        writer.integer(1)
        writer.null()
        #expect(String(decoding: writer.buffer.readableBytesView, as: UTF8.self) == "+A\r\n:1\r\n$-1\r\n")
    }

    @Test func everyWriterOutputDecodes() throws {
        // Whatever the writer produces must be well-formed RESP.
        for resp3 in [false, true] {
            var w = ReplyWriter(buffer: ByteBuffer(), resp3: resp3)
            w.mapHeader(2)
            w.bulk("a"); w.double(.infinity)
            w.bulk("b"); w.setHeader(3); w.boolean(true); w.null(); w.verbatim("v")
            w.nullArray()
            w.bulkDecimal(Int64.min)
            var buffer = w.buffer
            var values: [RESPValue] = []
            while let v = try RESPValue.decode(&buffer) { values.append(v) }
            #expect(values.count == 3)
            #expect(buffer.readableBytes == 0)
            if resp3 {
                #expect(values[0] == .map([(.bulkString(Array("a".utf8)), .double(Array("inf".utf8))),
                                           (.bulkString(Array("b".utf8)), .set([.boolean(true), .null, .verbatim(format: Array("txt".utf8), text: Array("v".utf8))]))]))
                #expect(values[1] == .null)
            } else {
                #expect(values[0] == .array([.bulkString(Array("a".utf8)), .bulkString(Array("inf".utf8)),
                                             .bulkString(Array("b".utf8)), .array([.integer(1), .bulkString(nil), .bulkString(Array("v".utf8))])]))
                #expect(values[1] == .array(nil))
            }
            #expect(values[2] == .bulkString(Array("-9223372036854775808".utf8)))
        }
    }
}

@Suite struct ReplyWriterLimitTests {
    @Test func writesPastTheLimitAreDroppedAndMarkTheWriter() {
        var writer = ReplyWriter(buffer: ByteBuffer(), limit: 20)
        writer.bulk(Array("0123456789".utf8))
        #expect(!writer.overflowed)
        // This one crosses the limit: it is written, and the next write finds no room.
        writer.bulk(Array("0123456789".utf8))
        #expect(!writer.overflowed)
        let size = writer.buffer.readableBytes
        writer.integer(1)
        writer.ok()
        writer.error("ERR x")
        writer.double(1.5)
        #expect(writer.overflowed)
        #expect(writer.buffer.readableBytes == size)
        writer.buffer.clear()
        writer.clearOverflow()
        writer.ok()
        #expect(!writer.overflowed && writer.buffer.readableBytes == 5)
    }

    @Test func anArrayThatCannotFitIsRefusedBeforeItsElements() {
        var writer = ReplyWriter(buffer: ByteBuffer(), limit: 30)
        writer.arrayHeader(10)
        #expect(!writer.overflowed)
        writer.arrayHeader(10)
        #expect(writer.overflowed)
        #expect(writer.buffer.readableBytes == 5)
        var huge = ReplyWriter(buffer: ByteBuffer())
        huge.arrayHeader(Int(Int64.max))
        #expect(huge.overflowed && huge.buffer.readableBytes == 0)
    }
}
