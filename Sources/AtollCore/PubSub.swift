/// Pub/Sub (Redis's pubsub.c): who is subscribed to which channels, patterns and shard
/// channels, and the delivery of a published message to each subscriber, in subscription
/// order for a channel, through the subscriber's outbox (see `ClientOutbox`) or straight
/// into the reply of the client whose own command published it.
import AtollBytes
import AtollKeyspace
import AtollRESP
import NIOCore

/// The three kinds of subscription, each with its own commands and message type.
public enum SubscriptionKind: Sendable {
    case channel, pattern, shard

    /// The first element of the confirmation a (un)subscribe replies with.
    public func replyName(subscribing: Bool) -> StaticString {
        switch (self, subscribing) {
        case (.channel, true): return "subscribe"
        case (.channel, false): return "unsubscribe"
        case (.pattern, true): return "psubscribe"
        case (.pattern, false): return "punsubscribe"
        case (.shard, true): return "ssubscribe"
        case (.shard, false): return "sunsubscribe"
        }
    }
}

/// One client's subscriptions. Sets, so that unsubscribing from everything goes in no
/// particular order, as Redis's dictionary gives it.
public struct ClientSubscriptions: Sendable {
    public var channels = Set<Bytes>()
    public var patterns = Set<Bytes>()
    public var shardChannels = Set<Bytes>()

    /// The count SUBSCRIBE, PSUBSCRIBE and their opposites reply with (shard channels count
    /// apart, for SSUBSCRIBE and SUNSUBSCRIBE).
    public func count(for kind: SubscriptionKind) -> Int {
        kind == .shard ? shardChannels.count : channels.count + patterns.count
    }

    public var isEmpty: Bool { channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty }

    public subscript(kind: SubscriptionKind) -> Set<Bytes> {
        get {
            switch kind {
            case .channel: return channels
            case .pattern: return patterns
            case .shard: return shardChannels
            }
        }
        set {
            switch kind {
            case .channel: channels = newValue
            case .pattern: patterns = newValue
            case .shard: shardChannels = newValue
            }
        }
    }
}

/// The server's side: subscribers per channel, pattern and shard channel, oldest first.
public final class PubSubRegistry: @unchecked Sendable {
    public private(set) var channels: [Bytes: [ClientSession]] = [:]
    public private(set) var patterns: [Bytes: [ClientSession]] = [:]
    public private(set) var shardChannels: [Bytes: [ClientSession]] = [:]

    public init() {}

    /// True when nobody is subscribed to anything: PUBLISH has nothing to look up.
    public var isEmpty: Bool { channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty }

    public func subscribers(_ kind: SubscriptionKind) -> [Bytes: [ClientSession]] {
        switch kind {
        case .channel: return channels
        case .pattern: return patterns
        case .shard: return shardChannels
        }
    }

    /// Subscribes `client`; false when it already was.
    func add(_ client: ClientSession, _ kind: SubscriptionKind, _ name: Bytes) -> Bool {
        var subscriptions = client.subscriptions ?? ClientSubscriptions()
        guard subscriptions[kind].insert(name).inserted else { return false }
        client.subscriptions = subscriptions
        switch kind {
        case .channel: channels[name, default: []].append(client)
        case .pattern: patterns[name, default: []].append(client)
        case .shard: shardChannels[name, default: []].append(client)
        }
        return true
    }

    /// Unsubscribes `client`; false when it was not subscribed.
    func remove(_ client: ClientSession, _ kind: SubscriptionKind, _ name: Bytes) -> Bool {
        guard var subscriptions = client.subscriptions, subscriptions[kind].remove(name) != nil else { return false }
        client.subscriptions = subscriptions.isEmpty ? nil : subscriptions
        func drop(_ table: inout [Bytes: [ClientSession]]) {
            table[name]?.removeAll { $0 === client }
            if table[name]?.isEmpty == true { table[name] = nil }
        }
        switch kind {
        case .channel: drop(&channels)
        case .pattern: drop(&patterns)
        case .shard: drop(&shardChannels)
        }
        return true
    }
}

