/// A distributed lock on one server: acquired with SET NX PX and a random token, so it expires
/// by itself if its holder dies; released and extended only by its owner (compare-and-delete,
/// compare-and-expire on the token), so a holder whose lock expired can never remove or prolong
/// the next holder's. `withLock` runs a closure while holding it.
///
/// Seed scenario: "locks" — one worker at a time runs a nightly job or touches a resource. The
/// TTL bounds how long a crashed holder blocks others; work longer than the TTL must `extend`.
import AtollRESP

/// A held lock: its key, its owner's token and the time to live it was taken with.
public struct DistributedLock: Sendable, Equatable {
    public let key: String
    public let token: String
    public let ttl: Duration

    /// A lock value, e.g. one whose token was kept elsewhere, to release or extend it.
    public init(key: String, token: String, ttl: Duration) {
        self.key = key
        self.token = token
        self.ttl = ttl
    }
}

extension RedisCommandRunner {
    /// Tries to take the lock on `key` until `wait` has passed, retrying with a growing pause
    /// (5 ms doubling to 100 ms). Returns the lock, or nil if it stayed taken.
    public func acquireLock(_ key: String, ttl: Duration, waitingAtMost wait: Duration = .zero) async throws -> DistributedLock? {
        let token = randomToken()
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        var pause = Duration.milliseconds(5)
        while true {
            if try await set(key, token, condition: .ifMissing, expiration: .after(ttl)) {
                return DistributedLock(key: key, token: token, ttl: ttl)
            }
            let left = deadline - clock.now
            guard left > .zero else { return nil }
            try await Task.sleep(for: min(pause, left))
            pause = min(pause * 2, .milliseconds(100))
        }
    }

    /// Releases the lock if this owner still holds it. Returns false when it had expired (and
    /// perhaps been taken by another).
    @discardableResult
    public func release(_ lock: DistributedLock) async throws -> Bool {
        try await compareAndDelete(lock.key, expected: lock.token)
    }

    /// Gives the lock a new time to live if this owner still holds it. Returns whether it did.
    public func extend(_ lock: DistributedLock, ttl: Duration) async throws -> Bool {
        try await compareAndExpire(lock.key, expected: lock.token, ttl: ttl)
    }

    /// Runs `body` holding the lock on `key`, then releases it (also when `body` throws).
    /// Throws `RedisClientError.lockNotAcquired` if the lock stays taken for `wait`.
    public func withLock<T: Sendable>(_ key: String, ttl: Duration, waitingAtMost wait: Duration,
                                      _ body: (DistributedLock) async throws -> T) async throws -> T {
        guard let lock = try await acquireLock(key, ttl: ttl, waitingAtMost: wait) else {
            throw RedisClientError.lockNotAcquired(key: key)
        }
        let result: T
        do {
            result = try await body(lock)
        } catch {
            _ = try? await release(lock)
            throw error
        }
        try await release(lock)
        return result
    }
}
