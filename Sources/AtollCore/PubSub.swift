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

/// The subscribers of one channel, pattern or shard channel, oldest first, and the start of
/// every message frame to them, encoded once when the list is made: the header and the name's
/// bulk string (`*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n`). A class, so that PUBLISH's lookup
/// takes one reference and a subscription changes the list in place.
public final class SubscriberList: @unchecked Sendable {
    // Unchecked (`@exclusivity`): changed and read only under the keyspace lock.
    /// The channel, pattern or shard channel.
    public let name: [UInt8]
    @exclusivity(unchecked) public fileprivate(set) var clients: [ClientSession] = []
    /// The frame's header and `name` as a bulk string, in RESP2 (a push's `>` replaces the
    /// first byte in RESP3). Memory of the list's own, freed with it: reading it costs a
    /// message no reference count.
    let frameHead: UnsafeRawBufferPointer
    /// `name`'s hash in its `SubscriberTable`.
    let hash: Int
    /// Its index in its table's `lists`.
    @exclusivity(unchecked) var position = 0
    /// For a pattern that is literal text and one final `*` (`news.*`, `__keyspace@0__:*`, the
    /// common kind): that text, which a channel matches by starting with it. Nil otherwise.
    let literalPrefix: [UInt8]?

    init(_ kind: SubscriptionKind, _ name: [UInt8], hash: Int) {
        self.name = name
        self.hash = hash
        let special: Set<UInt8> = [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "\\")]
        if kind == .pattern, name.last == UInt8(ascii: "*"), !name.dropLast().contains(where: special.contains) {
            literalPrefix = Array(name.dropLast())
        } else {
            literalPrefix = nil
        }
        let header: StaticString = switch kind {
        case .channel: "*3\r\n$7\r\nmessage\r\n"
        case .pattern: "*4\r\n$8\r\npmessage\r\n"
        case .shard: "*3\r\n$8\r\nsmessage\r\n"
        }
        var head = header.withUTF8Buffer { Array($0) }
        head.append(UInt8(ascii: "$"))
        head.append(contentsOf: String(name.count).utf8)
        head.append(contentsOf: [13, 10])
        head.append(contentsOf: name)
        head.append(contentsOf: [13, 10])
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: head.count, alignment: 1)
        memory.copyBytes(from: head)
        frameHead = UnsafeRawBufferPointer(memory)
    }

    deinit { frameHead.deallocate() }

    /// Whether this pattern matches `channel` (`bytes`: its bytes), as `globMatch` says.
    @inline(__always) func matches(_ channel: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let literalPrefix else { return globMatch(name, channel) }
        // As Redis's matcher, `*` matches no empty channel.
        return bytes.count > 0 && bytes.count >= literalPrefix.count
            && sameBytes(literalPrefix, UnsafeRawBufferPointer(rebasing: bytes[..<literalPrefix.count]))
    }
}

/// The subscriber lists of one kind, by name: open addressing with linear probing over a
/// power-of-two array kept at most half full, hashed with SipHash-1-2 (as the key tables are)
/// under a key of its own. PUBLISH looks its channel up with the argument's bytes as they are:
/// through a `Dictionary` of `Bytes`, `Hasher` and the key's conversion cost more than the rest
/// of the delivery. `lists` owns the lists; the buckets hold them unmanaged, so a probe counts
/// no references (only the list found is retained).
public final class SubscriberTable: @unchecked Sendable {
    // Unchecked (`@exclusivity`, `Sendable`): changed and read only under the keyspace lock.
    @exclusivity(unchecked) private var buckets: UnsafeMutableBufferPointer<Unmanaged<SubscriberList>?> = .init(start: nil, count: 0)
    /// Every list, in no particular order (as Redis's dictionary gives them); each knows its
    /// place here (`SubscriberList.position`). A copy is what PUBLISH walks for patterns: a
    /// subscriber closed for its output limit may take its pattern away meanwhile.
    @exclusivity(unchecked) public private(set) var lists: [SubscriberList] = []
    private let seed: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()

    public init() {}

    deinit { buckets.deallocate() }

    public var count: Int { lists.count }
    public var isEmpty: Bool { lists.isEmpty }

    /// SipHash-1-2 of `name`, under the table's key.
    @inline(__always) private func hash(_ name: UnsafeRawBufferPointer) -> Int {
        var state = SipHash(key: seed)
        return Int(truncatingIfNeeded: state.hash(name))
    }

