/// Keyspace notifications (Redis's notify.c): the event classes of `notify-keyspace-events`,
/// its parsing and printing, and the publishing of one event to `__keyspace@<db>__:<key>`
/// (the event name as message) and `__keyevent@<db>__:<event>` (the key as message).
/// Commands call `CommandContext.notify`, which costs one integer test while notifications
/// are off.
import AtollBytes
import AtollKeyspace
import AtollRESP
import NIOCore

/// The classes of `notify-keyspace-events`, one bit a letter.
public struct KeyspaceEventClass: OptionSet, Sendable {
    public let rawValue: Int
    @inlinable public init(rawValue: Int) { self.rawValue = rawValue }

    /// `K`: publish to `__keyspace@<db>__:<key>`.
    public static let keyspace = KeyspaceEventClass(rawValue: 1 << 0)
    /// `E`: publish to `__keyevent@<db>__:<event>`.
    public static let keyevent = KeyspaceEventClass(rawValue: 1 << 1)
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    public static let generic = KeyspaceEventClass(rawValue: 1 << 2)
    /// `$`: string commands.
    public static let string = KeyspaceEventClass(rawValue: 1 << 3)
    /// `l`: list commands.
    public static let list = KeyspaceEventClass(rawValue: 1 << 4)
    /// `s`: set commands.
    public static let set = KeyspaceEventClass(rawValue: 1 << 5)
    /// `h`: hash commands.
    public static let hash = KeyspaceEventClass(rawValue: 1 << 6)
    /// `z`: sorted set commands.
    public static let zset = KeyspaceEventClass(rawValue: 1 << 7)
    /// `x`: a key expired (lazily or by the active cycle).
    public static let expired = KeyspaceEventClass(rawValue: 1 << 8)
    /// `e`: a key evicted for maxmemory.
    public static let evicted = KeyspaceEventClass(rawValue: 1 << 9)
    /// `t`: stream commands.
    public static let stream = KeyspaceEventClass(rawValue: 1 << 10)
    /// `m`: a read found no key (`keymiss`); not part of `A`.
    public static let keyMiss = KeyspaceEventClass(rawValue: 1 << 11)
    /// `d`: module key types (none in Atoll).
    public static let module = KeyspaceEventClass(rawValue: 1 << 12)
    /// `n`: a key was created (`new`); not part of `A`.
    public static let new = KeyspaceEventClass(rawValue: 1 << 13)
    /// `A`: every class but `m` and `n`.
    public static let all: KeyspaceEventClass = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted,
                                                 .stream, .module]

    /// The letters in the order Redis prints them after `A` (or in its place).
    static let typeLetters: [(Character, KeyspaceEventClass)] = [
        ("g", .generic), ("$", .string), ("l", .list), ("s", .set), ("h", .hash), ("z", .zset),
        ("x", .expired), ("e", .evicted), ("t", .stream), ("d", .module), ("n", .new),
    ]

    /// Redis's `keyspaceEventsStringToFlags`: nil for a character it does not know.
    public init?(letters: String) {
        var flags = KeyspaceEventClass()
        for letter in letters {
            switch letter {
            case "A": flags.formUnion(.all)
            case "K": flags.insert(.keyspace)
            case "E": flags.insert(.keyevent)
            case "m": flags.insert(.keyMiss)
            default:
                guard let match = Self.typeLetters.first(where: { $0.0 == letter }) else { return nil }
                flags.insert(match.1)
            }
        }
        self = flags
    }

    /// Redis's `keyspaceEventsFlagsToString`, as CONFIG GET shows it: `A` stands for the whole
    /// of `all` and then, as in Redis, `n` is not printed; K, E and m come last.
    public var letters: String {
        var text = ""
        if isSuperset(of: .all) {
            text = "A"
        } else {
            for (letter, flag) in Self.typeLetters where contains(flag) { text.append(letter) }
        }
        if contains(.keyspace) { text.append("K") }
        if contains(.keyevent) { text.append("E") }
        if contains(.keyMiss) { text.append("m") }
        return text
    }
}

