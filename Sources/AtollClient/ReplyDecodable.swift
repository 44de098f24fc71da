/// Replies read straight into the caller's types. A `TypedBatch<Reply>` hands each reply to
/// `Reply(reply:)` while the reply is still in the connection's read buffer: a GET's bulk
/// string becomes a `[UInt8]`, `String` or `Int` without a `RESPValue` (and its array) in
/// between. The conformances here accept what the `RESPValue` accessors accept (see
/// `ReplyConversions`): a string type takes bulk, simple and verbatim strings and integers, a
/// number takes an integer or its text, and `Optional` turns either protocol's null into nil.
/// They are inlinable, so a batch's decoding is compiled for its reply type where it is used.
import AtollBytes
import AtollRESP
import NIOCore

/// A reply as it was read: its bytes borrowed from the read buffer for the length of one
/// decoder call (do not keep the pointers).
public enum RawReply {
    case bulkString(UnsafeRawBufferPointer)
    case simpleString(UnsafeRawBufferPointer)
    case integer(Int64)
    /// RESP3's null, RESP2's null bulk string or null array.
    case null
    /// Any other reply (arrays, maps, sets, doubles, booleans, big numbers, verbatim strings),
    /// already decoded.
    case other(RESPValue)

    /// A reply decoded as a `RESPValue`.
    @inlinable
    init(_ value: RESPValue) {
        switch value {
        case .null, .bulkString(nil), .array(nil): self = .null
        case .integer(let n): self = .integer(n)
        default: self = .other(value)
        }
    }

    /// The reply as a `RESPValue` (its bytes copied).
    public var value: RESPValue {
        switch self {
        case .bulkString(let bytes): return .bulkString(Array(bytes))
        case .simpleString(let bytes): return .simpleString(Array(bytes))
        case .integer(let n): return .integer(n)
        case .null: return .null
        case .other(let value): return value
        }
    }
}

/// A type a reply can be decoded into. An error reply never reaches `init(reply:)`: it is the
/// element's `RedisError`. Throw `RedisClientError.unexpectedReply` for a shape that does not
/// fit; it becomes that element's failure, and the batch's other replies are unaffected.
public protocol RedisReplyDecodable: Sendable {
    init(reply: RawReply) throws
}

extension RESPValue: RedisReplyDecodable {
    public init(reply: RawReply) {
        self = reply.value
    }
}

extension Array: RedisReplyDecodable where Element == UInt8 {
    @inlinable
    public init(reply: RawReply) throws {
        switch reply {
        case .bulkString(let bytes), .simpleString(let bytes): self = Array(bytes)
        case .integer(let n): self = Array(String(n).utf8)
        case .null: throw reply.unexpected("a string")
        case .other(let value):
            guard let bytes = try value.bytes() else { throw reply.unexpected("a string") }
            self = bytes
        }
    }
}

extension String: RedisReplyDecodable {
    @inlinable
    public init(reply: RawReply) throws {
        switch reply {
        case .simpleString(let bytes) where bytes.count == 2 && bytes[0] == UInt8(ascii: "O") && bytes[1] == UInt8(ascii: "K"):
            // The most common reply of all, without validating it as UTF-8 each time.
            self = "OK"
        case .bulkString(let bytes), .simpleString(let bytes): self = String(decoding: bytes, as: UTF8.self)
        case .integer(let n): self = String(n)
        case .null: throw reply.unexpected("a string")
        case .other(let value):
            guard let text = try value.string() else { throw reply.unexpected("a string") }
            self = text
        }
    }
}

extension Int64: RedisReplyDecodable {
    /// An integer reply, or a string reply holding one (as GET's).
    @inlinable
    public init(reply: RawReply) throws {
        switch reply {
        case .integer(let n): self = n
        case .bulkString(let bytes), .simpleString(let bytes):
            guard let n = parseStrictInt64(bytes) else { throw reply.unexpected("an integer") }
            self = n
        case .null: throw reply.unexpected("an integer")
        case .other(let value): self = Int64(try value.int())
        }
    }
}

extension Int: RedisReplyDecodable {
    /// An integer reply, or a string reply holding one (as GET's).
    @inlinable
    public init(reply: RawReply) throws {
        self = Int(try Int64(reply: reply))
    }
}

extension Double: RedisReplyDecodable {
    /// A double (RESP3), or its text, or an integer.
    @inlinable
    public init(reply: RawReply) throws {
        switch reply {
        case .integer(let n): self = Double(n)
        case .null: throw reply.unexpected("a double")
        default:
            guard let d = try reply.value.double() else { throw reply.unexpected("a double") }
            self = d
        }
    }
}

extension Bool: RedisReplyDecodable {
    /// A boolean (RESP3) or 1/0 (RESP2).
    @inlinable
    public init(reply: RawReply) throws {
        switch reply {
        case .integer(let n): self = n != 0
        case .other(let value): self = try value.bool()
        default: throw reply.unexpected("a boolean")
        }
    }
}

extension Optional: RedisReplyDecodable where Wrapped: RedisReplyDecodable {
    /// Nil for a null reply, else the reply as `Wrapped`.
    @inlinable
    public init(reply: RawReply) throws {
        if case .null = reply {
            self = nil
        } else {
            self = try Wrapped(reply: reply)
        }
    }
}

extension RawReply {
    @usableFromInline
    func unexpected(_ wanted: String) -> RedisClientError {
        value.unexpected(wanted)
    }
}
