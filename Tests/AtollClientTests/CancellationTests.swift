/// A task cancelled while it waits for a reply gets `CancellationError` at once, and the
/// connection stays usable: the abandoned reply is read and dropped in its turn, and every
/// later request gets its own reply.
import AtollClient
import AtollRESP
import Testing

@Suite(.timeLimit(.minutes(1))) struct CancellationTests {
    /// A BLPOP that would wait 20 s is cancelled; the error comes well before, and the reply
    /// (the item pushed afterwards) goes to nobody: the next ECHO gets its own answer.
    @Test func cancelledWaitThrowsPromptlyAndTheReplyIsDropped() async throws {
        let victim = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let helper = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let id = try await victim.send("CLIENT", "ID").int()
        let key = uniqueKey()
        let blocked = Task { try await victim.send("BLPOP", key, 20) }
        try await waitUntilBlocked(clientID: id, using: helper)
        let clock = ContinuousClock()
        let cancelledAt = clock.now
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        #expect(clock.now - cancelledAt < .seconds(2))
        // The BLPOP is still parked on the server; the item wakes it, and its reply is dropped.
        try await helper.send("RPUSH", key, "item")
        #expect(try await victim.send("ECHO", "after").string() == "after")
        #expect(try await helper.send("LLEN", key).int() == 0)
        #expect(!victim.isClosed)
        await victim.close()
        await helper.close()
    }

    /// A cancelled batch: all its replies are dropped, and the requests after it are answered.
    @Test func cancelledBatchKeepsTheConnectionInStep() async throws {
        let victim = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let helper = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let id = try await victim.send("CLIENT", "ID").int()
        let key = uniqueKey()
        let commands: [[[UInt8]]] = [["ECHO", "first"], ["BLPOP", key, "20"], ["ECHO", "last"]].map { $0.map { Array($0.utf8) } }
        let batch = Task { try await victim.pipeline(commands) }
        try await waitUntilBlocked(clientID: id, using: helper)
        // Requests queued behind the cancelled batch, sent before its replies are in.
        async let one = victim.send("ECHO", "one")
        async let two = victim.send("INCR", key + ":n")
        batch.cancel()
        await #expect(throws: CancellationError.self) { try await batch.value }
        try await helper.send("RPUSH", key, "item")
        #expect(try await one.string() == "one")
        #expect(try await two.int() == 1)
        await victim.close()
        await helper.close()
    }

    /// A task cancelled before it sends gets the error without anything reaching the server.
    @Test func alreadyCancelledTaskSendsNothing() async throws {
        try await withTestClient { client async throws in
            let key = uniqueKey()
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.send("INCR", key)
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(try await client.get(key) == nil)
        }
    }

    /// Many tasks share one connection and half of them are cancelled at once: every task that
    /// is not cancelled gets exactly its own reply, and the connection is still in step after.
    @Test func cancellationsAmongConcurrentRequests() async throws {
        let connection = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        for round in 0..<20 {
            let tasks = (0..<50).map { i in
                Task { try await connection.send("ECHO", "\(round):\(i)").string() }
            }
            for (i, task) in tasks.enumerated() where i % 2 == 1 { task.cancel() }
            for (i, task) in tasks.enumerated() {
                do {
                    #expect(try await task.value == "\(round):\(i)")
                } catch is CancellationError {
                    #expect(i % 2 == 1)
                }
            }
        }
        #expect(try await connection.send("ECHO", "end").string() == "end")
        await connection.close()
    }
}
