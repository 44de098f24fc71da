/// Hash commands.
import AtollRESP

extension RedisCommandRunner {
    /// HSET: how many fields were added (not counting updated ones).
    @discardableResult
    public func hset(_ key: String, _ fields: [(String, any RedisArgument)]) async throws -> Int {
        try await send("HSET", arguments: [key] + fields.flatMap { [$0.0, $0.1] }).int()
    }

    /// HSET of one field.
    @discardableResult
    public func hset(_ key: String, field: String, value: some RedisArgument) async throws -> Int {
        try await send("HSET", key, field, value).int()
    }

    /// HGET: the field's value, or nil.
    public func hget(_ key: String, field: String) async throws -> String? {
        try await send("HGET", key, field).string()
    }

    /// HMGET: one value (or nil) per field, in order.
    public func hmget(_ key: String, fields: [String]) async throws -> [String?] {
        try await send("HMGET", arguments: [key] + fields).array().map { try $0.string() }
    }

    /// HGETALL: every field and value.
    public func hgetall(_ key: String) async throws -> [String: String] {
        var out: [String: String] = [:]
        for (field, value) in try await send("HGETALL", key).pairs() {
            out[try field.string() ?? ""] = try value.string() ?? ""
        }
        return out
    }

    /// HDEL: how many fields were removed.
    @discardableResult
    public func hdel(_ key: String, fields: String...) async throws -> Int {
        try await send("HDEL", arguments: [key] + fields).int()
    }

    /// HINCRBY: the field's new value.
    @discardableResult
    public func hincr(_ key: String, field: String, by amount: Int = 1) async throws -> Int {
        try await send("HINCRBY", key, field, amount).int()
    }

    /// HEXISTS.
    public func hexists(_ key: String, field: String) async throws -> Bool {
        try await send("HEXISTS", key, field).bool()
    }

    /// HLEN.
    public func hlen(_ key: String) async throws -> Int {
        try await send("HLEN", key).int()
    }
}
