/// Choosing the key to evict, as Redis's evict.c does: for the LRU, LFU and TTL policies a
/// pool of the 16 best candidates seen so far, refilled before each pick by sampling
/// `maxmemory-samples` keys of every database (all keys, or those with a TTL) and kept from one
/// eviction to the next; for the random policies a random key, taking the databases in turn.
/// The keyspace only chooses: the server deletes the key (with its events and logging).
import AtollBytes

/// The candidates, ordered by how much they deserve eviction (`score`, ascending): idle
/// milliseconds by the LRU clock, 255 − the LFU counter, or `UInt64.max` − the expiry time.
struct EvictionPool {
    struct Candidate {
        var score: UInt64
        var key: Bytes
        var db: Int
    }

    static let capacity = 16
    private(set) var candidates: [Candidate] = []

    /// Redis's `evictionPoolPopulate` insertion: a candidate no better than all of a full pool
    /// is dropped; otherwise it goes in its place and, if the pool was full, the worst goes.
    mutating func offer(_ candidate: Candidate) {
        var k = 0
        while k < candidates.count && candidates[k].score < candidate.score { k += 1 }
        if candidates.count == Self.capacity {
            if k == 0 { return }
            candidates.insert(candidate, at: k)
            candidates.removeFirst()
        } else {
            candidates.insert(candidate, at: k)
        }
    }

    /// Takes the best candidate out.
    mutating func takeBest() -> Candidate? { candidates.popLast() }

    mutating func removeAll() { candidates.removeAll(keepingCapacity: true) }
}

extension Keyspace {
    /// The key to evict under `policy`, or nil when no key may go (none at all, or none with a
    /// TTL under a `volatile-*` policy, or `noeviction`).
    public func evictionCandidate(_ policy: EvictionPolicy, samples: Int, clock: AccessClock) -> (db: Int, key: Bytes)? {
        if policy == .noeviction { return nil }
        if policy.isRandom { return randomCandidate(allKeys: policy.allKeys) }
        // Each round samples live keys, so a round that finds only keys deleted since they
        // were pooled (ghosts) is followed by one that finds a live one; bounded regardless.
        for _ in 0..<64 {
            var total = 0
            for db in databases.indices {
                let keys = policy.allKeys ? databases[db].count : databases[db].expiresCount
                guard keys > 0 else { continue }
                populatePool(db: db, policy: policy, samples: min(samples, keys), clock: clock)
                total += keys
            }
            if total == 0 { return nil }
            while let best = evictionPool.takeBest() {
                let present = policy.allKeys ? databases[best.db].table.contains(best.key)
                                             : databases[best.db].volatileKeys.contains(best.key)
                if present { return (best.db, best.key) }
            }
        }
        return nil
    }

    /// Samples `samples` keys of database `db` into the pool, scored for `policy`.
    private func populatePool(db: Int, policy: EvictionPolicy, samples: Int, clock: AccessClock) {
        for _ in 0..<samples {
            let entry: Entry
            let key: Bytes
            if policy.allKeys {
                guard let found = databases[db].table.randomElement(using: &rng) else { return }
                (key, entry) = found
            } else {
                guard let found = databases[db].volatileKeys.randomKey(using: &rng),
                      let stored = databases[db].table[found] else { return }
                (key, entry) = (found, stored)
            }
            let score: UInt64
            switch policy {
            case .volatileTTL: score = UInt64.max - UInt64(max(entry.expireAt, 0))
            case .allkeysLFU, .volatileLFU: score = UInt64(255 - clock.frequency(entry.lastAccess))
            default: score = UInt64(clock.idleSeconds(entry.lastAccess)) * 1000
            }
            evictionPool.offer(.init(score: score, key: key, db: db))
        }
    }

    /// A random key (with a TTL unless `allKeys`), from the next database in turn that has one.
    private func randomCandidate(allKeys: Bool) -> (db: Int, key: Bytes)? {
        for _ in databases.indices {
            nextEvictionDB = (nextEvictionDB + 1) % databases.count
            let db = nextEvictionDB
            let map = allKeys ? databases[db].table.randomKey(using: &rng) : databases[db].volatileKeys.randomKey(using: &rng)
            if let key = map { return (db, key) }
        }
        return nil
    }

    /// Forgets the pooled candidates (after FLUSHALL, or when the policy changes).
    public func clearEvictionPool() { evictionPool.removeAll() }
}
