import AtollClient
import AtollCore
import AtollRESP
import AtollTesting
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(1))) struct ConnectionTests {
    @Test func negotiatesRESP3WithHello() async throws {
        let connection = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        #expect(connection.protocolVersion == 3)
        // RESP3 replies a map to HGETALL: the raw reply shows it.
        let key = uniqueKey()
        try await connection.hset(key, field: "f", value: "v")
        if case .map = try await connection.send("HGETALL", key) {} else { Issue.record("expected a RESP3 map") }
        await connection.close()
        #expect(connection.isClosed)
    }

    @Test func speaksRESP2WhenAsked() async throws {
        let connection = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration(protocol: .resp2))
        #expect(connection.protocolVersion == 2)
        let key = uniqueKey()
        try await connection.hset(key, field: "f", value: "v")
        if case .array = try await connection.send("HGETALL", key) {} else { Issue.record("expected a RESP2 array") }
        #expect(try await connection.hgetall(key) == ["f": "v"])
        await connection.close()
    }

    @Test(arguments: [ConnectionConfiguration.ProtocolPreference.resp3, .resp2])
    func namesItself(protocol preference: ConnectionConfiguration.ProtocolPreference) async throws {
        var configuration = TestServer.connectionConfiguration(protocol: preference)
        configuration.clientName = "named-\(preference)"
        let connection = try await RedisConnection.connect(configuration: configuration)
        #expect(try await connection.send("CLIENT", "GETNAME").string() == "named-\(preference)")
        await connection.close()
    }

    @Test func errorRepliesThrowTheirCode() async throws {
        try await withTestClient { client async throws in
            let key = uniqueKey()
            try await client.lpush(key, ["x"])
            await #expect(throws: RedisError(code: "WRONGTYPE", message: "Operation against a key holding the wrong kind of value")) {
                try await client.get(key)
            }
            do {
                try await client.send("NOSUCHCOMMAND")
                Issue.record("no error")
            } catch let error as RedisError {
                #expect(error.code == "ERR")
                #expect(error.message.hasPrefix("unknown command"))
            }
        }
    }

    @Test func rawSendTakesAnyArgumentsAndReturnsTheReply() async throws {
        try await withTestClient { client async throws in
            let key = uniqueKey()
            #expect(try await client.send("SET", key, 42) == .simpleString(Array("OK".utf8)))
            #expect(try await client.send("INCRBY", key, 1.redisBytes) == .integer(43))
            #expect(try await client.send("GET", key) == .bulkString(Array("43".utf8)))
            #expect(try await client.send("PING").string() == "PONG")
        }
    }

    @Test func selectsTheConfiguredDatabase() async throws {
        var configuration = TestServer.connectionConfiguration()
        configuration.database = 2
        let inTwo = try await RedisConnection.connect(configuration: configuration)
        let inZero = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let key = uniqueKey()
        try await inTwo.set(key, "two")
        #expect(try await inZero.get(key) == nil)
        #expect(try await inTwo.get(key) == "two")
        #expect(try await inTwo.del(key) == 1)
        await inTwo.close()
        await inZero.close()
    }

    @Test func concurrentRequestsShareOneConnection() async throws {
        let connection = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let key = uniqueKey()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    // Each task's reply must be its own: the echo carries the task's number.
                    #expect(try await connection.send("ECHO", "m\(i)").string() == "m\(i)")
                    try await connection.incr(key)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await connection.get(key) == "200")
        await connection.close()
    }

    @Test func explicitBatchRepliesInOrderWithErrorsInPlace() async throws {
        try await withTestClient { client async throws in
            let key = uniqueKey()
            var batch = Batch()
            batch.add("SET", key, "a")
            batch.add("LPUSH", key, "x")
            batch.add("APPEND", key, "b")
            batch.add("GET", key)
            let results = try await batch.execute(on: client)
            #expect(results.count == 4)
            #expect(try results[0].get().string() == "OK")
            guard case .failure(let error) = results[1] else { Issue.record("LPUSH should fail"); return }
            #expect(error.code == "WRONGTYPE")
            #expect(try results[2].get().int() == 2)
            #expect(try results[3].get().string() == "ab")
        }
    }

    @Test func passwordIsSentWithHelloAndWrongOnesAreRefused() async throws {
        guard !TestServer.isExternal else { return }
        let server = try EmbeddedAtoll { $0.requirePass = "s3cret" }
        defer { server.stop() }
        for preference in [ConnectionConfiguration.ProtocolPreference.resp3, .resp2] {
            var configuration = ConnectionConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)")!
            configuration.protocolPreference = preference
            configuration.commandTimeout = .seconds(5)
            let connection = try await RedisConnection.connect(configuration: configuration)
            #expect(try await connection.send("PING").string() == "PONG")
            await connection.close()
            configuration.password = "wrong"
            do {
                _ = try await RedisConnection.connect(configuration: configuration)
                Issue.record("a wrong password connected")
            } catch let error as RedisError {
                #expect(error.code == "WRONGPASS")
            }
        }
        // Without a password, commands get NOAUTH.
        var configuration = ConnectionConfiguration(url: "redis://127.0.0.1:\(server.port)")!
        configuration.protocolPreference = .resp2
        let anonymous = try await RedisConnection.connect(configuration: configuration)
        await #expect(throws: RedisError.self) { try await anonymous.get("k") }
        await anonymous.close()
    }
}

/// Tasks that prefer an event loop's executor (as handlers of a SwiftNIO server would run):
/// they run on the loop, and their requests, batches and transactions work as from any task.
@Suite(.timeLimit(.minutes(1))) struct EventLoopTaskExecutorTests {
    @Test func tasksOnEventLoopsSendAndReceiveOnTheirLoops() async throws {
        var configuration = RedisClientConfiguration(connection: TestServer.connectionConfiguration(), sharedConnections: 4)
        configuration.maxIdleDedicatedConnections = 2
        let client = RedisClient(configuration: configuration)
        let executors = EventLoopTaskExecutor.executors()
        let counter = uniqueKey()
        let tasks = 8, perTask = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<tasks {
                let executor = executors[index % executors.count]
                group.addTask(executorPreference: executor) {
                    for round in 0..<perTask {
                        #expect(executor.eventLoop.inEventLoop)
                        if round % 4 == 0 {
                            var batch = TypedBatch<Int>()
                            batch.add("INCR", counter)
                            batch.add("INCR", counter)
                            let replies = try await client.pipeline(batch)
                            #expect(replies.count == 2)
                        } else if round % 4 == 1 {
                            _ = try await client.withDedicatedConnection { connection in
                                try await connection.send("INCR", counter)
                            }
                        } else {
                            _ = try await client.send("INCR", counter)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        // A quarter of the rounds are batches of two.
        #expect(try await client.get(counter) == String(tasks * perTask * 5 / 4))
        await client.close()
    }
}
