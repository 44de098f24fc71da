/// Optimistic transactions: WATCH the keys, read them, decide, queue the writes, EXEC; if a
/// watched key changed meanwhile EXEC aborts and the whole round runs again, up to a limit.
/// If the closure throws, the keys are unwatched and the error goes to the caller; after the
/// last aborted attempt the error is `RedisClientError.transactionAborted(attempts:)`.
///
/// Seed scenario: "a retry loop around WATCH/MULTI/EXEC" — a read-modify-write (a counter, a
/// balance check) that must not lose a concurrent update.
import AtollRESP

/// One attempt of an optimistic transaction: read through `connection` (the watching
/// connection), queue the writes with `queue`.
public final class TransactionAttempt {
    /// The connection the keys are watched on; reads go through it.
    public let connection: RedisConnection
    /// Which attempt this is, from 1.
    public let number: Int
    fileprivate var queued: [[[UInt8]]] = []

    fileprivate init(connection: RedisConnection, number: Int) {
        self.connection = connection
        self.number = number
    }

    /// Queues a command for EXEC.
    public func queue(_ command: String, _ arguments: any RedisArgument...) {
        queued.append(redisCommand(command, arguments))
    }
}

extension RedisCommandRunner {
    /// Runs `body` in WATCH/MULTI/EXEC rounds on a dedicated connection until EXEC commits or
    /// `maxAttempts` rounds aborted. Returns what `body` returned in the committed round and
    /// each queued command's outcome. A round that queues nothing unwatches and returns at once.
    /// Between aborted rounds it waits a short random time (up to 1 ms per attempt so far, at
    /// most 20 ms) so that contending callers spread out.
    public func optimisticTransaction<T: Sendable>(
        watching keys: [String], maxAttempts: Int = 16,
        _ body: (TransactionAttempt) async throws -> T
    ) async throws -> (value: T, results: [Result<RESPValue, RedisError>]) {
        try await withDedicatedConnection { connection in
            for number in 1...max(1, maxAttempts) {
                try await connection.watch(keys)
                let attempt = TransactionAttempt(connection: connection, number: number)
                let value: T
                do {
                    value = try await body(attempt)
                } catch {
                    try? await connection.unwatch()
                    throw error
                }
                if attempt.queued.isEmpty {
                    try await connection.unwatch()
                    return (value, [])
                }
                if let results = try await connection.transaction(attempt.queued) {
                    return (value, results)
                }
                let pause = Int.random(in: 0...min(20_000, number * 1000))
                try await Task.sleep(for: .microseconds(pause))
            }
            throw RedisClientError.transactionAborted(attempts: max(1, maxAttempts))
        }
    }
}