    /// The list of `name`, if anyone is subscribed to it.
    public subscript(name: [UInt8]) -> SubscriberList? {
        if count == 0 { return nil }
        return name.withUnsafeBytes { raw in bucket(of: raw, hash: hash(raw)).map { buckets[$0]!.takeUnretainedValue() } }
    }

    /// The bucket holding `name`, whose hash is `hash`.
    @inline(__always) private func bucket(of name: UnsafeRawBufferPointer, hash: Int) -> Int? {
        let mask = buckets.count - 1
        var i = hash & mask
        while let entry = buckets[i] {
            if entry._withUnsafeGuaranteedRef({ $0.hash == hash && sameBytes($0.name, name) }) { return i }
            i = (i + 1) & mask
        }
        return nil
    }

    /// The list of `name`, made (empty) when there is none.
    func list(_ kind: SubscriptionKind, _ name: [UInt8]) -> SubscriberList {
        if let existing = self[name] { return existing }
        if (count + 1) * 2 > buckets.count { grow() }
        let list = SubscriberList(kind, name, hash: name.withUnsafeBytes { hash($0) })
        place(.passUnretained(list))
        list.position = lists.count
        lists.append(list)
        return list
    }

    private func place(_ entry: Unmanaged<SubscriberList>) {
        let mask = buckets.count - 1
        var i = entry._withUnsafeGuaranteedRef { $0.hash } & mask
        while buckets[i] != nil { i = (i + 1) & mask }
        buckets[i] = entry
    }

    private func grow() {
        let old = buckets
        buckets = .allocate(capacity: Swift.max(8, old.count * 2))
        buckets.initialize(repeating: nil)
        for case let entry? in old { place(entry) }
        old.deallocate()
    }

    /// Removes `list`, shifting back the lists that probed past it.
    func remove(_ list: SubscriberList) {
        guard let found = list.name.withUnsafeBytes({ bucket(of: $0, hash: list.hash) }) else { return }
        let mask = buckets.count - 1
        var hole = found
        buckets[hole] = nil
        var i = hole
        while true {
            i = (i + 1) & mask
            guard let next = buckets[i] else { break }
            let home = next._withUnsafeGuaranteedRef { $0.hash } & mask
            // `next` may move into the hole unless its home lies cyclically in (hole, i].
            let stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i)
            if !stays {
                buckets[hole] = next
                buckets[i] = nil
                hole = i
            }
        }
        let last = lists.removeLast()
        if last !== list {
            last.position = list.position
            lists[list.position] = last
        }
    }
}

/// The server's side: subscribers per channel, pattern and shard channel.
public final class PubSubRegistry: @unchecked Sendable {
    public let channels = SubscriberTable()
    public let patterns = SubscriberTable()
    public let shardChannels = SubscriberTable()

    public init() {}

    /// True when nobody is subscribed to anything: PUBLISH has nothing to look up.
    public var isEmpty: Bool { channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty }

    public func subscribers(_ kind: SubscriptionKind) -> SubscriberTable {
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
        subscribers(kind).list(kind, name.array).clients.append(client)
        return true
    }

    /// Unsubscribes `client`; false when it was not subscribed.
    func remove(_ client: ClientSession, _ kind: SubscriptionKind, _ name: Bytes) -> Bool {
        guard var subscriptions = client.subscriptions, subscriptions[kind].remove(name) != nil else { return false }
        client.subscriptions = subscriptions.isEmpty ? nil : subscriptions
        let table = subscribers(kind)
        guard let list = table[name.array] else { return true }
        list.clients.removeAll { $0 === client }
        if list.clients.isEmpty { table.remove(list) }
        return true
    }
}

/// A message to subscribers, written straight into each one's buffer in its protocol: the
/// list's encoded head (see `SubscriberList`), then the channel (`pmessage` only) and the
/// message as bulk strings. No array is made per message: building one was most of PUBLISH's
/// own cost. It holds views of the bytes, not references (each reference was counted twice
/// per message), so it lives only within the PUBLISH that made it, whose list and arguments
/// keep the bytes alive.
struct PushFrame {
    /// `SubscriberList.frameHead`.
    let head: UnsafeRawBufferPointer
    /// The channel that matched (`pmessage` only: the head names the pattern).
    let channel: UnsafeRawBufferPointer?
    let message: UnsafeRawBufferPointer
    /// The frame's size in bytes (the same in both protocols).
    let size: Int