/// A message in both protocols' framing, each encoded once, when a subscriber first needs it:
/// the header (`*3` or `>3`, with the kind's name) comes from a table, the rest is written
/// into one array sized up front.
struct PushFrame {
    /// `message`, `pmessage` or `smessage`.
    enum Kind: Int { case message, pmessage, smessage }

    let kind: Kind
    let parts: [[UInt8]]
    private var resp2: [UInt8]?
    private var resp3: [UInt8]?

    private static let headers: [[UInt8]] = ["*3\r\n$7\r\nmessage\r\n", "*4\r\n$8\r\npmessage\r\n", "*3\r\n$8\r\nsmessage\r\n"]
        .map { Array($0.utf8) }

    init(_ kind: Kind, _ parts: [[UInt8]]) {
        self.kind = kind
        self.parts = parts
    }

    mutating func bytes(resp3 wanted: Bool) -> [UInt8] {
        if wanted, let resp3 { return resp3 }
        if !wanted, let resp2 { return resp2 }
        let header = Self.headers[kind.rawValue]
        var out: [UInt8] = []
        out.reserveCapacity(header.count + parts.reduce(0) { $0 + $1.count + 24 })
        out += header
        if wanted { out[0] = UInt8(ascii: ">") }
        for part in parts {
            out.append(UInt8(ascii: "$"))
            appendDecimal(part.count, to: &out)
            out.append(13)
            out.append(10)
            out += part
            out.append(13)
            out.append(10)
        }
        if wanted { resp3 = out } else { resp2 = out }
        return out
    }

    private func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(truncatingIfNeeded: value % 10) &+ 48)
    }
}

extension ServerCore {
    // MARK: - Subscribing

    /// Subscribes `client` to `name` and writes the confirmation (a push in RESP3).
    public func subscribe(_ client: ClientSession, _ kind: SubscriptionKind, _ name: [UInt8], out: inout ReplyWriter) {
        _ = pubsub.add(client, kind, Bytes(name))
        if client.outbox == nil { client.outbox = ClientOutbox() }
        writeConfirmation(kind, subscribing: true, name, count: client.subscriptions?.count(for: kind) ?? 0, &out)
    }

    /// Unsubscribes `client` from each of `names`, or from every subscription of the kind when
    /// `names` is empty, writing a confirmation for each (one with a null name when there was
    /// none at all).
    public func unsubscribe(_ client: ClientSession, _ kind: SubscriptionKind, _ names: [[UInt8]], out: inout ReplyWriter) {
        var targets = names
        if names.isEmpty {
            targets = (client.subscriptions?[kind] ?? []).map(\.array)
            if targets.isEmpty {
                return writeConfirmation(kind, subscribing: false, nil, count: client.subscriptions?.count(for: kind) ?? 0, &out)
            }
        }
        for name in targets {
            _ = pubsub.remove(client, kind, Bytes(name))
            writeConfirmation(kind, subscribing: false, name, count: client.subscriptions?.count(for: kind) ?? 0, &out)
        }
    }

    /// Drops every subscription without a reply (RESET, a client gone).
    public func unsubscribeAll(_ client: ClientSession) {
        guard let subscriptions = client.subscriptions else { return }
        for kind in [SubscriptionKind.channel, .pattern, .shard] {
            for name in subscriptions[kind] { _ = pubsub.remove(client, kind, name) }
        }
    }

    private func writeConfirmation(_ kind: SubscriptionKind, subscribing: Bool, _ name: [UInt8]?, count: Int,
                                   _ out: inout ReplyWriter) {
        out.pushHeader(3)
        out.staticBulk(kind.replyName(subscribing: subscribing))
        if let name { out.bulk(name) } else { out.null() }
        out.integer(count)
    }

    // MARK: - Publishing

