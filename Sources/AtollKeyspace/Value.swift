/// The values a key can hold, and the per-key record (value, expiry, last access).

import AtollBytes

/// A key's value. Strings that are canonical 64-bit integers may be held as `.int`, which
/// makes INCR allocation-free; both cases are the Redis type "string". String bytes are a
/// `Bytes`, so values of up to 24 bytes live inside the table entry with no heap object.
///
/// Collections are reference types: a command looks the key up once and changes the object
/// in place, with no copy of the collection. They are only touched under the keyspace guard.
/// COPY (and anything else that must not share) uses `deepCopy()`. (Unchecked: hashes and
/// sorted sets are `ManagedBuffer`s, which cannot be `Sendable`; the guard is what makes
/// sharing safe.)
public enum Value: @unchecked Sendable {
    case string(Bytes)
    case int(Int64)
    case hash(HashObject)
    case list(ListObject)
    case set(SetObject)
    case zset(SortedSetObject)
    case stream(StreamObject)

    /// The name TYPE reports.
    public var typeName: StaticString {
        switch self {
        case .string, .int: return "string"
        case .hash: return "hash"
        case .list: return "list"
        case .set: return "set"
        case .zset: return "zset"
        case .stream: return "stream"
        }
    }

    public var isString: Bool {
        switch self {
        case .string, .int: return true
        default: return false
        }
    }

    /// A value that shares nothing with this one (strings are values already).
    public func deepCopy() -> Value {
        switch self {
        case .string, .int: return self
        case .hash(let h): return .hash(h.copy())
        case .list(let l): return .list(l.copy())
        case .set(let s): return .set(s.copy())
        case .zset(let z): return .zset(z.copy())
        case .stream(let x): return .stream(x.copy())
        }
    }

    /// A string value as SET stores it: canonical integers of up to 20 bytes become `.int`
    /// (Redis's `tryObjectEncoding`), anything else stays bytes.
    @inlinable public static func encodedString(_ bytes: [UInt8]) -> Value {
        if bytes.count <= 20, let first = bytes.first, (first >= 48 && first <= 57) || first == 45,
           let n = parseStrictInt64(bytes) {
            return .int(n)
        }
        return .string(Bytes(bytes))
    }

    /// Runs `body` on a string value's bytes, then keeps them as `.string`. A long string's
    /// array is moved out of the value and back, so the bytes are changed where they are,
    /// neither copied nor reference counted. The value must be a string (`.string` or `.int`).
    @inlinable public mutating func changeString<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        var taken = Value.int(0)
        swap(&taken, &self)
        var bytes: [UInt8]
        switch consume taken {
        case .string(let b): bytes = b.takeArray()
        case .int(let n): bytes = Array(String(n).utf8)
        default: preconditionFailure("changeString on a collection")
        }
        defer { self = .string(Bytes(moving: bytes)) }
        return try body(&bytes)
    }

    /// The string's bytes, whatever its encoding (empty for collections).
    @inlinable public var stringBytes: [UInt8] {
        switch self {
        case .string(let b): return b.array
        case .int(let n): return Array(String(n).utf8)
        default: return []
        }
    }
}

/// Marker for "no expiry" in `Entry.expireAt`.
public let noExpiry: Int64 = -1

/// The fields are declared so that the small ones fill the padding after `value` (40 bytes
/// instead of 48 per key in the table).
public struct Entry: Sendable {
    public var value: Value
    /// True once the string was changed in place (APPEND, SETRANGE): OBJECT ENCODING says "raw".
    public var rawEncoding: Bool
    /// Seconds (server LRU clock) of the last access, for OBJECT IDLETIME.
    public var lastAccess: UInt32
    /// Absolute Unix time in milliseconds after which the key is gone, or `noExpiry`.
    public var expireAt: Int64

    @inlinable public init(value: Value, expireAt: Int64 = noExpiry, lastAccess: UInt32 = 0, rawEncoding: Bool = false) {
        self.value = value
        self.expireAt = expireAt
        self.lastAccess = lastAccess
        self.rawEncoding = rawEncoding
    }
}
