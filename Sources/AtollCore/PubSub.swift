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
    // Unchecked (`@exclusivity`): read by every PUBLISH, only under the keyspace lock, never
    // re-entrantly (the runtime's access checks were a visible part of PUBLISH's cost).
    @exclusivity(unchecked) public private(set) var channels: [Bytes: [ClientSession]] = [:]
    @exclusivity(unchecked) public private(set) var patterns: [Bytes: [ClientSession]] = [:]
    @exclusivity(unchecked) public private(set) var shardChannels: [Bytes: [ClientSession]] = [:]

    public init() {}

    /// True when nobody is subscribed to anything: PUBLISH has nothing to look up.
    public var isEmpty: Bool { channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty }

    public func subscribers(_ kind: SubscriptionKind) -> [Bytes: [ClientSession]] { self[kind] }

    /// The table of one kind, changed in place (no copy of the dictionary).
    private subscript(kind: SubscriptionKind) -> [Bytes: [ClientSession]] {
        get {
            switch kind {
            case .channel: return channels
            case .pattern: return patterns
            case .shard: return shardChannels
            }
        }
        _modify {
            switch kind {
            case .channel: yield &channels
            case .pattern: yield &patterns
            case .shard: yield &shardChannels
            }
        }
    }

    /// Subscribes `client`; false when it already was.
    func add(_ client: ClientSession, _ kind: SubscriptionKind, _ name: Bytes) -> Bool {
        var subscriptions = client.subscriptions ?? ClientSubscriptions()
        guard subscriptions[kind].insert(name).inserted else { return false }
        client.subscriptions = subscriptions
        self[kind][name, default: []].append(client)
        return true
    }

    /// Unsubscribes `client`; false when it was not subscribed.
    func remove(_ client: ClientSession, _ kind: SubscriptionKind, _ name: Bytes) -> Bool {
        guard var subscriptions = client.subscriptions, subscriptions[kind].remove(name) != nil else { return false }
        client.subscriptions = subscriptions.isEmpty ? nil : subscriptions
        self[kind][name]?.removeAll { $0 === client }
        if self[kind][name]?.isEmpty == true { self[kind][name] = nil }
        return true
    }
}

/// A message to subscribers, written straight into each one's buffer in its protocol: the
/// header (`*3` or `>3`, with the kind's name) from a table, then the bulk strings. No array
/// is made per message: building one was most of PUBLISH's own cost.
struct PushFrame {
    /// `message`, `pmessage` or `smessage`.
    enum Kind: Int { case message, pmessage, smessage }

    let kind: Kind
    /// The pattern that matched (`pmessage` only).
    let pattern: [UInt8]?
    let channel: [UInt8]
    let message: [UInt8]
    /// The frame's size in bytes (the same in both protocols).
    let size: Int

    private static let headers: [[UInt8]] = ["*3\r\n$7\r\nmessage\r\n", "*4\r\n$8\r\npmessage\r\n", "*3\r\n$8\r\nsmessage\r\n"]
        .map { Array($0.utf8) }

    init(_ kind: Kind, pattern: [UInt8]? = nil, channel: [UInt8], message: [UInt8]) {
        self.kind = kind
        self.pattern = pattern
        self.channel = channel
        self.message = message
        size = Self.headers[kind.rawValue].count + (pattern.map(Self.bulkSize) ?? 0) + Self.bulkSize(channel)
            + Self.bulkSize(message)
    }

