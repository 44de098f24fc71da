/// What SHA-1 and SHA-256 share (both FIPS 180-4): the message padding and big-endian block
/// words on the way in, lowercase hex on the way out.

/// `bytes` as lowercase hex digits, two per byte.
public func lowercaseHex(_ bytes: [UInt8]) -> [UInt8] {
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(hex[Int(byte >> 4)])
        out.append(hex[Int(byte & 0xF)])
    }
    return out
}

/// The message padded for 64-byte blocks: a 1 bit, zeros to 56 mod 64, then the length in
/// bits, big-endian.
func paddedForDigest(_ message: [UInt8]) -> [UInt8] {
    var data = message
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    let bits = UInt64(message.count) &* 8
    for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    return data
}

/// The big-endian 32-bit word at `offset`.
@inline(__always) func bigEndianWord(_ data: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(data[offset]) << 24 | UInt32(data[offset + 1]) << 16 | UInt32(data[offset + 2]) << 8 | UInt32(data[offset + 3])
}
