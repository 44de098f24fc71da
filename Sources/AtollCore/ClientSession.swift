/// Per-connection state that commands read and change (selected database, protocol version,
/// name, authentication, reply mode), plus the handle the server uses to reach the connection.
/// Only touched with the keyspace lock held.
import AtollBytes
import NIOCore

/// What commands may ask of a live connection; the NIO server implements it.
public protocol ClientConnection: AnyObject, Sendable {
    /// Closes the connection from any thread (CLIENT KILL, timeouts, SHUTDOWN).
    func close()
    /// Writes and flushes bytes from any thread (MONITOR lines).
    func send(_ bytes: [UInt8])
    /// The client was parked by a blocking command: stop running its commands, and arrange
    /// for `ServerCore.blockTimedOut` to be called at `deadline` (Unix ms; 0 = never), and
    /// again at the deadline it returns if the call came early.
    func blocked(until deadline: Int64)
    /// The parked client was released: write `reply`, then run its commands again. An empty
    /// `reply` releases a client CLIENT PAUSE postponed: its postponed command runs first.
    func unblocked(reply: [UInt8])
    /// Something was put in the client's outbox (see `ClientOutbox`) and no task to send it is
    /// on its way: arrange for the connection's loop to take and write it. Called with the
    /// keyspace lock held.
    func outboxReady()
    /// The connection's buffers and socket (see `ConnectionBuffers`); from any thread.
    var buffers: ConnectionBuffers { get }
    /// The socket's descriptor when what is written to it reaches the peer as it is (TCP
    /// without TLS), so a forked child may write a replica's snapshot into it; else nil.
    var plainSocketDescriptor: Int32? { get }
    /// Writes `bytes` (a replica's snapshot) and then ends `outbox`'s hold, on the connection's
    /// loop: what the outbox kept leaves after the snapshot, whatever else runs meanwhile.
    func send(_ bytes: ByteBuffer, thenRelease outbox: ClientOutbox)
}

extension ClientConnection {
    public var plainSocketDescriptor: Int32? { nil }

    public func send(_ bytes: ByteBuffer, thenRelease outbox: ClientOutbox) {
        send(Array(bytes.readableBytesView))
        if outbox.release() { outboxReady() }
    }
}

/// A key in one numbered database, as WATCH names it.
public struct WatchedKey: Hashable, Sendable {
    public let db: Int
    public let key: Bytes
    public init(db: Int, key: Bytes) { self.db = db; self.key = key }
}

public final class ClientSession: @unchecked Sendable {
    // Unchecked (`@exclusivity`): read by every command, only under the keyspace lock (or by the
    // connection's own loop, answering BUSY, while the lock is held elsewhere); no access re-enters.
    // The attribute only counts in this module: what other modules read per command (the
    // command families, the server) goes through inlinable accessors, whose access stays unchecked.
    /// `offAfterThis`: the command that made the client a replica keeps its reply, and every
    /// later one is dropped (a replica reads only the stream on its link).
    public enum ReplyMode: Sendable { case on, off, skipNext, skipThis, offAfterThis }

    public let id: Int64
    @exclusivity(unchecked) @usableFromInline var storedDB = 0
    @inlinable public var db: Int {
        _read { yield storedDB }
        _modify { yield &storedDB }
    }
    @exclusivity(unchecked) @usableFromInline var storedResp3: Bool = false
    @inlinable public var resp3: Bool {
        _read { yield storedResp3 }
        _modify { yield &storedResp3 }
    }
    public var name: [UInt8] = []
    @exclusivity(unchecked) @usableFromInline var storedAuthenticated: Bool
    @inlinable public var authenticated: Bool {
        _read { yield storedAuthenticated }
        _modify { yield &storedAuthenticated }
    }
    /// The ACL user the client runs commands as (`default` until AUTH or HELLO names another).
    @exclusivity(unchecked) public var user: AclUser
    @exclusivity(unchecked) public var replyMode = ReplyMode.on
    public var noEvict = false
    /// CLIENT NO-TOUCH: the client's reads and writes leave keys' access times alone. Read by
    /// every lookup, which the command families inline, hence the accessor (see above).
    @exclusivity(unchecked) @usableFromInline var storedNoTouch = false
    @inlinable public var noTouch: Bool {
        _read { yield storedNoTouch }
        _modify { yield &storedNoTouch }
    }
    public var isMonitor = false
    @exclusivity(unchecked) @usableFromInline var storedCloseAfterReply: Bool = false
    /// Set by QUIT and friends: reply, then close.
    @inlinable public var closeAfterReply: Bool {
        _read { yield storedCloseAfterReply }
        _modify { yield &storedCloseAfterReply }
    }
    /// Removed by CLIENT KILL; its connection is closing and runs nothing more.
    @exclusivity(unchecked) public var killed = false
    public let address: String
    public let localAddress: String
    public let createdAt: Int64
    @exclusivity(unchecked) public var lastInteraction: Int64
    /// The last command the client ran (CLIENT LIST `cmd`). Unowned: a table's commands live as
    /// long as the server, and a strong reference cost a retain and a release per command.
    @exclusivity(unchecked) public unowned(unsafe) var lastCommandSpec: CommandSpec?
    /// The last command's name, as CLIENT LIST shows it (`NULL` before the first).
    public var lastCommand: String { lastCommandSpec?.name ?? "NULL" }
    public weak var connection: (any ClientConnection)?

