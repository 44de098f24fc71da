/// XXH3-64 (seed 0, default secret), written from the xxHash specification
/// (github.com/Cyan4973/xxHash, doc/xxhash_spec.md). It backs `DIGEST`, which must print
/// the same 16 hex digits as Redis, so the output has to match the reference bit for bit.
///
/// The spec splits inputs by length: 0, 1–3, 4–8, 9–16 ("small"), 17–128 and 129–240
/// ("medium"), and over 240 ("large": 64-byte stripes into 8 accumulators, scrambled once
/// per 1024-byte block). Each class below is one function named for that part of the spec.
/// All arithmetic is modulo 2^64, hence the wrapping operators throughout.

/// Hashes `bytes` with XXH3-64, seed 0 and the default secret.
///
/// Matches `XXH3_64bits()` of the reference library and Redis's `DIGEST`.
/// Does not allocate.
public func xxh3_64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    XXH3.defaultSecret.withUnsafeBytes { secret in
        let n = bytes.count
        if n <= 16 { return XXH3.small(bytes, secret) }
        if n <= 128 { return XXH3.len17to128(bytes, secret) }
        if n <= XXH3.midSizeMax { return XXH3.len129to240(bytes, secret) }
        return XXH3.large(bytes, secret)
    }
}

/// Hashes `bytes` with XXH3-64, seed 0 and the default secret (see the buffer overload).
public func xxh3_64(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { xxh3_64($0) }
}

/// `hash` as exactly 16 lowercase hexadecimal ASCII digits, most significant first and
/// zero-padded: the form `DIGEST` replies with (the spec's canonical big-endian form).
public func digestHex(_ hash: UInt64) -> [UInt8] {
    let digits: StaticString = "0123456789abcdef"
    return [UInt8](unsafeUninitializedCapacity: 16) { out, count in
        for i in 0..<16 {
            let nibble = Int((hash >> UInt64(60 - 4 * i)) & 0xf)
            out[i] = digits.utf8Start[nibble]
        }
        count = 16
    }
}

/// Namespace for the steps of the algorithm; internal so the public surface stays two functions.
enum XXH3 {
    // MARK: Constants (spec: "XXH3 Algorithm Overview")

    static let prime32_1: UInt64 = 0x9E37_79B1
    static let prime32_2: UInt64 = 0x85EB_CA77
    static let prime32_3: UInt64 = 0xC2B2_AE3D
    static let prime64_1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let prime64_2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let prime64_3: UInt64 = 0x1656_67B1_9E37_79F9
    static let prime64_4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let prime64_5: UInt64 = 0x27D4_EB2F_1656_67C5
    static let primeMX1: UInt64 = 0x1656_6791_9E37_79F9
    static let primeMX2: UInt64 = 0x9FB2_1C65_1E98_DF25

    /// Largest input handled by the medium-size path.
    static let midSizeMax = 240

    /// The default 192-byte secret. Every read of it is little-endian, at byte offsets that
    /// are often not multiples of 8 (3, 7, 11, 119, 121), which is why it is kept as bytes.
    static let defaultSecret: [UInt8] = [
        0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
        0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
        0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
        0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
        0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
        0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
        0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
        0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
        0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
        0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
        0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
        0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
    ]

    // MARK: Little-endian reads and 128-bit folding