    init(head: UnsafeRawBufferPointer, channel: UnsafeRawBufferPointer? = nil, message: UnsafeRawBufferPointer) {
        self.head = head
        self.channel = channel
        self.message = message
        size = head.count + (channel.map(Self.bulkSize) ?? 0) + Self.bulkSize(message)
    }

    /// Appends the frame to `buffer`, as a push (`>`) in RESP3.
    func write(to buffer: inout ByteBuffer, resp3: Bool) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            let base = raw.baseAddress!
            var at = Self.copy(head, to: base, at: 0)
            if resp3 { base.storeBytes(of: UInt8(ascii: ">"), as: UInt8.self) }
            if let channel { at = Self.writeBulk(channel, to: base, at: at) }
            return Self.writeBulk(message, to: base, at: at)
        }
    }

    /// `$<length>\r\n<bytes>\r\n`'s size.
    private static func bulkSize(_ part: UnsafeRawBufferPointer) -> Int { 1 + digitCount(part.count) + 2 + part.count + 2 }

    @inline(__always) private static func digitCount(_ value: Int) -> Int {
        if value < 10 { return 1 }
        if value < 100 { return 2 }
        var n = 3, v = value / 1000
        while v > 0 { v /= 10; n += 1 }
        return n
    }

    @inline(__always) private static func copy(_ bytes: UnsafeRawBufferPointer, to base: UnsafeMutableRawPointer,
                                               at offset: Int) -> Int {
        if let from = bytes.baseAddress { (base + offset).copyMemory(from: from, byteCount: bytes.count) }
        return offset + bytes.count
    }

    @inline(__always) private static func writeBulk(_ part: UnsafeRawBufferPointer, to base: UnsafeMutableRawPointer,
                                                    at offset: Int) -> Int {
        var at = offset
        base.storeBytes(of: UInt8(ascii: "$"), toByteOffset: at, as: UInt8.self)
        at += 1
        let count = part.count
        if count < 10 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: count) &+ 48, toByteOffset: at, as: UInt8.self)
            at += 1
        } else {
            let digits = digitCount(count)
            var v = count
            for i in stride(from: digits - 1, through: 0, by: -1) {
                base.storeBytes(of: UInt8(truncatingIfNeeded: v % 10) &+ 48, toByteOffset: at + i, as: UInt8.self)
                v /= 10
            }
            at += digits
        }
        base.storeBytes(of: 0x0A0D, toByteOffset: at, as: UInt16.self)
        at = copy(part, to: base, at: at + 2)
        base.storeBytes(of: 0x0A0D, toByteOffset: at, as: UInt16.self)
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
        return message.withUnsafeBytes { message in
            if kind == .shard {
                guard let list = pubsub.shardChannels[channel] else { return 0 }
                return deliver(list, channel: nil, message: message, current: current, out: &out, now: now)
            }
            var receivers = 0
            if let list = pubsub.channels[channel] {
                receivers += deliver(list, channel: nil, message: message, current: current, out: &out, now: now)
            }
            if pubsub.patterns.isEmpty { return receivers }
            // Over a copy: a subscriber closed for its output limit may take its pattern away.
            let patterns = pubsub.patterns.lists
            channel.withUnsafeBytes { channelBytes in
                for list in patterns where list.matches(channel, channelBytes) {
                    receivers += deliver(list, channel: channelBytes, message: message, current: current, out: &out, now: now)
                }
            }
            return receivers
        }
    }

    /// Delivers a message to each of `list`'s subscribers; returns how many there are. The
    /// clients are iterated over a copy of the list: a subscriber closed for its output limit
    /// leaves the list meanwhile.
    private func deliver(_ list: SubscriberList, channel: UnsafeRawBufferPointer?, message: UnsafeRawBufferPointer,
                         current: ClientSession?, out: inout ReplyWriter, now: Int64) -> Int {
        let clients = list.clients
        let frame = PushFrame(head: list.frameHead, channel: channel, message: message)
        return clients.withUnsafeBufferPointer { clients in
            for subscriber in clients { deliver(frame, to: subscriber, current: current, out: &out, now: now) }
            return clients.count
        }
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
