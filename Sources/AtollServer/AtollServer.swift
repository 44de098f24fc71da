/// `AtollServer`: the embeddable server. A Swift program (or the `atoll-server` executable)
/// builds a `ServerConfiguration`, calls `start()`, reads `port` (useful with port 0 for a free
/// one, as in tests), and calls `stop()`. One `ServerCore` behind one lock serves every event
/// loop; a repeating task on one loop runs active expiry and idle-client timeouts.
import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollPersistence
import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The state every connection shares: the core and the lock that makes each command atomic.
final class SharedState: Sendable {
    let core: ServerCore
    let lock: KeyspaceLock
    let log: Log
    /// Where Lua code runs (see `ScriptQueue`), so that event loops stay free to answer BUSY
    /// and SCRIPT KILL meanwhile.
    let scriptThread = NIOThreadPool(numberOfThreads: 1)
    init(core: ServerCore, log: Log) {
        self.core = core
        self.log = log
        lock = KeyspaceLock(core: core)
    }

    /// Takes the keyspace lock on an event loop: waits while the holder is an ordinary command
    /// or a script not yet past `busy-reply-threshold`, and gives up at once, returning false,
    /// once a script is busy (the caller answers BUSY or tries again later). An event loop
    /// never waits on a busy script, or every client it serves would wait with it.
    func lockUnlessBusy() -> Bool {
        if lock.tryLock() { return true }
        let monitor = core.scriptMonitor
        while !monitor.isBusy(now: monotonicMicros()) {
            if lock.lock(waitingAtMost: 5) { return true }
        }
        return false
    }
}

/// What an event loop's connections share, each used only on that loop.
struct LoopServices {
    let scriptQueue: ScriptQueue
    let replyFlusher: ReplyFlusher
}

