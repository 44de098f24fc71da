/// A sliding-window rate limiter: at most `limit` admissions in any `window`. Each admission is
/// a member of a sorted set scored by the server's clock (TIME, in milliseconds); one script
/// drops the entries older than the window, counts the rest and admits only below the limit,
/// so concurrent callers can never admit more than the budget.
///
/// Seed scenario: "rate limiters" — an API allowing 100 requests per user per minute, exact at
/// the window's edges (a fixed-window counter lets twice the budget through around them).
import AtollRESP

/// Admits at most `limit` calls per `window` for each key.
public struct SlidingWindowRateLimiter: Sendable {
    public let limit: Int
    public let window: Duration

    static let script = Script("""
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local window = tonumber(ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
          redis.call('ZADD', KEYS[1], now, ARGV[3])
          redis.call('PEXPIRE', KEYS[1], window)
          return 1
        end
        return 0
        """)

    public init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Whether one more call for `key` is admitted now (and if so, it is counted).
    public func admit(_ key: String, on runner: some RedisCommandRunner) async throws -> Bool {
        try await runner.run(Self.script, keys: [key], arguments: [window.redisMilliseconds, limit, randomToken()]).bool()
    }
}
