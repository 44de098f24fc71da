/// One numbered database: the key table, the set of keys that carry a TTL, and lazy expiry.
///
/// Every read goes through `lookup`, which deletes a key whose time has passed (lazy expiry);
/// `Keyspace.activeExpireCycle` samples `volatileKeys` so that keys nobody reads are
/// reclaimed too. Times are absolute Unix milliseconds supplied by the caller, so tests can
/// move the clock.
import AtollBytes
public struct Database: Sendable {
    @usableFromInline var storage = SlotMap<Entry>()
    /// Keys that have an expiry, for sampling by the active expiry cycle.
    @usableFromInline var volatile = SlotMap<Void>()
    /// While clients are paused (CLIENT PAUSE) expired keys read as missing but stay stored,
    /// so the data set does not change; set through `Keyspace.expiryPaused`.
    public var expiryPaused = false
    /// Whether memory allows a key table's buckets to double, given the bytes the doubled
    /// buckets take (Redis's `dictExpandAllowed`); nil: always. Set through
    /// `Keyspace.tableGrowthAllowed`.
    public var tableGrowthAllowed: (@Sendable (Int) -> Bool)?

    /// Read-only view of the key table; changes go through the methods so the TTL index stays right.
    @inlinable public var table: SlotMap<Entry> { storage }
    @inlinable public var volatileKeys: SlotMap<Void> { volatile }

    public init() {}

    @inlinable public var count: Int { storage.count }
    @inlinable public var expiresCount: Int { volatile.count }

    /// Moves up to `count` buckets of each table's rehash (see `SlotMap.rehash`); returns
    /// whether one still runs.
    public mutating func rehash(buckets count: Int) -> Bool {
        let keys = storage.rehash(buckets: count)
        return volatile.rehash(buckets: count) || keys
    }

    /// The live entry for `key`, deleting it first if it has expired. `expired` counts deletions.
    @inlinable
    public mutating func lookup(_ key: Bytes, now: Int64, expired: inout Int) -> Entry? {
        lookup(key, now: now, expired: &expired, touch: nil)
    }

    /// As `lookup`, also stamping the access on the entry when `touch` is given; one hash lookup.
    /// `hash`, when given, is the key's `tableHash`, computed before (see `KeyHint`).
    @inlinable
    public mutating func lookup(_ key: Bytes, hash: Int? = nil, now: Int64, expired: inout Int, touch: AccessClock?) -> Entry? {
        var wasExpired = false
        let found = storage.access(key, hash: hash ?? key.tableHash) { entry -> (keep: Bool, result: Entry?) in
            if entry.expireAt != noExpiry && now > entry.expireAt {
                if expiryPaused { return (true, nil) }
                wasExpired = true
                return (false, nil)
            }
            if let touch { entry.lastAccess = touch.touched(entry.lastAccess) }
            return (true, entry)
        }
        if wasExpired {
            volatile.remove(key)
            expired += 1
        }
        return found ?? nil
    }

    /// Changes a live entry in place with one hash lookup (an expired one is deleted and
    /// counted in `expired`), stamping the access when `touch` is given. `body` must not
    /// change `expireAt`. Returns nil when there is no live entry.
    @inlinable
    public mutating func modifyLive<R>(_ key: Bytes, hash: Int? = nil, now: Int64, expired: inout Int, touch: AccessClock?,
                                       _ body: (inout Entry) -> R) -> R? {
        var wasExpired = false
        let result = storage.access(key, hash: hash ?? key.tableHash) { entry -> (keep: Bool, result: R?) in
            if entry.expireAt != noExpiry && now > entry.expireAt {
                if expiryPaused { return (true, nil) }
                wasExpired = true
                return (false, nil)
            }
            if let touch { entry.lastAccess = touch.touched(entry.lastAccess) }
            return (true, body(&entry))
        }
        if wasExpired {
            volatile.remove(key)
            expired += 1
        }
        return result ?? nil
    }

    /// See `SlotMap.prefetchBucket` and `prefetchSlot`: warm the cache for lookups to come.
    @inlinable public func prefetchBucket(_ key: Bytes) -> Int { storage.prefetchBucket(key) }
    @inlinable public func prefetchBucket(hash: Int) -> Int { storage.prefetchBucket(hash: hash) }
    @inlinable public func prefetchSlot(bucket: Int) { storage.prefetchSlot(bucket: bucket) }

    /// Whether the entry exists and is live, without deleting it (for read-only peeks).
    @inlinable public func peek(_ key: Bytes, now: Int64) -> Entry? {
        guard let entry = storage[key] else { return nil }
        if entry.expireAt != noExpiry && now > entry.expireAt { return nil }
        return entry
    }

