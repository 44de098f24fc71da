/// Functions (Redis 7's FUNCTION LOAD / FCALL) with the same fallback as `Script`: FCALL, and
/// when the server does not know the function, load the library (FUNCTION LOAD REPLACE) and
/// call again.
///
/// Seed scenario: a team ships its server-side logic as a library; a fresh or flushed server
/// gets it on first use instead of failing.
import AtollRESP

/// A Lua library for FUNCTION LOAD: its source starts with `#!lua name=<library>`.
public struct FunctionLibrary: Sendable {
    public let source: String

    public init(_ source: String) {
        self.source = source
    }
}

extension RedisCommandRunner {
    /// FCALL `function` of `library`, loading the library first when the server lacks it.
    @discardableResult
    public func call(_ function: String, in library: FunctionLibrary, keys: [String] = [],
                     arguments: [any RedisArgument] = []) async throws -> RESPValue {
        do {
            return try await fcall(function, keys: keys, arguments: arguments)
        } catch let error as RedisError where error.code == "ERR" && error.message.hasPrefix("Function not found") {
            try await functionLoad(library.source, replace: true)
            return try await fcall(function, keys: keys, arguments: arguments)
        }
    }
}
