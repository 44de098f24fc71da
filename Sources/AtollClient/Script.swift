/// Scripts by SHA-1: a `Script` knows its source and computes its SHA-1 locally, so running it
/// costs one EVALSHA; only when the server answers NOSCRIPT (a restart, SCRIPT FLUSH, another
/// server behind the same name) is the source sent, by EVAL, which also caches it again.
///
/// Seed scenario: "a script registry that falls back from EVALSHA to EVAL on NOSCRIPT" — every
/// script-based pattern in this module (transfers, limiters, locks, the queue) runs this way.
import AtollBytes
import AtollRESP

/// A Lua script and its SHA-1.
public struct Script: Sendable, Hashable {
    public let source: String
    /// The 40 lowercase hex digits EVALSHA and SCRIPT LOAD use.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        sha1 = String(decoding: sha1Hex(Array(source.utf8)), as: UTF8.self)
    }

    /// The EVALSHA command that runs the script.
    func evalsha(keys: [String], arguments: [any RedisArgument]) -> [[UInt8]] {
        redisCommand("EVALSHA", [sha1, keys.count] + keys + arguments)
    }

    /// The EVAL command that runs (and caches) the script.
    func eval(keys: [String], arguments: [any RedisArgument]) -> [[UInt8]] {
        redisCommand("EVAL", [source, keys.count] + keys + arguments)
    }
}

extension RedisError {
    var isNoScript: Bool { code == "NOSCRIPT" }
}

extension RedisCommandRunner {
    /// Runs `script` by EVALSHA, and by EVAL when the server does not have it cached.
    @discardableResult
    public func run(_ script: Script, keys: [String] = [], arguments: [any RedisArgument] = []) async throws -> RESPValue {
        do {
            return try await send(arguments: script.evalsha(keys: keys, arguments: arguments))
        } catch let error as RedisError where error.isNoScript {
            return try await send(arguments: script.eval(keys: keys, arguments: arguments))
        }
    }

    /// SCRIPT LOAD of `script`, for warming a server up front (not needed for correctness).
    public func load(_ script: Script) async throws {
        let sha = try await scriptLoad(script.source)
        guard sha == script.sha1 else {
            throw RedisClientError.unexpectedReply("SCRIPT LOAD returned \(sha), expected \(script.sha1)")
        }
    }
}
