/// Key commands: DEL, EXISTS, expiry, RENAME, COPY, TYPE.
import AtollRESP

extension RedisCommandRunner {
    /// DEL: how many of the keys existed.
    @discardableResult
    public func del(_ keys: String...) async throws -> Int {
        try await send("DEL", arguments: keys).int()
    }

    /// UNLINK: as DEL, freeing memory in the background where the server does.
    @discardableResult
    public func unlink(_ keys: String...) async throws -> Int {
        try await send("UNLINK", arguments: keys).int()
    }

    /// EXISTS: how many of the keys exist (a key named twice counts twice).
    public func exists(_ keys: String...) async throws -> Int {
        try await send("EXISTS", arguments: keys).int()
    }

    /// PEXPIRE: whether a time to live was set (false for a missing key).
    @discardableResult
    public func expire(_ key: String, after ttl: Duration) async throws -> Bool {
        try await send("PEXPIRE", key, ttl.redisMilliseconds).bool()
    }

    /// PERSIST: whether a time to live was removed.
    @discardableResult
    public func persist(_ key: String) async throws -> Bool {
        try await send("PERSIST", key).bool()
    }

    /// PTTL: the remaining time to live; nil for a missing key or one without expiry.
    public func ttl(_ key: String) async throws -> Duration? {
        let millis = try await send("PTTL", key).int()
        return millis < 0 ? nil : .milliseconds(millis)
    }

    /// RENAME: replaces `newKey` with `key`'s value.
    public func rename(_ key: String, to newKey: String) async throws {
        try await send("RENAME", key, newKey)
    }

    /// RENAMENX: renames only if `newKey` is missing; whether it did.
    public func renameIfMissing(_ key: String, to newKey: String) async throws -> Bool {
        try await send("RENAMENX", key, newKey).bool()
    }

    /// COPY (REPLACE): whether the value was copied.
    @discardableResult
    public func copy(_ source: String, to destination: String, replace: Bool = false) async throws -> Bool {
        try await send("COPY", arguments: [source, destination] + (replace ? ["REPLACE"] : [])).bool()
    }

    /// TYPE: `string`, `list`, `hash`, `set`, `zset`, ... or `none`.
    public func type(_ key: String) async throws -> String {
        try await send("TYPE", key).string() ?? "none"
    }
}
