/// A decoded RESP2/RESP3 value, for clients and tests: `RESPValue.decode` reads one whole
/// frame (or reports that more bytes are needed) and `encode` writes it back byte for byte.
import AtollBytes
import NIOCore

/// Not `indirect`: the aggregates hold arrays, which are references already, so a reply costs
/// one allocation for its payload and none for a box.
public enum RESPValue: Equatable, Sendable {
    case simpleString([UInt8])
    case error([UInt8])
    case integer(Int64)
    case bulkString([UInt8]?)          // nil is RESP2's `$-1`
    case array([RESPValue]?)           // nil is RESP2's `*-1`
    case null                          // RESP3 `_`
    case double([UInt8])               // RESP3 `,` (kept as its text, so encoding is exact)
    case boolean(Bool)
    case bigNumber([UInt8])
    case verbatim(format: [UInt8], text: [UInt8])
    case map([(RESPValue, RESPValue)])
    case set([RESPValue])
    case push([RESPValue])
    case attribute([(RESPValue, RESPValue)])

    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        var a = ByteBuffer(), b = ByteBuffer()
        lhs.encode(into: &a)
        rhs.encode(into: &b)
        return a == b
    }

    public struct DecodeError: Error, Equatable, Sendable {
        public let message: String
    }

    /// Decodes one frame from the front of `buffer`, consuming it. Returns nil and consumes
    /// nothing when the frame is not complete yet.
    public static func decode(_ buffer: inout ByteBuffer, maxDepth: Int = 64) throws(DecodeError) -> RESPValue? {
        var copy = buffer
        guard let value = try decodeFrame(&copy, depth: maxDepth) else { return nil }
        buffer = copy
        return value
    }

    private static func readLine(_ buffer: inout ByteBuffer) -> [UInt8]? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: 13), cr + 1 < view.endIndex else { return nil }
        let line = Array(view[view.startIndex..<cr])
        buffer.moveReaderIndex(to: cr + 2)
        return line
    }

    private static func integerLine(_ buffer: inout ByteBuffer) throws(DecodeError) -> Int64? {
        guard let line = readLine(&buffer) else { return nil }
        guard let n = parseStrictInt64(line) else { throw DecodeError(message: "bad integer") }
        return n
    }

    private static func blob(_ buffer: inout ByteBuffer, _ length: Int64) throws(DecodeError) -> [UInt8]? {
        guard length >= 0 else { throw DecodeError(message: "bad length") }
        guard buffer.readableBytes >= Int(length) + 2 else { return nil }
        let bytes = buffer.readBytes(length: Int(length))!
        buffer.moveReaderIndex(forwardBy: 2)
        return bytes
    }

    private static func elements(_ buffer: inout ByteBuffer, _ count: Int64, _ depth: Int) throws(DecodeError) -> [RESPValue]? {
        guard count >= 0 else { throw DecodeError(message: "bad count") }
        var out: [RESPValue] = []
        out.reserveCapacity(Int(min(count, 1024)))
        for _ in 0..<count {
            guard let v = try decodeFrame(&buffer, depth: depth - 1) else { return nil }
            out.append(v)
        }
        return out
    }

    private static func pairs(_ buffer: inout ByteBuffer, _ count: Int64, _ depth: Int) throws(DecodeError) -> [(RESPValue, RESPValue)]? {
        guard let flat = try elements(&buffer, count * 2, depth) else { return nil }
        return stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
    }

    private static func decodeFrame(_ buffer: inout ByteBuffer, depth: Int) throws(DecodeError) -> RESPValue? {
        guard depth > 0 else { throw DecodeError(message: "nesting too deep") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return readLine(&buffer).map { .simpleString($0) }
        case UInt8(ascii: "-"): return readLine(&buffer).map { .error($0) }
        case UInt8(ascii: ":"): return try integerLine(&buffer).map { .integer($0) }
        case UInt8(ascii: "("): return readLine(&buffer).map { .bigNumber($0) }
        case UInt8(ascii: ","): return readLine(&buffer).map { .double($0) }
        case UInt8(ascii: "_"): return readLine(&buffer).map { _ in .null }
        case UInt8(ascii: "#"):
            guard let line = readLine(&buffer) else { return nil }
            guard line == [UInt8(ascii: "t")] || line == [UInt8(ascii: "f")] else { throw DecodeError(message: "bad boolean") }
            return .boolean(line[0] == UInt8(ascii: "t"))
        case UInt8(ascii: "$"):
            guard let n = try integerLine(&buffer) else { return nil }
            if n == -1 { return .bulkString(nil) }
            return try blob(&buffer, n).map { .bulkString($0) }
        case UInt8(ascii: "="):
            guard let n = try integerLine(&buffer) else { return nil }
            guard let all = try blob(&buffer, n) else { return nil }
            guard all.count >= 4, all[3] == UInt8(ascii: ":") else { throw DecodeError(message: "bad verbatim") }
            return .verbatim(format: Array(all[0..<3]), text: Array(all[4...]))
        case UInt8(ascii: "*"):
            guard let n = try integerLine(&buffer) else { return nil }
            if n == -1 { return .array(nil) }
            return try elements(&buffer, n, depth).map { .array($0) }
        case UInt8(ascii: "~"):
            guard let n = try integerLine(&buffer) else { return nil }
            return try elements(&buffer, n, depth).map { .set($0) }
        case UInt8(ascii: ">"):
            guard let n = try integerLine(&buffer) else { return nil }
            return try elements(&buffer, n, depth).map { .push($0) }
        case UInt8(ascii: "%"):
            guard let n = try integerLine(&buffer) else { return nil }
            return try pairs(&buffer, n, depth).map { .map($0) }
        case UInt8(ascii: "|"):
            guard let n = try integerLine(&buffer) else { return nil }
            return try pairs(&buffer, n, depth).map { .attribute($0) }
        default:
            throw DecodeError(message: "unknown type byte \(type)")
        }
    }

    /// Writes the value in its wire form.
    public func encode(into buffer: inout ByteBuffer) {
        func line(_ type: Character, _ bytes: [UInt8]) {
            buffer.writeInteger(type.asciiValue!)
            buffer.writeBytes(bytes)
            buffer.writeStaticString("\r\n")
        }
        func header(_ type: Character, _ n: Int) { line(type, Array(String(n).utf8)) }
        switch self {
        case .simpleString(let s): line("+", s)
        case .error(let s): line("-", s)
        case .integer(let n): line(":", Array(String(n).utf8))
        case .bigNumber(let s): line("(", s)
        case .double(let s): line(",", s)
        case .null: buffer.writeStaticString("_\r\n")
        case .boolean(let b): buffer.writeStaticString(b ? "#t\r\n" : "#f\r\n")
        case .bulkString(nil): buffer.writeStaticString("$-1\r\n")
        case .bulkString(let s?): header("$", s.count); buffer.writeBytes(s); buffer.writeStaticString("\r\n")
        case .verbatim(let format, let text):
            header("=", text.count + 4); buffer.writeBytes(format); buffer.writeStaticString(":")
            buffer.writeBytes(text); buffer.writeStaticString("\r\n")
        case .array(nil): buffer.writeStaticString("*-1\r\n")
        case .array(let items?): header("*", items.count); items.forEach { $0.encode(into: &buffer) }
        case .set(let items): header("~", items.count); items.forEach { $0.encode(into: &buffer) }
        case .push(let items): header(">", items.count); items.forEach { $0.encode(into: &buffer) }
        case .map(let pairs), .attribute(let pairs):
            if case .map = self { header("%", pairs.count) } else { header("|", pairs.count) }
            for (k, v) in pairs { k.encode(into: &buffer); v.encode(into: &buffer) }
        }
    }
}
