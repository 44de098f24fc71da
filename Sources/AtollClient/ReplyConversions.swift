/// Reading replies as Swift types. The same accessor accepts the RESP2 and the RESP3 form of a
/// reply (a map or RESP2's flat array of pairs, a double or its bulk-string text, a boolean
/// or 1/0), so typed commands work whichever protocol the connection negotiated. A shape that
/// fits neither throws `RedisClientError.unexpectedReply`.
import AtollRESP
import NIOCore

extension RESPValue {
    /// True for RESP3's null and RESP2's null bulk string and null array.
    public var isNull: Bool {
        switch self {
        case .null, .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// The bytes of a bulk, simple or verbatim string; nil for a null.
    public func bytes() throws -> [UInt8]? {
        switch self {
        case .bulkString(let bytes): return bytes
        case .simpleString(let bytes), .double(let bytes), .bigNumber(let bytes): return bytes
        case .verbatim(_, let text): return text
        case .integer(let n): return Array(String(n).utf8)
        case .null, .array(nil): return nil
        default: throw unexpected("a string")
        }
    }

    /// The reply as UTF-8 text; nil for a null.
    public func string() throws -> String? {
        try bytes().map { String(decoding: $0, as: UTF8.self) }
    }

    /// An integer reply, or a string reply holding an integer (as GET's).
    public func int() throws -> Int {
        guard let n = try optionalInt() else { throw unexpected("an integer") }
        return n
    }

    /// As `int()`, but nil for a null.
    public func optionalInt() throws -> Int? {
        if case .integer(let n) = self { return Int(n) }
        guard let text = try string() else { return nil }
        guard let n = Int(text) else { throw unexpected("an integer") }
        return n
    }

    /// A double (RESP3) or its text (RESP2); nil for a null.
    public func double() throws -> Double? {
        guard let text = try string() else { return nil }
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        default:
            guard let d = Double(text) else { throw unexpected("a double") }
            return d
        }
    }

    /// A boolean (RESP3) or 1/0 (RESP2).
    public func bool() throws -> Bool {
        switch self {
        case .boolean(let b): return b
        case .integer(let n): return n != 0
        default: throw unexpected("a boolean")
        }
    }

    /// The elements of an array, set or push; empty for a null array.
    public func array() throws -> [RESPValue] {
        switch self {
        case .array(let items): return items ?? []
        case .set(let items), .push(let items): return items
        case .null: return []
        default: throw unexpected("an array")
        }
    }

    /// The pairs of a map (RESP3) or of a flat array of alternating keys and values (RESP2).
    public func pairs() throws -> [(RESPValue, RESPValue)] {
        switch self {
        case .map(let pairs): return pairs
        default:
            let flat = try array()
            guard flat.count % 2 == 0 else { throw unexpected("pairs") }
            return stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
        }
    }

    @usableFromInline
    func unexpected(_ wanted: String) -> RedisClientError {
        var wire = ByteBuffer()
        encode(into: &wire)
        return .unexpectedReply("expected \(wanted), got \(String(buffer: wire).debugDescription)")
    }
}
