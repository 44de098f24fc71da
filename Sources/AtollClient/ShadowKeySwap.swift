/// Shadow-key swaps: readers never see a half-built value. The new value is built under a
/// temporary key and then put in place in one atomic step: RENAME over the live key, or COPY
/// REPLACE from a prepared source with a new time to live (in one MULTI/EXEC).
///
/// Seed scenario: "shadow-key swaps" — rebuilding a leaderboard or a lookup table from a
/// database while clients keep reading the old one.
import AtollRESP

extension RedisCommandRunner {
    /// Calls `build` with a temporary key (in `key`'s cluster slot) to fill, then renames it
    /// over `key`. If `build` throws, the temporary key is deleted and `key` is untouched.
    public func rebuild(_ key: String, _ build: (String) async throws -> Void) async throws {
        let temporary = HashSlot.keyInSameSlot(as: key, suffix: ":shadow:" + randomToken())
        do {
            try await build(temporary)
        } catch {
            _ = try? await del(temporary)
            throw error
        }
        try await rename(temporary, to: key)
    }

    /// Replaces `key` with a copy of `source` that expires after `ttl`, atomically (COPY
    /// REPLACE and PEXPIRE in one MULTI/EXEC). `source` is kept, to publish again later.
    public func publishCopy(of source: String, to key: String, ttl: Duration) async throws {
        let commands = [redisCommand("COPY", [source, key, "REPLACE"]), redisCommand("PEXPIRE", [key, ttl.redisMilliseconds])]
        guard let results = try await transaction(commands) else {
            throw RedisClientError.unexpectedReply("EXEC aborted without WATCH")
        }
        for result in results { _ = try result.get() }
        guard try results[0].get().bool() else {
            throw RedisClientError.unexpectedReply("COPY found no source key \(source)")
        }
    }
}
