/// `CommandContext`: what a command handler works with — its arguments, the reply writer,
/// the client, the server state and the command's clock — plus the keyspace helpers that
/// every family shares (typed lookups, the common error replies).
import AtollBytes
import AtollKeyspace
import AtollRESP
import NIOCore

public struct CommandContext {
    public var args: [[UInt8]] = []
    public var out: ReplyWriter
    public let client: ClientSession
    public let server: ServerCore
    /// The server's keyspace, held directly so handlers do not go through `server` for it.
    public let keyspace: Keyspace
    /// The command's time, Unix milliseconds; fixed for the whole command.
    public var now: Int64 = 0
    /// The command (or subcommand) being run.
    /// Unowned: a table's commands live as long as the server (no retain and release per command).
    public unowned(unsafe) var command: CommandSpec?
    /// The key the batch's prefetch expects this command to look up first, with its hash.
    public var keyHint: KeyHint?
    /// Set by `block(...)`: the command parked the client instead of replying.
    public var blockRequested = false
    /// While a parked client's command is re-run to serve it: the key that woke it, the only
    /// one the command may take from (see `servingBlocked`).
    public var servedKey: Bytes?
    /// Why the command did not run and the batch stops before it (it runs later): `offload`,
    /// set on the event loops for a script not known to be quick, left for the script thread
    /// (the caller hands the batch over); `postponed`, by CLIENT PAUSE (the client waits for
    /// the pause to end). One field, so the batch loop tests once.
    public enum Deferral: Sendable { case none, offload, postponed }
    public var deferral = Deferral.none
    /// Set by the event loops: a script not known to be quick is not run here but left for
    /// the script thread.
    public var onEventLoop = false
    /// Run while a script holds the keyspace lock (see BusyReplies.swift): only the client's
    /// own state may change.
    public var whileScriptBusy = false
    public var offloadRequested: Bool {
        get { deferral == .offload }
        set { deferral = newValue ? .offload : .none }
    }
    public var postponed: Bool {
        get { deferral == .postponed }
        set { deferral = newValue ? .postponed : .none }
    }
    /// With the append-only file on: what to record for this command instead of its own
    /// arguments (a deterministic form: absolute expiry times, the members SPOP took ...).
    public var loggedAs: [[[UInt8]]]?
    /// Set by commands the append-only file records even when they changed nothing
    /// (FLUSHALL and FLUSHDB, as Redis forces their propagation).
    public var forceLogged = false
    /// Monotonic microseconds at which the dispatcher started timing this script command, so
    /// that the script need not read the clock again; 0 when there is none (a script inside
    /// EXEC reads its own). The script sets `scriptEndedMicros` when it ends, for the
    /// dispatcher's timing in turn. The dispatcher clears both after the command.
    package var scriptStartedMicros = 0
    package var scriptEndedMicros = 0
    /// Keyspace events for the calling client itself from a command that replies first
    /// (`eventsAfterReply`); the dispatcher writes them after the command's reply.
    package var ownEventsAfterReply: [UInt8] = []

    public init(out: ReplyWriter, client: ClientSession, server: ServerCore) {
        self.out = out
        self.client = client
        self.server = server
        self.keyspace = server.keyspace
    }

    /// Readies a context kept from command to command (a script's) for the next one: every
    /// per-command field back to its initial value, the reply buffer emptied. Keep in step with
    /// the fields above.
    package mutating func reset(args: [[UInt8]], command: CommandSpec, now: Int64, resp3: Bool) {
        self.args = args
        self.command = command
        self.now = now
        keyHint = nil
        out.buffer.clear()
        out.clearOverflow()
        out.resp3 = resp3
        blockRequested = false
        servedKey = nil
        onEventLoop = false
        deferral = .none
        loggedAs = nil
        forceLogged = false
        scriptStartedMicros = 0
        scriptEndedMicros = 0
        ownEventsAfterReply.removeAll()
    }

    // MARK: - Keyspace access

    /// Live entry for a key in the client's database, or in `db` (lazy expiry applies, and a
    /// key it deletes touches its watchers); `touch` also records the access time.
    @inlinable public mutating func lookup(_ key: Bytes, db: Int? = nil, touch: AccessClock? = nil) -> Entry? {
        let db = db ?? client.db
        var expired = 0
        let entry = keyspace.databases[db].lookup(key, hash: hintedHash(key), now: now, expired: &expired, touch: touch)
        if expired > 0 { noteExpired(key, db: db) }
        return entry
    }

    /// The `tableHash` of `key` when the prefetch computed it already (see `KeyHint`).
    @inlinable public func hintedHash(_ key: Bytes) -> Int? { keyHint?.hash(of: key) }

