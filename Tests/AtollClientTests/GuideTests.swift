/// docs/CLIENT.md is true to the code: each of its Swift blocks is in GuideExamples.swift (so
/// it compiles), and each example runs here with its result checked.
import AtollClient
import Foundation
import Testing

@Suite(.serialized, .timeLimit(.minutes(1))) struct GuideTests {
    @Test func everyGuideBlockIsCompiledHere() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let guide = try String(contentsOf: tests.appendingPathComponent("../../docs/CLIENT.md"), encoding: .utf8)
        let examples = try String(contentsOf: tests.appendingPathComponent("GuideExamples.swift"), encoding: .utf8)
        let blocks = guide.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count == 15)
        for block in blocks {
            #expect(examples.contains(block), "not in GuideExamples.swift:\n\(block)")
        }
    }

    @Test func tlsExampleRuns() async throws {
        try await withTLSServer { port, certificates async throws in
            #expect(try await connectWithTLS(port: port, caFile: certificates.ca) == "PONG")
        }
    }

    @Test func examplesRun() async throws {
        #expect(try await connectAndGreet(url: TestServer.url) == "hello")
        try await withTestClient { client async throws in
            try await client.del("guide:alice", "guide:bob", "guide:seats", "guide:stock", "guide:high-score",
                                 "guide:session", "guide:account", "{guide:jobs}:pending", "{guide:jobs}:processing",
                                 "{guide:jobs}:leases", "guide:leaderboard", "guide:visits:home")
            #expect(try await writeInOneBatch(client) == 2)
            try await client.set("guide:price:1", 250)
            try await client.del("guide:price:2")
            #expect(try await readPrices(client, ids: [1, 2]) == [250, nil])
            var temperatures = TypedBatch<Temperature>()
            temperatures.add("ECHO", "21.5")
            #expect(try await temperatures.execute(on: client)[0].get().celsius == 21.5)
            try await client.set("guide:account", 1000)
            #expect(try await addInterest(client, account: "guide:account") == 1010)
            #expect(try await countVisit(client, page: "home") == 1)
            #expect(try await greet(client, name: "Ada") == "hello Ada")
            try await client.set("guide:user:7:name", "ada")
            #expect(try await renameIfUnchanged(client, user: "7", from: "ada", to: "Ada"))
            #expect(try await !renameIfUnchanged(client, user: "7", from: "ada", to: "ADA"))
            let c = try await counters(client)
            #expect(c.moved && c.seats == 2 && c.stock == 3 && c.best && c.old == nil)
            let id = "guide-" + UUID().uuidString
            #expect(try await charge(client, requestID: id) == .performed("receipt-123"))
            #expect(try await charge(client, requestID: id) == .stored("receipt-123"))
            #expect(try await mayCall(client, user: "ada"))
            #expect(try await runNightlyJob(client).hasPrefix("done by "))
            #expect(try await work(client) == ["job-1", "job-2"])
            try await rebuildLeaderboard(client, scores: [(1, "a"), (2, "b")])
            #expect(try await client.zrange("guide:leaderboard", 0, -1) == ["a", "b"])
            #expect(try await client.get("guide:config") == "v2")
            #expect(cartKeys(user: 42).count == 2)
            #expect(try await withEmbeddedAtoll() == "v")
            #expect(try await firstNews(client) == "launch at noon")
        }
    }
}
