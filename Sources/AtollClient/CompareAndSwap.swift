/// Compare-and-swap, compare-and-delete and compare-and-expire on string keys: the write
/// happens only if the key still holds the value the caller read. Where the server has native
/// compare-and-set (`SET ... IFEQ`, `DELEX ... IFEQ`: Redis 8.4, Atoll) those are used;
/// elsewhere (Redis 7) a script does the same, atomically. Which one is decided once per
/// connection (`capabilities()`).
///
/// Seed scenario: "compare-and-swap" — update a value only if nobody changed it since it was
/// read, without WATCH and its retries; and the lock's owner-only release and extend.
import AtollRESP

enum CompareScripts {
    static let swap = Script("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """)
    static let delete = Script("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """)
    static let expire = Script("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """)
}

extension RedisCommandRunner {
    /// Sets `key` to `newValue` only if it holds `expected` (a missing key never matches).
    /// Returns whether it did. The key's time to live is dropped, as by a plain SET.
    public func compareAndSwap(_ key: String, expected: String, newValue: String) async throws -> Bool {
        if try await capabilities().compareAndSet {
            return try await !send("SET", key, newValue, "IFEQ", expected).isNull
        }
        return try await run(CompareScripts.swap, keys: [key], arguments: [expected, newValue]).bool()
    }

    /// Deletes `key` only if it holds `expected`. Returns whether it did.
    public func compareAndDelete(_ key: String, expected: String) async throws -> Bool {
        if try await capabilities().compareAndSet {
            return try await send("DELEX", key, "IFEQ", expected).bool()
        }
        return try await run(CompareScripts.delete, keys: [key], arguments: [expected]).bool()
    }

    /// Sets `key`'s time to live only if it holds `expected`. Returns whether it did. (No
    /// server has this natively; it is always the script.)
    public func compareAndExpire(_ key: String, expected: String, ttl: Duration) async throws -> Bool {
        try await run(CompareScripts.expire, keys: [key], arguments: [expected, ttl.redisMilliseconds]).bool()
    }
}
