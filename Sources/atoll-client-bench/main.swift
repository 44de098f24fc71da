/// GET and SET through AtollClient from many concurrent tasks, unpipelined and in explicit
/// batches, printing ops/s in the shape redis-benchmark's `-q` does, so scripts/bench_client.sh
/// can set the two side by side.
///
/// Usage: atoll-client-bench <port> [tasks=50] [requests=200000] [batch=1]
import AtollClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 2, let port = Int(arguments[1]) else {
    print("usage: atoll-client-bench <port> [tasks] [requests] [batch]")
    exit(2)
}
let tasks = arguments.count > 2 ? Int(arguments[2])! : 50
let requests = arguments.count > 3 ? Int(arguments[3])! : 200_000
let batch = arguments.count > 4 ? Int(arguments[4])! : 1

// One connection per task, as redis-benchmark opens one per client.
let client = RedisClient(configuration: RedisClientConfiguration(
    connection: ConnectionConfiguration(port: port), sharedConnections: tasks))
let value = [UInt8](repeating: UInt8(ascii: "x"), count: 3)  // redis-benchmark's default 3-byte value

/// Runs `requests` times `command` from `tasks` tasks; returns ops/s. The command (and the
/// batch of it) is built once, as redis-benchmark prepares its buffer once, so what is timed
/// is the client's own work: encoding, writing, matching and decoding replies.
func measure(_ command: [[UInt8]]) async throws -> Double {
    let fullBatch = Array(repeating: command, count: batch)
    let perTask = requests / tasks
    let clock = ContinuousClock()
    let started = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks {
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
    return Double(perTask * tasks) / seconds
}

let key = Array("key:__rand_int__".utf8)
// Warm up: every shared connection connected before timing starts.
_ = try await measure([Array("PING".utf8)])
let set = try await measure([Array("SET".utf8), key, value])
let get = try await measure([Array("GET".utf8), key])
print("SET: \(String(Int(set))) requests per second")
print("GET: \(String(Int(get))) requests per second")
await client.close()
