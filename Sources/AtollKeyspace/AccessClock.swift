/// `AccessClock`: how a key's `Entry.lastAccess` is stamped and read, the 24 bits Redis keeps in
/// each object's header (`robj.lru`) for eviction, read one of two ways by the policy in force:
///
/// - LRU (every policy but the LFU ones): the LRU clock, Unix seconds, at the last access. Redis
///   keeps 24 bits at one-second resolution; Atoll keeps all 32, so its clock wraps after 136
///   years instead of 194 days (reported with Redis's 24 bits where Redis shows them).
/// - LFU (`allkeys-lfu`, `volatile-lfu`): the minute of the last decrement (16 bits, Redis's
///   `LFUGetTimeInMinutes`) above an 8-bit logarithmic access counter. A new key starts at 5;
///   an access first takes off one for every `lfu-decay-time` minutes passed since, then adds
///   one with probability 1 / ((counter - 5) × `lfu-log-factor` + 1).
///
/// Switching policies at run time reinterprets the bits, as in Redis.
public struct AccessClock: Sendable {
    /// True under an LFU policy.
    public var lfu = false
    /// The LRU clock: Unix seconds, refreshed by the server's background task.
    public var seconds: UInt32 = 0
    /// `lfu-log-factor` and `lfu-decay-time` (minutes), both at least 0.
    public var logFactor = 10
    public var decayMinutes = 1
    /// A random number for the counter's increment; the caller draws one per access under LFU.
    public var random: UInt64 = 0

    /// The counter a new key starts with under LFU (Redis's `LFU_INIT_VAL`), so that it is not
    /// evicted before it had a chance to be read.
    public static let lfuInitialCounter: UInt32 = 5

    public init() {}

    /// Redis's minutes clock: Unix minutes, 16 bits.
    @inlinable public var minutes: UInt32 { (seconds / 60) & 0xFFFF }

    /// What a key gets when it is created.
    @inlinable public var newEntry: UInt32 { lfu ? minutes << 8 | Self.lfuInitialCounter : seconds }

    /// The stamp after one access to a key stamped `word`.
    @inlinable public func touched(_ word: UInt32) -> UInt32 {
        lfu ? lfuTouched(word) : seconds
    }

    @usableFromInline func lfuTouched(_ word: UInt32) -> UInt32 {
        var counter = frequency(word)
        if counter < 255 {
            let base = counter > Self.lfuInitialCounter ? Double(counter - Self.lfuInitialCounter) : 0
            let chance = 1.0 / (base * Double(logFactor) + 1)
            if Double(random >> 11) / Double(1 << 53) < chance { counter += 1 }
        }
        return minutes << 8 | counter
    }

    /// Redis's `LFUDecrAndReturn`: the counter less one for every `lfu-decay-time` minutes since
    /// its last decrement (OBJECT FREQ, and what LFU eviction compares). Changes nothing.
    public func frequency(_ word: UInt32) -> UInt32 {
        let counter = word & 0xFF
        guard decayMinutes > 0 else { return counter }
        let stamped = (word >> 8) & 0xFFFF
        let now = minutes
        // Minutes wrap at 2^16, as in Redis.
        let elapsed = now >= stamped ? now - stamped : 0xFFFF - stamped + now
        let periods = Int(elapsed) / decayMinutes
        return periods >= Int(counter) ? 0 : counter - UInt32(periods)
    }

    /// Redis's `estimateObjectIdleTime`, in seconds: since the last access, by the LRU clock.
    public func idleSeconds(_ word: UInt32) -> UInt32 { seconds &- word }
}
