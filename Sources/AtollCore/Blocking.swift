/// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): the registry of clients parked on keys,
/// and the `CommandContext` calls the families use.
///
/// A blocking command that finds nothing calls `c.block(...)` and writes no reply. The client
/// is parked on its keys, first come first served per key, and its connection stops running
/// commands. Writes that can satisfy a waiter call `c.signalKeyReady(key)`; after the current
/// top-level command (a whole EXEC, a whole script) the dispatcher re-runs each waiter's
/// command in arrival order while the key can serve it (`ServerCore.serveBlockedClients`).
/// The re-run pops only from the key that woke the client (`servedKey`), as Redis 7.0 serves a
/// waiter from that key even when an earlier key of its command also has data.
/// A waiter is also released by its timeout (every key-blocking command of Redis 7.0, BLMOVE
/// included, then replies with the null array), CLIENT UNBLOCK, or disconnecting.
import AtollBytes
import AtollKeyspace
import AtollRESP

/// The type of key a parked client waits for; other types never wake it, as in Redis 7.0.
public enum BlockedKeyType: Sendable {
    case list, zset
    /// XREAD and XREADGROUP: re-run whenever the key changes, since a deleted or replaced key
    /// answers a blocked XREADGROUP with an error.
    case stream
    /// WAIT: released by replicas' acknowledgements (see EffectStream.swift), never by a key.
    case replicaAcks
}

/// Why and until when a client is parked.
public struct BlockState {
    public let db: Int
    public let keys: [Bytes]
    /// Unix milliseconds; 0 waits for ever.
    public let deadline: Int64
    public let spec: CommandSpec
    public let args: [[UInt8]]
    public let waitsFor: BlockedKeyType
}

public final class BlockingRegistry: @unchecked Sendable {
    // Unchecked (`@exclusivity`): `ready` is tested after every command, only under the keyspace lock.
    /// Waiters per key, oldest first.
    var waiting: [WatchedKey: [ClientSession]] = [:]
    /// Keys signalled since the last serve, in signal order, without repeats.
    @exclusivity(unchecked) var ready: [WatchedKey] = []
    var readySet: Set<WatchedKey> = []
    public private(set) var blockedClients = 0
    /// Parked clients with a deadline (INFO `clients_in_timeout_table`).
    public private(set) var clientsWithTimeout = 0

    public init() {}

    @inlinable public var isEmpty: Bool { blockedClients == 0 }

    func park(_ client: ClientSession, _ state: BlockState) {
        client.blocked = state
        blockedClients += 1
        if state.deadline != 0 { clientsWithTimeout += 1 }
        var seen = Set<Bytes>()
        for key in state.keys where seen.insert(key).inserted {
            waiting[WatchedKey(db: state.db, key: key), default: []].append(client)
        }
    }

    /// Forgets a parked client (served, timed out, unblocked or gone).
    func release(_ client: ClientSession) {
        guard let state = client.blocked else { return }
        client.blocked = nil
        blockedClients -= 1
        if state.deadline != 0 { clientsWithTimeout -= 1 }
        for key in Set(state.keys) {
            let k = WatchedKey(db: state.db, key: key)
            waiting[k]?.removeAll { $0 === client }
            if waiting[k]?.isEmpty == true { waiting[k] = nil }
        }
    }

    @usableFromInline func signal(_ key: WatchedKey) {
        guard waiting[key] != nil, readySet.insert(key).inserted else { return }
        ready.append(key)
    }

    /// Signals `key` if a stream reader waits on it (the key changed: it may be gone).
    @usableFromInline package func signalStreamReaders(_ key: WatchedKey) {
        guard let clients = waiting[key], clients.contains(where: { $0.blocked?.waitsFor == .stream }) else { return }
        signal(key)
    }

    /// Signals every key someone waits on in `db` (SWAPDB brought a whole new database).
    package func signalAll(inDB db: Int) {
        for key in waiting.keys where key.db == db { signal(key) }
    }

    /// Clients parked on `key`, oldest first.
    func waiters(_ key: WatchedKey) -> [ClientSession] { waiting[key] ?? [] }

    /// Takes the signalled keys, leaving the list empty.
    func takeReady() -> [WatchedKey] {
        let keys = ready
        ready.removeAll()
        readySet.removeAll()
        return keys
    }

    package var hasReady: Bool { !ready.isEmpty }
}

extension CommandContext {
    /// False inside EXEC and scripts, where blocking commands answer at once as if timed out.
    @inlinable public var mayBlock: Bool { !client.executingTransaction && !client.isScriptClient }

    /// True while a parked client's command is re-run to serve it from `servedKey`.
    @inlinable public var servingBlocked: Bool { servedKey != nil }

    /// Parks the client on `keys` until one can serve it or `deadline` passes (0: never).
    /// The command writes no reply now. When it is re-run to serve the client and still finds
    /// nothing, this only records that it stays parked.
    public mutating func block(on keys: [Bytes], waitsFor type: BlockedKeyType, deadline: Int64) {
        blockRequested = true
        if servingBlocked { return }
        server.blocking.park(client, BlockState(db: client.db, keys: keys, deadline: deadline, spec: command!,
                                                args: args, waitsFor: type))
        client.connection?.blocked(until: deadline)
    }

    /// After a key was stored whole (RENAME, COPY, MOVE): wakes waiters if it is a list, zset or stream.
    public mutating func signalKeyReady(_ key: Bytes, holding value: Value, db: Int? = nil) {
        switch value {
        case .list, .zset, .stream: signalKeyReady(key, db: db)
        default: break
        }
    }

    /// Tells blocked clients that `key` may now serve them (a push, an add, a new key).
    @inlinable public mutating func signalKeyReady(_ key: Bytes, db: Int? = nil) {
        if !server.blocking.isEmpty { server.blocking.signal(WatchedKey(db: db ?? client.db, key: key)) }
    }

    /// A blocking command's timeout argument in seconds (fractions allowed) as an absolute
    /// deadline in Unix milliseconds, 0 for "for ever"; nil after replying with Redis's error.
    ///
    /// Redis 7.0 parses a long double and converts `ceil(seconds * 1000)` to a long long. On
    /// x86-64 a value outside that range (infinity too) converts to LLONG_MIN, so a huge timeout
    /// is "negative". A deadline past Int64 never comes (Redis's sum wraps around and its
    /// timeout table never reaches it): it becomes `Int64.max`.
    public mutating func timeoutArgument(_ index: Int) -> Int64? {
        guard let seconds = parseLongDouble(args[index]) else {
            out.error("ERR timeout is not a float or out of range")
            return nil
        }
        let millis = (seconds * 1000).rounded(.up)
        guard millis >= 0 && millis < 0x1p63 else {
            out.error("ERR timeout is negative")
            return nil
        }
        let ms = Int64(millis)
        if ms == 0 { return 0 }
        let (deadline, overflow) = now.addingReportingOverflow(ms)
        return overflow ? Int64.max : deadline
    }
}
