/// The patterns under concurrency: many tasks on one server, and an exact invariant checked
/// at the end of each.
import AtollClient
import AtollTestSupport
import NIOConcurrencyHelpers
import Testing

@Suite(.timeLimit(.minutes(2))) struct ContentionTests {
    @Test func fiftyTasksIncrementOneCounterByTransaction() async throws {
        try await withTestClient { c async throws in
            let counter = uniqueKey()
            let perTask = 4
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        for _ in 0..<perTask {
                            _ = try await c.optimisticTransaction(watching: [counter], maxAttempts: 1000) { tx in
                                let value = try await tx.connection.get(counter).flatMap { Int($0) } ?? 0
                                tx.queue("SET", counter, value + 1)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await c.get(counter) == String(50 * perTask))
        }
    }

    @Test func fiftyTasksTransferAmongTenAccountsConservingTheSum() async throws {
        try await withTestClient { c async throws in
            let accounts = (0..<10).map { _ in uniqueKey() }
            for account in accounts { try await c.set(account, 100) }
            let moved = NIOLockedValueBox(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask {
                        var generator = SplitMix64(seed: UInt64(task))
                        for _ in 0..<20 {
                            let from = accounts[Int(generator.next() % 10)], to = accounts[Int(generator.next() % 10)]
                            if try await c.transfer(from: from, to: to, amount: Int(generator.next() % 40) + 1) {
                                moved.withLockedValue { $0 += 1 }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let balances = try await c.mget(accounts).map { Int($0 ?? "0")! }
            #expect(balances.reduce(0, +) == 1000)
            #expect(balances.allSatisfy { $0 >= 0 })
            #expect(moved.withLockedValue { $0 } > 0)
        }
    }

    @Test func twentyTasksNeverHoldTheLockTogether() async throws {
        try await withTestClient { c async throws in
            let key = uniqueKey()
            let holders = NIOLockedValueBox(0)
            let overlaps = NIOLockedValueBox(0)
            let entered = NIOLockedValueBox(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        for _ in 0..<3 {
                            try await c.withLock(key, ttl: .seconds(10), waitingAtMost: .seconds(60)) { _ in
                                let inside = holders.withLockedValue { $0 += 1; return $0 }
                                if inside > 1 { overlaps.withLockedValue { $0 += 1 } }
                                entered.withLockedValue { $0 += 1 }
                                // Hold it across a round trip, so another holder would be seen.
                                try await c.send("PING")
                                holders.withLockedValue { $0 -= 1 }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(overlaps.withLockedValue { $0 } == 0)
            #expect(entered.withLockedValue { $0 } == 60)
        }
    }

    @Test func rateLimitersAdmitExactlyTheirBudgetUnderConcurrency() async throws {
        try await withTestClient { c async throws in
            let window = SlidingWindowRateLimiter(limit: 37, window: .seconds(60))
            let bucket = TokenBucketRateLimiter(capacity: 23, refillPerSecond: 0.0001)
            let windowKey = uniqueKey(), bucketKey = uniqueKey()
            let admitted = NIOLockedValueBox((window: 0, bucket: 0))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        for _ in 0..<4 {
                            if try await window.admit(windowKey, on: c) { admitted.withLockedValue { $0.window += 1 } }
                            if try await bucket.admit(bucketKey, on: c) { admitted.withLockedValue { $0.bucket += 1 } }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = admitted.withLockedValue { $0 }
            #expect(counts.window == 37)
            #expect(counts.bucket == 23)
        }
    }

    @Test func reliableQueueDeliversEveryItemOnceWhileConsumersAreCancelled() async throws {
        try await withTestClient { c async throws in
            let queue = ReliableQueue(name: uniqueKey(), visibilityTimeout: .milliseconds(300))
            let items = (0..<200).map { "item-\($0)" }
            try await queue.push(items, on: c)
            let acknowledged = NIOLockedValueBox([String: Int]())
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(60)
            var generator = SplitMix64(seed: 7)
            var cancelled = 0
            // Rounds of 8 consumers; each round some are cancelled at a random point, which
            // leaves the item they held unacknowledged until the requeue returns it.
            while acknowledged.withLockedValue({ $0.count }) < items.count, clock.now < deadline {
                var consumers: [Task<Void, any Error>] = []
                for _ in 0..<8 {
                    consumers.append(Task {
                        while !Task.isCancelled {
                            guard let item = try await queue.receive(waitingAtMost: .milliseconds(50), on: c) else { return }
                            try Task.checkCancellation()  // a consumer cancelled here drops its item
                            if try await queue.acknowledge(item, on: c) {
                                acknowledged.withLockedValue { $0[item, default: 0] += 1 }
                            }
                        }
                    })
                }
                for consumer in consumers where generator.next() % 3 == 0 {
                    consumer.cancel()
                    cancelled += 1
                }
                for consumer in consumers { _ = await consumer.result }
                try await queue.requeueExpired(on: c)
                try await Task.sleep(for: .milliseconds(20))
            }
            let counts = acknowledged.withLockedValue { $0 }
            #expect(cancelled > 0)
            #expect(counts.count == items.count)
            #expect(counts.values.allSatisfy { $0 == 1 })
            let left = try await queue.counts(on: c)
            #expect(left.pending == 0 && left.processing == 0)
        }
    }
}
