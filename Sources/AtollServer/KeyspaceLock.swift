/// The lock that makes every command, EXEC batch and script atomic. A pthread mutex rather
/// than `NIOLock` because event loops must be able to wait for it with a time limit: while a
/// script runs past `busy-reply-threshold` they stop waiting and answer BUSY instead.
import AtollCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

final class KeyspaceLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// What the commands of one acquisition recorded is written as it ends, before replies
    /// (`writeAppendOnlyFile`, with the lock still held). Called directly: through a stored
    /// closure, each release retained and released the lock and the closure's capture.
    private let core: ServerCore

    init(core: ServerCore) {
        self.core = core
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() {
        core.writeAppendOnlyFile()
        pthread_mutex_unlock(mutex)
    }
    func tryLock() -> Bool { pthread_mutex_trylock(mutex) == 0 }

    /// Waits at most `milliseconds` for the lock; true if it is now held.
    func lock(waitingAtMost milliseconds: Int) -> Bool {
        #if canImport(Darwin)
        // No timed mutex wait on Darwin: poll.
        for _ in 0..<max(milliseconds, 1) {
            if tryLock() { return true }
            usleep(1000)
        }
        return false
        #else
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_nsec += milliseconds * 1_000_000
        deadline.tv_sec += deadline.tv_nsec / 1_000_000_000
        deadline.tv_nsec %= 1_000_000_000
        return pthread_mutex_timedlock(mutex, &deadline) == 0
        #endif
    }

    @discardableResult
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