    /// Stores `entry` under `key`, replacing anything there, and keeps the TTL index right.
    /// Returns the expiry of the entry it replaced (`noExpiry` if it had none), nil when the
    /// key was absent: the caller tells a new key, and a replaced expired one, from that.
    /// With `inheritingAccess`, a replaced entry still live at `now` passes its access stamp
    /// on, touched by that clock (LFU keeps a key's counter across overwrites).
    @inlinable @discardableResult
    public mutating func store(_ key: Bytes, hash: Int? = nil, _ entry: Entry, inheritingAccess clock: AccessClock? = nil, now: Int64 = 0) -> Int64? {
        if _slowPath(storage.growsOnNextInsert) { holdGrowthIfNeeded(&storage) }
        let previous = storage.replace(key, hash: hash ?? key.tableHash, entry)
        if let clock, let previous, previous.expireAt == noExpiry || now <= previous.expireAt {
            storage.modify(key) { $0.lastAccess = clock.touched(previous.lastAccess) }
        }
        let previousExpiry = previous.map { $0.expireAt }
        let wasVolatile = previousExpiry.map { $0 != noExpiry } ?? false
        let isVolatile = entry.expireAt != noExpiry
        if isVolatile && !wasVolatile {
            if _slowPath(volatile.growsOnNextInsert) { holdGrowthIfNeeded(&volatile) }
            volatile.set(key, ())
        } else if !isVolatile && wasVolatile {
            volatile.remove(key)
        }
        return previousExpiry
    }

    /// Before an insertion that would double `table`'s buckets: holds the doubling while memory
    /// does not allow it, as Redis keeps a full dict from growing past `maxmemory`.
    @usableFromInline @inline(never) func holdGrowthIfNeeded<V>(_ table: inout SlotMap<V>) {
        table.growthHeld = tableGrowthAllowed.map { !$0(table.grownBucketBytes) } ?? false
    }

    /// Changes the value in place, keeping the expiry, and marks it raw-encoded (APPEND).
    @inlinable @discardableResult
    public mutating func updateValueInPlace(_ key: Bytes, _ body: (inout Value) -> Void) -> Bool {
        let found: Bool? = storage.modify(key) { (entry: inout Entry) -> Bool in
            body(&entry.value)
            entry.rawEncoding = true
            return true
        }
        return found ?? false
    }

    /// Sets or clears the expiry of an existing key.
    @inlinable
    public mutating func setExpiry(_ key: Bytes, _ expireAt: Int64) {
        guard let was = storage.modify(key, { entry -> Int64 in
            let old = entry.expireAt
            entry.expireAt = expireAt
            return old
        }) else { return }
        if expireAt != noExpiry && was == noExpiry {
            if _slowPath(volatile.growsOnNextInsert) { holdGrowthIfNeeded(&volatile) }
            volatile.set(key, ())
        } else if expireAt == noExpiry && was != noExpiry {
            volatile.remove(key)
        }
    }


    @inlinable @discardableResult
    public mutating func remove(_ key: Bytes) -> Entry? {
        guard let entry = storage.remove(key) else { return nil }
        if entry.expireAt != noExpiry { volatile.remove(key) }
        return entry
    }

    public mutating func removeAll() {
        storage.removeAll()
        volatile.removeAll()
    }

    /// Deletes up to `samples` sampled volatile keys that have expired; returns (sampled, expired).
    public mutating func expireSample<G: RandomNumberGenerator>(samples: Int, now: Int64, using rng: inout G,
                                                                onExpired: (Bytes) -> Void = { _ in }) -> (Int, Int) {
        var ttls = (sum: Int64(0), count: 0)
        return expireSample(samples: samples, now: now, using: &rng, liveTTLs: &ttls, onExpired: onExpired)
    }

    /// The same, adding the remaining TTLs (ms) of the sampled keys that live on to `liveTTLs`
    /// (INFO keyspace's `avg_ttl` is estimated from them).
    public mutating func expireSample<G: RandomNumberGenerator>(samples: Int, now: Int64, using rng: inout G,
                                                                liveTTLs: inout (sum: Int64, count: Int),
                                                                onExpired: (Bytes) -> Void = { _ in }) -> (Int, Int) {
        var sampled = 0, expired = 0
        let n = min(samples, volatile.count)
        for _ in 0..<n {
            guard let key = volatile.randomKey(using: &rng) else { break }
            sampled += 1
            guard let entry = storage[key] else { continue }
            if now > entry.expireAt {
                remove(key)
                expired += 1
                onExpired(key)
            } else {
                liveTTLs.sum += entry.expireAt - now
                liveTTLs.count += 1
            }
        }
        return (sampled, expired)
    }

    /// A random live key, or nil when empty. Expired keys met on the way are deleted and
    /// passed to `onExpired`.
    public mutating func randomKey<G: RandomNumberGenerator>(now: Int64, using rng: inout G,
                                                             onExpired: (Bytes) -> Void = { _ in }) -> Bytes? {
        // Bounded: if every key sampled has expired, keep deleting them; at worst the storage empties.
        var expired = 0
        for _ in 0..<(storage.count + 1) {
            guard let key = storage.randomKey(using: &rng) else { return nil }
            let before = expired
            if lookup(key, now: now, expired: &expired) != nil { return key }
            if expired > before { onExpired(key) }
        }
        return nil
    }

    public func scan(from cursor: Int, count: Int, _ visit: (Bytes, Entry) -> Void) -> Int {
        storage.scan(from: cursor, count: count, visit)
    }
}
