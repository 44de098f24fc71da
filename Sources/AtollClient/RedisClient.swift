/// `RedisClient`: the entry point for applications. It keeps a few shared connections that
/// every ordinary command is multiplexed over (requests from concurrent tasks share their
/// writes), and a pool of dedicated connections leased for transactions and blocking commands.
/// A closed connection is replaced on next use, connecting again with exponential backoff.
///
/// The rest of the module, by job: `RedisConnection` (one connection, its TLS and handshake)
/// over `RequestQueue` (requests waiting for replies, matching replies to them, cancellation)
/// and `ReplyMatcher` (the NIO handler that hands what it reads to the queue), with
/// `CommandEncoding` and `ReplyDecoding` for the wire; `Batch` and `TypedBatch` (explicit
/// pipelining; `TypedBatch` reads replies straight into the caller's types through
/// `RedisReplyDecodable`, in `ReplyDecodable`); `RedisSubscriber` (Pub/Sub);
/// `EventLoopTaskExecutor` (callers run on the connections' event loops); `Commands+*.swift`
/// (typed commands by family, written against `RedisCommandRunner`); one file per pattern
/// (`OptimisticTransaction`, `Script`, `FunctionLibrary`, `CompareAndSwap`, `AtomicCounters`,
/// `Idempotency`, the two rate limiters, `DistributedLock`, `ReliableQueue`, `ShadowKeySwap`,
/// `HashSlot`).
import AtollRESP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// How a client connects again after a connection is lost.
public struct ReconnectPolicy: Sendable {
    /// Connect attempts per reconnect (the first included) before the error is thrown.
    public var maxAttempts: Int
    /// The wait after the first failed attempt; each later wait doubles, up to `maxDelay`.
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, initialDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(2)) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }
}

/// The settings of a `RedisClient`.
public struct RedisClientConfiguration: Sendable {
    public var connection: ConnectionConfiguration
    /// Connections that ordinary commands are spread over, round robin.
    public var sharedConnections: Int
    /// Dedicated connections kept open between leases; more are opened when needed.
    public var maxIdleDedicatedConnections: Int
    public var reconnect: ReconnectPolicy

    public init(connection: ConnectionConfiguration = ConnectionConfiguration(), sharedConnections: Int = 2,
                maxIdleDedicatedConnections: Int = 16, reconnect: ReconnectPolicy = ReconnectPolicy()) {
        self.connection = connection
        self.sharedConnections = max(1, sharedConnections)
        self.maxIdleDedicatedConnections = maxIdleDedicatedConnections
        self.reconnect = reconnect
    }
}

/// A pooled client for one server. Safe to share between any number of tasks.
public final class RedisClient: RedisCommandRunner {
    /// A shared connection: being made, or made (then used without waiting on a future).
    private enum SharedSlot {
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection, made: EventLoopFuture<RedisConnection>)

