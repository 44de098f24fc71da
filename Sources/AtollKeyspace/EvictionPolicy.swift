/// `EvictionPolicy`: `maxmemory-policy`, which keys may go when memory passes `maxmemory`, and
/// how the one to go is chosen.
public enum EvictionPolicy: String, Sendable, CaseIterable {
    case volatileLRU = "volatile-lru"
    case volatileLFU = "volatile-lfu"
    case volatileRandom = "volatile-random"
    case volatileTTL = "volatile-ttl"
    case allkeysLRU = "allkeys-lru"
    case allkeysLFU = "allkeys-lfu"
    case allkeysRandom = "allkeys-random"
    case noeviction

    /// Every key is a candidate; otherwise only keys with a TTL (`volatile-*`).
    public var allKeys: Bool {
        switch self {
        case .allkeysLRU, .allkeysLFU, .allkeysRandom: return true
        default: return false
        }
    }

    /// Keys are stamped and compared by access frequency (see `AccessClock`).
    public var usesLFU: Bool { self == .allkeysLFU || self == .volatileLFU }

    /// A key is picked at random rather than from the sampled pool.
    public var isRandom: Bool { self == .allkeysRandom || self == .volatileRandom }
}
