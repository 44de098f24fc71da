/// `TypedBatch`: replies read straight into the caller's types, in both protocols; error
/// replies and replies of the wrong shape as their elements' failures; a dropped connection,
/// cancellation, pushes between the replies, replies split over many reads, and the protocol's
/// default implementation for runners of other kinds.
import AtollClient
import AtollRESP
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite(.timeLimit(.minutes(1))) struct TypedBatchTests {
    @Test(arguments: [ConnectionConfiguration.ProtocolPreference.resp2, .resp3])
    func everyReplyType(protocol preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let k = uniqueKey()
            try await c.set(k + ":s", "abc")
            try await c.set(k + ":n", 42)
            try await c.send("ZADD", k + ":z", 2.5, "m")

            var bytes = TypedBatch<[UInt8]?>()
            bytes.add("GET", k + ":s")  // bulk string
            bytes.add("GET", k + ":missing")  // null
            bytes.add("PING")  // simple string
            bytes.add("INCR", k + ":n")  // integer, as its digits
            bytes.add("ZSCORE", k + ":z", "m")  // RESP3 double, RESP2 bulk string
            let b = try await bytes.execute(on: c).map { try $0.get() }
            #expect(b == [Array("abc".utf8), nil, Array("PONG".utf8), Array("43".utf8), Array("2.5".utf8)])

            var strings = TypedBatch<String?>()
            strings.add("GET", k + ":s")
            strings.add("GET", k + ":missing")
            strings.add("SET", k + ":t", "x")
            strings.add("DECR", k + ":n")
            #expect(try await strings.execute(on: c).map { try $0.get() } == ["abc", nil, "OK", "42"])

            var ints = TypedBatch<Int>()
            ints.add("INCR", k + ":n")  // integer
            ints.add("GET", k + ":n")  // bulk string holding an integer
            ints.add("STRLEN", k + ":s")
            ints.add("GET", k + ":s")  // not a number
            ints.add("GET", k + ":missing")  // null, and Int is not optional
            let i = try await ints.execute(on: c)
            #expect(try i[0].get() == 43 && i[1].get() == 43 && i[2].get() == 3)
            for failed in i[3...] {
                guard case .failure(let error) = failed, case .unexpectedReply = error as? RedisClientError else {
                    Issue.record("expected unexpectedReply, got \(failed)")
                    continue
                }
            }

            var optionalInts = TypedBatch<Int64?>()
            optionalInts.add("GET", k + ":missing")
            optionalInts.add("EXISTS", k + ":s")
            #expect(try await optionalInts.execute(on: c).map { try $0.get() } == [nil, 1])

            var doubles = TypedBatch<Double>()
            doubles.add("ZSCORE", k + ":z", "m")
            doubles.add("INCRBYFLOAT", k + ":f", 1.25)
            doubles.add("ZCARD", k + ":z")
            #expect(try await doubles.execute(on: c).map { try $0.get() } == [2.5, 1.25, 1])

            var bools = TypedBatch<Bool>()
            bools.add("EXISTS", k + ":s")
            bools.add("SISMEMBER", k + ":set", "x")
            #expect(try await bools.execute(on: c).map { try $0.get() } == [true, false])

            // Any reply as a value: aggregates too, equal to what `Batch` gives.
            var values = TypedBatch<RESPValue>()
            var plain = Batch()
            for command in [["MGET", k + ":s", k + ":missing", k + ":t"], ["ZRANGE", k + ":z", "0", "-1", "WITHSCORES"],
                            ["GET", k + ":s"], ["INCR", k + ":n"], ["PING"], ["HGETALL", k + ":none"]] {
                values.add(command[0], arguments: Array(command.dropFirst()))
                plain.add(command[0], arguments: Array(command.dropFirst()))
            }
            let typed = try await values.execute(on: c).map { try $0.get() }
            let reference = try await plain.execute(on: c).map { try $0.get() }
            #expect(typed.count == 6)
            // The INCR ran twice, once per batch.
            #expect(try typed[3].int() + 1 == reference[3].int())
            for index in [0, 1, 2, 4, 5] { #expect(typed[index] == reference[index], "command \(index)") }
        }
    }

    @Test func errorsInsideABatchAreTheirElementsOnly() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            var batch = TypedBatch<String?>()
            batch.add("SET", k, "v")
            batch.add("LPUSH", k, "x")  // WRONGTYPE
            batch.add("GET", k)
            batch.add("NOSUCHCOMMAND", k)  // ERR unknown command
            batch.add("INCR", k)  // ERR not an integer
            batch.add("ECHO", "last")
            let results = try await batch.execute(on: c)
            #expect(results.count == 6)
            #expect(try results[0].get() == "OK")
            #expect((results[1].failure as? RedisError)?.code == "WRONGTYPE")
            #expect(try results[2].get() == "v")
            #expect((results[3].failure as? RedisError)?.code == "ERR")
            #expect((results[4].failure as? RedisError)?.code == "ERR")
            #expect(try results[5].get() == "last")
            // The connection is still in step.
            #expect(try await c.get(k) == "v")
        }
    }

    /// A batch built once is sent as often as wanted; `removeAll` empties it for reuse.
    @Test func aBatchIsReusable() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            var batch = TypedBatch<Int>()
            for _ in 0..<16 { batch.add("INCR", k) }
            #expect(try await batch.execute(on: c).map { try $0.get() } == Array(1...16))
            #expect(try await batch.execute(on: c).map { try $0.get() } == Array(17...32))
            batch.removeAll()
            #expect(batch.count == 0)
            #expect(try await batch.execute(on: c).isEmpty)
            batch.add(arguments: [Array("DECRBY".utf8), Array(k.utf8), Array("2".utf8)])
            #expect(try await batch.execute(on: c).map { try $0.get() } == [30])
        }
    }

    /// Values far larger than one read: each reply arrives over many reads, and the decoder
    /// waits for the whole frame.
    @Test func repliesSplitOverManyReads() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try await c.send("SET", k, big)
            var batch = TypedBatch<[UInt8]?>()
            for _ in 0..<4 { batch.add("GET", k) }
            batch.add("GET", k + ":missing")
            #expect(try await batch.execute(on: c).map { try $0.get() } == [big, big, big, big, nil])
        }
    }

    /// RESP3 pushes arriving between a batch's replies (a tracking connection's invalidations
    /// of its own writes, which Redis sends before the write's reply) are not taken as replies.
    @Test func pushesBetweenRepliesAreSkipped() async throws {
        let connection = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        guard connection.protocolVersion == 3 else { await connection.close(); return }
        let k = uniqueKey()
        try await connection.send("CLIENT", "TRACKING", "ON")
        try await connection.send("SET", k, "one")
        var batch = TypedBatch<String?>()
        batch.add("GET", k)  // tracked from here
        batch.add("SET", k, "two")  // invalidates it: a push before the reply
        batch.add("GET", k)
        batch.add("SET", k, "three")
        batch.add("GET", k)
        #expect(try await batch.execute(on: connection).map { try $0.get() } == ["one", "OK", "two", "OK", "three"])
        #expect(try await connection.send("ECHO", "after").string() == "after")
        await connection.close()
    }

    @Test func droppedConnectionFailsEveryPendingBatch() async throws {
        let victim = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let killer = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let id = try await victim.send("CLIENT", "ID").int()
        let key = uniqueKey()
        // A batch whose first command blocks, so its other replies are still to come.
        var blocking = TypedBatch<String?>()
        blocking.add("BLPOP", key, 5)
        for i in 0..<50 { blocking.add("ECHO", i) }
        async let outcome: Result<[Result<String?, any Error>], any Error> = {
            do { return .success(try await blocking.execute(on: victim)) } catch { return .failure(error) }
        }()
        try await waitUntilBlocked(clientID: id, using: killer)
        // Queued behind the blocked BLPOP, so pending too when the connection drops.
        var behind = TypedBatch<Int>()
        for _ in 0..<16 { behind.add("INCR", key + ":other") }
        async let second: Result<[Result<Int, any Error>], any Error> = {
            do { return .success(try await behind.execute(on: victim)) } catch { return .failure(error) }
        }()
        async let single: Result<Int, any Error> = {
            do { return .success(try await victim.incr(key + ":single")) } catch { return .failure(error) }
        }()
        #expect(try await killer.send("CLIENT", "KILL", "ID", id).int() == 1)
        guard case .failure(let error) = await outcome else { Issue.record("the batch succeeded"); return }
        #expect(error as? RedisClientError == .connectionClosed)
        guard case .failure(let other) = await second else { Issue.record("the second batch succeeded"); return }
        #expect(other as? RedisClientError == .connectionClosed)
        guard case .failure(let third) = await single else { Issue.record("the command succeeded"); return }
        #expect(third as? RedisClientError == .connectionClosed)
        // Later batches fail at once rather than hang.
        await #expect(throws: RedisClientError.connectionClosed) { try await behind.execute(on: victim) }
        await killer.close()
    }

    /// A cancelled batch gets `CancellationError` at once; its replies are read and dropped,
    /// and the requests after it get their own.
    @Test func cancelledBatchKeepsTheConnectionInStep() async throws {
        let victim = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let helper = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let id = try await victim.send("CLIENT", "ID").int()
        let key = uniqueKey()
        var blocking = TypedBatch<String?>()
        blocking.add("ECHO", "first")
        blocking.add("BLPOP", key, 20)
        blocking.add("ECHO", "last")
        let batch = Task { try await blocking.execute(on: victim) }
        try await waitUntilBlocked(clientID: id, using: helper)
        var after = TypedBatch<String>()
        after.add("ECHO", "one")
        after.add("ECHO", "two")
        async let next = after.execute(on: victim)
        async let single = victim.send("INCR", key + ":n")
        batch.cancel()
        await #expect(throws: CancellationError.self) { try await batch.value }
        try await helper.send("RPUSH", key, "item")
        #expect(try await next.map { try $0.get() } == ["one", "two"])
        #expect(try await single.int() == 1)
        #expect(try await helper.send("LLEN", key).int() == 0)
        // A task cancelled before it sends: nothing reaches the server.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            var batch = TypedBatch<Int>()
            batch.add("INCR", key + ":early")
            return try await batch.execute(on: victim)
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(try await victim.send("EXISTS", key + ":early").int() == 0)
        await victim.close()
        await helper.close()
    }

    /// A runner that implements only the protocol's requirements gets the default, which sends
    /// the batch's commands through `pipeline(_:)`: the same results as the direct path.
    @Test func defaultImplementationMatchesTheDirectPath() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            var batch = TypedBatch<String?>()
            batch.add("SET", k, "v\r\n" + String(repeating: "é", count: 20))
            batch.add("GET", k)
            batch.add("GET", k + ":missing")
            batch.add("LPUSH", k, "x")
            batch.add(arguments: [Array("ECHO".utf8), []])
            let direct = try await batch.execute(on: c)
            let viaDefault = try await batch.execute(on: Forwarding(base: c))
            #expect(direct.count == 5 && viaDefault.count == 5)
            for (a, b) in zip(direct, viaDefault) {
                switch (a, b) {
                case (.success(let x), .success(let y)): #expect(x == y)
                case (.failure(let x), .failure(let y)): #expect(x as? RedisError == y as? RedisError)
                default: Issue.record("\(a) against \(b)")
                }
            }
            #expect(try viaDefault[1].get() == "v\r\n" + String(repeating: "é", count: 20))
            #expect(try viaDefault[4].get() == "")
        }
    }
}