public final class AtollServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    private let shared: SharedState
    private let group: MultiThreadedEventLoopGroup
    private var channels: [any Channel] = []
    private var tls: TLSService?
    private var cron: RepeatedTask?
    private let stopped = NIOLockedValueBox(false)
    /// 0 while running, 1 once `stop()` has finished releasing everything.
    private let finished = ConditionLock(value: 0)

    /// The port the server listens on (the chosen one when configured with port 0).
    public private(set) var port: Int = 0

    /// A server for `configuration`, reading the time from `clock` (the system's unless
    /// given; a test can pass a `ManualClock` and move time instead of sleeping).
    public init(configuration: ServerConfiguration, clock: any ServerClock = SystemClock()) {
        self.configuration = configuration
        let threads = configuration.ioThreads > 0 ? configuration.ioThreads : max(1, System.coreCount - 1)
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        shared = SharedState(core: ServerCore(config: configuration, clock: clock), log: Log(path: configuration.logFile, level: configuration.logLevel))
    }

    /// Binds every configured address and starts serving. Throws if an address cannot be bound,
    /// or if the open-file limit leaves no room for a single client.
    public func start() throws {
        let shared = self.shared
        try shared.lock.withLock {
            let core = shared.core
            let log = shared.log
            core.config.maxClients = try adjustOpenFilesLimit(maxClients: core.config.maxClients, log: log)
            try core.loadUsersAtStartup()
            if core.config.appendOnly {
                let file = try AppendOnlyFile.load(for: core) { level, message in log.write(level: level, message) }
                core.aof = file
                core.persistence.aofRewriteBaseSize = file.currentSize
            } else {
                let loaded = try PersistenceCommands.loadSnapshotWithHistory(into: core, now: core.clock.nowMillis())
                if loaded.keys > 0 { log.notice("DB loaded from disk: \(loaded.keys) keys") }
                // As Redis: the history counts only where no append-only file is replayed.
                if let history = loaded.history {
                    let asReplica = !(configuration.storedParameters["replicaof"] ?? "").isEmpty
                    core.restoreReplication(history, asReplica: asReplica, expired: loaded.expired)
                }
            }
        }
        shared.scriptThread.start()
        shared.lock.withLock {
            let log = shared.log
            shared.core.logHandler = { level, message in log.write(level: level, message) }
            shared.core.shutdownHandler = { [weak self] in
                guard let self else { return }
                self.shared.log.warning("User requested shutdown...")
                // Stopping closes the channels, so it must not run on the caller's locked stack.
                detachStop(self)
            }
        }
        // One script queue and one reply flusher per event loop, each used only on its loop.
        let loopServices = UncheckedSendable(Dictionary(uniqueKeysWithValues: group.makeIterator().map {
            (ObjectIdentifier($0), LoopServices(scriptQueue: ScriptQueue(shared: shared, eventLoop: $0),
                                                replyFlusher: ReplyFlusher(eventLoop: $0, aofSync: shared.core.aofSync)))
        }))
        // Redis sets TLS up before it listens: a certificate that cannot be loaded stops the start.
        let tls = TLSService(log: shared.log)
        let tlsSettings = TLSSettings(configuration)
        if tlsSettings.enabled && tls.configure(tlsSettings, rebuild: true) != nil {
            shared.log.warning("Failed to configure TLS. Check logs for more info.")
            throw TLSStartupError()
        }
        let bootstrap = makeBootstrap(loopServices: loopServices, tls: nil)
        // Used again by CONFIG SET tls-port, from whichever thread runs it (binding is thread-safe).
        let tlsBootstrap = UncheckedSendable(makeBootstrap(loopServices: loopServices, tls: tls))
        var bound: [any Channel] = []
        var chosenPort = configuration.port
        // `port 0` with a TLS port is TLS only, as in Redis; without one, 0 picks a free port
        // (for embedding and tests), where Redis would not listen on TCP at all.
        let plainAddresses = configuration.port == 0 && tlsSettings.port != 0 ? [] : configuration.bind
        do {
            // Bound by hand as the TLS ones are: `bind` entries read as Redis reads them, and an
            // IPv6 address listens for IPv6 only (NIO's bind would take IPv4 too on `::`).
            let plain = try ListenAddress.sockets(for: plainAddresses, port: chosenPort, backlog: Int32(configuration.tcpBacklog))
            if !plain.sockets.isEmpty { chosenPort = plain.port }
            for (index, socket) in plain.sockets.enumerated() {
                do {
                    let channel = try bootstrap.withBoundSocket(socket).wait()
                    // NIO listens again with its default backlog (128) as it adopts the socket.
                    _ = listen(socket, Int32(configuration.tcpBacklog))
                    bound.append(channel)
                } catch {
                    for unadopted in plain.sockets[(index + 1)...] { close(unadopted) }
                    throw error
                }
            }
            try tls.openListeners(port: tlsSettings.port, addresses: configuration.bind, backlog: Int32(configuration.tcpBacklog),
                                  bootstrap: tlsBootstrap.value)
        } catch {
            for channel in bound { try? channel.close().wait() }
            throw error
        }
        channels = bound
        self.tls = tls
        port = chosenPort
        shared.lock.withLock {
            let log = shared.log
            let addresses = configuration.bind
            let backlog = Int32(configuration.tcpBacklog)
            // CONFIG SET of a tls-* parameter (Redis's `applyTlsCfg` and `applyTLSPort`).
            shared.core.tlsReconfigure = { config, rebuild in
                let settings = TLSSettings(config)
                if tls.configure(settings, rebuild: rebuild) != nil { return "Unable to update TLS configuration. Check server logs." }
                do {
                    try tls.openListeners(port: settings.port, addresses: addresses, backlog: backlog, bootstrap: tlsBootstrap.value)
                } catch {
                    log.warning("Could not create server TLS listening socket \(addresses.joined(separator: " ")):\(settings.port): \(error)")
                    return "Unable to listen on this port. Check server logs."
                }
                return nil
            }
        }
        shared.core.noteStartupMemory()
        startReplication()
        let interval = TimeAmount.milliseconds(Int64(max(1, 1000 / max(configuration.hz, 1))))
        var lastTimeoutCheck = shared.core.clock.nowMillis()
        cron = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let now = shared.core.clock.nowMillis()
            let checkTimeouts = now - lastTimeoutCheck >= 1000
            if checkTimeouts { lastTimeoutCheck = now }
            // Skipped while a script (or anything else) holds the lock: the next tick catches up.
            guard shared.lock.tryLock() else { return }
            defer { shared.lock.unlock() }
            if shared.core.shutdownPrepared || shared.core.cronPaused { return }
            do {
                let core = shared.core
                core.lruClock = UInt32(truncatingIfNeeded: now / 1000)
                // A pause ends at its deadline even if no client sends anything; while it
                // lasts no key expires.
                let paused = core.checkPauseDeadline(now: now)
                // A replica's keys expire by the master's DELs, as in Redis.
                if core.config.activeExpireEnabled && !paused && core.replication.master == nil {
                    let budget = UInt64(1_000_000_000 / max(core.config.hz, 1) / 4)
                    let keyspace = core.keyspace
                    let cycleStarted = monotonicNanos()
                    defer { core.noteLatency("expire-cycle", millis: Int((monotonicNanos() - cycleStarted) / 1_000_000)) }
                    keyspace.activeExpireCycle(now: now, budgetNanoseconds: budget, clock: monotonicNanos) { db, key in
                        core.removedByServer(key, db: db, .expired, "expired", now: now)
                    }
                }
                // Key tables doubling their buckets move on, a millisecond a tick (Redis's activerehashing).
                if core.config.storedParameters["activerehashing"] != "no" {
                    core.keyspace.rehashIncrementally(budgetNanoseconds: 1_000_000, clock: monotonicNanos)
                }
                // An eviction cut short by its time limit goes on here (Redis's evictionTimeProc).
                if core.eviction.unfinished && core.maxMemory != 0 { core.performEvictions(now: now) }
                // A parked XREADGROUP whose stream expired or was evicted is answered now.
                if core.blocking.hasReady { core.serveBlockedClients(now: now) }
                if core.tracking.isActive { core.limitTrackingTable() }
                core.broadcastInvalidations()
                core.sampleStatistics(nowMillis: now, everySecond: checkTimeouts)
                core.persistenceCron(now: now)
                if checkTimeouts { core.migrateSockets.closeIdle(nowSeconds: now / 1000) }
                if checkTimeouts { core.replicationCron(now: now) }
                if checkTimeouts && core.config.timeout > 0 {
                    let limit = Int64(core.config.timeout) * 1000
                    for client in core.clients.values
                        where !client.isMonitor && !client.isReplica && !client.isMaster && client.blocked == nil && !client.paused && now - client.lastInteraction > limit {
                        client.connection?.close()
                    }
                }
            }
        }
        shared.log.notice("Atoll \(atollVersion) (Redis \(redisCompatibleVersion) compatible) ready to accept connections on \(configuration.bind.joined(separator: " ")) port \(port)\(tlsSettings.port == 0 ? "" : ", TLS port \(tlsSettings.port)")")
    }

    /// Lets REPLICAOF start links to a master, and follows the `replicaof` setting.
    private func startReplication() {
        let shared = shared, group = group, port = port
        shared.core.masterLinkStarter = { state in
            MasterLink.start(state, shared: shared, group: group, listeningPort: port)
        }
        let words = (configuration.storedParameters["replicaof"] ?? "").split(separator: " ")
        guard words.count == 2, let masterPort = Int(words[1]) else { return }
        shared.lock.withLock {
            _ = shared.core.becomeReplica(of: String(words[0]), port: masterPort, now: shared.core.clock.nowMillis(), fromConfig: true)
        }
    }

    /// How connections are accepted: on the plain port, or with `tls` on the TLS port (its
    /// handler first, with the context current when the connection arrives).
    private func makeBootstrap(loopServices: UncheckedSendable<[ObjectIdentifier: LoopServices]>, tls: TLSService?) -> ServerBootstrap {
        let shared = self.shared
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(configuration.tcpBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Without descriptors to spare, accept fails until one is closed: try again a second
            // later instead of at once (which would spin), and say why.
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(AcceptBackoffHandler(), AcceptErrorLogger(log: shared.log))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // End of input arrives as an event, so the replies to what was read go out first.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 4 * 1024 * 1024, high: 16 * 1024 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let services = loopServices.value[ObjectIdentifier(channel.eventLoop)]!
                    if let tls {
                        // Never plain text on the TLS port: without a context the connection is dropped.
                        guard let context = tls.context else { throw ChannelError.ioOnClosedChannel }
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(shared: shared, loopServices: services, overTLS: tls != nil))
                }
            }
    }

    /// Stops listening, closes every connection and releases the threads. Safe to call twice.
    public func stop() {
        let first = stopped.withLockedValue { was -> Bool in
            defer { was = true }
            return !was
        }
        guard first else { return }
        cron?.cancel()
        // A script still running (SHUTDOWN NOSAVE while BUSY) is stopped, written or not.
        let monitor = shared.core.scriptMonitor
        monitor.abortForShutdown()
        // SIGTERM and SHUTDOWN alike: sync the append-only file, save if `save` rules say so
        // (and SHUTDOWN NOSAVE did not say otherwise while a script was busy).
        let save: Bool? = monitor.shutdownWithoutSave ? false : nil
        lockForShutdown()
        _ = shared.core.prepareForShutdown(save: save, now: shared.core.clock.nowMillis())
        shared.lock.unlock()
        for channel in channels { try? channel.close().wait() }
        tls?.stopListening()
        let connections = shared.lock.withLock { shared.core.clients.values.compactMap { $0.connection } }
        for connection in connections { connection.close() }
        try? group.syncShutdownGracefully()
        try? shared.scriptThread.syncShutdownGracefully()
        shared.log.notice("Atoll is now ready to exit, bye bye...")
        finished.lock()
        finished.unlock(withValue: 1)
    }

    /// Stops the server cleanly when one of `signals` arrives (the executable uses SIGTERM and
    /// SIGINT). Keep the returned sources alive for as long as the handlers should stay.
    public func stopOnSignals(_ signals: [Int32]) -> [any DispatchSourceSignal] {
        signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.shared.log.warning("Received signal \(number), scheduling shutdown...")
                // A final save that fails keeps the server running, as in Redis: exiting would
                // lose what the save was for.
                let shared = self.shared
                // A running script holds the lock: it is killed first (written or not).
                shared.core.scriptMonitor.abortForShutdown()
                self.lockForShutdown()
                let prepared = shared.core.prepareForShutdown(save: nil, now: shared.core.clock.nowMillis())
                shared.lock.unlock()
                guard prepared else {
                    shared.core.scriptMonitor.shutdownAbandoned()
                    shared.log.warning("Received signal \(number) but errors trying to shut down the server, check the logs for more information")
                    return
                }
                self.stop()
            }
            source.resume()
            return source
        }
    }

    /// Takes the lock once the running script (already told to stop) has ended. A script
    /// stuck inside one long C call of Lua (a pathological string pattern) never sees the
    /// kill: after `shutdownScriptGraceMillis` the process exits without saving rather than hang.
    private func lockForShutdown() {
        if shared.lock.lock(waitingAtMost: Self.shutdownScriptGraceMillis) { return }
        shared.log.warning("The running script did not stop within \(Self.shutdownScriptGraceMillis / 1000) seconds: exiting without saving")
        exit(1)
    }

    static let shutdownScriptGraceMillis = 10_000

    /// Blocks until `stop()` ran (from SHUTDOWN, a signal handler or another thread).
    public func waitUntilStopped() {
        finished.lock(whenValue: 1)
        finished.unlock()
    }
}

