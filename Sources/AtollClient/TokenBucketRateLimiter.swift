/// A token-bucket rate limiter: a bucket of `capacity` tokens refilled at `refillPerSecond`;
/// a call costs tokens and is admitted only if the bucket holds them. The bucket is a hash
/// (`tokens`, `ts`) updated by one script using the server's clock, so concurrent callers
/// share one exact budget. Bursts up to `capacity` pass, the long-run rate is the refill rate.
///
/// Seed scenario: "rate limiters" — an outbound API client allowed short bursts but a steady
/// average rate.
import AtollRESP

/// Admits calls while the bucket for a key holds tokens.
public struct TokenBucketRateLimiter: Sendable {
    public let capacity: Double
    public let refillPerSecond: Double

    static let script = Script("""
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local cost = tonumber(ARGV[3])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
        local tokens = tonumber(state[1]) or capacity
        local last = tonumber(state[2]) or now
        tokens = math.min(capacity, tokens + math.max(0, now - last) * rate / 1000)
        local admitted = 0
        if tokens >= cost then
          tokens = tokens - cost
          admitted = 1
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
        redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
        return admitted
        """)

    public init(capacity: Double, refillPerSecond: Double) {
        precondition(refillPerSecond > 0, "a bucket must refill")
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
    }

    /// Whether a call costing `cost` tokens is admitted now for `key` (and if so, they are taken).
    public func admit(_ key: String, cost: Double = 1, on runner: some RedisCommandRunner) async throws -> Bool {
        try await runner.run(Self.script, keys: [key], arguments: [capacity, refillPerSecond, cost]).bool()
    }
}
