/// Each pattern's behaviour on its own (the contention tests put them under load).
import AtollClient
import Testing

@Suite(.timeLimit(.minutes(1))) struct PatternTests {
    @Test func optimisticTransactionCommitsAndReturnsResults() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            try await c.set(k, 10)
            let (old, results) = try await c.optimisticTransaction(watching: [k]) { tx in
                let value = try await tx.connection.get(k).flatMap { Int($0) } ?? 0
                tx.queue("SET", k, value * 2)
                return value
            }
            #expect(old == 10)
            #expect(results.count == 1)
            #expect(try await c.get(k) == "20")
        }
    }

    @Test func optimisticTransactionRetriesAfterAConcurrentWrite() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            try await c.set(k, 1)
            let (attempts, _) = try await c.optimisticTransaction(watching: [k]) { tx in
                let value = try await tx.connection.get(k).flatMap { Int($0) } ?? 0
                // Another client changes the key between the read and EXEC, once.
                if tx.number == 1 { try await c.set(k, 100) }
                tx.queue("SET", k, value + 1)
                return tx.number
            }
            #expect(attempts == 2)
            #expect(try await c.get(k) == "101")
        }
    }

    @Test func optimisticTransactionSaysWhenItGaveUp() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            await #expect(throws: RedisClientError.transactionAborted(attempts: 3)) {
                _ = try await c.optimisticTransaction(watching: [k], maxAttempts: 3) { tx in
                    try await c.incr(k)
                    tx.queue("SET", k, 0)
                }
            }
            #expect(try await c.get(k) == "3")
        }
    }

    @Test func optimisticTransactionUnwatchesWhenTheClosureThrows() async throws {
        struct Declined: Error {}
        let connection = try await RedisConnection.connect(configuration: TestServer.connectionConfiguration())
        let k = uniqueKey()
        await #expect(throws: Declined.self) {
            _ = try await connection.optimisticTransaction(watching: [k]) { _ in throw Declined() }
        }
        // Were the key still watched, this EXEC would abort after the write below.
        let other = TestServer.client()
        try await other.set(k, "changed")
        #expect(try await connection.transaction([["GET", k].map { Array($0.utf8) }]) != nil)
        await other.close()
        await connection.close()
    }

    @Test func scriptRunsByShaAndFallsBackToEval() async throws {
        try await withTestClient { c async throws in
            let script = Script("return 'script-\(uniqueKey())'")
            #expect(try await c.scriptExists([script.sha1]) == [false])
            // (Other tests flush the script cache meanwhile, so whether it is cached now is not
            // asserted; the run must succeed either way.)
            #expect(try await c.run(script).string()?.hasPrefix("script-") == true)
            try await c.load(script)
            #expect(try await c.scriptLoad(script.source) == script.sha1)
        }
    }

    @Test func batchesFallBackToEvalPerScript() async throws {
        try await withTestClient { c async throws in
            let k = uniqueKey()
            let script = Script("return redis.call('INCRBY', KEYS[1], ARGV[1]) -- \(k)")
            var batch = Batch()
            batch.run(script, keys: [k], arguments: [2])
            batch.add("GET", k)
            batch.run(script, keys: [k], arguments: [3])
            let results = try await batch.execute(on: c)
            #expect(try results[0].get().int() == 2)
            // The GET ran before the reruns (the batch's own order is kept for other commands).
            #expect(try results[1].get().string() == nil)
            #expect(try results[2].get().int() == 5)
        }
    }

    @Test func functionLibraryIsLoadedOnFirstCall() async throws {
        try await withTestClient { c async throws in
            let name = "lib_" + String(UInt64.random(in: 0...UInt64.max))
            let library = FunctionLibrary("#!lua name=\(name)\nredis.register_function('\(name)_twice', function(keys, args) return args[1] * 2 end)")
            #expect(try await c.call("\(name)_twice", in: library, arguments: [21]).int() == 42)
            #expect(try await c.call("\(name)_twice", in: library, arguments: [5]).int() == 10)
            try await c.functionDelete(name)
        }
    }

    @Test(arguments: [ConnectionConfiguration.ProtocolPreference.resp3, .resp2])
    func compareAndSwapAndDelete(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let k = uniqueKey()
            #expect(try await !c.compareAndSwap(k, expected: "a", newValue: "b"))
            try await c.set(k, "a")
            #expect(try await c.compareAndSwap(k, expected: "a", newValue: "b"))
            #expect(try await !c.compareAndSwap(k, expected: "a", newValue: "c"))
            #expect(try await c.get(k) == "b")
            #expect(try await !c.compareAndDelete(k, expected: "a"))
            #expect(try await c.compareAndExpire(k, expected: "b", ttl: .seconds(20)))
            #expect(try await !c.compareAndExpire(k, expected: "x", ttl: .seconds(90)))
            #expect(try await c.ttl(k)! <= .seconds(20))
            #expect(try await c.compareAndDelete(k, expected: "b"))
            #expect(try await c.exists(k) == 0)
        }
    }

    @Test func capabilitiesMatchTheServer() async throws {
        try await withTestClient { c async throws in
            let native = try await c.capabilities().compareAndSet
            // Atoll has SET IFEQ / DELEX; Redis 7.0 has neither.
            let version = try await c.send("INFO", "server").string() ?? ""
            #expect(native == version.contains("atoll") || native == !version.contains("redis_version:7."))
        }
    }

    @Test func transfersKeepTheFloor() async throws {
        try await withTestClient { c async throws in
            let a = uniqueKey(), b = uniqueKey()
            try await c.set(a, 100)
            #expect(try await c.transfer(from: a, to: b, amount: 60))
            #expect(try await !c.transfer(from: a, to: b, amount: 60))
            #expect(try await c.transfer(from: a, to: b, amount: 50, floor: -10))
            #expect(try await c.get(a) == "-10")
            #expect(try await c.get(b) == "110")
        }
    }

    @Test func cappedIncrementInventoryAndSetIfGreater() async throws {
        try await withTestClient { c async throws in
            let n = uniqueKey(), stock = uniqueKey(), best = uniqueKey()
            #expect(try await c.cappedIncrement(n, by: 3, cap: 5) == 3)
            #expect(try await c.cappedIncrement(n, by: 3, cap: 5) == nil)
            #expect(try await c.cappedIncrement(n, by: 2, cap: 5) == 5)
            try await c.set(stock, 3)
            #expect(try await c.decrementInventory(stock, by: 2) == 1)
            #expect(try await c.decrementInventory(stock, by: 2) == nil)
            #expect(try await c.get(stock) == "1")
            #expect(try await c.setIfGreater(best, 10))
            #expect(try await !c.setIfGreater(best, 5))
            #expect(try await c.setIfGreater(best, 12.5))
            #expect(try await c.get(best) == "12.5")
        }
    }

    @Test func idempotencyRunsOnce() async throws {
        try await withTestClient { c async throws in
            let id = uniqueKey()
            #expect(try await c.runOnce(requestID: id, ttl: .seconds(60)) { "charged" } == .performed("charged"))
            #expect(try await c.runOnce(requestID: id, ttl: .seconds(60)) { "again" } == .stored("charged"))
            struct Failed: Error {}
            let other = uniqueKey()
            await #expect(throws: Failed.self) {
                _ = try await c.runOnce(requestID: other, ttl: .seconds(60)) { throw Failed() }
            }
            // The failed attempt left no claim behind: a retry runs.
            #expect(try await c.runOnce(requestID: other, ttl: .seconds(60)) { "ok" } == .performed("ok"))
        }
    }

    @Test func idempotencyReportsInProgress() async throws {
        try await withTestClient { c async throws in
            let id = uniqueKey()
            let outcome = try await c.runOnce(requestID: id, ttl: .seconds(60)) {
                // A retry arriving while the first call still runs.
                let inner = try await c.runOnce(requestID: id, ttl: .seconds(60)) { "second" }
                #expect(inner == .inProgress)
                return "first"
            }
            #expect(outcome == .performed("first"))
        }
    }

    @Test func lockIsExclusiveAndOwnerOnly() async throws {
        try await withTestClient { c async throws in
            let key = uniqueKey()
            let lock = try #require(try await c.acquireLock(key, ttl: .seconds(10)))
            #expect(try await c.acquireLock(key, ttl: .seconds(10), waitingAtMost: .milliseconds(30)) == nil)
            let impostor = DistributedLock(key: key, token: "not-the-owner", ttl: .seconds(1))
            #expect(try await !c.release(impostor))
            #expect(try await !c.extend(impostor, ttl: .seconds(100)))
            #expect(try await c.extend(lock, ttl: .seconds(100)))
            #expect(try await c.ttl(key)! > .seconds(50))
            #expect(try await c.release(lock))
            #expect(try await !c.release(lock))
            let value = try await c.withLock(key, ttl: .seconds(5), waitingAtMost: .seconds(1)) { held async throws in
                #expect(try await c.get(key) == held.token)
                return 7
            }
            #expect(value == 7)
            #expect(try await c.exists(key) == 0)
        }
    }

    @Test func withLockThrowsWhenTheLockStaysTaken() async throws {
        try await withTestClient { c async throws in
            let key = uniqueKey()
            try await c.set(key, "someone else")
            await #expect(throws: RedisClientError.lockNotAcquired(key: key)) {
                try await c.withLock(key, ttl: .seconds(1), waitingAtMost: .milliseconds(50)) { _ in }
            }
        }
    }

    @Test func shadowKeySwapReplacesAtOnce() async throws {
        try await withTestClient { c async throws in
            let board = uniqueKey()
            try await c.zadd(board, [(1, "old")])
            try await c.rebuild(board) { temporary in
                #expect(HashSlot.sameSlot([board, temporary]))
                try await c.zadd(temporary, [(5, "new"), (6, "newer")])
                #expect(try await c.zrange(board, 0, -1) == ["old"])
            }
            #expect(try await c.zrange(board, 0, -1) == ["new", "newer"])
            struct Broken: Error {}
            await #expect(throws: Broken.self) {
                try await c.rebuild(board) { temporary in
                    try await c.zadd(temporary, [(9, "half")])
                    throw Broken()
                }
            }
            #expect(try await c.zrange(board, 0, -1) == ["new", "newer"])

            let source = uniqueKey(), published = uniqueKey()
            try await c.set(source, "v2")
            try await c.set(published, "v1")
            try await c.publishCopy(of: source, to: published, ttl: .seconds(30))
            #expect(try await c.get(published) == "v2")
            #expect(try await c.ttl(published)! <= .seconds(30))
            #expect(try await c.ttl(source) == nil)
        }
    }

    @Test func rateLimitersAdmitTheirBudget() async throws {
        try await withTestClient { c async throws in
            let window = SlidingWindowRateLimiter(limit: 3, window: .seconds(60))
            let key = uniqueKey()
            var admitted: [Bool] = []
            for _ in 0..<5 { admitted.append(try await window.admit(key, on: c)) }
            #expect(admitted == [true, true, true, false, false])
            #expect(try await c.zcard(key) == 3)

            let bucket = TokenBucketRateLimiter(capacity: 4, refillPerSecond: 0.001)
            let bucketKey = uniqueKey()
            #expect(try await bucket.admit(bucketKey, cost: 3, on: c))
            #expect(try await !bucket.admit(bucketKey, cost: 3, on: c))
            #expect(try await bucket.admit(bucketKey, on: c))
            #expect(try await !bucket.admit(bucketKey, on: c))
        }
    }

    @Test func reliableQueueAcknowledgesAndRequeues() async throws {
        try await withTestClient { c async throws in
            let queue = ReliableQueue(name: uniqueKey(), visibilityTimeout: .seconds(1))
            try await queue.push(["a", "b"], on: c)
            let clock = ContinuousClock()
            let leased = clock.now
            #expect(try await queue.receive(waitingAtMost: .zero, on: c) == "a")
            #expect(try await queue.receive(waitingAtMost: .zero, on: c) == "b")
            #expect(try await queue.receive(waitingAtMost: .milliseconds(50), on: c) == nil)
            #expect(try await queue.acknowledge("a", on: c))
            #expect(try await !queue.acknowledge("a", on: c))
            var requeued = try await queue.requeueExpired(on: c)
            // Nothing comes back before the lease runs out (on a machine slow enough to take
            // the whole second to get here, "b" may already have come back, once).
            if clock.now - leased < .milliseconds(900) { #expect(requeued == 0) }
            // "b" was never acknowledged: once its lease runs out it comes back.
            let deadline = clock.now + .seconds(5)
            while requeued == 0 && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                requeued = try await queue.requeueExpired(on: c)
            }
            #expect(requeued == 1)
            #expect(try await queue.receive(waitingAtMost: .milliseconds(100), on: c) == "b")
            #expect(try await queue.acknowledge("b", on: c))
            let counts = try await queue.counts(on: c)
            #expect(counts.pending == 0 && counts.processing == 0)
        }
    }

    @Test func reliableQueueWaitsWithBlmove() async throws {
        try await withTestClient { c async throws in
            let queue = ReliableQueue(name: uniqueKey(), visibilityTimeout: .seconds(10))
            async let received = queue.receive(waitingAtMost: .seconds(5), on: c)
            // Push only once a BLMOVE is waiting (bounded), so the blocking path is the one tested.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(5)
            while clock.now < deadline, !(try await c.send("CLIENT", "LIST").string() ?? "").contains("cmd=blmove") {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await queue.push(["late"], on: c)
            #expect(try await received == "late")
            // The BLMOVE path leases the item too: it is not requeued before its timeout.
            #expect(try await queue.requeueExpired(on: c) == 0)
            #expect(try await queue.acknowledge("late", on: c))
        }
    }
}
