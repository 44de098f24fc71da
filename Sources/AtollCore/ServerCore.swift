/// `ServerCore`: everything the commands share beyond the keyspace — configuration, the
/// client registry, counters, the slow log, monitors, WATCH and blocking registries, and the
/// state the scripting and persistence layers report to the dispatcher (the running script's
/// monitor, the effects feed, the background jobs' outcome). The dispatcher that
/// runs commands against it is in Dispatcher.swift. Guarded by the server's lock.
import AtollBytes
import AtollKeyspace
import AtollRESP
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class ServerCore: @unchecked Sendable {
    // The properties marked `@exclusivity(unchecked)` are read on every command and only by the
    // holder of the keyspace lock, never re-entrantly: the runtime check could find nothing and
    // cost ~8% of the server's CPU (perf, 2026-12-06). Keep new ones that way or leave them checked.
    // The attribute only counts in this module: what other modules read per command or batch
    // (`config`, `stats`, `dirty`, `accessClock`, `maxMemory`: the command families, the server) goes through
    // inlinable accessors, whose access stays unchecked.
    @exclusivity(unchecked) @usableFromInline var storedConfig: ServerConfiguration
    @inlinable public var config: ServerConfiguration {
        _read { yield storedConfig }
        _modify {
            defer {
                storedKeyspaceEventMask = storedConfig.keyspaceEvents.enabled.rawValue
                storedLatencyTracking = storedConfig.latencyTracking
                followMemorySettings()
                followReplicaSettings()
                followBacklogSize()
                followGoodReplicaSettings()
            }
            yield &storedConfig
        }
    }
    /// `latency-tracking`, kept beside the configuration like the event mask: read per command.
    @exclusivity(unchecked) @usableFromInline var storedLatencyTracking = true
    /// Error replies by their code (INFO errorstats), since the start or CONFIG RESETSTAT.
    @exclusivity(unchecked) public internal(set) var errorCounts: [[UInt8]: Int] = [:]
    /// The keyspace event classes that publish (`KeyspaceEventSettings.enabled`), kept beside
    /// the configuration whenever it changes, so that a command's test reads one integer.
    @exclusivity(unchecked) @usableFromInline var storedKeyspaceEventMask = 0
    @inlinable public var keyspaceEventMask: Int { storedKeyspaceEventMask }
    public let keyspace: Keyspace
    public let table: CommandTable
    /// Where expiry, TTLs, timeouts and LASTSAVE read the time (see `ServerClock`).
    public let clock: any ServerClock
    @exclusivity(unchecked) @usableFromInline var storedDirty = 0
    /// Writes since the last save (INFO `rdb_changes_since_last_save`).
    @inlinable public var dirty: Int {
        _read { yield storedDirty }
        _modify { yield &storedDirty }
    }
    @exclusivity(unchecked) @usableFromInline var storedStats: ServerStats = ServerStats()
    @inlinable public var stats: ServerStats {
        _read { yield storedStats }
        _modify { yield &storedStats }
    }
    public var clients: [Int64: ClientSession] = [:]
    @exclusivity(unchecked) public var monitors: [ClientSession] = []
    @exclusivity(unchecked) public var slowlog = SlowLog()
    @exclusivity(unchecked) public var latencyMonitor = LatencyMonitor()
    @exclusivity(unchecked) public var watches = WatchRegistry()
    public let blocking = BlockingRegistry()
    /// ACL users and the ACL log (see AccessControl.swift).
    public let acl: AccessControl
    /// CLIENT LIST's line for a client, for ACL LOG entries; set by the command layer.
    public var clientDescriber: (@Sendable (ClientSession, Int64) -> String)?
    /// Pub/Sub subscriptions (see PubSub.swift).
    public let pubsub = PubSubRegistry()
    /// Client-side caching (see Tracking.swift).
    public let tracking = TrackingRegistry()
    /// While tracking is on: the client whose top-level command runs (a script's caller for
    /// the commands the script runs), Redis's `current_client` for NOLOOP and for sending a
    /// client's own invalidations after its reply.
    @exclusivity(unchecked) public internal(set) var trackingCaller: ClientSession?
    /// While tracking is on: the script command running (EVAL, FCALL ..., top-level or queued in
    /// EXEC) and its arguments. A read the script makes remembers the keys of this command (its
    /// declared KEYS), as Redis 7.0's `trackingRememberKeys(script_caller)` reads the caller's
    /// command.
    @exclusivity(unchecked) var trackingCommand: (spec: CommandSpec, args: [[UInt8]])?
    /// MIGRATE's connections to its targets, reused for 10 seconds (see MigrateSocketCache.swift).
    public let migrateSockets = MigrateSocketCache()
    /// The running script as other threads see it: event loops answer BUSY from it while a
    /// script holds the lock, and SCRIPT KILL, FUNCTION KILL and SHUTDOWN NOSAVE reach it.
    public let scriptMonitor = ScriptMonitor()
    /// The scripting layer's state (AtollScripting's `ScriptingState`: the Lua engine, the
    /// script client), kept here for it without core knowing its type; AtollScripting reads it
    /// as `scripting`, creating it on first use.
    @exclusivity(unchecked) package var scriptingState: AnyObject?
    /// Where `redis.log` lines go (level 0 debug … 3 warning); set by the server.
    public var logHandler: (@Sendable (Int, String) -> Void)?
    /// Takes a configuration whose `tls-*` parameters changed (CONFIG SET); `rebuild` when one
    /// of `TLSSettings.contextParameterNames` did, which sets TLS up again, keeping what was
    /// there when it cannot: then returns CONFIG SET's reason, with the causes logged. Set by
    /// the server.
    public var tlsReconfigure: (@Sendable (_ config: ServerConfiguration, _ rebuild: Bool) -> String?)?
    /// Starts the link to a master REPLICAOF named (AtollServer's `MasterLink`); set by the server.
    public var masterLinkStarter: (@Sendable (MasterLinkState) -> Void)?
    /// Unix milliseconds when the server started.
    public let startTime: Int64
    /// Unix seconds of the last successful save (start time until persistence exists).
    public var lastSave: Int64
    public let runID: String
    /// Set by SHUTDOWN; the server stops when it is called.
    public var shutdownHandler: (@Sendable () -> Void)?
    @exclusivity(unchecked) @usableFromInline var storedAccessClock = AccessClock()
    /// How keys are stamped when created and read (see `AccessClock`): the LRU clock, and the
    /// LFU settings, which follow the configuration.
    @inlinable public var accessClock: AccessClock { storedAccessClock }
    /// Seconds clock for access times (OBJECT IDLETIME), refreshed by the background task.
    @inlinable public var lruClock: UInt32 {
        _read { yield storedAccessClock.seconds }
        _modify { yield &storedAccessClock.seconds }
    }
    /// `maxmemory`, kept beside the configuration like the event mask: tested before every
    /// command (0: no limit).
    @exclusivity(unchecked) @usableFromInline var storedMaxMemory = 0
    @inlinable public var maxMemory: Int { storedMaxMemory }
    /// Eviction's state and counters (see MaxMemory.swift).
    @exclusivity(unchecked) public internal(set) var eviction = EvictionState()
    /// The append-only file, when `appendonly` is on (AtollPersistence's `AppendOnlyFile` is the
    /// one kind, `appendOnlyFile` there): it takes the feed's bytes as the lock is released.
    @exclusivity(unchecked) public var aof: AppendOnlyLog? {
        didSet { followEffectConsumers(aofAttached: oldValue == nil && aof != nil) }
    }
    /// The effects of the commands run, encoded as Redis propagates them, while something
    /// consumes them (the append-only file, the replication backlog); nil otherwise, so that
    /// commands record nothing (see EffectStream.swift).
    @exclusivity(unchecked) public var feed: AppendOnlyFeed?
    /// Bumped whenever the feed's consumers change: a command that switched them (DEBUG
    /// LOADAOF, CONFIG SET appendonly) records nothing into the new feed.
    @exclusivity(unchecked) var feedEpoch = 0
    /// Replication: this server's stream offset and backlog, its replicas, its master link.
    public let replication = ReplicationState()
    /// A replica with `replica-read-only yes`: normal clients' writes get READONLY. Kept
    /// beside the replication state as it changes (see ReplicaRole.swift): read per command.
    @exclusivity(unchecked) public var readOnlyReplica = false
    /// A replica with `replica-serve-stale-data no` (see StaleReplica.swift). Read per command.
    @exclusivity(unchecked) public internal(set) var refusesStaleData = false
    /// `min-replicas-to-write` while `min-replicas-max-lag` is not 0 (else 0): writes need
    /// that many good replicas (see GoodReplicas.swift). Read per command.
    @exclusivity(unchecked) public internal(set) var minGoodReplicas = 0
    /// Background saves and rewrites: the running child and what the last ones did.
    @exclusivity(unchecked) public var persistence = PersistenceState()
    /// DEBUG PAUSE-CRON 1: the background task (expiry, timeouts, persistence) does nothing.
    @exclusivity(unchecked) public var cronPaused = false
    /// DEBUG QUICKLIST-PACKED-THRESHOLD: kept for the reply only (Atoll's lists have no
    /// plain nodes to switch to).
    @exclusivity(unchecked) public var quicklistPackedThreshold: UInt64 = 1 << 30
    /// Set once the data is synced and saved for an exit, so it happens once.
    @exclusivity(unchecked) public var shutdownPrepared = false
    /// True while the append-only file is replayed at start: nothing expires meanwhile.
    @exclusivity(unchecked) public var loading = false
    /// Syncs the append-only file: connections wait on it before flushing replies (with
    /// `appendfsync always`), the everysec timer and shutdown sync through it, and a failed
    /// sync makes writes get MISCONF.
    public let aofSync = AOFSyncGate()
    private let nextClientID = Atomic<Int64>(1)
    /// The last few commands resolved by `run`.
    @exclusivity(unchecked) var recentCommand = RecentCommand()
    @exclusivity(unchecked) var keyPrefetch = KeyPrefetch()
    /// CLIENT PAUSE (see ClientPause.swift): what is paused (`off` on the hot path: one test
    /// per command; the stronger of CLIENT PAUSE's mode and a FAILOVER's write pause), until
    /// when CLIENT PAUSE holds (Unix ms), and the clients postponed, in order.
    @exclusivity(unchecked) public internal(set) var pauseMode = PauseMode.off
    @exclusivity(unchecked) public internal(set) var pauseDeadline: Int64 = 0
    /// CLIENT PAUSE's own mode, and whether a FAILOVER holds writes (until it ends).
    @exclusivity(unchecked) var clientPauseMode = PauseMode.off
    @exclusivity(unchecked) var failoverPause = false
    var pausedClients: [ClientSession] = []
    /// Recent rates for INFO's `instantaneous_*` fields, sampled by the background task.
    @exclusivity(unchecked) public var instantaneous = InstantaneousMetrics()
    /// Recent largest client buffers (INFO `client_recent_max_*`), sampled by the background task.
    @exclusivity(unchecked) public var clientBufferPeaks = ClientBufferPeaks()
    /// Memory in use once the server was set up (INFO `used_memory_startup`); set by the server.
    public var startupMemory = 0
    /// The absolute path of the program, as it was started (INFO `executable`).
    public let executable = absoluteExecutablePath()

    /// A server serving `table` with the configuration's `rename-command`s applied
    /// (AtollCommands adds `init(config:clock:)`, with every family), reading the time from `clock`.
    public init(config: ServerConfiguration, table: CommandTable, clock: any ServerClock = SystemClock()) {
        let now = clock.nowMillis()
        self.clock = clock
        self.storedConfig = config
        self.storedKeyspaceEventMask = config.keyspaceEvents.enabled.rawValue
        self.storedLatencyTracking = config.latencyTracking
        self.storedMaxMemory = Int(clamping: config.maxMemory)
        self.keyspace = Keyspace(databaseCount: config.databases)
        self.acl = AccessControl(channelsByDefault: config.aclChannelsByDefault,
                                 requirePass: config.requirePass)
        self.table = table.renaming(config.commandRenames)
        self.startTime = now
        self.lastSave = now / 1000
        self.runID = randomHex40()
        self.lruClock = UInt32(truncatingIfNeeded: now / 1000)
        followMemorySettings()
        followGoodReplicaSettings()
        replication.noReplicasSinceMillis = now
        // A full key table doubles its buckets only when memory allows, as in Redis.
        // Unowned: a weak reference would move the core's reference counts to a side table,
        // which makes every retain of it (several per command) take the slow path.
        keyspace.tableGrowthAllowed = { [unowned self] bytes in !overMaxMemory(afterAllocating: bytes) }
    }

    // MARK: - Clients

    /// Registers a new connection; returns nil when `maxclients` is reached.
    public func connect(address: String, localAddress: String, now: Int64, connection: (any ClientConnection)?) -> ClientSession? {
        let session = makeSession(address: address, localAddress: localAddress, now: now, connection: connection)
        return register(session) ? session : nil
    }

    /// A session for a new connection, not yet registered. Needs no lock: a connection that
    /// arrives while a script is busy gets its session (its id, and state for AUTH, HELLO and
    /// MULTI) at once and is registered once the script is done. Reads the default user, so it is
    /// called under the lock or while a script is busy (scripts cannot change users).
    public func makeSession(address: String, localAddress: String, now: Int64, connection: (any ClientConnection)?) -> ClientSession {
        let id = nextClientID.add(1, ordering: .relaxed).oldValue
        return ClientSession(id: id, authenticated: !acl.authenticationRequired, user: acl.defaultUser, address: address,
                             localAddress: localAddress, now: now, connection: connection)
    }

    /// Adds a session to the server's clients; false when `maxclients` is reached.
    public func register(_ session: ClientSession) -> Bool {
        stats.totalConnections += 1
        guard clients.count < config.maxClients else {
            stats.rejectedConnections += 1
            return false
        }
        clients[session.id] = session
        return true
    }

    public func disconnect(_ session: ClientSession) {
        clients[session.id] = nil
        watches.unwatchAll(session)
        if session.blocked?.waitsFor == .replicaAcks { waiterGone(session) }
        blocking.release(session)
        unsubscribeAll(session)
        tracking.disabled(session)
        if session.paused {
            session.paused = false
            pausedClients.removeAll { $0 === session }
        }
        if session.isMonitor { monitors.removeAll { $0 === session } }
        if session.replicaPeer != nil { replicaGone(session) }
    }
}

