/// One connection to a server: connects over TCP, negotiates the protocol (HELLO 3, falling
/// back to RESP2 with AUTH), authenticates and selects the database, then sends commands.
/// Any number of tasks may send at once: their requests share the connection's writes and
/// replies are matched in order (see `ReplyMatcher`). For WATCH/MULTI/EXEC and blocking
/// commands, use a connection nobody else sends on meanwhile.
import AtollRESP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A connection to one Redis-compatible server.
public final class RedisConnection: RedisCommandRunner {
    private let channel: any Channel
    public let configuration: ConnectionConfiguration
    /// 3 when HELLO 3 succeeded, else 2.
    public let protocolVersion: Int
    private let detected = NIOLockedValueBox<ServerCapabilities?>(nil)

    private init(channel: any Channel, configuration: ConnectionConfiguration, protocolVersion: Int) {
        self.channel = channel
        self.configuration = configuration
        self.protocolVersion = protocolVersion
    }

    /// Connects and completes the handshake; throws `RedisClientError.connectFailed` when the
    /// server cannot be reached in time, `RedisError` when it refuses the credentials.
    public static func connect(configuration: ConnectionConfiguration,
                               eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws -> RedisConnection {
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyMatcher())
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw RedisClientError.connectFailed("\(configuration.host):\(configuration.port): \(error)")
        }
        do {
            let version = try await handshake(channel: channel, configuration: configuration)
            return RedisConnection(channel: channel, configuration: configuration, protocolVersion: version)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// True once the connection has closed (by either side, or after a timeout).
    public var isClosed: Bool { !channel.isActive }

    /// Closes the connection; requests still waiting fail with `connectionClosed`.
    public func close() async {
        try? await channel.close()
    }

    public func send(arguments: [[UInt8]]) async throws -> RESPValue {
        try await Self.submit([arguments], on: channel, timeout: configuration.commandTimeout.map(TimeAmount.init))[0].get().checked()
    }

    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [Result<RESPValue, RedisError>] {
        let replies = Self.submit(commands, on: channel, timeout: configuration.commandTimeout.map(TimeAmount.init))
        // One wait for the whole batch rather than one suspension per reply.
        let outcomes = try await EventLoopFuture.whenAllComplete(replies, on: channel.eventLoop).get()
        return try outcomes.map { outcome in
            let value = try outcome.get()
            if case .error(let text) = value { return .failure(RedisError(reply: text)) }
            return .success(value)
        }
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

    /// Writes `commands` in one request; one future per command's reply.
    private static func submit(_ commands: [[[UInt8]]], on channel: any Channel,
                               timeout: TimeAmount?) -> [EventLoopFuture<RESPValue>] {
        var bytes = channel.allocator.buffer(capacity: 64 * commands.count)
        var promises: [EventLoopPromise<RESPValue>] = []
        promises.reserveCapacity(commands.count)
        for command in commands {
            bytes.writeCommand(command)
            promises.append(channel.eventLoop.makePromise(of: RESPValue.self))
        }
        // Once the channel has closed, its pipeline no longer holds the ReplyMatcher, so the
        // request never reaches it: the failed write fails the replies instead. (A promise
        // the matcher already failed stays as it was: NIO ignores a second completion.)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in
            for promise in promises { promise.fail(RedisClientError.connectionClosed) }
        }
        channel.write(OutgoingRequest(bytes: bytes, promises: promises, timeout: timeout), promise: written)
        return promises.map(\.futureResult)
    }

    /// HELLO 3 (with AUTH); RESP2 with AUTH when the server has no HELLO or no RESP3; then
    /// SELECT. Returns the protocol version in use.
    private static func handshake(channel: any Channel, configuration: ConnectionConfiguration) async throws -> Int {
        func run(_ command: [[UInt8]]) async throws -> RESPValue {
            try await submit([command], on: channel, timeout: configuration.commandTimeout.map(TimeAmount.init))[0].get()
        }
        var version = 2
        if configuration.protocolPreference == .resp3 {
            var hello: [any RedisArgument] = ["3"]
            if let password = configuration.password {
                hello += ["AUTH", configuration.username ?? "default", password]
            }
            let reply = try await run(redisCommand("HELLO", hello))
            if case .error(let text) = reply {
                let error = RedisError(reply: text)
                let noHello = error.code == "NOPROTO" || error.message.lowercased().hasPrefix("unknown command")
                guard noHello else { throw error }
            } else {
                version = 3
            }
        }
        if version == 2, let password = configuration.password {
            var auth: [any RedisArgument] = [password]
            if let user = configuration.username { auth.insert(user, at: 0) }
            _ = try await run(redisCommand("AUTH", auth)).checked()
        }
        if configuration.database != 0 {
            _ = try await run(redisCommand("SELECT", [configuration.database])).checked()
        }
        return version
    }
}
