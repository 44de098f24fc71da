/// `ReplicationState`: this server's place in replication as Redis 7.0 keeps it — the
/// replication ID and stream offset (`master_replid`, `master_repl_offset`, the previous ID and
/// where it ended), the backlog, the replicas attached by SYNC/PSYNC, the clients parked in
/// WAIT, and the sync counters INFO stats shows. Guarded by the keyspace lock.
///
/// A primary's backlog exists from the first replica on (as in Redis), and from then the
/// server's `feed` records every command's effects, so the stream is there whether or not the
/// append-only file is on (see EffectStream.swift). A replica's backlog exists from its first
/// sync and holds its master's stream as received (its offset is the master's).
public final class ReplicationState: @unchecked Sendable {
    /// `master_replid`; DEBUG CHANGE-REPL-ID and the first replica draw another.
    public var replid = randomHex40()
    /// `master_replid2`: the ID this server's stream had before (40 zeros: none).
    public var replid2 = ReplicationState.noID
    /// `second_repl_offset`: the offset up to which `replid2` is valid (-1: none).
    public var secondOffset: Int64 = -1
    /// `master_repl_offset`: the offset of the last byte of the stream.
    public var offset: Int64 = 0
    /// The stream's recent bytes, once a replica attached.
    public var backlog: ReplicationBacklog?
    /// Replicas attached by SYNC or PSYNC, in attach order (INFO `slaveN`, ROLE).
    public internal(set) var replicas: [ReplicaPeer] = []
    /// Replicas that acknowledged within `min-replicas-max-lag` (INFO `min_slaves_good_slaves`),
    /// counted while `min-replicas-to-write` is on.
    public internal(set) var goodReplicas = 0
    /// Replicas whose full sync waits for a snapshot to start (Redis's `wait_bgsave` before the
    /// fork), oldest first; attached when it starts.
    public var awaitingSnapshot: [ReplicaPeer] = []
    /// The child writing a snapshot straight into replicas' sockets (diskless sync), if any.
    public var socketTransfer: SocketTransfer?
    /// Clients parked in WAIT, oldest first.
    var waiters: [ClientSession] = []
    /// INFO stats `sync_full`, `sync_partial_ok`, `sync_partial_err`.
    public var syncFull = 0
    public var syncPartialOK = 0
    public var syncPartialErr = 0
    /// Unix ms since when no replica is attached (from the start, the last one's going, or
    /// REPLICAOF NO ONE), for `repl-backlog-ttl`.
    public var noReplicasSinceMillis: Int64 = 0
    /// Unix ms of the last PING sent to the replicas (`repl-ping-replica-period`).
    public var lastPingMillis: Int64 = 0
    /// The master this server follows (REPLICAOF host port); nil for a primary.
    public var master: MasterLinkState?
    /// How many REPLICAOF commands changed the master (a stale link checks it and stops).
    public var masterGeneration = 0
    /// The stream's database read from the snapshot loaded at start by a server configured as
    /// a replica (its `repl-stream-db`): the first link continues the stream in it.
    public var restoredStreamDB: Int?
    /// FAILOVER's progress (see Failover.swift).
    public var failover = FailoverPlan()

    public static let noID = String(repeating: "0", count: 40)

    public init() {}
}

/// What a snapshot records of the replication stream (Redis's `repl-stream-db`, `repl-id` and
/// `repl-offset` auxiliary fields): the database the stream is in, and the ID and offset the
/// dataset corresponds to, so that a restarted server, or a replica fully synced from a
/// replica, continues that stream.
public struct ReplicationSaveInfo: Sendable, Equatable {
    public var streamDB: Int
    public var replid: String
    public var offset: Int64

    public init(streamDB: Int, replid: String, offset: Int64) {
        self.streamDB = streamDB
        self.replid = replid
        self.offset = offset
    }
}

/// A replica as the primary knows it: what it announced with REPLCONF before PSYNC, and the
/// offset it acknowledged since. Kept on its client session (`ClientSession.replicaPeer`).
public final class ReplicaPeer: @unchecked Sendable {
    public unowned let client: ClientSession
    /// REPLCONF listening-port (0: not said) and ip-address (nil: the peer's address).
    public var listeningPort = 0
    public var announcedIP: String?
    /// REPLCONF capa: it takes `+CONTINUE <replid>` (psync2).
    public var psync2 = false
    /// Attached by SYNC or PSYNC: it is sent the stream.
    public var attached = false
    /// Where its full sync stands; `online` once it is sent the stream.
    public var stage = SyncStage.online
    /// When it asked for a full sync (Unix ms): the diskless delay counts from the first.
    public var syncRequestedMillis: Int64 = 0
    /// It asked with PSYNC (it is told `+FULLRESYNC`), not the old SYNC.
    public var announceFullSync = true
    /// REPLCONF capa eof: it reads a snapshot framed by `$EOF:` (diskless sync).
    public var eofCapable = false
    /// Attached by the old SYNC (Redis's `CLIENT_PRE_PSYNC`): it sends no ACKs, so
    /// `repl-timeout` does not drop it.
    public var preSync = false
    /// REPLCONF ACK: the last offset it acknowledged, and when (Unix ms).
    public var ackOffset: Int64 = 0
    public var ackMillis: Int64 = 0

    init(client: ClientSession) { self.client = client }

    /// A full sync's steps, as Redis's replica states: waiting for a snapshot to start, being
    /// sent one (its stream held back meanwhile), and after a diskless transfer waiting for
    /// its first ACK (it has loaded the snapshot; the stream may follow).
    public enum SyncStage: Sendable, Equatable {
        case waitingForSnapshot, receivingSnapshot(toSocket: Bool), waitingForFirstAck, online

        /// INFO's `state=`.
        public var name: String {
            switch self {
            case .waitingForSnapshot, .receivingSnapshot: return "wait_bgsave"
            case .waitingForFirstAck, .online: return "online"
            }
        }
    }

    /// The address it is known by: the one it announced, else its connection's host.
    public var ip: String { announcedIP ?? Self.host(of: client.address) }

    /// How logs name it, as Redis's `replicationGetSlaveName` does: `ip:port` (`[ip]:port`
    /// for IPv6), `ip:<unknown-replica-port>` before it said its port.
    public var name: String {
        guard listeningPort != 0 else { return "\(ip):<unknown-replica-port>" }
        return ip.contains(":") ? "[\(ip)]:\(listeningPort)" : "\(ip):\(listeningPort)"
    }

    /// The host part of a client address (`127.0.0.1:5000`, `[::1]:5000`).
    static func host(of address: String) -> String {
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon].filter { $0 != "[" && $0 != "]" })
    }
}