    /// Delivers `message` to the subscribers of `channel` (of shard channel `channel` for
    /// `.shard`) and then to those of every matching pattern; returns how many received it.
    /// A subscriber that is `current` (the client whose command publishes, nil for the server's
    /// own events) gets it in `out`, before that command's reply, as Redis writes it into the
    /// same buffer.
    public func publish(_ kind: SubscriptionKind, channel: [UInt8], message: [UInt8], current: ClientSession?,
                        out: inout ReplyWriter, now: Int64) -> Int {
        if pubsub.isEmpty { return 0 }
        let key = Bytes(channel)
        var receivers = 0
        if kind == .shard {
            var frame = PushFrame(.smessage, [channel, message])
            for subscriber in pubsub.shardChannels[key] ?? [] {
                deliver(&frame, to: subscriber, current: current, out: &out, now: now)
                receivers += 1
            }
            return receivers
        }
        if let subscribers = pubsub.channels[key] {
            var frame = PushFrame(.message, [channel, message])
            for subscriber in subscribers {
                deliver(&frame, to: subscriber, current: current, out: &out, now: now)
                receivers += 1
            }
        }
        for (pattern, subscribers) in pubsub.patterns {
            let patternBytes = pattern.array
            guard globMatch(patternBytes, channel) else { continue }
            var frame = PushFrame(.pmessage, [patternBytes, channel, message])
            for subscriber in subscribers {
                deliver(&frame, to: subscriber, current: current, out: &out, now: now)
                receivers += 1
            }
        }
        return receivers
    }

    private func deliver(_ frame: inout PushFrame, to subscriber: ClientSession, current: ClientSession?,
                         out: inout ReplyWriter, now: Int64) {
        // Redis 7.0 adds nothing to the buffer of a client that turned its replies off.
        if subscriber.replyMode == .off { return }
        if subscriber === current {
            out.buffer.writeBytes(frame.bytes(resp3: out.resp3))
            return
        }
        pushToOutbox(frame.bytes(resp3: subscriber.resp3), of: subscriber, now: now)
    }

    /// Adds `bytes` to `client`'s outbox, telling its connection when no drain is on its way,
    /// and closes the client if its unsent output passed its limit.
    func pushToOutbox(_ bytes: [UInt8], of client: ClientSession, now: Int64) {
        let outbox = client.outbox ?? ClientOutbox()
        client.outbox = outbox
        guard !outbox.closed else { return }
        if outbox.append(bytes) { client.connection?.outboxReady() }
        enforceOutputLimit(client, outbox, now: now)
    }

    /// Closes a client whose unsent output passed its class's `client-output-buffer-limit`:
    /// at once past the hard limit, or once over the soft limit for longer than its seconds.
    private func enforceOutputLimit(_ client: ClientSession, _ outbox: ClientOutbox, now: Int64) {
        let limit = config.outputBufferLimits[client.subscriptions == nil ? .normal : .pubsub]
        let used = outbox.pendingBytes
        var exceeded = limit.hard > 0 && used >= limit.hard
        if limit.soft > 0 && used >= limit.soft {
            if outbox.overSoftLimitSince == 0 {
                outbox.overSoftLimitSince = now
            } else if (now - outbox.overSoftLimitSince) / 1000 > limit.softSeconds {
                exceeded = true
            }
        } else {
            outbox.overSoftLimitSince = 0
        }
        guard exceeded else { return }
        logHandler?(3, "Client id=\(client.id) addr=\(client.address) laddr=\(client.localAddress) scheduled to be closed ASAP for overcoming of output buffer limits.")
        stats.outputBufferLimitDisconnections += 1
        outbox.close()
        disconnect(client)
        client.killed = true
        client.connection?.close()
    }

    /// Puts what waits in `client`'s outbox into `out` at `mark`, before the reply the current
    /// command wrote from there: messages published to the client before its batch ran, and
    /// those a script it called published to it, come before that reply, as in Redis.
    /// Called by the dispatcher after each command of a client that has an outbox.
    func spliceOutbox(_ client: ClientSession, into out: inout ReplyWriter, at mark: Int) {
        guard let outbox = client.outbox, outbox.pendingBytes > 0, var messages = outbox.take() else { return }
        let count = messages.readableBytes
        if out.buffer.writerIndex == mark {
            out.buffer.writeBuffer(&messages)
        } else {
            var reply = out.buffer.getSlice(at: mark, length: out.buffer.writerIndex - mark)!
            out.buffer.moveWriterIndex(to: mark)
            out.buffer.writeBuffer(&messages)
            out.buffer.writeBuffer(&reply)
        }
        outbox.sent(count)
    }
}
