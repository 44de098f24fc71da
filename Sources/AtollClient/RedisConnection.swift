/// One connection to a server: connects over TCP (with TLS when configured), negotiates the
/// protocol (HELLO 3, falling back to RESP2 with AUTH), authenticates and selects the
/// database, then sends commands. Any number of tasks may send at once: each request is
/// encoded straight into the connection's outgoing buffer, the requests of one event-loop pass
/// go out in one write, and replies are matched in order (see `RequestQueue` and
/// `ReplyMatcher`). A task cancelled while it waits gets `CancellationError` at once; its
/// reply is read and dropped when it comes. For WATCH/MULTI/EXEC and blocking commands, use a
/// connection nobody else sends on meanwhile.
import AtollRESP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A connection to one Redis-compatible server.
public final class RedisConnection: RedisCommandRunner {
    private let channel: any Channel
    private let queue: RequestQueue
    public let configuration: ConnectionConfiguration
    /// 3 when HELLO 3 succeeded, else 2.
    public let protocolVersion: Int
    private let detected = NIOLockedValueBox<ServerCapabilities?>(nil)

    private init(channel: any Channel, queue: RequestQueue, configuration: ConnectionConfiguration, protocolVersion: Int) {
        self.channel = channel
        self.queue = queue
        self.configuration = configuration
        self.protocolVersion = protocolVersion
    }

    /// Connects and completes the handshake; throws `RedisClientError.connectFailed` when the
    /// server cannot be reached in time (or the TLS handshake fails), `RedisError` when it
    /// refuses the credentials.
    public static func connect(configuration: ConnectionConfiguration,
                               eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws -> RedisConnection {
        try await connect(configuration: configuration, eventLoopGroup: eventLoopGroup, routing: nil)
    }

    /// As `connect(configuration:eventLoopGroup:)`, with Pub/Sub messages sent to `routing`.
    static func connect(configuration: ConnectionConfiguration, eventLoopGroup: any EventLoopGroup,
                        routing: PushRouting?) async throws -> RedisConnection {
        let queue = RequestQueue(allocator: ByteBufferAllocator(), timeout: configuration.commandTimeout.map(TimeAmount.init))
        let tls: (context: NIOSSLContext, serverName: String?)?
        do {
            tls = try configuration.tls.map { (try NIOSSLContext(configuration: $0), configuration.tlsServerName) }
        } catch {
            throw RedisClientError.connectFailed("TLS configuration: \(error)")
        }
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(ReplyMatcher(queue: queue, routing: routing))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw RedisClientError.connectFailed("\(configuration.host):\(configuration.port): \(error)")
        }
        queue.attach(to: channel)
        do {
            let version = try await handshake(configuration: configuration) { command in
                try await queue.send(on: channel) { $0.writeCommand(command) }
            }
            return RedisConnection(channel: channel, queue: queue, configuration: configuration, protocolVersion: version)
        } catch RedisClientError.connectionClosed where tls != nil {
            // A TLS handshake the server refused (or the client's verification failed) closes
            // the channel before any reply.
            try? await channel.close()
            throw RedisClientError.connectFailed("\(configuration.host):\(configuration.port): TLS handshake failed")
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// True once the connection has closed (by either side, or after a timeout).
    public var isClosed: Bool { !channel.isActive }

    /// The event loop the connection's channel lives on.
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Completes when the connection has closed.
    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Closes the connection; requests still waiting fail with `connectionClosed`.
    public func close() async {
        try? await channel.close()
    }

    @inline(__always)  // into RedisClient's: one async frame fewer per request (see RequestQueue.send)
    public func send(arguments: [[UInt8]]) async throws -> RESPValue {
        try await queue.send(on: channel) { $0.writeCommand(arguments) }
    }

    public func send(_ command: String, arguments: [any RedisArgument]) async throws -> RESPValue {
        try await queue.send(on: channel) { $0.writeCommand(command, arguments) }
    }

    @inline(__always)
    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [Result<RESPValue, RedisError>] {
        try await queue.sendBatch(count: commands.count, on: channel) { $0.writeCommands(commands) }
    }

    /// Inlinable, so that the replies are decoded by code compiled for `Reply` (see `ReplySink`).
    @inlinable
    public func pipeline<Reply: RedisReplyDecodable>(_ batch: TypedBatch<Reply>) async throws
        -> [Result<Reply, any Error>] {
        try await batch.replies { try await sendEncoded($0, count: $1, into: $2) }
    }

    /// Writes `count` encoded commands and waits until `sink` has read all their replies.
    @usableFromInline
    @inline(__always)
    func sendEncoded(_ encoded: ByteBuffer, count: Int, into sink: ReplySink) async throws {
        try await queue.sendTyped(count: count, into: sink, on: channel) { $0.writeImmutableBuffer(encoded) }
    }

    /// Sends one command expecting `replies` replies (SUBSCRIBE to n channels answers n times).
    func send(_ command: String, arguments: [any RedisArgument], replies: Int) async throws -> [Result<RESPValue, RedisError>] {
        try await queue.sendBatch(count: replies, on: channel) { $0.writeCommand(command, arguments) }
    }

    public func withDedicatedConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        try await body(self)
    }

    /// Asks once (`COMMAND INFO DELEX`) whether the server has native compare-and-set, and
    /// remembers the answer for the connection's life.
    public func capabilities() async throws -> ServerCapabilities {
        if let known = detected.withLockedValue({ $0 }) { return known }
        let info = try await send("COMMAND", "INFO", "DELEX")
        let found = ServerCapabilities(compareAndSet: !(try info.array().first?.isNull ?? true))
        detected.withLockedValue { $0 = found }
        return found
    }

    /// HELLO 3 (with AUTH and SETNAME); RESP2 with AUTH and CLIENT SETNAME when the server has
    /// no HELLO or no RESP3; then SELECT. Returns the protocol version in use.
    private static func handshake(configuration: ConnectionConfiguration,
                                  run: ([[UInt8]]) async throws -> RESPValue) async throws -> Int {
        var version = 2
        if configuration.protocolPreference == .resp3 {
            var hello: [any RedisArgument] = ["3"]
            if let password = configuration.password {
                hello += ["AUTH", configuration.username ?? "default", password]
            }
            if let name = configuration.clientName { hello += ["SETNAME", name] }
            do {
                _ = try await run(redisCommand("HELLO", hello))
                version = 3
            } catch let error as RedisError {
                let noHello = error.code == "NOPROTO" || error.message.lowercased().hasPrefix("unknown command")
                guard noHello else { throw error }
            }
        }
        if version == 2, let password = configuration.password {
            var auth: [any RedisArgument] = [password]
            if let user = configuration.username { auth.insert(user, at: 0) }
            _ = try await run(redisCommand("AUTH", auth))
        }
        if version == 2, let name = configuration.clientName {
            _ = try await run(redisCommand("CLIENT", ["SETNAME", name]))
        }
        if configuration.database != 0 {
            _ = try await run(redisCommand("SELECT", [configuration.database]))
        }
        return version
    }
}
