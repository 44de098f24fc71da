/// Set commands.
import AtollRESP

extension RedisCommandRunner {
    /// SADD: how many members were new.
    @discardableResult
    public func sadd(_ key: String, _ members: [any RedisArgument]) async throws -> Int {
        try await send("SADD", arguments: [key] + members).int()
    }

    /// SREM: how many members were removed.
    @discardableResult
    public func srem(_ key: String, _ members: [any RedisArgument]) async throws -> Int {
        try await send("SREM", arguments: [key] + members).int()
    }

    /// SMEMBERS.
    public func smembers(_ key: String) async throws -> Set<String> {
        Set(try await send("SMEMBERS", key).array().map { try $0.string() ?? "" })
    }

    /// SISMEMBER.
    public func sismember(_ key: String, _ member: some RedisArgument) async throws -> Bool {
        try await send("SISMEMBER", key, member).bool()
    }

    /// SCARD.
    public func scard(_ key: String) async throws -> Int {
        try await send("SCARD", key).int()
    }
}
