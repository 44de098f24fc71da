/// List commands, including LMOVE and its blocking form BLMOVE.
import AtollRESP

/// A list's end, for LMOVE and BLMOVE.
public enum ListEnd: String, Sendable {
    case left = "LEFT", right = "RIGHT"
}

extension RedisCommandRunner {
    /// LPUSH: the list's new length.
    @discardableResult
    public func lpush(_ key: String, _ values: [any RedisArgument]) async throws -> Int {
        try await send("LPUSH", arguments: [key] + values).int()
    }

    /// RPUSH: the list's new length.
    @discardableResult
    public func rpush(_ key: String, _ values: [any RedisArgument]) async throws -> Int {
        try await send("RPUSH", arguments: [key] + values).int()
    }

    /// LPOP: the first element, or nil for an empty list.
    public func lpop(_ key: String) async throws -> String? {
        try await send("LPOP", key).string()
    }

    /// RPOP: the last element, or nil for an empty list.
    public func rpop(_ key: String) async throws -> String? {
        try await send("RPOP", key).string()
    }

    /// LRANGE (inclusive indexes, negative from the end).
    public func lrange(_ key: String, _ start: Int, _ stop: Int) async throws -> [String] {
        try await send("LRANGE", key, start, stop).array().map { try $0.string() ?? "" }
    }

    /// LLEN.
    public func llen(_ key: String) async throws -> Int {
        try await send("LLEN", key).int()
    }

    /// LREM: removes up to `count` occurrences (0: all; negative: from the tail); how many.
    @discardableResult
    public func lrem(_ key: String, count: Int, _ value: some RedisArgument) async throws -> Int {
        try await send("LREM", key, count, value).int()
    }

    /// LMOVE: moves one element between lists; nil when the source is empty.
    public func lmove(from source: String, to destination: String, _ from: ListEnd, _ to: ListEnd) async throws -> String? {
        try await send("LMOVE", source, destination, from.rawValue, to.rawValue).string()
    }

    /// BLMOVE: as LMOVE, waiting up to `timeout` for an element; nil when none came. It holds
    /// its connection while it waits: run it on a dedicated connection.
    public func blmove(from source: String, to destination: String, _ from: ListEnd, _ to: ListEnd,
                       timeout: Duration) async throws -> String? {
        let seconds = Double(timeout.redisMilliseconds) / 1000
        return try await send("BLMOVE", source, destination, from.rawValue, to.rawValue, seconds).string()
    }
}
