/// SHA-1 (FIPS 180-4), for the script cache: scripts are named by the SHA-1 of their body as
/// 40 lowercase hex digits, as in Redis (EVALSHA, SCRIPT LOAD, `redis.sha1hex`).
public func sha1Hex(_ message: [UInt8]) -> [UInt8] { lowercaseHex(sha1(message)) }

/// The 20-byte SHA-1 digest of `message` (DEBUG DIGEST mixes these).
public func sha1(_ message: [UInt8]) -> [UInt8] {
    var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)
    let data = paddedForDigest(message)

    var w = [UInt32](repeating: 0, count: 80)
    for block in stride(from: 0, to: data.count, by: 64) {
        for i in 0..<16 { w[i] = bigEndianWord(data, block + i * 4) }
        for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
        var (a, b, c, d, e) = h
        for i in 0..<80 {
            let f: UInt32, k: UInt32
            switch i {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A827999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC
            default: f = b ^ c ^ d; k = 0xCA62C1D6
            }
            let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
            e = d; d = c; c = rotl(b, 30); b = a; a = t
        }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }
    var out: [UInt8] = []
    out.reserveCapacity(20)
    for word in [h.0, h.1, h.2, h.3, h.4] {
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
    }
    return out
}

@inline(__always) private func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