/// Descriptors Redis keeps for itself beyond one per client (CONFIG_MIN_RESERVED_FDS).
let reservedDescriptors = 32

public struct OpenFilesLimitError: Error {}

/// The TLS parameters could not be set up at start (the log says why).
public struct TLSStartupError: Error {}

#if canImport(Glibc)
private let openFilesResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let openFilesResource = RLIMIT_NOFILE
#endif

/// Redis's `adjustOpenFilesLimit`: makes room for `maxClients` connections plus the reserved
/// descriptors, raising RLIMIT_NOFILE if needed. If the system refuses, takes the highest
/// limit it allows (16 fewer each try) and returns the `maxclients` that fits, with Redis's
/// warnings; throws when not even one client fits.
func adjustOpenFilesLimit(maxClients: Int, log: Log) throws -> Int {
    let wanted = rlim_t(maxClients + reservedDescriptors)
    var limit = rlimit()
    guard getrlimit(openFilesResource, &limit) == 0 else {
        log.warning("Unable to obtain the current NOFILE limit (\(String(cString: strerror(errno)))), assuming 1024 and setting the max clients configuration accordingly.")
        return 1024 - reservedDescriptors
    }
    let original = limit.rlim_cur
    guard original < wanted else { return maxClients }
    var best = wanted
    var setError: Int32 = 0
    while best > original {
        limit.rlim_cur = best
        limit.rlim_max = best
        if setrlimit(openFilesResource, &limit) == 0 { break }
        setError = errno
        guard best >= 16 else {
            best = original
            break
        }
        best -= 16
    }
    best = max(best, original)
    if best >= wanted {
        log.notice("Increased maximum number of open files to \(wanted) (it was originally set to \(original)).")
        return maxClients
    }
    if best <= rlim_t(reservedDescriptors) {
        log.warning("Your current 'ulimit -n' of \(original) is not enough for the server to start. Please increase your open file limit to at least \(wanted). Exiting.")
        throw OpenFilesLimitError()
    }
    let reduced = Int(best) - reservedDescriptors
    log.warning("You requested maxclients of \(maxClients) requiring at least \(wanted) max file descriptors.")
    log.warning("Server can't set maximum open files to \(wanted) because of OS error: \(String(cString: strerror(setError))).")
    log.warning("Current maximum open files is \(best). maxclients has been reduced to \(reduced) to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.")
    return reduced
}

/// Logs a failed accept (Redis's "Accepting client connection" warning); `AcceptBackoffHandler`
/// before it has already postponed the next attempt.
private final class AcceptErrorLogger: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel
    let log: Log
    init(log: Log) { self.log = log }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
        log.warning("Accepting client connection: accept: \(reason)")
    }
}

/// Runs `server.stop()` on the blocking-work pool, so SHUTDOWN can return to its event loop first.
private func detachStop(_ server: AtollServer) {
    NIOThreadPool.singleton.submit { _ in server.stop() }
}
