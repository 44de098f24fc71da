/// Scripting and Functions commands, raw. `Script` and `FunctionLibrary` add the NOSCRIPT and
/// missing-library fallbacks on top.
import AtollRESP

extension RedisCommandRunner {
    /// EVAL: runs `source` with `keys` and `arguments`.
    @discardableResult
    public func eval(_ source: String, keys: [String] = [], arguments: [any RedisArgument] = []) async throws -> RESPValue {
        try await send("EVAL", arguments: [source, keys.count] + keys + arguments)
    }

    /// EVALSHA: runs a cached script by its SHA-1; throws NOSCRIPT when the server lacks it.
    @discardableResult
    public func evalsha(_ sha: String, keys: [String] = [], arguments: [any RedisArgument] = []) async throws -> RESPValue {
        try await send("EVALSHA", arguments: [sha, keys.count] + keys + arguments)
    }

    /// SCRIPT LOAD: caches `source` and returns its SHA-1.
    @discardableResult
    public func scriptLoad(_ source: String) async throws -> String {
        try await send("SCRIPT", "LOAD", source).string() ?? ""
    }

    /// SCRIPT EXISTS: for each SHA-1, whether the server has it cached.
    public func scriptExists(_ shas: [String]) async throws -> [Bool] {
        try await send("SCRIPT", arguments: ["EXISTS"] + shas).array().map { try $0.bool() }
    }

    /// SCRIPT FLUSH: empties the script cache.
    public func scriptFlush() async throws {
        try await send("SCRIPT", "FLUSH")
    }

    /// FUNCTION LOAD (REPLACE): loads a library; returns its name.
    @discardableResult
    public func functionLoad(_ source: String, replace: Bool = false) async throws -> String {
        try await send("FUNCTION", arguments: ["LOAD"] + (replace ? ["REPLACE"] : []) + [source]).string() ?? ""
    }

    /// FUNCTION DELETE: removes a library.
    public func functionDelete(_ library: String) async throws {
        try await send("FUNCTION", "DELETE", library)
    }

    /// FCALL: calls a loaded function.
    @discardableResult
    public func fcall(_ function: String, keys: [String] = [], arguments: [any RedisArgument] = []) async throws -> RESPValue {
        try await send("FCALL", arguments: [function, keys.count] + keys + arguments)
    }
}
