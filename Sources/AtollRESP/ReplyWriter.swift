/// Encodes replies in RESP2 or RESP3 into a `ByteBuffer`.
///
/// Commands say what they mean (a null, a map, a double); only this type knows how the
/// negotiated protocol version spells it, as Redis's `addReply*` functions do.
///
/// The buffer is capped at `limit` bytes (plus the one element that crosses it): past it every
/// write is dropped and `overflowed` is set, so a count a client chose (SRANDMEMBER with
/// -2^62) cannot grow the buffer to NIO's 4 GiB maximum, where `ByteBuffer` traps. Loops whose
/// length comes from a client's number stop once `overflowed` is set; the connection then
/// closes the client instead of sending the partial reply, as Redis closes clients over their
/// output buffer limits.
import AtollBytes
import NIOCore

public struct ReplyWriter {
    public var buffer: ByteBuffer
    /// True once the client negotiated RESP3 with `HELLO 3`.
    public var resp3: Bool
    /// The most bytes the buffer takes before writes are dropped (see `overflowed`).
    public var limit: Int
    /// True once a reply went past `limit`, or an array header announced more elements than
    /// could fit below it: the output is incomplete and must not be sent.
    public var overflowed: Bool { overflowMark }
    @usableFromInline var overflowMark = false
    /// The codes of the error replies written since the dispatcher last took them (INFO
    /// errorstats: the first word, see `noteError`). Empty, and never allocated, until an
    /// error is written.
    public var errorCodes: [[UInt8]] = []
    /// Error replies written that were counted already where they arose (a script returning
    /// the error a command it called gave): they fail the command without being counted again.
    public var uncountedErrors = 0
    /// Whether an error reply was written since the dispatcher last took them.
    @inlinable public var hasErrors: Bool { !errorCodes.isEmpty || uncountedErrors != 0 }

    /// The default `limit`: 1 GiB, well below `ByteBuffer`'s 4 GiB even when the element that
    /// crosses it is a 512 MB string and the buffer doubles its capacity for it.
    public static let defaultLimit = 1 << 30

    public init(buffer: ByteBuffer, resp3: Bool = false, limit: Int = ReplyWriter.defaultLimit) {
        self.buffer = buffer
        self.resp3 = resp3
        self.limit = limit
    }

    /// Forgets an overflow, for a writer reused after its output was thrown away.
    public mutating func clearOverflow() { overflowMark = false }

    /// False, after setting `overflowed`, when the buffer is already past `limit`: the one
    /// comparison every write makes.
    @inlinable mutating func hasRoom() -> Bool {
        if buffer.writerIndex <= limit { return true }
        overflowMark = true
        return false
    }

    // MARK: - Simple replies

    @inlinable public mutating func ok() { writeStatic("+OK\r\n") }

    @inlinable public mutating func status(_ text: StaticString) {
        writeStatic(text, prefix: UInt8(ascii: "+"), crlf: true)
    }

    /// A status line built at run time (CR and LF become spaces).
    public mutating func status(text: String) {
        guard hasRoom() else { return }
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeString(sanitized(text))
        writeStatic("\r\n")
    }

    /// An error reply. `message` starts with its code (`ERR ...`, `WRONGTYPE ...`);
    /// CR and LF are replaced by spaces, as Redis does, so the reply stays one line.
    public mutating func error(_ message: String) {
        noteError(message.utf8, dashed: false)
        guard hasRoom() else { return }
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeString(sanitized(message))
        writeStatic("\r\n")
    }

    /// An error reply from raw bytes (script errors may hold any bytes); CR and LF become spaces.
    public mutating func error(bytes message: [UInt8]) {
        noteError(message, dashed: false)
        guard hasRoom() else { return }
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeBytes(message.map { $0 == 13 || $0 == 10 ? 32 : $0 })
        writeStatic("\r\n")
    }

    /// An error reply of fixed text: the whole line, `-CODE message\r\n`.
    public mutating func staticError(_ line: StaticString) {
        noteError(UnsafeBufferPointer(start: line.utf8Start, count: line.utf8CodeUnitCount), dashed: true)
        writeStatic(line)
    }

    /// Records an error reply's code as Redis's error statistics name it: the text before the
    /// first space among the first 32 bytes of the line (its `-` included), or `ERR` when
    /// there is none. `dashed`: `text` starts with the line's `-`.
    public mutating func noteError<Text: Collection<UInt8>>(_ text: Text, dashed: Bool) {
        errorCodes.append(Self.errorCode(text, dashed: dashed))
    }