/// A runner of its own kind: only the protocol's requirements, forwarded.
private struct Forwarding: RedisCommandRunner {
    let base: RedisClient

    func send(arguments: [[UInt8]]) async throws -> RESPValue { try await base.send(arguments: arguments) }

    func send(_ command: String, arguments: [any RedisArgument]) async throws -> RESPValue {
        try await base.send(command, arguments: arguments)
    }

    func pipeline(_ commands: [[[UInt8]]]) async throws -> [Result<RESPValue, RedisError>] {
        try await base.pipeline(commands)
    }

    func withDedicatedConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        try await base.withDedicatedConnection(body)
    }

    func capabilities() async throws -> ServerCapabilities { try await base.capabilities() }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

@Suite(.timeLimit(.minutes(1))) struct MalformedReplyTests {
    /// A reply that is not RESP in the middle of a batch's replies fails the batch with
    /// `protocolError` and closes the connection: nothing waits on.
    @Test func malformedReplyMidBatchFailsEveryPendingRequest() async throws {
        try await withScriptedServer(reply: Array("+OK\r\n$1\r\nx\r\n!nonsense\r\n".utf8)) { port in
            var configuration = ConnectionConfiguration(port: port)
            configuration.protocolPreference = .resp2  // no handshake: the first read is the batch
            configuration.commandTimeout = .seconds(10)
            let connection = try await RedisConnection.connect(configuration: configuration)
            var batch = TypedBatch<String?>()
            for _ in 0..<4 { batch.add("GET", "k") }
            do {
                _ = try await batch.execute(on: connection)
                Issue.record("the batch succeeded")
            } catch RedisClientError.protocolError {
            }
            // Later requests fail at once, with the same error (the connection is being closed).
            do {
                try await connection.send("PING")
                Issue.record("a request after the failure succeeded")
            } catch RedisClientError.protocolError {
            }
            await connection.close()
        }
    }

    /// Runs `body` with a TCP server on a free loopback port that answers its first read with
    /// `reply` and then waits for the client to close.
    private func withScriptedServer(reply: [UInt8], _ body: (Int) async throws -> Void) async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let served = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { served.signal() }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            guard read(client, &buffer, buffer.count) > 0 else { return }
            _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            while read(client, &buffer, buffer.count) > 0 {}
        }
        try await body(port)
        // The client closed its connection, so the server's thread ends.
        #expect(served.wait(timeout: .now() + 5) == .success)
    }
}