    /// Appends the frame to `buffer`, as a push (`>`) in RESP3.
    func write(to buffer: inout ByteBuffer, resp3: Bool) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            let base = raw.baseAddress!
            var at = Self.copy(Self.headers[kind.rawValue], to: base, at: 0)
            if resp3 { base.storeBytes(of: UInt8(ascii: ">"), as: UInt8.self) }
            if let pattern { at = Self.writeBulk(pattern, to: base, at: at) }
            at = Self.writeBulk(channel, to: base, at: at)
            return Self.writeBulk(message, to: base, at: at)
        }
    }

    /// `$<length>\r\n<bytes>\r\n`'s size.
    private static func bulkSize(_ part: [UInt8]) -> Int { 1 + digitCount(part.count) + 2 + part.count + 2 }

    private static func digitCount(_ value: Int) -> Int {
        var n = 1, v = value
        while v >= 10 { v /= 10; n += 1 }
        return n
    }

    private static func copy(_ bytes: [UInt8], to base: UnsafeMutableRawPointer, at offset: Int) -> Int {
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress { (base + offset).copyMemory(from: from, byteCount: source.count) }
        }
        return offset + bytes.count
    }

    private static func writeBulk(_ part: [UInt8], to base: UnsafeMutableRawPointer, at offset: Int) -> Int {
        var at = offset
        base.storeBytes(of: UInt8(ascii: "$"), toByteOffset: at, as: UInt8.self)
        at += 1
        let digits = digitCount(part.count)
        var v = part.count
        for i in stride(from: digits - 1, through: 0, by: -1) {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v % 10) &+ 48, toByteOffset: at + i, as: UInt8.self)
            v /= 10
        }
        at += digits
        base.storeBytes(of: 13, toByteOffset: at, as: UInt8.self)
        base.storeBytes(of: 10, toByteOffset: at + 1, as: UInt8.self)
        at = copy(part, to: base, at: at + 2)
        base.storeBytes(of: 13, toByteOffset: at, as: UInt8.self)
        base.storeBytes(of: 10, toByteOffset: at + 1, as: UInt8.self)
        return at + 2
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
            let frame = PushFrame(.smessage, channel: channel, message: message)
            for subscriber in pubsub.shardChannels[key] ?? [] {
                deliver(frame, to: subscriber, current: current, out: &out, now: now)
                receivers += 1
            }
            return receivers
        }
        if let subscribers = pubsub.channels[key] {
            let frame = PushFrame(.message, channel: channel, message: message)
            for subscriber in subscribers {
                deliver(frame, to: subscriber, current: current, out: &out, now: now)
                receivers += 1
            }
        }
        if pubsub.patterns.isEmpty { return receivers }
        for (pattern, subscribers) in pubsub.patterns {
            let patternBytes = pattern.array
            guard globMatch(patternBytes, channel) else { continue }
            let frame = PushFrame(.pmessage, pattern: patternBytes, channel: channel, message: message)
            for subscriber in subscribers {
                deliver(frame, to: subscriber, current: current, out: &out, now: now)
                receivers += 1
            }
        }
        return receivers
    }

    private func deliver(_ frame: PushFrame, to subscriber: ClientSession, current: ClientSession?,
                         out: inout ReplyWriter, now: Int64) {
        // Redis 7.0 adds nothing to the buffer of a client that turned its replies off.
        if subscriber.replyMode == .off { return }
        if subscriber === current {
            frame.write(to: &out.buffer, resp3: out.resp3)
            return
        }
        let resp3 = subscriber.resp3
        pushToOutbox(frame.size, of: subscriber, as: .pubsub, now: now) { frame.write(to: &$0, resp3: resp3) }
    }

    /// Adds `bytes` to `client`'s outbox, telling its connection when no drain is on its way,
    /// and closes the client if its unsent output passed the limit of its class (`kind`).
    func pushToOutbox(_ count: Int, of client: ClientSession, as kind: ClientClass, now: Int64,
                      write: (inout ByteBuffer) -> Void) {
        let outbox: ClientOutbox
        if let existing = client.outbox {
            outbox = existing
        } else {
            outbox = ClientOutbox()
            client.outbox = outbox
        }
        guard !outbox.closed else { return }
        if outbox.append(count, write) { client.connection?.outboxReady() }
        enforceOutputLimit(client, outbox, kind, now: now)
    }

    /// Closes a client whose unsent output passed its class's `client-output-buffer-limit`:
    /// at once past the hard limit, or once over the soft limit for longer than its seconds.
    private func enforceOutputLimit(_ client: ClientSession, _ outbox: ClientOutbox, _ kind: ClientClass, now: Int64) {
        let limit = config.outputBufferLimits[kind]
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
