/// Pub/Sub: a `RedisSubscriber` owns a connection of its own (a subscribed RESP2 connection
/// can do nothing else), subscribes to channels and patterns, and hands every message it
/// receives to one `AsyncSequence`, `messages`, in the order the server sent them. Subscribe
/// and unsubscribe calls return once the server has confirmed every channel or pattern; the
/// messages that arrive meanwhile are not mistaken for those confirmations (see
/// `ReplyMatcher`). The sequence ends when the subscriber is closed, and throws
/// `RedisClientError.connectionClosed` when the connection is lost.
import AtollRESP
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One message published to a channel the subscriber listens to.
public struct PubSubMessage: Sendable, Equatable {
    /// The channel it was published to.
    public var channel: String
    /// The pattern it matched, for a pattern subscription; nil for a channel subscription.
    public var pattern: String?
    /// The message as published.
    public var payload: [UInt8]

    public init(channel: String, pattern: String? = nil, payload: [UInt8]) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }

    /// The payload as UTF-8 text.
    public var text: String { String(decoding: payload, as: UTF8.self) }

    /// Reads a `message`, `pmessage` or `smessage` frame's elements.
    init?(_ elements: [RESPValue]) {
        func text(_ value: RESPValue) -> String? {
            (try? value.bytes()).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
        }
        switch elements.count {
        case 3:
            guard let channel = text(elements[1]), let payload = (try? elements[2].bytes()).flatMap({ $0 }) else { return nil }
            self.init(channel: channel, payload: payload)
        case 4:
            guard let pattern = text(elements[1]), let channel = text(elements[2]),
                  let payload = (try? elements[3].bytes()).flatMap({ $0 }) else { return nil }
            self.init(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }
}

/// A dedicated Pub/Sub connection and the stream of its messages.
public final class RedisSubscriber: Sendable {
    private struct Subscriptions {
        var channels: Set<String> = []
        var patterns: Set<String> = []
        var closedByUs = false
    }

    private let connection: RedisConnection
    private let subscriptions = NIOLockedValueBox(Subscriptions())
    private let sink: AsyncThrowingStream<PubSubMessage, any Error>.Continuation
    /// Every message, in the order received. Iterate it from one task.
    public let messages: AsyncThrowingStream<PubSubMessage, any Error>

    private init(connection: RedisConnection, stream: (AsyncThrowingStream<PubSubMessage, any Error>,
                                                       AsyncThrowingStream<PubSubMessage, any Error>.Continuation)) {
        self.connection = connection
        (messages, sink) = stream
    }

    /// Connects a subscriber (with the same handshake as any connection: RESP3 when the
    /// server has it, else RESP2). The messages are buffered until read.
    public static func connect(configuration: ConnectionConfiguration,
                               eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws -> RedisSubscriber {
        let stream = AsyncThrowingStream.makeStream(of: PubSubMessage.self, throwing: (any Error).self)
        let sink = stream.continuation
        // Arrays shaped as messages are messages here whatever the protocol: in RESP2 that is
        // how they come, and in RESP3 no reply to a subscriber's commands has that shape.
        let routing = PushRouting(deliver: { elements in
            if let message = PubSubMessage(elements) { sink.yield(message) }
        }, resp2Subscriber: true)
        let connection = try await RedisConnection.connect(configuration: configuration, eventLoopGroup: eventLoopGroup,
                                                           routing: routing)
        let subscriber = RedisSubscriber(connection: connection, stream: stream)
        connection.closeFuture.whenComplete { [subscriber] _ in subscriber.finish() }
        return subscriber
    }

    /// The protocol the connection speaks (3 or 2).
    public var protocolVersion: Int { connection.protocolVersion }

    /// Subscribes to `channels`; returns once the server has confirmed each.
    public func subscribe(to channels: [String]) async throws {
        try await run("SUBSCRIBE", channels)
        subscriptions.withLockedValue { $0.channels.formUnion(channels) }
    }

    /// Subscribes to the channels matching each glob-style pattern.
    public func subscribe(toPatterns patterns: [String]) async throws {
        try await run("PSUBSCRIBE", patterns)
        subscriptions.withLockedValue { $0.patterns.formUnion(patterns) }
    }

    /// Unsubscribes from `channels`, or from every channel when `channels` is nil.
    public func unsubscribe(from channels: [String]? = nil) async throws {
        let names = channels ?? subscriptions.withLockedValue { Array($0.channels) }
        try await run("UNSUBSCRIBE", names)
        subscriptions.withLockedValue { $0.channels.subtract(names) }
    }

    /// Unsubscribes from `patterns`, or from every pattern when `patterns` is nil.
    public func unsubscribe(fromPatterns patterns: [String]?) async throws {
        let names = patterns ?? subscriptions.withLockedValue { Array($0.patterns) }
        try await run("PUNSUBSCRIBE", names)
        subscriptions.withLockedValue { $0.patterns.subtract(names) }
    }

    /// The channels and patterns subscribed to now.
    public var subscribedChannels: Set<String> { subscriptions.withLockedValue { $0.channels } }
    public var subscribedPatterns: Set<String> { subscriptions.withLockedValue { $0.patterns } }

    /// Closes the connection; `messages` ends after the messages already received.
    public func close() async {
        subscriptions.withLockedValue { $0.closedByUs = true }
        await connection.close()
        finish()
    }

    /// The server answers one confirmation per name, in order; an error reply throws.
    private func run(_ command: String, _ names: [String]) async throws {
        guard !names.isEmpty else { return }
        for reply in try await connection.send(command, arguments: names, replies: names.count) {
            _ = try reply.get()
        }
    }

    private func finish() {
        if subscriptions.withLockedValue({ $0.closedByUs }) {
            sink.finish()
        } else {
            sink.finish(throwing: RedisClientError.connectionClosed)
        }
    }
}
