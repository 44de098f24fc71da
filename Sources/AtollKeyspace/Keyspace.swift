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
    /// Random source for sampling; any generator will do, keys are not secrets.
    public var rng = FastRandom()

    public init(databaseCount: Int = 16) {
        storedDatabases = Array(repeating: Database(), count: max(1, databaseCount))
    }

    /// Active expiry, as Redis's `activeExpireCycle`: per database, sample 20 keys with a TTL,
    /// delete the expired ones, and go on while more than a quarter of a sample had expired,
    /// until `budgetNanoseconds` of work is spent. Returns how many keys were deleted.
    @discardableResult
    public func activeExpireCycle(now: Int64, budgetNanoseconds: UInt64, clock: () -> UInt64,
                                  onExpired: (Int, Bytes) -> Void = { _, _ in }) -> Int {
        let start = clock()
        var total = 0
        for db in databases.indices where databases[db].expiresCount > 0 {
            var rounds = 0
            while true {
                let (sampled, expired) = databases[db].expireSample(samples: 20, now: now, using: &rng) { onExpired(db, $0) }
                total += expired
                rounds += 1
                if sampled == 0 || expired * 4 <= sampled { break }
                if rounds % 16 == 0 && clock() - start > budgetNanoseconds { break }
            }
            if clock() - start > budgetNanoseconds { break }
        }
        stats.expiredKeys += total
        return total
    }

    public func flushAll() {
        for i in databases.indices { databases[i].removeAll() }
    }
}

/// Counters for INFO stats; reset by CONFIG RESETSTAT.
public struct KeyspaceStats: Sendable {
    public var expiredKeys = 0
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    public init() {}
}
