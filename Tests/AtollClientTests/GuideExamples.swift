/// The examples of docs/CLIENT.md, compiled here: `GuideTests` checks that every Swift block of
/// the guide appears in this file word for word, and runs each example against the test server.
import AtollClient
import AtollTesting
import NIOSSL

// MARK: - Connecting

func connectAndGreet(url: String) async throws -> String? {
    let client = RedisClient(url: url)!  // redis://[user:password@]host:port/db
    try await client.set("guide:greeting", "hello", expiration: .after(.seconds(60)))
    let greeting = try await client.get("guide:greeting")
    let length = try await client.send("STRLEN", "guide:greeting").int()  // any command, any reply
    precondition(length == 5)
    await client.close()
    return greeting
}

func writeInOneBatch(_ client: RedisClient) async throws -> Int {
    var batch = Batch()
    for i in 0..<16 { batch.add("SET", "guide:batch:\(i)", i) }
    batch.add("MGET", "guide:batch:0", "guide:batch:15")
    let results = try await batch.execute(on: client)  // one write, 17 replies
    return try results[16].get().array().count
}

func readPrices(_ client: RedisClient, ids: [Int]) async throws -> [Int?] {
    var batch = TypedBatch<Int?>()  // every reply read as an Int? (nil for a missing key)
    for id in ids { batch.add("GET", "guide:price:\(id)") }
    let replies = try await batch.execute(on: client)  // one write; Result<Int?, any Error> each
    return try replies.map { try $0.get() }
}

struct Temperature: RedisReplyDecodable {  // a type of your own
    var celsius: Double

    init(reply: RawReply) throws {
        celsius = try Double(reply: reply)
    }
}

// MARK: - TLS

func connectWithTLS(port: Int, caFile: String) async throws -> String? {
    var configuration = ConnectionConfiguration(url: "rediss://127.0.0.1:\(port)")!
    configuration.tls?.trustRoots = .file(caFile)  // the CA that signed the server's certificate
    let client = RedisClient(configuration: RedisClientConfiguration(connection: configuration))
    let pong = try await client.send("PING").string()
    await client.close()
    return pong
}

// MARK: - Optimistic transactions

func addInterest(_ client: RedisClient, account: String) async throws -> Int {
    let (newBalance, _) = try await client.optimisticTransaction(watching: [account], maxAttempts: 10) { tx in
        let balance = Int(try await tx.connection.get(account) ?? "0")!
        let updated = balance + balance / 100
        tx.queue("SET", account, updated)
        return updated
    }
    return newBalance  // after 10 aborted attempts: RedisClientError.transactionAborted(attempts: 10)
}

// MARK: - Scripts and functions

let incrementBy = Script("return redis.call('INCRBY', KEYS[1], ARGV[1])")

func countVisit(_ client: RedisClient, page: String) async throws -> Int {
    try await client.run(incrementBy, keys: ["guide:visits:" + page], arguments: [1]).int()
}

let greetings = FunctionLibrary("""
    #!lua name=guide_greetings
    redis.register_function('guide_hello', function(keys, args) return 'hello ' .. args[1] end)
    """)

func greet(_ client: RedisClient, name: String) async throws -> String? {
    try await client.call("guide_hello", in: greetings, arguments: [name]).string()
}

// MARK: - Compare-and-swap

func renameIfUnchanged(_ client: RedisClient, user: String, from old: String, to new: String) async throws -> Bool {
    try await client.compareAndSwap("guide:user:" + user + ":name", expected: old, newValue: new)
}

// MARK: - Counters

func counters(_ client: RedisClient) async throws -> (moved: Bool, seats: Int?, stock: Int?, best: Bool, old: String?) {
    try await client.set("guide:alice", 100)
    let moved = try await client.transfer(from: "guide:alice", to: "guide:bob", amount: 30, floor: 0)
    let seats = try await client.cappedIncrement("guide:seats", by: 2, cap: 10)  // nil once full
    try await client.set("guide:stock", 5)
    let stock = try await client.decrementInventory("guide:stock", by: 2)  // nil when short
    let best = try await client.setIfGreater("guide:high-score", 4200)
    let old = try await client.getSet("guide:session", "new-token", expiration: .after(.seconds(30)))
    return (moved, seats, stock, best, old)
}

// MARK: - Idempotency

func charge(_ client: RedisClient, requestID: String) async throws -> IdempotentOutcome {
    try await client.runOnce(requestID: requestID, ttl: .seconds(24 * 3600)) {
        // ... call the payment provider once ...
        "receipt-123"
    }
}

// MARK: - Rate limiters

let perUser = SlidingWindowRateLimiter(limit: 100, window: .seconds(60))
let outbound = TokenBucketRateLimiter(capacity: 20, refillPerSecond: 5)

func mayCall(_ client: RedisClient, user: String) async throws -> Bool {
    guard try await perUser.admit("guide:rate:" + user, on: client) else { return false }
    return try await outbound.admit("guide:bucket:partner-api", on: client)
}

// MARK: - Locks

func runNightlyJob(_ client: RedisClient) async throws -> String {
    try await client.withLock("guide:lock:nightly", ttl: .seconds(30), waitingAtMost: .seconds(5)) { lock in
        // ... the job; for work longer than the TTL: try await client.extend(lock, ttl: .seconds(30))
        "done by \(lock.token.prefix(8))"
    }
}

// MARK: - Reliable queues

let jobs = ReliableQueue(name: "guide:jobs", visibilityTimeout: .seconds(30))

func work(_ client: RedisClient) async throws -> [String] {
    try await jobs.push(["job-1", "job-2"], on: client)
    var done: [String] = []
    while let job = try await jobs.receive(waitingAtMost: .milliseconds(100), on: client) {
        done.append(job)  // ... process it ...
        try await jobs.acknowledge(job, on: client)
    }
    try await jobs.requeueExpired(on: client)  // run periodically: returns jobs of crashed workers
    return done
}

// MARK: - Shadow-key swaps

func rebuildLeaderboard(_ client: RedisClient, scores: [(score: Double, member: String)]) async throws {
    try await client.rebuild("guide:leaderboard") { temporary in
        try await client.zadd(temporary, scores)  // readers still see the old board
    }
    try await client.set("guide:config:draft", "v2")
    try await client.publishCopy(of: "guide:config:draft", to: "guide:config", ttl: .seconds(3600))
}

// MARK: - Hash tags

func cartKeys(user: Int) -> [String] {
    let keys = ["{user:\(user)}:cart", "{user:\(user)}:orders"]
    precondition(HashSlot.sameSlot(keys))  // both hash "user:<n>": one slot, one transaction
    return keys
}

// MARK: - Pub/Sub

func firstNews(_ client: RedisClient) async throws -> String? {
    let subscriber = try await client.makeSubscriber()
    try await subscriber.subscribe(to: ["guide:news"])
    try await client.send("PUBLISH", "guide:news", "launch at noon")
    var messages = subscriber.messages.makeAsyncIterator()
    let first = try await messages.next()  // PubSubMessage(channel: "guide:news", ...)
    try await subscriber.unsubscribe()
    await subscriber.close()
    return first?.text
}

// MARK: - Testing with an embedded server

func withEmbeddedAtoll() async throws -> String? {
    let server = try EmbeddedAtoll()  // an in-process Atoll on a free port
    defer { server.stop() }
    let client = RedisClient(url: server.url)!
    try await client.set("k", "v")
    let value = try await client.get("k")
    await client.close()
    return value
}
