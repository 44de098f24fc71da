/// `PersistenceState`: what the background saves and rewrites have done. Core keeps it on
/// `ServerCore` because the dispatcher reads it (a failed background save refuses writes with
/// MISCONF) and INFO reports it; AtollPersistence runs the jobs and keeps it up to date.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the persistence machinery has done, for INFO and for deciding what to do next.
public struct PersistenceState {
    /// What a child writes: an RDB snapshot (BGSAVE) or a new append-only base (rewrite).
    public enum Job: Sendable { case snapshot, rewrite }

    /// The running child: its pid, job, start (Unix ms) and `dirty` when it forked.
    public struct Child {
        public let pid: pid_t
        public let job: Job
        public let startedAt: Int64
        public let dirtyAtFork: Int
        /// The rewrite's temporary base, in the append-only directory.
        public let temporary: String
        /// A snapshot written into replicas' sockets (a diskless sync), not to a file.
        public let toSockets: Bool

        public init(pid: pid_t, job: Job, startedAt: Int64, dirtyAtFork: Int, temporary: String, toSockets: Bool = false) {
            self.pid = pid
            self.job = job
            self.startedAt = startedAt
            self.dirtyAtFork = dirtyAtFork
            self.temporary = temporary
            self.toSockets = toSockets
        }
    }

    public var child: Child?
    /// How the last background save ended (false also refuses writes, with save rules set).
    public var lastBgsaveOK = true
    /// Seconds the last background save took (-1 before the first).
    public var lastBgsaveSeconds = -1
    /// Unix ms of the last background save attempt (failed saves retry after 5 s).
    public var lastBgsaveTry: Int64 = 0
    /// Background saves that succeeded.
    public var rdbSaves = 0
    /// How the last rewrite ended, and the seconds it took (-1 before the first).
    public var lastRewriteOK = true
    public var lastRewriteSeconds = -1
    /// Rewrites that succeeded.
    public var rewrites = 0
    /// Rewrites failed in a row, and when the last one was tried: automatic rewrites back off.
    public var rewriteFailures = 0
    public var lastRewriteTry: Int64 = 0
    /// Jobs asked for while another child ran (or inside EXEC), started by the cron.
    public var rewriteScheduled = false
    public var bgsaveScheduled = false
    /// The AOF's size after the last rewrite (or at start): the base for automatic rewrites.
    public var aofRewriteBaseSize = 0
    public init() {}
}
