/// Explicit pipelining: a `Batch` collects commands and script runs, and `execute` sends them in
/// one write. Scripts go as EVALSHA; any that comes back NOSCRIPT is run again by EVAL once the
/// batch's replies are in, so a batch with scripts succeeds on a server that just lost its
/// script cache (the rerun happens after the batch's other commands, not in its place).
import AtollRESP

/// Commands to send in one write.
public struct Batch: Sendable {
    private var commands: [[[UInt8]]] = []
    /// For each script run, its index in `commands` and its EVAL form.
    private var scriptFallbacks: [(index: Int, eval: [[UInt8]])] = []

    public init() {}

    /// How many commands the batch holds.
    public var count: Int { commands.count }

    /// Adds a command.
    public mutating func add(_ command: String, _ arguments: any RedisArgument...) {
        commands.append(redisCommand(command, arguments))
    }

    /// Adds a command whose arguments are built at run time.
    public mutating func add(_ command: String, arguments: [any RedisArgument]) {
        commands.append(redisCommand(command, arguments))
    }

    /// Adds a run of `script` (EVALSHA, with EVAL as the fallback).
    public mutating func run(_ script: Script, keys: [String] = [], arguments: [any RedisArgument] = []) {
        scriptFallbacks.append((commands.count, script.eval(keys: keys, arguments: arguments)))
        commands.append(script.evalsha(keys: keys, arguments: arguments))
    }

    /// Sends the batch in one write; each command's reply or error, in the order added.
    public func execute(on runner: some RedisCommandRunner) async throws -> [Result<RESPValue, RedisError>] {
        var results = try await runner.pipeline(commands)
        for (index, eval) in scriptFallbacks {
            if case .failure(let error) = results[index], error.isNoScript {
                results[index] = try await runner.pipeline([eval])[0]
            }
        }
        return results
    }
}