    /// A key lazy expiry just deleted: counted, its watchers touched, a DEL recorded in the
    /// append-only file (a reload does not expire keys, so it must see the deletion), and the
    /// `expired` event published.
    public mutating func noteExpired(_ key: Bytes, db: Int) {
        keyspace.stats.expiredKeys += 1
        expiredOrModified(key, db: db)
        if !server.blocking.isEmpty { server.blocking.signalStreamReaders(WatchedKey(db: db, key: key)) }
        server.feed?.add(db: db, [AppendOnlyFeed.del, key.array])
        notify(.expired, "expired", key, db: db)
    }

    /// Lookup for reading: counts hits and misses (a miss is the `keymiss` event) and
    /// refreshes the access time unless `touch` is false (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE).
    @inlinable public mutating func lookupRead(_ key: Bytes, touch: Bool = true) -> Entry? {
        let entry = lookup(key, touch: client.noTouch || !touch ? nil : touchClock)
        countRead(key, found: entry != nil)
        return entry
    }

    /// A read lookup's hit or miss (a miss is the `keymiss` event).
    @inlinable mutating func countRead(_ key: Bytes, found: Bool) {
        if found {
            keyspace.stats.keyspaceHits += 1
        } else {
            keyspace.stats.keyspaceMisses += 1
            notify(.keyMiss, "keymiss", key)
        }
    }

    /// As `lookupRead`, with `body` reading the live entry where it is stored, so that neither
    /// the entry nor its value is copied out of the table (nor destroyed after): nil when there
    /// is none.
    /// (`body` is given the entry in place, to read only: passed on as a value, it was copied.)
    @inlinable public mutating func readLive<R>(_ key: Bytes, _ body: (inout Entry) -> R) -> R? {
        let db = client.db
        var expired = 0
        let result = keyspace.databases[db].modifyLive(key, hash: hintedHash(key), now: now, expired: &expired,
                                                       touch: client.noTouch ? nil : touchClock, body)
        if expired > 0 { noteExpired(key, db: db) }
        countRead(key, found: result != nil)
        return result
    }

    /// The clock a key's access is stamped with: under an LFU policy with a fresh random
    /// number for the counter's increment.
    /// (Always inlined: called, the getter was given a copy of the whole context, a 224-byte
    /// memcpy for every key a command read.)
    @inlinable public var touchClock: AccessClock {
        @inline(__always) get {
            var clock = server.accessClock
            if clock.lfu { clock.random = keyspace.rng.next() }
            return clock
        }
    }

    /// Lookup for a write (Redis's `lookupKeyWrite`): no hit or miss counted; the access is stamped.
    @inlinable public mutating func lookupWrite(_ key: Bytes) -> Entry? {
        lookup(key, touch: client.noTouch ? nil : touchClock)
    }

    /// Stores a string value, replacing whatever `key` held. Under an LFU policy a replaced
    /// live key's counter carries over, touched once, as Redis's `setKey` looks the key up for
    /// writing and `dbOverwrite` keeps the old object's stamp.
    @inlinable public mutating func store(_ key: Bytes, _ value: Value, expireAt: Int64 = noExpiry, raw: Bool = false) {
        let entry = Entry(value: value, expireAt: expireAt, lastAccess: server.accessClock.newEntry, rawEncoding: raw)
        let inherit = server.accessClock.lfu && !client.noTouch ? touchClock : nil
        let replaced = keyspace.databases[client.db].store(key, hash: hintedHash(key), entry, inheritingAccess: inherit, now: now)
        if replaced == nil || replaced! != noExpiry { stored(key, replacedExpiry: replaced) }
        modified(key)
    }

    /// After a store that did not simply overwrite a live key without expiry: a key that was
    /// absent is `new`, one whose time had passed (stored over without a lookup) first
    /// expires, as Redis's lookup before its write would have made it.
    @inlinable public mutating func stored(_ key: Bytes, replacedExpiry: Int64?) {
        if let expiry = replacedExpiry {
            guard expiry != noExpiry && now > expiry else { return }
            keyspace.stats.expiredKeys += 1
            notify(.expired, "expired", key)
        }
        notify(.new, "new", key)
    }

    /// Deletes a live key, publishing `del` unless `silently` (a key about to be replaced, as
    /// RENAME and RESTORE REPLACE do); false when there was none.
    @inlinable @discardableResult
    public mutating func delete(_ key: Bytes, silently: Bool = false) -> Bool {
        guard lookup(key) != nil else { return false }
        keyspace.databases[client.db].remove(key)
        modified(key)
        if !silently { notify(.generic, "del", key) }
        return true
    }

    /// Sets or clears (`noExpiry`) the expiry of an existing key.
    @inlinable public mutating func setExpiry(_ key: Bytes, _ expireAt: Int64) {
        keyspace.databases[client.db].setExpiry(key, expireAt)
        modified(key)
    }