/// `notify-keyspace-events` as configured, and the classes that actually publish: none unless
/// K or E is set, so that a command's test is one AND.
public struct KeyspaceEventSettings: Sendable {
    public private(set) var configured = KeyspaceEventClass()
    /// The type classes that publish something: empty while neither K nor E is set.
    public private(set) var enabled = KeyspaceEventClass()

    public init() {}

    public mutating func set(_ flags: KeyspaceEventClass) {
        configured = flags
        enabled = flags.isDisjoint(with: [.keyspace, .keyevent]) ? [] : flags
    }
}

extension ConfigParameter {
    static let notifyKeyspaceEvents = ConfigParameter(
        name: "notify-keyspace-events", alias: nil, mutable: true, rewriteStyle: .quoted,
        get: { $0.keyspaceEvents.configured.letters },
        set: { config, values in
            guard values.count == 1, let flags = KeyspaceEventClass(letters: values[0]) else {
                return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
            }
            config.keyspaceEvents.set(flags)
            return nil
        })
}

extension ServerCore {
    /// Publishes event `event` of class `type` about `key` in database `db`: first to the key's
    /// keyspace channel, then to the event's keyevent channel, each only if its letter is set.
    /// `current` (the client whose command caused it, if any) receives it in `out`, as with
    /// PUBLISH. The caller has checked that `type` is enabled.
    public func publishKeyspaceEvent(_ type: KeyspaceEventClass, _ event: StaticString, _ key: Bytes, db: Int,
                                     current: ClientSession?, out: inout ReplyWriter, now: Int64) {
        let flags = KeyspaceEventClass(rawValue: keyspaceEventMask)
        guard flags.contains(type), !pubsub.isEmpty else { return }
        let name = UnsafeRawBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount)
        let database = Array(String(db).utf8)
        if flags.contains(.keyspace) {
            let channel = Array("__keyspace@".utf8) + database + Array("__:".utf8) + key.array
            _ = publish(.channel, channel: channel, message: Array(name), current: current, out: &out, now: now)
        }
        if flags.contains(.keyevent) {
            let channel = Array("__keyevent@".utf8) + database + Array("__:".utf8) + Array(name)
            _ = publish(.channel, channel: channel, message: key.array, current: current, out: &out, now: now)
        }
    }

    /// An event with no client behind it (the active expiry cycle).
    public func publishKeyspaceEvent(_ type: KeyspaceEventClass, _ event: StaticString, _ key: Bytes, db: Int, now: Int64) {
        guard keyspaceEventMask & type.rawValue != 0, !pubsub.isEmpty else { return }
        var sink = ReplyWriter(buffer: ByteBuffer())
        publishKeyspaceEvent(type, event, key, db: db, current: nil, out: &sink, now: now)
    }
}

extension CommandContext {
    /// Redis's `notifyKeyspaceEvent` for this command: event `event` of class `type` about
    /// `key` in the client's database (or `db`). One test when the class is off.
    @inlinable public mutating func notify(_ type: KeyspaceEventClass, _ event: StaticString, _ key: Bytes, db: Int? = nil) {
        if server.keyspaceEventMask & type.rawValue == 0 { return }
        publishEvent(type, event, key, db: db ?? client.db)
    }

    @usableFromInline mutating func publishEvent(_ type: KeyspaceEventClass, _ event: StaticString, _ key: Bytes, db: Int) {
        if server.pubsub.isEmpty { return }
        guard command?.behaviour.contains(.eventsAfterReply) == true else {
            return server.publishKeyspaceEvent(type, event, key, db: db, current: client, out: &out, now: now)
        }
        // This command's reply comes first, as in Redis: what the client's own subscriptions
        // receive waits for it.
        var own = ReplyWriter(buffer: ByteBuffer(), resp3: out.resp3)
        server.publishKeyspaceEvent(type, event, key, db: db, current: client, out: &own, now: now)
        if own.buffer.readableBytes > 0 { ownEventsAfterReply += Array(own.buffer.readableBytesView) }
    }
}
