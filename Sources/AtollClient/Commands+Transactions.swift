/// Transaction commands. MULTI/EXEC as one batch (`transaction`), which is atomic even on a
/// shared connection because the batch goes out in one write; WATCH and UNWATCH, which only
/// make sense on a dedicated connection (see `OptimisticTransaction` for the retry loop).
import AtollRESP

extension RedisCommandRunner {
    /// Sends MULTI, the commands and EXEC in one write. Returns each command's outcome, or nil
    /// when EXEC aborted because a watched key changed. A command refused while queueing
    /// makes EXEC fail, and that throws the server's `EXECABORT`.
    public func transaction(_ commands: [[[UInt8]]]) async throws -> [Result<RESPValue, RedisError>]? {
        let replies = try await pipeline([[Array("MULTI".utf8)]] + commands + [[Array("EXEC".utf8)]])
        let exec = try replies[replies.count - 1].get()
        if exec.isNull { return nil }
        return try exec.array().map { reply in
            if case .error(let text) = reply { return .failure(RedisError(reply: text)) }
            return .success(reply)
        }
    }

    /// WATCH: EXEC on this connection aborts if any of the keys changes before it.
    public func watch(_ keys: [String]) async throws {
        try await send("WATCH", arguments: keys)
    }

    /// UNWATCH: forgets every watched key.
    public func unwatch() async throws {
        try await send("UNWATCH")
    }
}
