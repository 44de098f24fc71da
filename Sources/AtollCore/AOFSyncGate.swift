/// `AOFSyncGate`: syncing the append-only file from any thread — group commit for
/// `appendfsync always` (as Redis does it before each sleep), the everysec timer's and
/// shutdown's syncs, and the last sync error (writes get MISCONF while it is set).
///
/// Commands write their effects to the file with the keyspace lock held, but do not sync
/// there. A connection whose replies may acknowledge such a write calls `syncPending()` before
/// it flushes them: the first caller syncs everything written so far, and connections served
/// in the same event-loop pass find their writes already on disk. No reply leaves before the
/// write it acknowledges is synced; one sync covers every client of the pass.
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class AOFSyncGate: Sendable {
    private let mutex = PlainMutex()
    /// The file being appended to; only touched with `mutex` held.
    private nonisolated(unsafe) var fd: Int32 = -1
    /// Bytes written that must be synced before their replies leave, and bytes synced.
    private let written = Atomic<Int>(0)
    private let synced = Atomic<Int>(0)
    /// The errno of the last failed sync (0: none since the last good one). Writes are
    /// refused with MISCONF meanwhile, as Redis refuses them after a failed fsync.
    private let lastErrno = Atomic<Int32>(0)

    public init() {}

    /// True while some write awaits its sync.
    public var needsSync: Bool { synced.load(ordering: .acquiring) < written.load(ordering: .acquiring) }

    /// Counts bytes just written to the file (keyspace lock held, `always` only).
    package func wrote(_ count: Int) {
        written.add(count, ordering: .releasing)
    }

    /// Syncs what was written and not yet synced. From any thread, without the keyspace lock.
    public func syncPending() {
        guard needsSync else { return }
        mutex.lock()
        defer { mutex.unlock() }
        let target = written.load(ordering: .acquiring)
        guard synced.load(ordering: .acquiring) < target else { return }
        // The promise behind every pending reply cannot be kept: exit before sending one.
        if fd >= 0 && fdatasync(fd) != 0 { Self.exitOnSyncFailure() }
        synced.store(target, ordering: .releasing)
    }

    /// Why syncing failed, while it does.
    public var syncError: String? {
        let code = lastErrno.load(ordering: .relaxed)
        return code == 0 ? nil : String(cString: strerror(code))
    }

    /// Syncs the whole file now (the everysec timer, shutdown).
    package func syncAll() {
        mutex.lock()
        defer { mutex.unlock() }
        let target = written.load(ordering: .acquiring)
        guard syncLocked() else { return }
        synced.store(target, ordering: .releasing)
    }

    /// Makes `fd` the file to sync, after syncing the one it replaces (-1: none any more).
    /// With `always`, replies may wait on the old file's bytes: if they cannot be synced the
    /// process exits rather than send them, as Redis does.
    package func use(_ newFD: Int32, exitOnFailure: Bool) {
        mutex.lock()
        defer { mutex.unlock() }
        if !syncLocked() && exitOnFailure { Self.exitOnSyncFailure() }
        fd = newFD
        synced.store(written.load(ordering: .acquiring), ordering: .releasing)
    }

    /// Redis's exit when `always` cannot keep its promise (written straight to standard error).
    private static func exitOnSyncFailure() -> Never {
        let line = Array("Can't recover from AOF fsync error when the AOF fsync policy is 'always' (\(String(cString: strerror(errno)))). Exiting...\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(1)
    }

    /// Syncs `fd` (mutex held), recording the outcome for `syncError`.
    private func syncLocked() -> Bool {
        guard fd >= 0 else { return true }
        if fdatasync(fd) == 0 {
            lastErrno.store(0, ordering: .relaxed)
            return true
        }
        lastErrno.store(errno, ordering: .relaxed)
        return false
    }
}

/// A pthread mutex for the few places outside the keyspace lock that need one.
final class PlainMutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
