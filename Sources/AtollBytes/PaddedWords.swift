/// Reading a short byte string as machine words, the form `Bytes` keeps it in inline.
#if !_endian(little)
#error("paddedWords assumes a little-endian machine: the words' bytes are the string's in memory order")
#endif

/// The `n` bytes at `p` (1 to 24) as three words, as if copied into zeroed words: whole-word
/// loads that stay inside the `n` bytes, overlapping or shifted where `n` is not a multiple of
/// eight. A `memcpy` into the words cost a call, and the words read back after its narrower
/// stores waited for the stores (no store-to-load forwarding): together some 20 cycles for
/// each key a command read.
@inlinable @inline(__always)
public func paddedWords(_ p: UnsafeRawPointer, _ n: Int) -> (UInt64, UInt64, UInt64) {
    @inline(__always) func word(_ offset: Int) -> UInt64 { p.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
    switch n {
    case 8...16:
        // The bytes past the first word: the last word of the string, its first 16 - n bytes
        // (already in the first word) shifted out.
        return (word(0), n == 8 ? 0 : word(n - 8) &>> UInt64((16 - n) * 8), 0)
    case 17...:
        return (word(0), word(8), word(n - 8) &>> UInt64((24 - n) * 8))
    case 4...7:
        // Two four-byte loads that overlap in the middle (equal bytes, so OR keeps them).
        let low = UInt64(p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let high = UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        return (low | high &<< UInt64((n - 4) * 8), 0, 0)
    default:
        // 1 to 3 bytes: the first, the middle and the last (some of them the same byte).
        let first = UInt64(p.load(fromByteOffset: 0, as: UInt8.self))
        let middle = UInt64(p.load(fromByteOffset: n >> 1, as: UInt8.self))
        let last = UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self))
        return (first | middle &<< UInt64((n >> 1) * 8) | last &<< UInt64((n - 1) * 8), 0, 0)
    }
}