        var future: EventLoopFuture<RedisConnection> {
            switch self {
            case .connecting(let future), .ready(_, let future): return future
            }
        }
    }

    private struct Pool {
        var shared: [SharedSlot?]
        var next = 0
        var idle: [RedisConnection] = []
        var closed = false
    }

    public let configuration: RedisClientConfiguration
    private let group: any EventLoopGroup
    private let pool: NIOLockedValueBox<Pool>

    /// A client that connects on first use.
    public init(configuration: RedisClientConfiguration,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        group = eventLoopGroup
        pool = NIOLockedValueBox(Pool(shared: Array(repeating: nil, count: configuration.sharedConnections)))
    }

    /// A client for `redis://[[user]:password@]host[:port][/db]`, or nil for a URL it cannot read.
    public convenience init?(url: String) {
        guard let connection = ConnectionConfiguration(url: url) else { return nil }
        self.init(configuration: RedisClientConfiguration(connection: connection))
    }

    public func send(arguments: [[UInt8]]) async throws -> RESPValue {
        try await sharedConnection().send(arguments: arguments)
    }

    public func send(_ command: String, arguments: [any RedisArgument]) async throws -> RESPValue {
        try await sharedConnection().send(command, arguments: arguments)
    }

    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [Result<RESPValue, RedisError>] {
        try await sharedConnection().pipeline(commands)
    }

    /// Inlinable, so that the replies are decoded by code compiled for `Reply` (see `ReplySink`).
    @inlinable
    public func pipeline<Reply: RedisReplyDecodable>(_ batch: TypedBatch<Reply>) async throws
        -> [Result<Reply, any Error>] {
        try await batch.replies { try await sendEncoded($0, count: $1, into: $2) }
    }

    @usableFromInline
    func sendEncoded(_ encoded: ByteBuffer, count: Int, into sink: ReplySink) async throws {
        try await sharedConnection().sendEncoded(encoded, count: count, into: sink)
    }

    public func capabilities() async throws -> ServerCapabilities {
        try await sharedConnection().capabilities()
    }

    /// Leases a connection for `body` alone. It goes back to the pool afterwards, unless it
    /// closed or `body` threw something other than a server error (a cancelled or failed body
    /// may have left a reply or a MULTI outstanding, so that connection is closed instead).
    public func withDedicatedConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await leaseConnection()
        do {
            let result = try await body(connection)
            await giveBack(connection)
            return result
        } catch let error as RedisError {
            await giveBack(connection)
            throw error
        } catch {
            await connection.close()
            throw error
        }
    }

    /// A Pub/Sub subscriber on a connection of its own, made with this client's connection
    /// settings. Close it when done; the client's `close` does not.
    public func makeSubscriber() async throws -> RedisSubscriber {
        guard !pool.withLockedValue({ $0.closed }) else { throw RedisClientError.clientClosed }
        return try await RedisSubscriber.connect(configuration: configuration.connection, eventLoopGroup: group)
    }

    /// Closes every connection; later calls throw `RedisClientError.clientClosed`.
    public func close() async {
        let (shared, idle) = pool.withLockedValue { pool in
            pool.closed = true
            defer { pool.shared = pool.shared.map { _ in nil }; pool.idle = [] }
            return (pool.shared.compactMap { $0?.future }, pool.idle)
        }
        for future in shared {
            if let connection = try? await future.get() { await connection.close() }
        }
        for connection in idle { await connection.close() }
    }

    // MARK: - Pool

    /// The next shared connection, round robin; a closed one is replaced first. A caller running
    /// on an event loop (see `EventLoopTaskExecutor`) gets the next made connection of that loop
    /// when there is one, so that its request and reply stay on the loop's thread.
    @inline(__always)  // one async frame fewer per request (see RequestQueue.send)
    private func sharedConnection() async throws -> RedisConnection {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop
        let (slot, state) = try pool.withLockedValue { pool in
            guard !pool.closed else { throw RedisClientError.clientClosed }
            let count = pool.shared.count
            var slot = pool.next
            if let loop {
                for step in 0..<count {
                    let candidate = (pool.next + step) % count
                    if case .ready(let connection, _)? = pool.shared[candidate], connection.eventLoop === loop {
                        slot = candidate
                        break
                    }
                }
            }
            pool.next = (slot + 1) % count
            if let existing = pool.shared[slot] { return (slot, existing) }
            let fresh = SharedSlot.connecting(connectFuture())
            pool.shared[slot] = fresh
            return (slot, fresh)
        }
        let connection: RedisConnection
        switch state {
        case .ready(let ready, _): connection = ready
        case .connecting(let future): connection = try await awaitShared(future, slot: slot)
        }
        guard connection.isClosed else { return connection }
        let replacement = try pool.withLockedValue { pool in
            guard !pool.closed else { throw RedisClientError.clientClosed }
            if pool.shared[slot]?.future === state.future { pool.shared[slot] = .connecting(connectFuture()) }
            return pool.shared[slot]!.future
        }
        return try await awaitShared(replacement, slot: slot)
    }

    /// Waits for a slot's connection and keeps it there once made; a failed connect empties
    /// the slot so the next call tries again.
    private func awaitShared(_ future: EventLoopFuture<RedisConnection>, slot: Int) async throws -> RedisConnection {
        do {
            let connection = try await future.get()
            pool.withLockedValue { pool in
                if pool.shared[slot]?.future === future { pool.shared[slot] = .ready(connection, made: future) }
            }
            return connection
        } catch {
            pool.withLockedValue { pool in
                if pool.shared[slot]?.future === future { pool.shared[slot] = nil }
            }
            throw error
        }
    }

    private func connectFuture() -> EventLoopFuture<RedisConnection> {
        let promise = group.next().makePromise(of: RedisConnection.self)
        promise.completeWithTask { try await self.connectWithBackoff() }
        return promise.futureResult
    }

    private func leaseConnection() async throws -> RedisConnection {
        while let idle = try pool.withLockedValue({ pool -> RedisConnection? in
            guard !pool.closed else { throw RedisClientError.clientClosed }
            return pool.idle.popLast()
        }) {
            if !idle.isClosed { return idle }
        }
        return try await connectWithBackoff()
    }

    private func giveBack(_ connection: RedisConnection) async {
        let kept = pool.withLockedValue { pool in
            guard !pool.closed, !connection.isClosed,
                  pool.idle.count < configuration.maxIdleDedicatedConnections else { return false }
            pool.idle.append(connection)
            return true
        }
        if !kept { await connection.close() }
    }

    /// Connects, retrying a failed connect with exponential backoff as the policy says.
    private func connectWithBackoff() async throws -> RedisConnection {
        let policy = configuration.reconnect
        var delay = policy.initialDelay
        var attempt = 1
        while true {
            do {
                return try await RedisConnection.connect(configuration: configuration.connection, eventLoopGroup: group)
            } catch RedisClientError.connectFailed(let reason) {
                guard attempt < policy.maxAttempts else { throw RedisClientError.connectFailed(reason) }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, policy.maxDelay)
                attempt += 1
            }
        }
    }
}
