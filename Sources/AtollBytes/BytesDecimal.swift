/// Integers as `Bytes`: the decimal text of an Int64 (at most 20 bytes, so always inline and
/// never allocated), and the strict reading back (Redis's `string2ll`). Integer-only sets and
/// counters in hashes go through these on every member.
extension Bytes {
    /// The decimal text of `value`.
    @inlinable public init(decimal value: Int64) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var length = 0
        withUnsafeMutableBytes(of: &words) { out in
            var magnitude = value.magnitude
            var reversed: (UInt64, UInt64, UInt64) = (0, 0, 0)
            withUnsafeMutableBytes(of: &reversed) { digits in
                repeat {
                    digits[length] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                    magnitude /= 10
                    length += 1
                } while magnitude > 0
                var i = 0
                if value < 0 { out[0] = UInt8(ascii: "-"); i = 1 }
                for d in 0..<length { out[i + d] = digits[length - 1 - d] }
                length += i
            }
        }
        storage = .small(words.0, words.1, words.2, UInt8(length))
    }

    /// The value as a canonical 64-bit integer (no sign but '-', no leading zeros or spaces), or nil.
    @inlinable public var strictInt64: Int64? {
        switch storage {
        case .small(_, _, _, let n) where n > 20: return nil
        case .large: return nil
        default: return withUnsafeBytes { parseStrictInt64($0) }
        }
    }
}

/// How many bytes the decimal text of `n` takes (what `Bytes(decimal:)` writes).
@inlinable public func decimalLength(_ n: Int64) -> Int {
    var digits = n < 0 ? 2 : 1
    var v = n.magnitude
    while v >= 10 { v /= 10; digits += 1 }
    return digits
}
