/// GET and SET through AtollClient from many concurrent tasks, unpipelined and in explicit
/// batches, printing ops/s in the shape redis-benchmark's `-q` does, so scripts/bench_client.sh
/// can set the two side by side.
///
/// Usage: atoll-client-bench <port> [tasks=50] [requests=200000] [batch=1] [tests=set,get]
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
}

/// Runs `settings.requests` times `command` from `settings.tasks` tasks; returns ops/s. The
/// command (and the batch of it) is built once, as redis-benchmark prepares its buffer once,
/// so what is timed is the client's own work: encoding, writing, matching and decoding replies.
func measure(_ command: [[UInt8]], on client: RedisClient, _ settings: Settings) async throws -> Double {
    let batch = settings.batch
    let fullBatch = Array(repeating: command, count: batch)
    let perTask = settings.requests / settings.tasks
    let clock = ContinuousClock()
    let started = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<settings.tasks {
            group.addTask {
                var done = 0
                while done < perTask {
                    if batch == 1 {
                        _ = try await client.send(arguments: command)
                        done += 1
                    } else {
                        let size = min(batch, perTask - done)
                        _ = try await client.pipeline(size == batch ? fullBatch : Array(fullBatch.prefix(size)))
                        done += size
                    }
                }
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
    _ = try await measure([Array("PING".utf8)], on: client, warmUp)
    if settings.tests.contains("set") {
        let set = try await measure([Array("SET".utf8), key, value], on: client, settings)
        print("SET: \(String(Int(set))) requests per second")
    }
    if settings.tests.contains("get") {
        let get = try await measure([Array("GET".utf8), key], on: client, settings)
        print("GET: \(String(Int(get))) requests per second")
    }
    await client.close()
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
                        tests: Set((arguments.count > 5 ? arguments[5] : "set,get").split(separator: ",").map(String.init)))
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
