/// Key commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX COPY MOVE EXPIRE PEXPIRE EXPIREAT
/// PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST KEYS SCAN RANDOMKEY DBSIZE FLUSHDB FLUSHALL
/// SWAPDB TOUCH OBJECT.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollPersistence
import AtollRESP

enum KeyCommands {
    static let commands: [CommandBinding] = [
        .init("del", del),
        .init("unlink", unlink),
        .init("exists", exists),
        .init("type", type),
        .init("rename", rename),
        .init("renamenx", renamenx),
        .init("copy", copy),
        .init("move", move),
        .init("expire", .eventsAfterReply, expire),
        .init("pexpire", .eventsAfterReply, pexpire),
        .init("expireat", .eventsAfterReply, expireat),
        .init("pexpireat", .eventsAfterReply, pexpireat),
        .init("ttl", ttl),
        .init("pttl", pttl),
        .init("expiretime", expiretime),
        .init("pexpiretime", pexpiretime),
        .init("persist", persist),
        .init("keys", keys),
        .init("scan", scan),
        .init("randomkey", randomkey),
        .init("dbsize", dbsize),
        .init("flushdb", flushdb),
        .init("flushall", flushall),
        .init("swapdb", swapdb),
        .init("touch", touch),
        .init("object|encoding", objectEncoding),
        .init("object|freq", objectFreq),
        .init("object|help", objectHelp),
        .init("object|refcount", objectRefcount),
        .init("object|idletime", objectIdletime),
    ]

    // MARK: - Deleting and inspecting

    static func del(_ c: inout CommandContext) {
        var deleted = 0
        for i in 1..<c.args.count where c.delete(Bytes(c.args[i])) { deleted += 1 }
        c.out.integer(deleted)
    }

    static func unlink(_ c: inout CommandContext) { del(&c) }

    static func exists(_ c: inout CommandContext) {
        var found = 0
        for i in 1..<c.args.count where c.lookupRead(Bytes(c.args[i]), touch: false) != nil { found += 1 }
        c.out.integer(found)
    }

    static func touch(_ c: inout CommandContext) {
        var found = 0
        for i in 1..<c.args.count where c.lookupRead(Bytes(c.args[i])) != nil { found += 1 }
        c.out.integer(found)
    }

    static func type(_ c: inout CommandContext) {
        guard let entry = c.lookupRead(Bytes(c.args[1]), touch: false) else { return c.out.status("none") }
        c.out.status(entry.value.typeName)
    }

    // MARK: - Renaming, copying, moving

    static func rename(_ c: inout CommandContext) { renameGeneric(&c, onlyIfAbsent: false) }
    static func renamenx(_ c: inout CommandContext) { renameGeneric(&c, onlyIfAbsent: true) }

    private static func renameGeneric(_ c: inout CommandContext, onlyIfAbsent: Bool) {
        let source = Bytes(c.args[1]), target = Bytes(c.args[2])
        guard let entry = c.lookup(source) else { return c.out.error("ERR no such key") }
        if source == target { return onlyIfAbsent ? c.out.integer(0) : c.out.ok() }
        if c.lookup(target) != nil {
            if onlyIfAbsent { return c.out.integer(0) }
            c.delete(target, silently: true)
        }
        c.keyspace.databases[c.client.db].remove(source)
        c.keyspace.databases[c.client.db].store(target, entry)
        c.notify(.new, "new", target)
        c.modified(source)
        c.modified(target)
        c.notify(.generic, "rename_from", source)
        c.notify(.generic, "rename_to", target)
        c.signalKeyReady(target, holding: entry.value)
        onlyIfAbsent ? c.out.integer(1) : c.out.ok()
    }

    /// A database index argument, or nil after the reply Redis gives for a bad one.
    private static func databaseArgument(_ c: inout CommandContext, _ index: Int) -> Int? {
        guard let n = parseStrictInt64(c.args[index]) else {
            c.notInteger()
            return nil
        }
        guard n >= Int64(Int32.min) && n <= Int64(Int32.max) else {
            c.out.error("ERR value is out of range, value must between -2147483648 and 2147483647")
            return nil
        }
        guard n >= 0 && n < Int64(c.keyspace.databases.count) else {
            c.out.error("ERR DB index is out of range")
            return nil
        }
        return Int(n)
    }

