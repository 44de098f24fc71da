/// The keyspace's random source: xoshiro256**, seeded once from the system generator.
///
/// Sampling (active expiry, RANDOMKEY, SPOP, SRANDMEMBER, HRANDFIELD) needs speed, not
/// secrecy, and the system generator costs a system call for every number it gives.
public struct FastRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0

    public init() {
        var system = SystemRandomNumberGenerator()
        repeat {
            (s0, s1, s2, s3) = (system.next(), system.next(), system.next(), system.next())
        } while s0 | s1 | s2 | s3 == 0
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = Self.rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotate(s3, 45)
        return result
    }

    @inlinable static func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
