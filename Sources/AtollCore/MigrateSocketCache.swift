/// `MigrateSocketCache`: MIGRATE's open connections to its targets, kept for reuse as Redis
/// keeps them (`migrate_cached_sockets` in INFO stats). A connection is named by the host and
/// port arguments as typed (`host:port`); at most 64 are kept (a random one is closed to make
/// room), and the cron closes those unused for more than 10 seconds. Each remembers the
/// database it last selected, so MIGRATE sends SELECT only when the database changes.
///
/// Used only under the keyspace lock (MIGRATE and the cron), so it needs no lock of its own.
public final class MigrateSocketCache: @unchecked Sendable {
    /// Redis's MIGRATE_SOCKET_CACHE_ITEMS and MIGRATE_SOCKET_CACHE_TTL.
    public static let capacity = 64
    public static let idleSeconds: Int64 = 10

    private var connections: [[UInt8]: TargetConnection] = [:]

    public init() {}

    /// How many connections are open (INFO's `migrate_cached_sockets`).
    public var count: Int { connections.count }

    /// The cached connection named `name`, marked used at `nowSeconds`, or a new one from
    /// `connect` (nil when it fails), cached under that name.
    public func connection(named name: [UInt8], nowSeconds: Int64,
                           connect: () -> TargetConnection?) -> TargetConnection? {
        if let cached = connections[name] {
            cached.lastUse = nowSeconds
            return cached
        }
        if connections.count >= Self.capacity, let victim = connections.keys.randomElement() {
            close(named: victim)
        }
        guard let fresh = connect() else { return nil }
        fresh.lastUse = nowSeconds
        connections[name] = fresh
        return fresh
    }

    /// Closes and forgets the connection named `name`, if any.
    public func close(named name: [UInt8]) {
        connections.removeValue(forKey: name)?.close()
    }

    /// Closes the connections unused for more than `idleSeconds` (from the cron).
    public func closeIdle(nowSeconds: Int64) {
        for (name, connection) in connections where nowSeconds - connection.lastUse > Self.idleSeconds {
            close(named: name)
        }
    }
}
