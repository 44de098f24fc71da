/// GET and SET through AtollClient from many concurrent tasks, unpipelined and in explicit
/// batches, printing ops/s in the shape redis-benchmark's `-q` does, so scripts/bench_client.sh
/// can set the two side by side.
///
/// Usage: atoll-client-bench <port> [tasks=50] [requests=200000] [batch=1] [tests=set,get]
///
/// Batches are `TypedBatch`es (SET's replies read as `String`, GET's as `String?`, what `get`
/// returns), as an application would send them; `ATOLL_BENCH_GET_BYTES=1` reads GET's as
/// `[UInt8]?`, and `ATOLL_BENCH_UNTYPED_BATCHES=1` sends batches through `pipeline` of
/// argument lists instead, replies as `RESPValue`s.
///
/// `ATOLL_BENCH_ON_EVENT_LOOPS=1` runs the tasks on the client's event loops (task `i` prefers
/// the `EventLoopTaskExecutor` of loop `i` modulo the loops), as handlers of a SwiftNIO server
/// would call the client: requests and replies then cross no thread.
///
/// The main thread is synchronous and waits on a semaphore for the benchmark's task: an async
/// `main` parks the main thread in libdispatch's `dispatch_main`, where valgrind 3.19 crashes,
/// and the instruction counts of docs/BENCHMARKS.md come from callgrind.
import AtollClient
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to run, from the command line.
struct Settings: Sendable {
    var port: Int
    var tasks: Int
    var requests: Int
    var batch: Int
    /// Which of `set` and `get` to run, in that order.
    var tests: Set<String>
    /// Batches through `pipeline` of argument lists (the API before `TypedBatch`), for
    /// comparisons: set by `ATOLL_BENCH_UNTYPED_BATCHES=1`.
    var untypedBatches: Bool
    /// GET's replies read as `[UInt8]?` (one allocation per value) rather than `String?` (none
    /// for a value of up to 15 bytes): set by `ATOLL_BENCH_GET_BYTES=1`.
    var getAsBytes: Bool
    /// The executors the tasks prefer, round robin (none: the global executor): the event loops'
    /// when `ATOLL_BENCH_ON_EVENT_LOOPS=1`.
    var executors: [EventLoopTaskExecutor]
}

/// Runs `settings.requests` times `command` from `settings.tasks` tasks; returns ops/s. The
/// command (and the batch of it) is built once, as redis-benchmark prepares its buffer once,
/// so what is timed is the client's own work: encoding, writing, matching and decoding replies.
/// Batches are `TypedBatch<Reply>`, replies read straight into `Reply`, unless
/// `settings.untypedBatches` (then `pipeline` of argument lists, replies as `RESPValue`s).
func measure<Reply: RedisReplyDecodable>(_ command: [[UInt8]], as: Reply.Type, on client: RedisClient,
                                         _ settings: Settings) async throws -> Double {
    let batch = settings.batch
    let untyped = settings.untypedBatches
    let fullBatch = Array(repeating: command, count: batch)
    var typedBatch = TypedBatch<Reply>()
    for _ in 0..<batch { typedBatch.add(arguments: command) }
    let fullTypedBatch = typedBatch
    let perTask = settings.requests / settings.tasks
    let clock = ContinuousClock()
    let started = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        // One task's share of the requests.
        @Sendable func work() async throws {
            var done = 0
            while done < perTask {
                if batch == 1 {
                    _ = try await client.send(arguments: command)
                    done += 1
                } else if untyped {
                    let size = min(batch, perTask - done)
                    _ = try await client.pipeline(size == batch ? fullBatch : Array(fullBatch.prefix(size)))
                    done += size
                } else {
                    let size = min(batch, perTask - done)
                    if size == batch {
                        _ = try await client.pipeline(fullTypedBatch)
                    } else {
                        var rest = TypedBatch<Reply>()
                        for _ in 0..<size { rest.add(arguments: command) }
                        _ = try await client.pipeline(rest)
                    }
                    done += size
                }
            }
        }
        for index in 0..<settings.tasks {
            // Without a preference, the plain `addTask`: a task given `executorPreference: nil`
            // carries a preference record, which makes every hop look it up under a lock.
            if settings.executors.isEmpty {
                group.addTask { try await work() }
            } else {
                group.addTask(executorPreference: settings.executors[index % settings.executors.count]) { try await work() }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = clock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return perTask == 0 ? 0 : Double(perTask * settings.tasks) / seconds
}

func run(_ settings: Settings) async throws {
    // One connection per task, as redis-benchmark opens one per client.
    let client = RedisClient(configuration: RedisClientConfiguration(
        connection: ConnectionConfiguration(port: settings.port), sharedConnections: settings.tasks))
    let value = [UInt8](repeating: UInt8(ascii: "x"), count: 3)  // redis-benchmark's default 3-byte value
    let key = Array("key:__rand_int__".utf8)
    // Warm up: one PING per task connects every shared connection before timing starts.
    var warmUp = settings
    warmUp.requests = settings.tasks
    warmUp.batch = 1
    _ = try await measure([Array("PING".utf8)], as: String.self, on: client, warmUp)
    if settings.tests.contains("set") {
        let set = try await measure([Array("SET".utf8), key, value], as: String.self, on: client, settings)
        print("SET: \(String(Int(set))) requests per second")
    }
    if settings.tests.contains("get") {
        let command = [Array("GET".utf8), key]
        let get = settings.getAsBytes
            ? try await measure(command, as: [UInt8]?.self, on: client, settings)
            : try await measure(command, as: String?.self, on: client, settings)
        print("GET: \(String(Int(get))) requests per second")
    }
    await client.close()
}

func environmentFlag(_ name: String) -> Bool {
    getenv(name).map { String(cString: $0) == "1" } ?? false
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let port = Int(arguments[1]) else {
    print("usage: atoll-client-bench <port> [tasks] [requests] [batch] [tests]")
    exit(2)
}
let settings = Settings(port: port,
                        tasks: arguments.count > 2 ? Int(arguments[2])! : 50,
                        requests: arguments.count > 3 ? Int(arguments[3])! : 200_000,
                        batch: arguments.count > 4 ? Int(arguments[4])! : 1,
                        tests: Set((arguments.count > 5 ? arguments[5] : "set,get").split(separator: ",").map(String.init)),
                        untypedBatches: environmentFlag("ATOLL_BENCH_UNTYPED_BATCHES"),
                        getAsBytes: environmentFlag("ATOLL_BENCH_GET_BYTES"),
                        executors: environmentFlag("ATOLL_BENCH_ON_EVENT_LOOPS") ? EventLoopTaskExecutor.executors() : [])
let finished = DispatchSemaphore(value: 0)
Task.detached {
    do {
        try await run(settings)
    } catch {
        print("atoll-client-bench: \(error)")
        exit(1)
    }
    finished.signal()
}
finished.wait()
