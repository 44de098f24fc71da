/// What the client does when things go wrong: the script cache flushed mid-run, a connection
/// dropped with requests in flight, the server restarted, a reply that never comes.
import AtollClient
import AtollRESP
import AtollTesting
import Testing

@Suite(.timeLimit(.minutes(1))) struct FailureTests {
    @Test func scriptsSurviveScriptFlushMidRun() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            let script = Script("return redis.call('INCR', KEYS[1]) -- flush test \(k)")
            for round in 1...6 {
                if round % 2 == 0 { try await c.scriptFlush() }
                #expect(try await c.run(script, keys: [k]).int() == round)
            }
            // And in a batch.
            try await c.scriptFlush()
            var batch = Batch()
            batch.run(script, keys: [k])
            #expect(try await batch.execute(on: c)[0].get().int() == 7)
        }
    }

    @Test func droppedConnectionFailsEveryPendingRequest() async throws {
        let victim = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let killer = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let id = try await victim.send("CLIENT", "ID").int()
        let key = uniqueKey()
        // A batch whose first command blocks, so the rest are still pending when the kill lands.
        var commands: [[[UInt8]]] = [["BLPOP", key, "5"].map { Array($0.utf8) }]
        commands += (0..<50).map { ["PING", "\($0)"].map { Array($0.utf8) } }
        async let outcome: Result<[Result<RESPValue, RedisError>], any Error> = {
            do { return .success(try await victim.pipeline(commands)) } catch { return .failure(error) }
        }()
        // Kill it once it is blocked (bounded wait).
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while clock.now < deadline, !(try await killer.send("CLIENT", "LIST").string() ?? "").contains("id=\(id) ") {
            try await Task.sleep(for: .milliseconds(5))
        }
        while clock.now < deadline, !(try await killer.send("CLIENT", "LIST").string() ?? "").contains("cmd=blpop") {
            try await Task.sleep(for: .milliseconds(5))
        }
        // Queued behind the blocked BLPOP, so it is pending too when the connection drops.
        async let single: Result<Int, any Error> = {
            do { return .success(try await victim.incr(key + ":other")) } catch { return .failure(error) }
        }()
        #expect(try await killer.send("CLIENT", "KILL", "ID", id).int() == 1)
        guard case .failure(let error) = await outcome else { Issue.record("the batch succeeded"); return }
        #expect(error as? RedisClientError == .connectionClosed)
        guard case .failure(let other) = await single else { Issue.record("the command succeeded"); return }
        #expect(other as? RedisClientError == .connectionClosed)
        #expect(victim.isClosed)
        // Later requests fail at once rather than hang.
        await #expect(throws: RedisClientError.connectionClosed) { try await victim.send("PING") }
        await killer.close()
    }

    @Test func poolReconnectsAfterAServerRestart() async throws {
        guard !TestServer.isExternal else { return }
        let server = try EmbeddedAtoll()
        defer { server.stop() }
        var configuration = RedisClientConfiguration(connection: ConnectionConfiguration(url: server.url)!)
        configuration.connection.commandTimeout = .seconds(5)
        let client = RedisClient(configuration: configuration)
        try await client.set("k", "before")
        try server.restart()
        // In-flight or just-closed connections may fail once; the pool then connects afresh.
        var value: String?? = .none
        for _ in 0..<5 {
            do {
                value = .some(try await client.get("k"))
                break
            } catch RedisClientError.connectionClosed {
                continue
            }
        }
        #expect(value == .some(nil), "the new server is empty, and the client reached it")
        try await client.set("k", "after")
        #expect(try await client.get("k") == "after")
        await client.close()
    }

    @Test func connectFailsAfterBackoffWhenNothingListens() async throws {
        let server = try EmbeddedAtoll()
        let port = server.port
        server.stop()
        var configuration = RedisClientConfiguration(connection: ConnectionConfiguration(port: port))
        configuration.reconnect = ReconnectPolicy(maxAttempts: 3, initialDelay: .milliseconds(10))
        let client = RedisClient(configuration: configuration)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            try await client.send("PING")
            Issue.record("connected to a stopped server")
        } catch let error as RedisClientError {
            guard case .connectFailed = error else { Issue.record("\(error)"); return }
        }
        // Two waits of 10 and 20 ms came between the three attempts.
        #expect(clock.now - started >= .milliseconds(30))
        await client.close()
        await #expect(throws: RedisClientError.clientClosed) { try await client.send("PING") }
    }

    @Test func commandTimeoutFailsTheRequestAndClosesTheConnection() async throws {
        var configuration = TestServer.connectionConfiguration()
        configuration.commandTimeout = .milliseconds(200)
        let connection = try await RedisConnection.connect(configuration: configuration)
        let clock = ContinuousClock()
        let started = clock.now
        // BLPOP's own timeout is far beyond: its null reply would mean no command timeout. How
        // soon the error arrives is not asserted closely: with the whole suite running in
        // parallel on two cores, the waiting task may wait seconds for a thread of the pool.
        await #expect(throws: RedisClientError.commandTimeout) {
            try await connection.send("BLPOP", uniqueKey(), 30)
        }
        #expect(clock.now - started < .seconds(25))
        #expect(connection.isClosed)
    }

    /// One timeout check per connection, armed again for the oldest request each time it
    /// fires: requests that keep coming for longer than the timeout, each answered in time,
    /// never time out; a reply that is late still does.
    @Test func timeoutCheckFollowsTheOldestRequest() async throws {
        var configuration = TestServer.connectionConfiguration()
        configuration.commandTimeout = .milliseconds(300)
        let connection = try await RedisConnection.connect(configuration: configuration)
        let clock = ContinuousClock()
        let until = clock.now + .seconds(1)
        var answered = 0
        while clock.now < until {
            #expect(try await connection.send("ECHO", "\(answered)").string() == "\(answered)")
            answered += 1
        }
        #expect(!connection.isClosed)
        await #expect(throws: RedisClientError.commandTimeout) {
            try await connection.send("BLPOP", uniqueKey(), 5)
        }
        #expect(connection.isClosed)
    }
}
