/// `MasterLinkState`: this server as a replica — which master it follows (REPLICAOF host port),
/// how far the link got (Redis's `connect`, `connecting`, `sync`, `connected`), the offset of
/// the master's stream it applied, and when it last heard from the master. The link itself
/// (the socket, the handshake, the snapshot, applying the stream) is AtollServer's
/// `MasterLink`; it changes this under the keyspace lock.
public final class MasterLinkState: @unchecked Sendable {
    public enum Phase: String, Sendable { case connect, connecting, sync, connected }

    public let host: String
    public let port: Int
    public var phase = Phase.connect
    /// The master's replication ID and the offset of the last byte of its stream applied
    /// (`slave_repl_offset`; -1 before the first sync).
    public var masterReplid = "?"
    public var appliedOffset: Int64 = -1
    /// Unix ms of the last bytes from the master, and since when the link has been down (0:
    /// it was never up since REPLICAOF, which INFO shows as -1, as Redis does).
    public var lastIOMillis: Int64 = 0
    public var downSinceMillis: Int64 = 0
    /// The client the master's commands run as, while connected.
    public var client: ClientSession?
    /// The database the master's stream was in when the link dropped: a partial resync goes on
    /// in it (the stream selects a database only when it changes).
    public var streamDB = 0
    /// Bumped by each REPLICAOF, so a link that was replaced stops.
    public let generation: Int

    public init(host: String, port: Int, now: Int64, generation: Int) {
        self.host = host
        self.port = port
        self.generation = generation
    }
}
