/// SipHash (Aumasson and Bernstein) with a key drawn once per process: the hash of the key
/// tables, which keeps a client from choosing keys that all land in one bucket. The tables use
/// SipHash-1-2, as Redis's dict does; computed here directly, a key of up to 24 bytes (its
/// inline words in use and its length) costs at most four compression rounds and no calls,
/// where Swift's `Hasher` (SipHash-1-3) makes a call per word.
public struct SipHash {
    @usableFromInline var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64
    @usableFromInline let compressionRounds: Int
    @usableFromInline let finalizationRounds: Int

    /// The per-process key of `Bytes.tableHash`.
    @usableFromInline static let processKey: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()

    /// A SipHash-c-d state keyed with `key` (1-2 for tables; 2-4 is the paper's reference).
    @inlinable public init(key: (UInt64, UInt64), compressionRounds: Int = 1, finalizationRounds: Int = 2) {
        v0 = key.0 ^ 0x736f_6d65_7073_6575
        v1 = key.1 ^ 0x646f_7261_6e64_6f6d
        v2 = key.0 ^ 0x6c79_6765_6e65_7261
        v3 = key.1 ^ 0x7465_6462_7974_6573
        self.compressionRounds = compressionRounds
        self.finalizationRounds = finalizationRounds
    }

    // Always inlined: every key lookup hashes its key (twice in a prefetched batch), and as
    // calls with the round counts unknown, a 16-byte key cost about 270 instructions.
    @inlinable @inline(__always) mutating func round() {
        v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
        v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
        v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
        v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
    }

    /// Absorbs one little-endian 8-byte word of the message.
    @inlinable @inline(__always) public mutating func absorb(_ word: UInt64) {
        v3 ^= word
        for _ in 0..<compressionRounds { round() }
        v0 ^= word
    }

    /// The hash of a message whose full words were absorbed: `tail` holds its last 0 to 7
    /// bytes (little-endian), `length` its length in bytes.
    @inlinable @inline(__always) public mutating func finish(tail: UInt64, length: Int) -> UInt64 {
        absorb(tail | UInt64(truncatingIfNeeded: length) << 56)
        v2 ^= 0xff
        for _ in 0..<finalizationRounds { round() }
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// The hash of `bytes`.
    @inlinable @inline(__always) public mutating func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let full = bytes.count & ~7
        var offset = 0
        while offset < full {
            absorb(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        // The last 0 to 7 bytes: from the last full word, shifted, when there is one (one load),
        // else one by one.
        var tail: UInt64 = 0
        let rest = bytes.count - full
        if rest > 0 {
            if full > 0 {
                tail = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)) >> (8 * (8 - rest))
            } else {
                for i in 0..<rest { tail |= UInt64(bytes[i]) << (8 * i) }
            }
        }
        return finish(tail: tail, length: bytes.count)
    }
}

extension UInt64 {
    @inlinable func rotatedLeft(_ bits: UInt64) -> UInt64 { self << bits | self >> (64 - bits) }
}

extension Bytes {
    /// The key tables' hash: SipHash-1-2 under the process's key, of the inline words that hold
    /// bytes and the length for a short string (always stored inline, so equal strings hash
    /// alike; the words past its length are not read, as they cannot tell two strings of that
    /// length apart), of the bytes for a long one.
    @inlinable public var tableHash: Int {
        var state = SipHash(key: SipHash.processKey)
        switch storage {
        case .small(let a, let b, let c, let n):
            state.absorb(a)
            if n > 8 { state.absorb(b) }
            if n > 16 { state.absorb(c) }
            return Int(truncatingIfNeeded: state.finish(tail: UInt64(n), length: 25))
        case .large(let array):
            return Int(truncatingIfNeeded: array.withUnsafeBytes { state.hash($0) })
        }
    }
}
