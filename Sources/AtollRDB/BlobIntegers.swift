/// Integers inside the encoded blobs of a snapshot (intsets, listpacks, ziplists): read from
/// bytes whose bounds the caller has checked.
extension Array where Element == UInt8 {
    /// The `width`-byte little-endian unsigned integer at `at`.
    func littleEndian(at: Int, width: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<width { value |= UInt64(self[at + k]) << UInt64(8 * k) }
        return value
    }

    /// The `width`-byte little-endian two's-complement integer at `at`.
    func signedLittleEndian(at: Int, width: Int) -> Int64 {
        let shift = UInt64(64 - 8 * width)
        return Int64(bitPattern: littleEndian(at: at, width: width) << shift) >> Int64(shift)
    }
}
