/// The whole data set: the numbered databases plus the counters INFO reports.
///
/// Not thread-safe by design: the server owns exactly one `Keyspace` behind one lock, and
/// every command, transaction and script runs with that lock held, which is what makes each
/// of them atomic.
import AtollBytes
public final class Keyspace: @unchecked Sendable {
    // Unchecked (`@exclusivity`): every key access goes through these, always under the server's
    // keyspace lock, and no access re-enters; the runtime check was pure cost. The attribute
    // only counts in this module, so other modules reach the storage through these inlinable
    // accessors (a direct access from them would be checked).
    @exclusivity(unchecked) @usableFromInline var storedDatabases: [Database]
    @exclusivity(unchecked) @usableFromInline var storedStats = KeyspaceStats()
    @inlinable public var databases: [Database] {
        _read { yield storedDatabases }
        _modify { yield &storedDatabases }
    }
    @inlinable public var stats: KeyspaceStats {
        _read { yield storedStats }
        _modify { yield &storedStats }
    }
    /// While clients are paused (CLIENT PAUSE) no key expires: lazy expiry reports expired keys
    /// missing without deleting them, and the server skips active expiry.
    public var expiryPaused = false {
        didSet { for db in databases.indices { databases[db].expiryPaused = expiryPaused } }
    }
    /// Whether memory allows a key table's buckets to double (see `Database.tableGrowthAllowed`).
    public var tableGrowthAllowed: (@Sendable (Int) -> Bool)? {
        didSet { for db in databases.indices { databases[db].tableGrowthAllowed = tableGrowthAllowed } }
    }
    /// Random source for sampling; any generator will do, keys are not secrets.
    public var rng = FastRandom()
    /// Each database's estimated average TTL (see `averageTTL`).
    private var averageTTLs: [Int64] = []
    /// The best eviction candidates sampled so far (see EvictionPool.swift).
    var evictionPool = EvictionPool()
    /// The database the random eviction policies took a key from last.
    var nextEvictionDB = 0
    /// Where each database's next eviction sample starts (see `populatePool`).
    var sampleSeeds: [UInt64] = []

    public init(databaseCount: Int = 16) {
        storedDatabases = Array(repeating: Database(), count: max(1, databaseCount))
    }

    /// Active rehashing, as Redis's `activerehashing`: the first database whose tables are
    /// doubling their buckets moves 100 buckets at a time until `budgetNanoseconds` is spent,
    /// so a rehash ends even when no key is added or removed.
    public func rehashIncrementally(budgetNanoseconds: UInt64, clock: () -> UInt64) {
        let start = clock()
        guard let db = databases.indices.first(where: { databases[$0].table.isRehashing || databases[$0].volatileKeys.isRehashing })
        else { return }
        while databases[db].rehash(buckets: 100) && clock() - start < budgetNanoseconds {}
    }

    /// Active expiry, as Redis's `activeExpireCycle`: per database, sample 20 keys with a TTL,
    /// delete the expired ones, and go on while more than a quarter of a sample had expired,
    /// until `budgetNanoseconds` of work is spent. Returns how many keys were deleted. Keeps
    /// INFO's expiry figures: the time spent, the cycles cut short by the budget, the share of
    /// expired keys among those sampled, and each database's average TTL.
    @discardableResult
    public func activeExpireCycle(now: Int64, budgetNanoseconds: UInt64, clock: () -> UInt64,
                                  onExpired: (Int, Bytes) -> Void = { _, _ in }) -> Int {
        let start = clock()
        var total = 0, sampledTotal = 0
        var timeCapReached = false
        for db in databases.indices where databases[db].expiresCount > 0 {
            var rounds = 0
            var ttls = (sum: Int64(0), count: 0)
            while true {
                let (sampled, expired) = databases[db].expireSample(samples: 20, now: now, using: &rng,
                                                                    liveTTLs: &ttls) { onExpired(db, $0) }
                total += expired
                sampledTotal += sampled
                rounds += 1
                if sampled == 0 || expired * 4 <= sampled { break }
                if rounds % 16 == 0 && clock() - start > budgetNanoseconds { timeCapReached = true; break }
            }
            if ttls.count > 0 { noteAverageTTL(db, ttls.sum / Int64(ttls.count)) }
            if clock() - start > budgetNanoseconds { timeCapReached = true; break }
        }
        stats.expiredKeys += total
        stats.expireCycleNanoseconds += Int(clock() - start)
        if timeCapReached { stats.expiredTimeCapReached += 1 }
        let stale = sampledTotal > 0 ? Double(total) / Double(sampledTotal) : 0
        stats.expiredStaleFraction = stale * 0.05 + stats.expiredStaleFraction * 0.95
        return total
    }

    /// Folds a sample's average TTL into the database's estimate (mostly the old estimate, as
    /// Redis weighs it: 49/50 old, 1/50 new).
    private func noteAverageTTL(_ db: Int, _ sample: Int64) {
        if averageTTLs.count != databases.count { averageTTLs = Array(repeating: 0, count: databases.count) }
        let old = averageTTLs[db]
        averageTTLs[db] = old == 0 ? sample : old / 50 * 49 + sample / 50
    }

    /// A database's estimated average TTL in milliseconds (INFO keyspace `avg_ttl`): 0 until
    /// active expiry sampled it, or when it has no keys with a TTL.
    public func averageTTL(_ db: Int) -> Int64 {
        db < averageTTLs.count && databases[db].expiresCount > 0 ? averageTTLs[db] : 0
    }

    /// The bytes of the key tables' free slots, which the next keys will take without allocating.
    public var reusableTableBytes: Int {
        var bytes = 0
        for db in storedDatabases.indices {
            bytes += storedDatabases[db].storage.freeSlotBytes + storedDatabases[db].volatile.freeSlotBytes
        }
        return bytes
    }

    public func flushAll() {
        for i in databases.indices { databases[i].removeAll() }
        evictionPool.removeAll()
    }
}

/// Counters for INFO stats; reset by CONFIG RESETSTAT.
public struct KeyspaceStats: Sendable {
    public var expiredKeys = 0
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    /// Time active expiry spent (INFO `expire_cycle_cpu_milliseconds`).
    public var expireCycleNanoseconds = 0
    /// Active expiry cycles that stopped at their time budget.
    public var expiredTimeCapReached = 0
    /// The running estimate of the share of sampled keys found expired (0 to 1).
    public var expiredStaleFraction = 0.0
    public init() {}
}
