/// String commands: GET/SET and their variants, counters, MGET/MSET.
import AtollRESP

/// When SET writes: always, only if the key is missing (NX), or only if it exists (XX).
public enum SetCondition: Sendable {
    case always, ifMissing, ifExists
}

/// A SET's expiry.
public enum SetExpiration: Sendable {
    /// Time to live, sent as PX (millisecond precision).
    case after(Duration)
    /// Keep the key's current time to live (KEEPTTL).
    case keepTTL
}

extension Duration {
    /// Whole milliseconds, rounded down (at least 1 for a positive duration).
    var redisMilliseconds: Int {
        let (seconds, attoseconds) = components
        let millis = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        return self > .zero ? max(1, millis) : millis
    }
}

func expirationArguments(_ expiration: SetExpiration?) -> [any RedisArgument] {
    switch expiration {
    case nil: return []
    case .after(let ttl): return ["PX", ttl.redisMilliseconds]
    case .keepTTL: return ["KEEPTTL"]
    }
}

extension RedisCommandRunner {
    /// GET: the value, or nil when the key is missing.
    public func get(_ key: String) async throws -> String? {
        try await send("GET", key).string()
    }

    /// GET as raw bytes.
    public func getBytes(_ key: String) async throws -> [UInt8]? {
        try await send("GET", key).bytes()
    }

    /// SET with an optional condition and expiry. Returns whether the value was written.
    @discardableResult
    public func set(_ key: String, _ value: some RedisArgument, condition: SetCondition = .always,
                    expiration: SetExpiration? = nil) async throws -> Bool {
        var arguments: [any RedisArgument] = [key, value]
        switch condition {
        case .always: break
        case .ifMissing: arguments.append("NX")
        case .ifExists: arguments.append("XX")
        }
        arguments += expirationArguments(expiration)
        return try await !send("SET", arguments: arguments).isNull
    }

    /// SET ... GET: writes the value (with an optional expiry) and returns the old one.
    public func getSet(_ key: String, _ value: some RedisArgument, expiration: SetExpiration? = nil) async throws -> String? {
        try await send("SET", arguments: [key, value, "GET"] + expirationArguments(expiration)).string()
    }

    /// GETDEL: the value, deleting the key.
    public func getDel(_ key: String) async throws -> String? {
        try await send("GETDEL", key).string()
    }

    /// INCRBY (INCR for 1): the new value.
    @discardableResult
    public func incr(_ key: String, by amount: Int = 1) async throws -> Int {
        try await send("INCRBY", key, amount).int()
    }

    /// DECRBY: the new value.
    @discardableResult
    public func decr(_ key: String, by amount: Int = 1) async throws -> Int {
        try await send("DECRBY", key, amount).int()
    }

    /// INCRBYFLOAT: the new value.
    @discardableResult
    public func incr(_ key: String, byFloat amount: Double) async throws -> Double {
        guard let value = try await send("INCRBYFLOAT", key, amount).double() else {
            throw RedisClientError.unexpectedReply("INCRBYFLOAT replied null")
        }
        return value
    }

    /// APPEND: the new length.
    @discardableResult
    public func append(_ key: String, _ value: some RedisArgument) async throws -> Int {
        try await send("APPEND", key, value).int()
    }

    /// STRLEN.
    public func strlen(_ key: String) async throws -> Int {
        try await send("STRLEN", key).int()
    }

    /// MGET: one value (or nil) per key, in order.
    public func mget(_ keys: [String]) async throws -> [String?] {
        try await send("MGET", arguments: keys).array().map { try $0.string() }
    }

    /// MSET: writes every pair at once.
    public func mset(_ pairs: [(String, any RedisArgument)]) async throws {
        try await send("MSET", arguments: pairs.flatMap { [$0.0, $0.1] })
    }
}
