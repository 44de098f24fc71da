/// A reliable queue: a consumer moves an item from the queue into a processing list (LMOVE, or
/// BLMOVE to wait) and it stays there, with a lease, until acknowledged. Items whose lease ran
/// out (the consumer crashed, was cancelled, or is too slow) go back to the queue's head with
/// `requeueExpired`, which someone runs periodically. So every item is processed until one
/// acknowledgement succeeds: an acknowledgement reports whether it removed the item, and only
/// the first one for a delivery does.
///
/// Keys: `{name}:pending`, `{name}:processing` (lists) and `{name}:leases` (a hash of item to
/// lease deadline, server milliseconds); the hash tag keeps them in one cluster slot. Items
/// must be unique (give them an id): the processing list and the leases are keyed by value.
///
/// Seed scenario: "reliable queues" — a job queue where a worker dying mid-job loses no job.
import AtollRESP

/// A queue with acknowledgements and lease timeouts.
public struct ReliableQueue: Sendable {
    public let name: String
    /// How long a received item may stay unacknowledged before `requeueExpired` returns it.
    public let visibilityTimeout: Duration

    var pendingKey: String { "{\(name)}:pending" }
    var processingKey: String { "{\(name)}:processing" }
    var leasesKey: String { "{\(name)}:leases" }

    static let take = Script("""
        local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
        if not item then return false end
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('HSET', KEYS[3], item, tostring(now + tonumber(ARGV[1])))
        return item
        """)
    static let lease = Script("""
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('HSET', KEYS[1], ARGV[1], tostring(now + tonumber(ARGV[2])))
        return 1
        """)
    static let acknowledge = Script("""
        local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
        if removed > 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
        return removed
        """)
    // An item without a lease was just moved by BLMOVE and its lease is on the way: it gets a
    // fresh lease here rather than being returned at once.
    static let requeue = Script("""
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local moved = 0
        for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
          local deadline = tonumber(redis.call('HGET', KEYS[3], item))
          if not deadline then
            redis.call('HSET', KEYS[3], item, tostring(now + tonumber(ARGV[1])))
          elseif deadline <= now then
            redis.call('LREM', KEYS[2], 1, item)
            redis.call('HDEL', KEYS[3], item)
            redis.call('RPUSH', KEYS[1], item)
            moved = moved + 1
          end
        end
        return moved
        """)

    public init(name: String, visibilityTimeout: Duration) {
        self.name = name
        self.visibilityTimeout = visibilityTimeout
    }

    /// Adds items at the queue's tail.
    public func push(_ items: [String], on runner: some RedisCommandRunner) async throws {
        try await runner.lpush(pendingKey, items)
    }

    /// Takes the next item into processing, waiting up to `wait` for one (on a dedicated
    /// connection, as BLMOVE blocks it). Returns nil if none came.
    public func receive(waitingAtMost wait: Duration, on runner: some RedisCommandRunner) async throws -> String? {
        let timeout = visibilityTimeout.redisMilliseconds
        if let item = try await runner.run(Self.take, keys: [pendingKey, processingKey, leasesKey],
                                           arguments: [timeout]).string() {
            return item
        }
        guard wait > .zero else { return nil }
        let keys = (pendingKey, processingKey)
        guard let item = try await runner.withDedicatedConnection({ connection in
            try await connection.blmove(from: keys.0, to: keys.1, .right, .left, timeout: wait)
        }) else { return nil }
        try await runner.run(Self.lease, keys: [leasesKey], arguments: [item, timeout])
        return item
    }

    /// Acknowledges a processed item. Returns false if it was no longer in processing (its lease
    /// ran out and it was requeued, or another consumer acknowledged it first).
    @discardableResult
    public func acknowledge(_ item: String, on runner: some RedisCommandRunner) async throws -> Bool {
        try await runner.run(Self.acknowledge, keys: [processingKey, leasesKey], arguments: [item]).bool()
    }

    /// Returns every item whose lease ran out to the head of the queue. Returns how many.
    @discardableResult
    public func requeueExpired(on runner: some RedisCommandRunner) async throws -> Int {
        try await runner.run(Self.requeue, keys: [pendingKey, processingKey, leasesKey],
                             arguments: [visibilityTimeout.redisMilliseconds]).int()
    }

    /// Items waiting and items in processing.
    public func counts(on runner: some RedisCommandRunner) async throws -> (pending: Int, processing: Int) {
        (try await runner.llen(pendingKey), try await runner.llen(processingKey))
    }
}