    /// The code Redis's error statistics file an error reply under (see `noteError`).
    public static func errorCode<Text: Collection<UInt8>>(_ text: Text, dashed: Bool) -> [UInt8] {
        var code: [UInt8] = []
        var position = 1  // in the line, after its `-`
        for byte in text.dropFirst(dashed ? 1 : 0) {
            if position >= 32 { break }
            if byte == 32 { return code }
            code.append(byte)
            position += 1
        }
        return errCode
    }

    private static let errCode: [UInt8] = Array("ERR".utf8)

    private func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return text }
        return String(decoding: text.utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 }, as: UTF8.self)
    }

    @inlinable public mutating func integer(_ value: Int64) {
        // 0 to 9 (flags, most counts): the four bytes in one store, without formatting, as
        // Redis sends its shared small integers.
        if UInt64(bitPattern: value) < 10 {
            guard hasRoom() else { return }
            let line = (UInt32(0x0a0d_303a) &+ UInt32(truncatingIfNeeded: value) << 8).littleEndian
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4) { out in
                out.storeBytes(of: line, as: UInt32.self)
                return 4
            }
            return
        }
        writeFrame(UInt8(ascii: ":"), value, nil)
    }

    @inlinable public mutating func integer(_ value: Int) { integer(Int64(value)) }

    // MARK: - Bulk strings

    @inlinable public mutating func bulk(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeFrame(UInt8(ascii: "$"), Int64($0.count), $0) }
    }

    @inlinable public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        writeFrame(UInt8(ascii: "$"), Int64(bytes.count), bytes)
    }

    public mutating func bulk(_ text: String) { bulk(Array(text.utf8)) }

    /// A bulk string of fixed text, without making an array of it.
    public mutating func staticBulk(_ text: StaticString) {
        writeFrame(UInt8(ascii: "$"), Int64(text.utf8CodeUnitCount), UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// An integer sent as a bulk string (how Redis returns an int-encoded string value).
    @inlinable public mutating func bulkDecimal(_ value: Int64) {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            let n = Self.formatDecimal(value, into: digits)
            writeFrame(UInt8(ascii: "$"), Int64(n), UnsafeRawBufferPointer(rebasing: digits[(24 - n)...]))
        }
    }

    /// A verbatim string (RESP3 `=`, format `txt`), or a bulk string in RESP2.
    public mutating func verbatim(_ text: String) {
        guard resp3 else { return bulk(text) }
        guard hasRoom() else { return }
        let utf8 = Array(text.utf8)
        writeFrame(UInt8(ascii: "="), Int64(utf8.count + 4), nil)
        writeStatic("txt:")
        buffer.writeBytes(utf8)
        writeStatic("\r\n")
    }

    // MARK: - Nulls, booleans, doubles

    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    @inlinable public mutating func null() {
        if resp3 { writeStatic("_\r\n") } else { writeStatic("$-1\r\n") }
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3).
    @inlinable public mutating func nullArray() {
        if resp3 { writeStatic("_\r\n") } else { writeStatic("*-1\r\n") }
    }

    public mutating func boolean(_ value: Bool) {
        if resp3 { writeStatic(value ? "#t\r\n" : "#f\r\n") } else { integer(value ? 1 : 0) }
    }

    /// A double as Redis 7.0 sends it: `%.17g` text, `inf`/`-inf`; a bulk string in RESP2, `,` in RESP3.
    public mutating func double(_ value: Double) {
        guard hasRoom() else { return }
        // Integers below 1e17 are their own %.17g text: no printf, no String.
        if value.magnitude < 1e17, value == value.rounded(.towardZero), !(value == 0 && value.sign == .minus) {
            if resp3 {
                buffer.writeInteger(UInt8(ascii: ","))
                writeDecimal(Int64(value))
                writeStatic("\r\n")
            } else {
                bulkDecimal(Int64(value))
            }
            return
        }
        let text = formatDouble17g(value)
        if resp3 {
            buffer.writeInteger(UInt8(ascii: ","))
            buffer.writeString(text)
            writeStatic("\r\n")
        } else {
            bulk(text)
        }
    }

    /// A double already formatted (GEOPOS's `%.17Lf`): a bulk string in RESP2, `,` in RESP3.
    public mutating func double(text: [UInt8]) {
        guard resp3 else { return bulk(text) }
        guard hasRoom() else { return }
        buffer.writeInteger(UInt8(ascii: ","))
        buffer.writeBytes(text)
        writeStatic("\r\n")
    }

    // MARK: - Aggregates

    /// An array of `count` elements. Each element takes at least 3 bytes, so a count that
    /// cannot fit below `limit` marks the writer `overflowed` at once, before any is made.
    @inlinable public mutating func arrayHeader(_ count: Int) {
        if count > (limit &- buffer.writerIndex) / 3 {
            overflowMark = true
            return
        }
        writeFrame(UInt8(ascii: "*"), Int64(count), nil)
    }

    /// An out-of-band message of `count` elements (Pub/Sub): `>` in RESP3, an array in RESP2.
    public mutating func pushHeader(_ count: Int) {
        if resp3 {
            writeFrame(UInt8(ascii: ">"), Int64(count), nil)
        } else {
            arrayHeader(count)
        }
    }

    /// A map of `count` pairs: `%` in RESP3, a flat array of 2×count in RESP2.
    public mutating func mapHeader(_ count: Int) {
        if resp3 {
            writeFrame(UInt8(ascii: "%"), Int64(count), nil)
        } else {
            arrayHeader(count * 2)
        }
    }

    /// A set: `~` in RESP3, an array in RESP2.
    public mutating func setHeader(_ count: Int) {
        if resp3 {
            writeFrame(UInt8(ascii: "~"), Int64(count), nil)
        } else {
            arrayHeader(count)
        }
    }


    /// An attribute header (`|` in RESP3), whose `count` pairs precede the reply they
    /// describe. RESP2 has no attributes: callers skip the pairs there.
    public mutating func attributeHeader(_ count: Int) {
        writeFrame(UInt8(ascii: "|"), Int64(count), nil)
    }

    /// A big number (`(` in RESP3) given as its decimal digits; a bulk string in RESP2.
    public mutating func bigNumber(_ digits: String) {
        guard resp3 else { return bulk(digits) }
        guard hasRoom() else { return }
        buffer.writeInteger(UInt8(ascii: "("))
        buffer.writeString(digits)
        writeStatic("\r\n")
    }

    // MARK: - Digits

    /// Writes `type`, the decimal `number`, CRLF and, when given, `payload` and CRLF, with one
    /// capacity check: the shape of every integer, bulk and aggregate header.
    @inlinable mutating func writeFrame(_ type: UInt8, _ number: Int64, _ payload: UnsafeRawBufferPointer?) {
        guard hasRoom() else { return }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            let n = Self.formatDecimal(number, into: digits)
            let payloadLength = payload.map { $0.count + 2 } ?? 0
            let total = 1 + n + 2 + payloadLength
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
                let base = out.baseAddress!
                base.storeBytes(of: type, as: UInt8.self)
                (base + 1).copyMemory(from: digits.baseAddress! + (24 - n), byteCount: n)
                (base + 1 + n).storeBytes(of: 13, as: UInt8.self)
                (base + 2 + n).storeBytes(of: 10, as: UInt8.self)
                if let payload {
                    if payload.count > 0 { (base + 3 + n).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
                    (base + total - 2).storeBytes(of: 13, as: UInt8.self)
                    (base + total - 1).storeBytes(of: 10, as: UInt8.self)
                }
                return total
            }
        }
    }

    /// Writes `text`, after `prefix` and followed by CRLF when asked, with one capacity check.
    /// (NIO's `writeStaticString` is not inlined here and makes a runtime exclusivity check on
    /// every call: a few percent of the server's time for PING.)
    @inlinable mutating func writeStatic(_ text: StaticString, prefix: UInt8? = nil, crlf: Bool = false) {
        guard hasRoom() else { return }
        let count = text.utf8CodeUnitCount
        let total = count + (prefix == nil ? 0 : 1) + (crlf ? 2 : 0)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            var at = out.baseAddress!
            if let prefix {
                at.storeBytes(of: prefix, as: UInt8.self)
                at += 1
            }
            at.copyMemory(from: text.utf8Start, byteCount: count)
            if crlf {
                (at + count).storeBytes(of: 13, as: UInt8.self)
                (at + count + 1).storeBytes(of: 10, as: UInt8.self)
            }
            return total
        }
    }

    /// Writes the decimal digits of `value` right-aligned in a 24-byte scratch; returns their count.
    @inlinable static func formatDecimal(_ value: Int64, into digits: UnsafeMutableRawBufferPointer) -> Int {
        var v = value.magnitude
        var i = 24
        repeat {
            i -= 1
            digits[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
            v /= 10
        } while v > 0
        if value < 0 { i -= 1; digits[i] = UInt8(ascii: "-") }
        return 24 - i
    }

    /// The decimal digits of `value`, with no framing.
    @inlinable public mutating func writeDecimal(_ value: Int64) {
        guard hasRoom() else { return }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            let n = Self.formatDecimal(value, into: digits)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: digits[(24 - n)...]))
        }
    }
}