    @inline(__always)
    static func read64(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    static func read32(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    /// The full 128-bit product of `a` and `b`, its two halves xored together.
    @inline(__always)
    static func mulFold64(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.low ^ product.high
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ s: UInt64) -> UInt64 {
        (x << s) | (x >> (64 - s))
    }

    // MARK: Final mixing (spec: "Final Mixing Step")

    /// XXH3's own avalanche, used by the 9–16, medium and large paths.
    static func avalanche(_ x: UInt64) -> UInt64 {
        var h = x ^ (x >> 37)
        h = h &* primeMX1
        return h ^ (h >> 32)
    }

    /// XXH64's avalanche, reused by the empty and 1–3 byte paths.
    static func avalancheXXH64(_ x: UInt64) -> UInt64 {
        var h = x ^ (x >> 33)
        h = h &* prime64_2
        h ^= h >> 29
        h = h &* prime64_3
        return h ^ (h >> 32)
    }

    // MARK: Small inputs, 0–16 bytes

    static func small(_ input: UnsafeRawBufferPointer, _ secret: UnsafeRawBufferPointer) -> UInt64 {
        let n = input.count
        if n > 8 { return len9to16(input, secret) }
        if n >= 4 { return len4to8(input, secret) }
        if n > 0 { return len1to3(input, secret) }
        return empty(secret)
    }

    /// No input: only the secret (and the zero seed) contribute.
    static func empty(_ secret: UnsafeRawBufferPointer) -> UInt64 {
        avalancheXXH64(read64(secret, 56) ^ read64(secret, 64))
    }

    /// Packs last byte, length, first byte and middle byte into one 32-bit word, so every
    /// byte of a 1–3 byte input lands in it (bytes repeat when the input is shorter).
    static func len1to3(_ input: UnsafeRawBufferPointer, _ secret: UnsafeRawBufferPointer) -> UInt64 {
        let n = input.count
        let combined = UInt64(input[n - 1])
            | UInt64(n) << 8
            | UInt64(input[0]) << 16
            | UInt64(input[n >> 1]) << 24
        // The secret is read as two 32-bit words here; seed 0 adds nothing.
        let bitflip = read32(secret, 0) ^ read32(secret, 4)
        return avalancheXXH64(bitflip ^ combined)
    }

    /// First and last 4 bytes (overlapping when n < 8) as one 64-bit word, then the
    /// "rrmxmx" mix: rotate-rotate-multiply-xorshift-multiply-xorshift, with the length folded in.
    static func len4to8(_ input: UnsafeRawBufferPointer, _ secret: UnsafeRawBufferPointer) -> UInt64 {
        let n = input.count
        let first = read32(input, 0)
        let last = read32(input, n - 4)
        let combined = last | (first << 32)
        // With seed 0 the spec's modified seed is 0, so the subtraction vanishes.
        var h = (read64(secret, 8) ^ read64(secret, 16)) ^ combined
        h ^= rotl(h, 49) ^ rotl(h, 24)
        h = h &* primeMX2
        h ^= (h >> 35) &+ UInt64(n)
        h = h &* primeMX2
        return h ^ (h >> 28)
    }

    /// First and last 8 bytes (overlapping when n < 16), keyed, multiplied together at 128 bits.
    static func len9to16(_ input: UnsafeRawBufferPointer, _ secret: UnsafeRawBufferPointer) -> UInt64 {
        let n = input.count
        let low = (read64(secret, 24) ^ read64(secret, 32)) ^ read64(input, 0)
        let high = (read64(secret, 40) ^ read64(secret, 48)) ^ read64(input, n - 8)
        let h = UInt64(n) &+ low.byteSwapped &+ high &+ mulFold64(low, high)
        return avalanche(h)
    }

    // MARK: Medium inputs, 17–240 bytes

    /// The spec's mixStep: 16 bytes of input keyed by 16 bytes of secret, multiplied and folded.
    @inline(__always)
    static func mix16(_ input: UnsafeRawBufferPointer, _ at: Int,
                      _ secret: UnsafeRawBufferPointer, _ secretAt: Int) -> UInt64 {
        mulFold64(read64(input, at) ^ read64(secret, secretAt),
                  read64(input, at + 8) ^ read64(secret, secretAt + 8))
    }

    /// Pairs 16-byte chunks from the front with chunks from the back, working inwards, so that
    /// 2·rounds chunks cover the whole input (they overlap in the middle when needed).
    static func len17to128(_ input: UnsafeRawBufferPointer, _ secret: UnsafeRawBufferPointer) -> UInt64 {
        let n = input.count
        var acc = UInt64(n) &* prime64_1
        let rounds = ((n - 1) >> 5) + 1
        for i in 0..<rounds {
            acc &+= mix16(input, i * 16, secret, i * 32)
            acc &+= mix16(input, n - 16 - i * 16, secret, i * 32 + 16)
        }
        return avalanche(acc)
    }

    /// The first 128 bytes use the first 128 bytes of secret, then an intermediate avalanche;
    /// later chunks reuse the secret from offset 3 (it is only 136 bytes in the minimum case),
    /// and the last 16 bytes of input get their own secret slice at 119.
    static func len129to240(_ input: UnsafeRawBufferPointer, _ secret: UnsafeRawBufferPointer) -> UInt64 {
        let n = input.count
        var acc = UInt64(n) &* prime64_1
        for i in 0..<8 {
            acc &+= mix16(input, i * 16, secret, i * 16)
        }
        acc = avalanche(acc)
        let chunks = n >> 4
        for i in 8..<chunks {
            acc &+= mix16(input, i * 16, secret, (i - 8) * 16 + 3)
        }
        acc &+= mix16(input, n - 16, secret, 136 - 17)
        return avalanche(acc)
    }

    // MARK: Large inputs, over 240 bytes

    static let stripeSize = 64
    /// Each stripe in a block reads the secret 8 bytes further on.
    static let secretAdvance = 8

    /// The spec's accumulate: each 8-byte lane is keyed, and the 32×32-bit product of its halves
    /// goes to its own accumulator while the raw lane goes to the neighbour (i xor 1), so
    /// input bits survive even when the keyed product is zero.
    @inline(__always)
    static func accumulate(_ acc: UnsafeMutablePointer<UInt64>, _ input: UnsafeRawBufferPointer, _ at: Int,
                           _ secret: UnsafeRawBufferPointer, _ secretAt: Int) {
        for i in 0..<8 {
            let lane = read64(input, at + 8 * i)
            let keyed = lane ^ read64(secret, secretAt + 8 * i)
            acc[i ^ 1] &+= lane
            acc[i] &+= (keyed & 0xFFFF_FFFF) &* (keyed >> 32)
        }
    }

    /// The spec's round_scramble, run after every full block with the last 64 bytes of secret.
    static func scramble(_ acc: UnsafeMutablePointer<UInt64>, _ secret: UnsafeRawBufferPointer) {
        let secretAt = secret.count - stripeSize
        for i in 0..<8 {
            var a = acc[i]
            a ^= a >> 47
            a ^= read64(secret, secretAt + 8 * i)
            acc[i] = a &* prime32_1
        }
    }

    /// The spec's finalMerge: accumulators in pairs, keyed and multiply-folded, then avalanche.
    static func finalMerge(_ acc: UnsafeMutablePointer<UInt64>, _ initial: UInt64,
                           _ secret: UnsafeRawBufferPointer, _ secretAt: Int) -> UInt64 {
        var result = initial
        for i in 0..<4 {
            result &+= mulFold64(acc[2 * i] ^ read64(secret, secretAt + 16 * i),
                                 acc[2 * i + 1] ^ read64(secret, secretAt + 16 * i + 8))
        }
        return avalanche(result)
    }

    static func large(_ input: UnsafeRawBufferPointer, _ secret: UnsafeRawBufferPointer) -> UInt64 {
        let n = input.count
        let stripesPerBlock = (secret.count - stripeSize) / secretAdvance  // 16 for the default secret
        let blockSize = stripeSize * stripesPerBlock                        // 1024
        // A tuple keeps the eight accumulators on the stack; the hash allocates nothing.
        var lanes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (prime32_3, prime64_1, prime64_2, prime64_3, prime64_4, prime32_2, prime64_5, prime32_1)
        return withUnsafeMutablePointer(to: &lanes) { tuple in
            tuple.withMemoryRebound(to: UInt64.self, capacity: 8) { acc in
                // Full blocks, each followed by a scramble. The last block is left for below
                // even when it is full, hence (n - 1).
                let fullBlocks = (n - 1) / blockSize
                for block in 0..<fullBlocks {
                    for s in 0..<stripesPerBlock {
                        accumulate(acc, input, block * blockSize + s * stripeSize, secret, s * secretAdvance)
                    }
                    scramble(acc, secret)
                }
                // The last block: its whole stripes except the final one, no scramble...
                let lastBlock = fullBlocks * blockSize
                let lastStripes = (n - 1 - lastBlock) / stripeSize
                for s in 0..<lastStripes {
                    accumulate(acc, input, lastBlock + s * stripeSize, secret, s * secretAdvance)
                }
                // ...then the final 64 bytes of input (possibly overlapping what came before),
                // keyed by a secret slice that ends 7 bytes short of the secret's end.
                accumulate(acc, input, n - stripeSize, secret, secret.count - stripeSize - 7)
                return finalMerge(acc, UInt64(n) &* prime64_1, secret, 11)
            }
        }
    }
}
