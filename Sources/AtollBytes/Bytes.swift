/// `Bytes`: a binary-safe byte string used for keys and members.
///
/// Strings of up to 24 bytes — nearly every real key — are stored inline, so a hash table
/// probe compares and hashes three machine words instead of chasing a pointer to a heap
/// buffer (the cache miss that dominated lookups). Longer strings keep a `[UInt8]`.
/// The form is a function of the content, so equal strings always have equal representations.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct Bytes: Hashable, Sendable, Comparable, ExpressibleByStringLiteral {
    @usableFromInline enum Storage: Sendable {
        case small(UInt64, UInt64, UInt64, UInt8)
        case large([UInt8])
    }

    @usableFromInline var storage: Storage

    /// Largest length stored inline.
    public static let inlineCapacity = 24

    /// Borrowing: `Bytes(args[1])`, the way every command makes its key, takes no reference
    /// to the argument's array (a retain and a release) unless it is kept.
    @inlinable public init(_ array: borrowing [UInt8]) {
        let n = array.count
        guard n <= Bytes.inlineCapacity else {
            storage = .large(copy array)
            return
        }
        let words = n == 0 ? (0, 0, 0) : array.withUnsafeBytes { paddedWords($0.baseAddress!, n) }
        storage = .small(words.0, words.1, words.2, UInt8(n))
    }

    /// Consuming: a long string keeps `array` itself, moved in (no retain and release).
    @inlinable public init(moving array: consuming [UInt8]) {
        if array.count > Bytes.inlineCapacity {
            self.init(storage: .large(array))
        } else {
            self.init(array)
        }
    }

    @inlinable init(storage: Storage) { self.storage = storage }

    public init(stringLiteral value: String) { self.init(Array(value.utf8)) }

    @inlinable public var count: Int {
        switch storage {
        case .small(_, _, _, let n): return Int(n)
        case .large(let a): return a.count
        }
    }

    /// Calls `body` with the bytes, without copying them.
    @inlinable public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .small(let a, let b, let c, let n):
            var words = (a, b, c)
            return try Swift.withUnsafeBytes(of: &words) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(n)])) }
        case .large(let array):
            return try array.withUnsafeBytes(body)
        }
    }

    /// A short string's inline words and length (nil for a long one): what tells two short
    /// strings apart, as a plain value.
    @inlinable public var inlineWords: (UInt64, UInt64, UInt64, UInt8)? {
        if case .small(let a, let b, let c, let n) = storage { return (a, b, c, n) }
        return nil
    }

    /// The bytes as an array (allocates for inline strings).
    @inlinable public var array: [UInt8] {
        switch storage {
        case .large(let a): return a
        case .small: return withUnsafeBytes { Array($0) }
        }
    }

    /// The bytes as an array, a long string's own moved out (no retain and release).
    @inlinable public consuming func takeArray() -> [UInt8] {
        if case .large(let a) = storage { return a }
        return array
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        switch storage {
        case .small(let a, let b, let c, let n):
            hasher.combine(a)
            hasher.combine(b)
            hasher.combine(c)
            hasher.combine(n)
        case .large(let array):
            array.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    @inlinable public static func == (lhs: Bytes, rhs: Bytes) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case let (.small(a0, a1, a2, an), .small(b0, b1, b2, bn)):
            return a0 == b0 && a1 == b1 && a2 == b2 && an == bn
        case let (.large(a), .large(b)):
            let n = a.count
            guard n == b.count else { return false }
            return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in memcmp(pa.baseAddress!, pb.baseAddress!, n) == 0 } }
        default:
            return false
        }
    }

    /// Byte-wise ordering, shorter first on a common prefix (Redis's `memcmp` then length rule).
    @inlinable public static func < (lhs: Bytes, rhs: Bytes) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in compareBytes(a, b) < 0 } }
    }

    /// The value as text, for logs and messages (invalid UTF-8 is repaired).
    public var text: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}

/// memcmp over the common prefix, then the shorter sorts first.
@inlinable public func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

/// Whether `array` holds exactly the bytes of `raw` (lengths first, then one memcmp).
@inlinable public func sameBytes(_ array: [UInt8], _ raw: UnsafeRawBufferPointer) -> Bool {
    array.count == raw.count && (raw.count == 0 || array.withUnsafeBytes { memcmp($0.baseAddress!, raw.baseAddress!, raw.count) == 0 })
}

/// memcmp over the common prefix, then the shorter sorts first.
@inlinable public func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
    a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in compareBytes(pa, pb) } }
}

extension Bytes {
    /// A copy of raw bytes (inline when short, with no intermediate array).
    @inlinable public init(_ raw: UnsafeRawBufferPointer) {
        let n = raw.count
        guard n <= Bytes.inlineCapacity else {
            storage = .large(Array(raw))
            return
        }
        let words = n == 0 ? (0, 0, 0) : paddedWords(raw.baseAddress!, n)
        storage = .small(words.0, words.1, words.2, UInt8(n))
    }
}
