/// Sorted set commands.
import AtollRESP

extension RedisCommandRunner {
    /// ZADD: how many members were new.
    @discardableResult
    public func zadd(_ key: String, _ members: [(score: Double, member: String)]) async throws -> Int {
        try await send("ZADD", arguments: [key] + members.flatMap { [$0.score, $0.member] as [any RedisArgument] }).int()
    }

    /// ZSCORE: the member's score, or nil.
    public func zscore(_ key: String, _ member: String) async throws -> Double? {
        try await send("ZSCORE", key, member).double()
    }

    /// ZINCRBY: the member's new score.
    @discardableResult
    public func zincr(_ key: String, _ member: String, by amount: Double) async throws -> Double {
        guard let score = try await send("ZINCRBY", key, amount, member).double() else {
            throw RedisClientError.unexpectedReply("ZINCRBY replied null")
        }
        return score
    }

    /// ZREM: how many members were removed.
    @discardableResult
    public func zrem(_ key: String, _ members: [String]) async throws -> Int {
        try await send("ZREM", arguments: [key] + members).int()
    }

    /// ZCARD.
    public func zcard(_ key: String) async throws -> Int {
        try await send("ZCARD", key).int()
    }

    /// ZRANGE by rank (inclusive, negative from the end), lowest score first.
    public func zrange(_ key: String, _ start: Int, _ stop: Int) async throws -> [String] {
        try await send("ZRANGE", key, start, stop).array().map { try $0.string() ?? "" }
    }

    /// ZRANGE ... WITHSCORES: members and scores, lowest first. RESP3 replies pairs, RESP2 a
    /// flat list; both read the same.
    public func zrangeWithScores(_ key: String, _ start: Int, _ stop: Int) async throws -> [(member: String, score: Double)] {
        let reply = try await send("ZRANGE", key, start, stop, "WITHSCORES").array()
        let pairs: [(RESPValue, RESPValue)]
        if let first = reply.first, case .array = first {
            pairs = try reply.map { pair in
                let items = try pair.array()
                guard items.count == 2 else { throw RedisClientError.unexpectedReply("ZRANGE pair") }
                return (items[0], items[1])
            }
        } else {
            pairs = try RESPValue.array(reply).pairs()
        }
        return try pairs.map { (try $0.0.string() ?? "", try $0.1.double() ?? 0) }
    }

    /// ZREMRANGEBYSCORE over `[min, max]`: how many members were removed.
    @discardableResult
    public func zremRangeByScore(_ key: String, min: Double, max: Double) async throws -> Int {
        try await send("ZREMRANGEBYSCORE", key, min, max).int()
    }
}