    // MARK: Transactions

    /// Commands queued since MULTI; nil outside a transaction.
    @exclusivity(unchecked) public var queued: [(spec: CommandSpec, args: [[UInt8]])]?
    /// A command was refused while queueing: EXEC must fail with EXECABORT.
    @exclusivity(unchecked) public var transactionFailed = false
    /// Keys this client WATCHes, with whether each was already expired when watched.
    public var watchedKeys: [(key: WatchedKey, expiredWhenWatched: Bool)] = []
    /// A watched key was touched: EXEC must return the null array.
    public var watchTouched = false
    /// DISCARD, UNWATCH or a refused EXEC while a script was busy dropped the client's
    /// WATCHes, but they live in the registry, which only the keyspace lock's holder may
    /// change: they go when the client's next batch runs, before anything else.
    @exclusivity(unchecked) var unwatchPending = false

    /// Ends the transaction while a script is busy: its WATCHes go with the next batch.
    func discardTransactionLater() {
        queued = nil
        transactionFailed = false
        unwatchPending = true
    }
    public var inTransaction: Bool { queued != nil }
    /// True while EXEC runs the queue (commands that would block or subscribe are refused).
    public var executingTransaction = false

    /// The client scripts run their commands as (never blocks, never queues).
    public var isScriptClient = false

    // MARK: Blocking

    /// Set while a blocking command has the client parked.
    @exclusivity(unchecked) @usableFromInline var storedBlocked: BlockState?
    @inlinable public var blocked: BlockState? {
        _read { yield storedBlocked }
        _modify { yield &storedBlocked }
    }

    // MARK: Pub/Sub

    /// The channels, patterns and shard channels the client is subscribed to; nil for none.
    /// A RESP2 client with any is in subscribed mode (see the dispatcher).
    @exclusivity(unchecked) public var subscriptions: ClientSubscriptions?
    /// Output that other clients' commands produced for this one (messages), created with its
    /// first subscription; the dispatcher checks it after each command of the client.
    @exclusivity(unchecked) public var outbox: ClientOutbox?

    /// Client-side caching settings; nil while tracking is off (see Tracking.swift).
    @exclusivity(unchecked) public var tracking: ClientTracking?
    /// Invalidations for keys the client's own command changed: written after its reply.
    @exclusivity(unchecked) public var pendingAfterReply: [UInt8] = []

    // MARK: Replication

    /// What a replica announced (REPLCONF) and acknowledged; attached by SYNC or PSYNC, it is
    /// sent the replication stream (see ReplicationState.swift).
    public var replicaPeer: ReplicaPeer?
    /// Attached as a replica: sent the stream, its commands (REPLCONF ACK) get no replies.
    /// Also while it waits for its snapshot, as Redis flags a replica from its SYNC on.
    public var isReplica: Bool { replicaPeer.map { $0.attached || $0.stage == .waitingForSnapshot } ?? false }
    /// The peer record REPLCONF and PSYNC fill in, made on first use.
    public var peer: ReplicaPeer {
        if let replicaPeer { return replicaPeer }
        let made = ReplicaPeer(client: self)
        replicaPeer = made
        return made
    }
    /// The link to our master: its commands are applied without replies (see ReplicaLink.swift).
    public var isMaster = false
    /// The client's writes went into the replication stream since its last WAIT measured them.
    @exclusivity(unchecked) public var wroteSinceWait = false
    /// The stream offset WAIT waits for: where the client's last measured write ended.
    public var waitOffset: Int64 = 0
    /// How many replicas the client's parked WAIT waits for.
    public var waitReplicas = 0

    /// Set while CLIENT PAUSE postpones the client's command (see ClientPause.swift).
    @exclusivity(unchecked) public var paused = false

    /// `user` defaults to one allowed everything, for the server's own clients (scripts' and
    /// the append-only file's), which Redis runs without a user.
    public init(id: Int64, authenticated: Bool, user: AclUser = .superuser, address: String, localAddress: String, now: Int64,
                connection: (any ClientConnection)?) {
        self.id = id
        self.storedAuthenticated = authenticated
        self.user = user
        self.address = address
        self.localAddress = localAddress
        self.createdAt = now
        self.lastInteraction = now
        self.connection = connection
    }
}