    static func copy(_ c: inout CommandContext) {
        var targetDB = c.client.db
        var replace = false
        var j = 3
        while j < c.args.count {
            if c.argIs(j, "replace") {
                replace = true
            } else if c.argIs(j, "db") && j + 1 < c.args.count {
                guard let db = databaseArgument(&c, j + 1) else { return }
                targetDB = db
                j += 1
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        let source = Bytes(c.args[1]), target = Bytes(c.args[2])
        if targetDB == c.client.db && source == target {
            return c.out.error("ERR source and destination objects are the same")
        }
        guard let entry = c.lookupRead(source) else { return c.out.integer(0) }
        if c.lookup(target, db: targetDB) != nil && !replace { return c.out.integer(0) }
        c.keyspace.databases[targetDB].store(target, Entry(value: entry.value.deepCopy(), expireAt: entry.expireAt,
                                                           lastAccess: c.server.accessClock.newEntry))
        // Redis deletes a replaced target first, so the copy is always a new key.
        c.notify(.new, "new", target, db: targetDB)
        c.modified(target, db: targetDB)
        c.notify(.generic, "copy_to", target, db: targetDB)
        c.signalKeyReady(target, holding: entry.value, db: targetDB)
        c.out.integer(1)
    }

    static func move(_ c: inout CommandContext) {
        guard let targetDB = databaseArgument(&c, 2) else { return }
        if targetDB == c.client.db { return c.out.error("ERR source and destination objects are the same") }
        let key = Bytes(c.args[1])
        guard let entry = c.lookup(key) else { return c.out.integer(0) }
        if c.lookup(key, db: targetDB) != nil { return c.out.integer(0) }
        c.keyspace.databases[targetDB].store(key, entry)
        c.notify(.new, "new", key, db: targetDB)
        c.keyspace.databases[c.client.db].remove(key)
        c.modified(key)
        c.modified(key, db: targetDB)
        c.notify(.generic, "move_from", key)
        c.notify(.generic, "move_to", key, db: targetDB)
        c.signalKeyReady(key, holding: entry.value, db: targetDB)
        c.out.integer(1)
    }

    // MARK: - Expiry

    static func expire(_ c: inout CommandContext) { expireGeneric(&c, base: c.now, seconds: true) }
    static func pexpire(_ c: inout CommandContext) { expireGeneric(&c, base: c.now, seconds: false) }
    static func expireat(_ c: inout CommandContext) { expireGeneric(&c, base: 0, seconds: true) }
    static func pexpireat(_ c: inout CommandContext) { expireGeneric(&c, base: 0, seconds: false) }

    private struct ExpireCondition: OptionSet {
        let rawValue: Int
        static let nx = ExpireCondition(rawValue: 1), xx = ExpireCondition(rawValue: 2)
        static let gt = ExpireCondition(rawValue: 4), lt = ExpireCondition(rawValue: 8)
    }

    private static func expireGeneric(_ c: inout CommandContext, base: Int64, seconds: Bool) {
        var condition: ExpireCondition = []
        for j in 3..<c.args.count {
            if c.argIs(j, "nx") { condition.insert(.nx) }
            else if c.argIs(j, "xx") { condition.insert(.xx) }
            else if c.argIs(j, "gt") { condition.insert(.gt) }
            else if c.argIs(j, "lt") { condition.insert(.lt) }
            else { return c.out.error("ERR Unsupported option \(cText(c.args[j], max: Int.max))") }
        }
        if condition.contains(.nx) && !condition.isDisjoint(with: [.xx, .gt, .lt]) {
            return c.out.error("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if condition.contains([.gt, .lt]) {
            return c.out.error("ERR GT and LT options at the same time are not compatible")
        }
        guard var when = c.integerArgument(2) else { return }
        if seconds {
            if when > Int64.max / 1000 || when < Int64.min / 1000 {
                return c.out.error("ERR invalid expire time in '\(c.commandName)' command")
            }
            when *= 1000
        }
        if when > Int64.max - base { return c.out.error("ERR invalid expire time in '\(c.commandName)' command") }
        when += base
        let key = Bytes(c.args[1])
        guard let entry = c.lookup(key) else { return c.out.integer(0) }
        let current = entry.expireAt
        if condition.contains(.nx) && current != noExpiry { return c.out.integer(0) }
        if condition.contains(.xx) && current == noExpiry { return c.out.integer(0) }
        if condition.contains(.gt) && (current == noExpiry || when <= current) { return c.out.integer(0) }
        if condition.contains(.lt) && current != noExpiry && when >= current { return c.out.integer(0) }
        if when <= c.now {
            c.delete(key)
            if c.logsWrites { c.logAs([AppendOnlyFeed.del, c.args[1]]) }
        } else {
            c.setExpiry(key, when)
            c.notify(.generic, "expire", key)
            if c.logsWrites { c.logAs([AppendOnlyFeed.pexpireat, c.args[1], Array(String(when).utf8)]) }
        }
        c.out.integer(1)
    }

    static func ttl(_ c: inout CommandContext) { ttlGeneric(&c, milliseconds: false) }
    static func pttl(_ c: inout CommandContext) { ttlGeneric(&c, milliseconds: true) }

    private static func ttlGeneric(_ c: inout CommandContext, milliseconds: Bool) {
        guard let entry = c.lookupRead(Bytes(c.args[1])) else { return c.out.integer(-2) }
        guard entry.expireAt != noExpiry else { return c.out.integer(-1) }
        let ttl = max(entry.expireAt - c.now, 0)
        c.out.integer(milliseconds ? ttl : (ttl + 500) / 1000)
    }

    static func expiretime(_ c: inout CommandContext) { expireTimeGeneric(&c, milliseconds: false) }
    static func pexpiretime(_ c: inout CommandContext) { expireTimeGeneric(&c, milliseconds: true) }

    private static func expireTimeGeneric(_ c: inout CommandContext, milliseconds: Bool) {
        guard let entry = c.lookupRead(Bytes(c.args[1])) else { return c.out.integer(-2) }
        guard entry.expireAt != noExpiry else { return c.out.integer(-1) }
        // Rounded without overflowing for a time near Int64.max (Redis's answer there too).
        if milliseconds || entry.expireAt < 0 { return c.out.integer(milliseconds ? entry.expireAt : entry.expireAt / 1000) }
        c.out.integer(Int64((UInt64(entry.expireAt) + 500) / 1000))
    }

    static func persist(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        guard let entry = c.lookup(key), entry.expireAt != noExpiry else { return c.out.integer(0) }
        c.setExpiry(key, noExpiry)
        c.notify(.generic, "persist", key)
        c.out.integer(1)
    }

    // MARK: - Enumerating

    static func keys(_ c: inout CommandContext) {
        let pattern = c.args[1]
        let matchAll = pattern == [UInt8(ascii: "*")]
        let now = c.now
        var found: [[UInt8]] = []
        c.keyspace.databases[c.client.db].table.forEach { key, entry in
            if entry.expireAt != noExpiry && now > entry.expireAt { return }
            if matchAll || globMatch(pattern, key.array) { found.append(key.array) }
        }
        c.out.arrayHeader(found.count)
        for key in found { c.out.bulk(key) }
    }

    /// Parsed `SCAN`-family options: MATCH, COUNT and (for SCAN) TYPE.
    struct ScanOptions {
        var cursor = 0
        var count = 10
        var pattern: [UInt8]?
        var type: [UInt8]?
    }

    /// Parses `cursor [MATCH p] [COUNT n] [TYPE t]` starting at `cursorIndex`.
    static func parseScan(_ c: inout CommandContext, cursorIndex: Int, allowType: Bool) -> ScanOptions? {
        var o = ScanOptions()
        guard let cursor = parseCursor(c.args[cursorIndex]) else {
            c.out.error("ERR invalid cursor")
            return nil
        }
        o.cursor = cursor
        var i = cursorIndex + 1
        while i < c.args.count {
            let remaining = c.args.count - i
            if c.argIs(i, "count") && remaining >= 2 {
                guard let n = c.integerArgument(i + 1) else { return nil }
                if n < 1 { c.syntaxError(); return nil }
                o.count = Int(min(n, Int64(Int32.max)))
            } else if c.argIs(i, "match") && remaining >= 2 {
                let p = c.args[i + 1]
                o.pattern = p == [UInt8(ascii: "*")] ? nil : p
            } else if allowType && c.argIs(i, "type") && remaining >= 2 {
                o.type = c.args[i + 1]
            } else {
                c.syntaxError()
                return nil
            }
            i += 2
        }
        return o
    }

    /// `strtoul` as SCAN uses it; cursors past our slot space simply end the iteration.
    static func parseCursor(_ bytes: [UInt8]) -> Int? {
        guard let first = bytes.first else { return 0 }
        guard !(first == 32 || (first >= 9 && first <= 13)) else { return nil }
        var digits = bytes[...]
        var negative = false
        if first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var value: UInt64 = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { return nil }
            value = s
        }
        if negative && value != 0 { return Int.max }
        return value > UInt64(Int.max) ? Int.max : Int(value)
    }

    static func scan(_ c: inout CommandContext) {
        guard let o = parseScan(&c, cursorIndex: 1, allowType: true) else { return }
        var found: [[UInt8]] = []
        var expired: [Bytes] = []
        let now = c.now
        let next = c.keyspace.databases[c.client.db].scan(from: o.cursor, count: o.count) { key, entry in
            if let p = o.pattern, !globMatch(p, key.array) { return }
            if entry.expireAt != noExpiry && now > entry.expireAt { return expired.append(key) }
            if let t = o.type, !asciiCaseInsensitiveEquals(t, entry.value.typeName) { return }
            found.append(key.array)
        }
        // As Redis, SCAN deletes the expired keys it met that the pattern kept (with TYPE,
        // through a read lookup: a miss as well).
        for key in expired where o.type == nil ? c.lookup(key) == nil : c.lookupRead(key) == nil {}
        c.out.arrayHeader(2)
        c.out.bulk(Array(String(next).utf8))
        c.out.arrayHeader(found.count)
        for key in found { c.out.bulk(key) }
    }

    static func randomkey(_ c: inout CommandContext) {
        var gone: [Bytes] = []
        let key = c.keyspace.databases[c.client.db].randomKey(now: c.now, using: &c.keyspace.rng) { gone.append($0) }
        for expiredKey in gone { c.noteExpired(expiredKey, db: c.client.db) }
        guard let key else { return c.out.null() }
        c.out.bulk(key.array)
    }

    static func dbsize(_ c: inout CommandContext) {
        c.out.integer(c.keyspace.databases[c.client.db].count)
    }

    // MARK: - Whole databases

    /// `[ASYNC|SYNC]`; both run synchronously here (freeing memory is not the slow part for us).
    private static func flushModeIsValid(_ c: inout CommandContext) -> Bool {
        if c.args.count > 2 || (c.args.count == 2 && !c.argIs(1, "async") && !c.argIs(1, "sync")) {
            c.syntaxError()
            return false
        }
        return true
    }

    static func flushdb(_ c: inout CommandContext) {
        guard flushModeIsValid(&c) else { return }
        touchWatchedKeys(&c, inDB: c.client.db, replacedBy: nil)
        c.server.blocking.signalAll(inDB: c.client.db)  // a parked XREADGROUP learns its key is gone
        c.server.dirty += c.keyspace.databases[c.client.db].count
        c.keyspace.databases[c.client.db].removeAll()
        c.forceLogged = true
        c.server.invalidateAllTracked(writer: c.server.trackingCaller ?? c.client)
        c.out.ok()
    }

    static func flushall(_ c: inout CommandContext) {
        guard flushModeIsValid(&c) else { return }
        for db in c.keyspace.databases.indices {
            touchWatchedKeys(&c, inDB: db, replacedBy: nil)
            c.server.blocking.signalAll(inDB: db)  // a parked XREADGROUP learns its key is gone
            c.server.dirty += c.keyspace.databases[db].count
        }
        c.keyspace.flushAll()
        c.forceLogged = true
        // With save rules, the snapshot is made empty at once, as Redis does: a running BGSAVE
        // would otherwise write the flushed data back, and a restart would bring it back.
        if !c.server.config.saveRules.isEmpty {
            c.server.killChild(only: .snapshot)
            if let error = c.server.saveNow(c.now) {
                c.server.logHandler?(3, "FLUSHALL could not save the empty dataset: \(error)")
            }
            c.server.dirty += 1
        }
        c.server.invalidateAllTracked(writer: c.server.trackingCaller ?? c.client)
        c.out.ok()
    }

    static func swapdb(_ c: inout CommandContext) {
        guard let a = parseStrictInt64(c.args[1]), a >= Int64(Int32.min), a <= Int64(Int32.max) else {
            return c.out.error("ERR invalid first DB index")
        }
        guard let b = parseStrictInt64(c.args[2]), b >= Int64(Int32.min), b <= Int64(Int32.max) else {
            return c.out.error("ERR invalid second DB index")
        }
        let count = Int64(c.keyspace.databases.count)
        guard a >= 0, a < count, b >= 0, b < count else { return c.out.error("ERR DB index is out of range") }
        if a != b {
            touchWatchedKeys(&c, inDB: Int(a), replacedBy: Int(b))
            touchWatchedKeys(&c, inDB: Int(b), replacedBy: Int(a))
            c.keyspace.databases.swapAt(Int(a), Int(b))
            c.server.blocking.signalAll(inDB: Int(a))
            c.server.blocking.signalAll(inDB: Int(b))
        }
        c.server.dirty += 1
        c.out.ok()
    }

    /// Redis's rule for whole-database changes: a watched key in `db` is touched if it exists
    /// there, or in the database about to take its place.
    private static func touchWatchedKeys(_ c: inout CommandContext, inDB db: Int, replacedBy other: Int?) {
        guard !c.server.watches.isEmpty else { return }
        let keyspace = c.keyspace
        c.server.watches.touchAll(inDB: db) { key in
            keyspace.databases[db].table.contains(key) || other.map { keyspace.databases[$0].table.contains(key) } == true
        }
    }

    // MARK: - OBJECT

    static func objectEncoding(_ c: inout CommandContext) {
        guard let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[2]), now: c.now) else { return c.out.null() }
        c.out.bulk(DebugObject.encodingName(entry))
    }

