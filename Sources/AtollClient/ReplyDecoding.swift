/// Reading replies off the connection's input buffer. The frames nearly every command gets —
/// simple strings, errors, integers, bulk strings and nulls — are read in one pass over the
/// buffer's bytes, with one allocation for the payload; aggregates and the rarer RESP3 types
/// go to `RESPValue.decode`, which also reports malformed input.
import AtollBytes
import AtollRESP
import NIOCore

extension ByteBuffer {
    /// Reads one reply frame from the front, consuming it; nil (consuming nothing) when the
    /// frame is not complete yet.
    mutating func readReply() throws(RESPValue.DecodeError) -> RESPValue? {
        let scalar = withUnsafeReadableBytes { bytes in Self.scalarReply(bytes) }
        switch scalar {
        case .value(let value, let length):
            moveReaderIndex(forwardBy: length)
            return value
        case .incomplete:
            return nil
        case .other:
            return try RESPValue.decode(&self)
        }
    }

    private enum Scalar {
        /// The reply and the bytes it took.
        case value(RESPValue, Int)
        case incomplete
        /// An aggregate, a rarer type or malformed: for the general decoder.
        case other
    }

    private static func scalarReply(_ bytes: UnsafeRawBufferPointer) -> Scalar {
        guard let type = bytes.first else { return .incomplete }
        guard isScalarType(type) else { return .other }
        guard let cr = firstCR(bytes, from: 1) else { return .incomplete }
        guard cr + 1 < bytes.count else { return .incomplete }
        guard bytes[cr + 1] == 10 else { return .other }
        let line = UnsafeRawBufferPointer(rebasing: bytes[1..<cr])
        let next = cr + 2
        switch type {
        case UInt8(ascii: "+"):
            // The most common reply of all shares one array rather than allocating its own.
            if line.elementsEqual(okBytes) { return .value(.simpleString(okBytes), next) }
            return .value(.simpleString(Array(line)), next)
        case UInt8(ascii: "-"): return .value(.error(Array(line)), next)
        case UInt8(ascii: "_"): return line.isEmpty ? .value(.null, next) : .other
        case UInt8(ascii: ":"):
            guard let n = parseStrictInt64(line) else { return .other }
            return .value(.integer(n), next)
        default:  // "$"
            guard let length = bulkLength(line) else { return .other }
            if length == -1 { return .value(.bulkString(nil), next) }
            guard length >= 0, length <= bytes.count else { return length < 0 ? .other : .incomplete }
            let end = next + Int(length)
            guard end + 2 <= bytes.count else { return .incomplete }
            guard bytes[end] == 13, bytes[end + 1] == 10 else { return .other }
            return .value(.bulkString(Array(UnsafeRawBufferPointer(rebasing: bytes[next..<end]))), end + 2)
        }
    }

    /// A bulk string's length: a single digit (every value shorter than ten bytes) without the
    /// general parser.
    private static func bulkLength(_ line: UnsafeRawBufferPointer) -> Int64? {
        if line.count == 1 {
            let digit = line[0] &- UInt8(ascii: "0")
            return digit <= 9 ? Int64(digit) : nil
        }
        return parseStrictInt64(line)
    }

    private static let okBytes: [UInt8] = Array("OK".utf8)

    private static func isScalarType(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "$")
            || byte == UInt8(ascii: "_")
    }

    /// The index of the first CR at or after `start`.
    private static func firstCR(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        while i < bytes.count {
            if bytes[i] == 13 { return i }
            i += 1
        }
        return nil
    }
}
