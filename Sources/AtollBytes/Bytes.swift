/// `Bytes`: a binary-safe byte string used for keys. Wrapping `[UInt8]` costs nothing
/// (copy-on-write storage is shared), and the wrapper hashes and compares the whole buffer
/// at once instead of element by element, as `Array`'s own conformances do.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct Bytes: Hashable, Sendable, Comparable, ExpressibleByStringLiteral {
    public var array: [UInt8]

    @inlinable public init(_ array: [UInt8]) { self.array = array }
    public init(stringLiteral value: String) { self.array = Array(value.utf8) }

    @inlinable public var count: Int { array.count }

    @inlinable public func hash(into hasher: inout Hasher) {
        array.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    @inlinable public static func == (lhs: Bytes, rhs: Bytes) -> Bool {
        let n = lhs.array.count
        guard n == rhs.array.count else { return false }
        if n == 0 { return true }
        return lhs.array.withUnsafeBytes { a in
            rhs.array.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, n) == 0 }
        }
    }

    /// Byte-wise ordering, shorter first on a common prefix (Redis's `memcmp` then length rule).
    @inlinable public static func < (lhs: Bytes, rhs: Bytes) -> Bool {
        compareBytes(lhs.array, rhs.array) < 0
    }

    /// The value as text, for logs and messages (invalid UTF-8 is repaired).
    public var text: String { String(decoding: array, as: UTF8.self) }
}

/// memcmp over the common prefix, then the shorter sorts first.
@inlinable public func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in memcmp(pa.baseAddress!, pb.baseAddress!, n) } }
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}
