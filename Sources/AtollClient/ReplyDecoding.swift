/// Reading replies off the connection's input buffer. The frames nearly every command gets —
/// simple strings, errors, integers, bulk strings and nulls — are found in one pass over the
/// buffer's bytes (`scalarFrame`) and then either built into a `RESPValue` (`readReply()`) or
/// handed, still in the buffer, to a caller's decoder (`readReply(as:)`, for `TypedBatch`, and
/// inlinable so that it is compiled for each reply type where it is used);
/// aggregates and the rarer RESP3 types go to `RESPValue.decode`, which also reports
/// malformed input.
import AtollBytes
import AtollRESP
import NIOCore

/// A scalar frame at the front of the input. Ranges are offsets into the readable bytes.
@usableFromInline
enum ScalarFrame {
    case simpleString(Range<Int>)
    case error(Range<Int>)
    case integer(Int64)
    case bulkString(Range<Int>)
    /// RESP3's `_` or RESP2's `$-1`.
    case null
    case incomplete
    /// An aggregate, a rarer type or malformed: for the general decoder.
    case other
}

extension ByteBuffer {
    /// Reads one reply frame from the front, consuming it; nil (consuming nothing) when the
    /// frame is not complete yet.
    mutating func readReply() throws(RESPValue.DecodeError) -> RESPValue? {
        let scalar: (RESPValue?, Int)? = withUnsafeReadableBytes { bytes in
            let (frame, length) = Self.scalarFrame(bytes)
            switch frame {
            case .simpleString(let range):
                let line = UnsafeRawBufferPointer(rebasing: bytes[range])
                // The most common reply of all shares one array rather than allocating its own.
                if line.elementsEqual(Self.okBytes) { return (.simpleString(Self.okBytes), length) }
                return (.simpleString(Array(line)), length)
            case .error(let range): return (.error(Array(UnsafeRawBufferPointer(rebasing: bytes[range]))), length)
            case .integer(let n): return (.integer(n), length)
            case .bulkString(let range):
                return (.bulkString(Array(UnsafeRawBufferPointer(rebasing: bytes[range]))), length)
            case .null: return (bytes.first == UInt8(ascii: "_") ? .null : .bulkString(nil), length)
            case .incomplete: return (nil, 0)
            case .other: return nil
            }
        }
        guard let (value, length) = scalar else { return try RESPValue.decode(&self) }
        moveReaderIndex(forwardBy: length)
        return value
    }

    /// Reads one reply frame from the front as `Reply`, consuming it: the decoder sees a string
    /// reply's bytes where they lie in the buffer, so nothing is built in between. An error
    /// reply becomes a `RedisError`, a decoder's throw the element's failure. Nil (consuming
    /// nothing) when the frame is not complete yet.
    @inlinable
    mutating func readReply<Reply: RedisReplyDecodable>(as: Reply.Type)
        throws(RESPValue.DecodeError) -> Result<Reply, any Error>? {
        let scalar: (Result<Reply, any Error>?, Int)? = withUnsafeReadableBytes { bytes in
            let (frame, length) = Self.scalarFrame(bytes)
            switch frame {
            case .simpleString(let range):
                return (Result { try Reply(reply: .simpleString(UnsafeRawBufferPointer(rebasing: bytes[range]))) }, length)
            case .error(let range):
                return (.failure(RedisError(reply: Array(UnsafeRawBufferPointer(rebasing: bytes[range])))), length)
            case .integer(let n): return (Result { try Reply(reply: .integer(n)) }, length)
            case .bulkString(let range):
                return (Result { try Reply(reply: .bulkString(UnsafeRawBufferPointer(rebasing: bytes[range]))) }, length)
            case .null: return (Result { try Reply(reply: .null) }, length)
            case .incomplete: return (nil, 0)
            case .other: return nil
            }
        }
        if let (result, length) = scalar {
            moveReaderIndex(forwardBy: length)
            return result
        }
        guard let value = try RESPValue.decode(&self) else { return nil }
        return .decoding(value, as: Reply.self)
    }

    @usableFromInline
    static func scalarFrame(_ bytes: UnsafeRawBufferPointer) -> (ScalarFrame, Int) {
        guard let type = bytes.first else { return (.incomplete, 0) }
        guard isScalarType(type) else { return (.other, 0) }
        guard let cr = firstCR(bytes, from: 1) else { return (.incomplete, 0) }
        guard cr + 1 < bytes.count else { return (.incomplete, 0) }
        guard bytes[cr + 1] == 10 else { return (.other, 0) }
        let next = cr + 2
        switch type {
        case UInt8(ascii: "+"): return (.simpleString(1..<cr), next)
        case UInt8(ascii: "-"): return (.error(1..<cr), next)
        case UInt8(ascii: "_"): return cr == 1 ? (.null, next) : (.other, 0)
        case UInt8(ascii: ":"):
            guard let n = parseStrictInt64(UnsafeRawBufferPointer(rebasing: bytes[1..<cr])) else { return (.other, 0) }
            return (.integer(n), next)
        default:  // "$"
            guard let length = bulkLength(UnsafeRawBufferPointer(rebasing: bytes[1..<cr])) else { return (.other, 0) }
            if length == -1 { return (.null, next) }
            guard length >= 0, length <= bytes.count else { return length < 0 ? (.other, 0) : (.incomplete, 0) }
            let end = next + Int(length)
            guard end + 2 <= bytes.count else { return (.incomplete, 0) }
            guard bytes[end] == 13, bytes[end + 1] == 10 else { return (.other, 0) }
            return (.bulkString(next..<end), end + 2)
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

extension Result where Failure == any Error, Success: RedisReplyDecodable {
    /// A reply already decoded as a `RESPValue`, as `Success`: an error reply as `RedisError`.
    @inlinable
    static func decoding(_ value: RESPValue, as: Success.Type) -> Self {
        if case .error(let text) = value { return .failure(RedisError(reply: text)) }
        return Result { try Success(reply: RawReply(value)) }
    }
}
