/// Choosing and deleting the key to evict, as Redis's evict.c does: for the LRU, LFU and TTL
/// policies a pool of the 16 best candidates seen so far, refilled before each pick by
/// sampling `maxmemory-samples` neighbouring keys of every database (all keys, or those with a
/// TTL) and kept from one eviction to the next; for the random policies a random key, taking
/// the databases in turn. The server publishes and logs the deletion.
import AtollBytes

/// The candidates, ordered by how much they deserve eviction (`score`, ascending): idle
/// milliseconds by the LRU clock, 255 − the LFU counter, or `UInt64.max` − the expiry time.
/// A candidate's score is the one it had when sampled, as in Redis.
struct EvictionPool {
    struct Candidate {
        var score: UInt64
        var key: Bytes
        var db: Int
    }

    static let capacity = 16
    private(set) var candidates: [Candidate] = []

    init() { candidates.reserveCapacity(Self.capacity + 1) }

    /// Whether a candidate with `score` would go in: not when the pool is full and it is no
    /// better than all of it (checked first, so that such a key is not even copied).
    func accepts(_ score: UInt64) -> Bool {
        candidates.count < Self.capacity || candidates[0].score < score
    }

    /// Redis's `evictionPoolPopulate` insertion: in its place, the worst going if the pool was full.
    mutating func offer(_ candidate: Candidate) {
        var k = 0
        while k < candidates.count && candidates[k].score < candidate.score { k += 1 }
        candidates.insert(candidate, at: k)
        if candidates.count > Self.capacity { candidates.removeFirst() }
    }

    /// Takes the best candidate out.
    mutating func takeBest() -> Candidate? { candidates.popLast() }

    mutating func removeAll() { candidates.removeAll(keepingCapacity: true) }
}

extension Keyspace {
    /// A key deleted by eviction, and the bytes of the table slots its deletion freed for the
    /// next keys (see `reusableTableBytes`).
    public typealias Evicted = (db: Int, key: Bytes, slotBytes: Int)

    /// Deletes the key `policy` evicts next and returns it, or nil when no key may go (none at
    /// all, or none with a TTL under a `volatile-*` policy, or `noeviction`).
    public func evictOne(_ policy: EvictionPolicy, samples: Int, clock: AccessClock) -> Evicted? {
        if policy == .noeviction { return nil }
        if policy.isRandom { return evictRandom(allKeys: policy.allKeys) }
        // Each round samples live keys, so a round that finds only keys deleted since they
        // were pooled (ghosts) is followed by one that finds a live one; bounded regardless.
        for _ in 0..<64 {
            var total = 0
            for db in storedDatabases.indices {
                let keys = policy.allKeys ? storedDatabases[db].storage.count : storedDatabases[db].volatile.count
                guard keys > 0 else { continue }
                populatePool(db: db, policy: policy, samples: samples, clock: clock)
                total += keys
            }
            if total == 0 { return nil }
            while let best = evictionPool.takeBest() {
                if !policy.allKeys && !storedDatabases[best.db].volatile.contains(best.key) { continue }
                if let evicted = evict(best.key, db: best.db) { return evicted }
            }
        }
        return nil
    }

    /// Samples `samples` neighbouring keys of database `db` into the pool, scored for `policy`.
    /// Where each database's next sample starts is drawn one sample ahead, and its slot
    /// prefetched, so that the next eviction does not wait for it.
    private func populatePool(db: Int, policy: EvictionPolicy, samples: Int, clock: AccessClock) {
        if sampleSeeds.count != storedDatabases.count {
            sampleSeeds = (0..<storedDatabases.count).map { _ in rng.next() }
        }
        let seed = sampleSeeds[db]
        sampleSeeds[db] = rng.next()
        defer {
            if policy.allKeys {
                storedDatabases[db].storage.prefetchSample(seed: sampleSeeds[db])
            } else {
                storedDatabases[db].volatile.prefetchSample(seed: sampleSeeds[db])
            }
        }
        func offer(_ key: Bytes, _ entry: Entry) {
            let score: UInt64
            switch policy {
            case .volatileTTL: score = UInt64.max - UInt64(max(entry.expireAt, 0))
            case .allkeysLFU, .volatileLFU: score = UInt64(255 - clock.frequency(entry.lastAccess))
            default: score = UInt64(clock.idleSeconds(entry.lastAccess)) * 1000
            }
            if evictionPool.accepts(score) { evictionPool.offer(.init(score: score, key: key, db: db)) }
        }
        if policy.allKeys {
            storedDatabases[db].storage.sample(samples, seed: seed, offer)
        } else {
            let storage = storedDatabases[db].storage
            storedDatabases[db].volatile.sample(samples, seed: seed) { key, _ in
                if let entry = storage[key] { offer(key, entry) }
            }
        }
    }

    /// Deletes a random key (with a TTL unless `allKeys`) of the next database in turn that has one.
    private func evictRandom(allKeys: Bool) -> Evicted? {
        for _ in storedDatabases.indices {
            nextEvictionDB = (nextEvictionDB + 1) % storedDatabases.count
            let db = nextEvictionDB
            let map = allKeys ? storedDatabases[db].storage.randomKey(using: &rng) : storedDatabases[db].volatile.randomKey(using: &rng)
            if let key = map, let evicted = evict(key, db: db) { return evicted }
        }
        return nil
    }

    /// Deletes `key` from database `db`, if there.
    private func evict(_ key: Bytes, db: Int) -> Evicted? {
        guard let entry = storedDatabases[db].remove(key) else { return nil }
        let slots = SlotMap<Entry>.slotBytes + (entry.expireAt != noExpiry ? SlotMap<Void>.slotBytes : 0)
        return (db, key, slots)
    }
}