    static func objectRefcount(_ c: inout CommandContext) {
        guard let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[2]), now: c.now) else { return c.out.null() }
        c.out.integer(DebugObject.refcount(entry))
    }

    /// Seconds since the key was last read or written, by the LRU clock; not kept under an LFU
    /// policy. OBJECT itself does not count as an access.
    static func objectIdletime(_ c: inout CommandContext) {
        guard let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[2]), now: c.now) else { return c.out.null() }
        guard !c.server.accessClock.lfu else {
            return c.out.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        }
        c.out.integer(Int(c.server.accessClock.idleSeconds(entry.lastAccess)))
    }

    /// The key's LFU counter, decayed to now (without storing the decay); only under an LFU policy.
    static func objectFreq(_ c: inout CommandContext) {
        guard let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[2]), now: c.now) else { return c.out.null() }
        guard c.server.accessClock.lfu else {
            return c.out.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        }
        c.out.integer(Int(c.server.accessClock.frequency(entry.lastAccess)))
    }

    static func objectHelp(_ c: inout CommandContext) {
        replyHelp(&c, "OBJECT", [
            "ENCODING <key>",
            "    Return the kind of internal representation used to store the value at <key>.",
            "FREQ <key>",
            "    Return the access frequency index of <key> (needs an LFU maxmemory policy).",
            "IDLETIME <key>",
            "    Return the seconds since <key> was last read or written.",
            "REFCOUNT <key>",
            "    Return the number of references to the value at <key>.",
        ])
    }
}