extension String {
    package func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// The Redis version Atoll reports so that clients enable the features it implements.
public let redisCompatibleVersion = "7.0.15"
/// Atoll's own version (INFO `atoll_version`).
public let atollVersion = "0.1.0"

public struct ServerStats: Sendable {
    /// EXECs that ran their queue.
    public var transactions = 0
    /// EXECs that returned the null array because a watched key was touched.
    public var watchAborts = 0
    /// EXECs refused with EXECABORT.
    public var execAborts = 0
    public var totalConnections = 0
    public var rejectedConnections = 0
    public var totalCommands = 0
    /// Error replies sent (INFO `total_error_replies`).
    public var totalErrorReplies = 0
    public var netInputBytes = 0
    public var netOutputBytes = 0
    /// Clients closed for passing their `client-output-buffer-limit`.
    public var outputBufferLimitDisconnections = 0
    /// Socket reads that brought input, and batches of replies written (INFO
    /// `total_reads_processed`, `total_writes_processed`).
    public var readsProcessed = 0
    public var writesProcessed = 0
    /// Background jobs forked, and how long the last fork took (µs).
    public var totalForks = 0
    public var latestForkMicros = 0
    /// The most memory seen in use (INFO `used_memory_peak`).
    public var peakMemory = 0
    public init() {}
}

public func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

public func currentTimeMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

public func monotonicMicros() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}

public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// 40 random lowercase hex digits, the shape of Redis's run and replication IDs.
public func randomHex40() -> String {
    var rng = SystemRandomNumberGenerator()
    let hex = Array("0123456789abcdef")
    return String((0..<40).map { _ in hex[Int(rng.next() % 16)] })
}
