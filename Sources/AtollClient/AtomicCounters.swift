/// Counters and balances changed by one script each, so the check and the write are one
/// atomic step: a transfer that never takes a balance below its floor, an increment that never
/// passes a cap, an inventory decrement that never oversells, a set-if-greater (a high-water
/// mark). Get-and-set with expiry needs no script: `getSet(_:_:expiration:)` is SET ... GET PX.
///
/// Seed scenarios: "transfers", "capped counters", inventory reservations, leaderboards' best
/// scores.
import AtollRESP

enum CounterScripts {
    static let transfer = Script("""
        local amount = tonumber(ARGV[1])
        local floor = tonumber(ARGV[2])
        local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
        if balance - amount < floor then return 0 end
        redis.call('DECRBY', KEYS[1], amount)
        redis.call('INCRBY', KEYS[2], amount)
        return 1
        """)
    static let cappedIncrement = Script("""
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        local by = tonumber(ARGV[1])
        if current + by > tonumber(ARGV[2]) then return false end
        return redis.call('INCRBY', KEYS[1], by)
        """)
    static let decrementInventory = Script("""
        local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
        local quantity = tonumber(ARGV[1])
        if stock < quantity then return false end
        return redis.call('DECRBY', KEYS[1], quantity)
        """)
    static let setIfGreater = Script("""
        local current = redis.call('GET', KEYS[1])
        if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
        redis.call('SET', KEYS[1], ARGV[1])
        return 1
        """)
}

extension RedisCommandRunner {
    /// Moves `amount` from `source` to `destination` (integer balances; a missing key is 0)
    /// unless that would leave `source` below `floor`. Returns whether it moved.
    public func transfer(from source: String, to destination: String, amount: Int, floor: Int = 0) async throws -> Bool {
        try await run(CounterScripts.transfer, keys: [source, destination], arguments: [amount, floor]).bool()
    }

    /// Adds `amount` to `key` unless the result would exceed `cap`. Returns the new value, or
    /// nil when the cap refused it.
    public func cappedIncrement(_ key: String, by amount: Int = 1, cap: Int) async throws -> Int? {
        try await run(CounterScripts.cappedIncrement, keys: [key], arguments: [amount, cap]).optionalInt()
    }

    /// Takes `quantity` from the stock in `key` if there is that much. Returns what is left, or
    /// nil when the stock was short (and nothing was taken).
    public func decrementInventory(_ key: String, by quantity: Int = 1) async throws -> Int? {
        try await run(CounterScripts.decrementInventory, keys: [key], arguments: [quantity]).optionalInt()
    }

    /// Sets `key` to `value` only if the key is missing or holds a smaller number. Returns
    /// whether it did.
    public func setIfGreater(_ key: String, _ value: Double) async throws -> Bool {
        try await run(CounterScripts.setIfGreater, keys: [key], arguments: [value]).bool()
    }
}