    /// Every change to a key ends here: it counts for the next save and touches WATCHes.
    @inlinable public mutating func modified(_ key: Bytes, db: Int? = nil) {
        server.dirty += 1
        if !server.watches.isEmpty || server.tracking.isActive { expiredOrModified(key, db: db ?? client.db) }
        if !server.blocking.isEmpty { server.blocking.signalStreamReaders(WatchedKey(db: db ?? client.db, key: key)) }
    }

    /// Marks the watchers of `key` and invalidates it for tracking clients (also used when
    /// lazy expiry deleted it).
    public func expiredOrModified(_ key: Bytes, db: Int) {
        let keyspace = self.keyspace
        server.watches.touch(WatchedKey(db: db, key: key)) { keyspace.databases[db].table.contains(key) }
        if server.tracking.isActive { server.invalidate(key, writer: server.trackingCaller) }
    }

    // MARK: - Append-only file

    /// True when the append-only file records writes, so a command should say what to log
    /// when its own arguments would not replay the same (`logAs`).
    @inlinable public var logsWrites: Bool { server.feed != nil }

    /// Records `args` for this command instead of its own arguments (may be called again to
    /// record several commands). Only meaningful when `logsWrites`.
    public mutating func logAs(_ args: [[UInt8]]) {
        if loggedAs == nil { loggedAs = [args] } else { loggedAs!.append(args) }
    }

    /// Records `SET key value PXAT ms` (or without the expiry): a string store replayed exactly.
    public mutating func logStringStore(_ key: [UInt8], _ value: [UInt8], expireAt: Int64) {
        if expireAt == noExpiry {
            logAs([AppendOnlyFeed.set, key, value])
        } else {
            logAs([AppendOnlyFeed.set, key, value, AppendOnlyFeed.pxat, Array(String(expireAt).utf8)])
        }
    }

    // MARK: - Shared replies

    @inlinable public mutating func wrongType() {
        out.staticError("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
    }
    @inlinable public mutating func syntaxError() { out.staticError("-ERR syntax error\r\n") }
    @inlinable public mutating func notInteger() { out.staticError("-ERR value is not an integer or out of range\r\n") }
    @inlinable public mutating func notFloat() { out.staticError("-ERR value is not a valid float\r\n") }

    /// The argument as an integer, or nil after replying with the not-an-integer error.
    @inlinable public mutating func integerArgument(_ index: Int) -> Int64? {
        guard let n = parseStrictInt64(args[index]) else {
            notInteger()
            return nil
        }
        return n
    }

    /// Redis's `getRangeLongFromObjectOrReply`: an integer in `min...max`, or nil after replying.
    /// `message`, when given, is the error for both a non-integer and an out-of-range value.
    public mutating func rangedArgument(_ index: Int, _ min: Int64, _ max: Int64, message: String? = nil) -> Int64? {
        guard let n = parseStrictInt64(args[index]) else {
            if let message { out.error("ERR " + message) } else { notInteger() }
            return nil
        }
        guard n >= min && n <= max else {
            out.error("ERR " + (message ?? "value is out of range, value must between \(min) and \(max)"))
            return nil
        }
        return n
    }

    /// Redis's `getPositiveLongFromObjectOrReply`: an integer ≥ 0, or nil after replying.
    public mutating func nonNegativeArgument(_ index: Int, message: String? = nil) -> Int64? {
        rangedArgument(index, 0, Int64.max, message: message ?? "value is out of range, must be positive")
    }

    /// True when argument `index` equals `word` ignoring ASCII case (`word` is lower case).
    @inlinable public func argIs(_ index: Int, _ word: StaticString) -> Bool {
        asciiCaseInsensitiveEquals(args[index], word)
    }

    /// The name the client typed, for messages, lower-cased like Redis's command names.
    public var commandName: String { command?.name ?? "" }
}

/// `bytes` with ASCII letters in lower case, without copying when there are none to change.
package func lowercasedASCII(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.contains(where: { $0 >= 65 && $0 <= 90 }) else { return bytes }
    return bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
}

/// Compares bytes with a lower-case ASCII word, ignoring case.
@inlinable public func asciiCaseInsensitiveEquals(_ bytes: [UInt8], _ word: StaticString) -> Bool {
    guard bytes.count == word.utf8CodeUnitCount else { return false }
    let w = word.utf8Start
    for i in 0..<bytes.count {
        var c = bytes[i]
        if c >= 65 && c <= 90 { c += 32 }
        if c != w[i] { return false }
    }
    return true
}

/// The HELP reply every container command gives: a title, the lines, and the HELP line.
package func replyHelp(_ c: inout CommandContext, _ command: String, _ lines: [String]) {
    let all = ["\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"] + lines + ["HELP", "    Prints this help."]
    c.out.arrayHeader(all.count)
    for line in all { c.out.status(text: line) }
}
