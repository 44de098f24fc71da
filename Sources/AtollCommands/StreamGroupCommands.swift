/// Consumer-group commands: XGROUP (CREATE SETID DESTROY CREATECONSUMER DELCONSUMER HELP),
/// XACK, XPENDING, XCLAIM, XAUTOCLAIM, and XINFO GROUPS / CONSUMERS. XREADGROUP is with XREAD
/// in `StreamReadCommands.swift`.
///
/// As in Redis 7.0, XCLAIM and XAUTOCLAIM are logged to the append-only file as one
/// idempotent `XCLAIM ... TIME RETRYCOUNT FORCE JUSTID LASTID` per entry they change (and a
/// `XGROUP SETID` when only the group's last ID moved), and XACK changes no WATCHed key.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum StreamGroupCommands {
    static let commands: [CommandBinding] = [
        .init("xgroup|create", .eventsAfterReply, create),
        .init("xgroup|setid", .eventsAfterReply, setID),
        .init("xgroup|destroy", .eventsAfterReply, destroy),
        .init("xgroup|createconsumer", .eventsAfterReply, createConsumer),
        .init("xgroup|delconsumer", .eventsAfterReply, deleteConsumer),
        .init("xgroup|help", help),
        .init("xack", xack),
        .init("xpending", xpending),
        .init("xclaim", xclaim),
        .init("xautoclaim", xautoclaim),
        .init("xinfo|groups", infoGroups),
        .init("xinfo|consumers", infoConsumers),
    ]

    /// An argument as C's `%s` prints it (up to its first NUL), for error messages.
    static func printed(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.prefix { $0 != 0 }) }

    static func noGroup(_ c: inout CommandContext, key: [UInt8], group: [UInt8], suffix: String = "") {
        c.out.error(bytes: Array("NOGROUP No such key '".utf8) + printed(key) + Array("' or consumer group '".utf8)
                    + printed(group) + Array("'\(suffix)".utf8))
    }

    private static func noSuchGroup(_ c: inout CommandContext, key: [UInt8], group: [UInt8]) {
        c.out.error(bytes: Array("NOGROUP No such consumer group '".utf8) + printed(group)
                    + Array("' for key name '".utf8) + printed(key) + Array("'".utf8))
    }

    private static func subcommandSyntax(_ c: inout CommandContext, _ command: String) {
        c.out.error(bytes: Array("ERR unknown subcommand or wrong number of arguments for '".utf8) + printed(c.args[1])
                    + Array("'. Try \(command) HELP.".utf8))
    }

    // MARK: - XGROUP

    static func help(_ c: inout CommandContext) {
        replyHelp(&c, "XGROUP", [
            "CREATE <key> <groupname> <id|$> [option]", "    Create a new consumer group. Options are:",
            "    * MKSTREAM", "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read", "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>", "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>", "    Remove the specified consumer.",
            "DESTROY <key> <groupname>", "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ])
    }

    /// XGROUP's options after the ID (MKSTREAM only for CREATE); nil after replying.
    private static func options(_ c: inout CommandContext, allowMakeStream: Bool) -> (makeStream: Bool, entriesRead: Int64)? {
        var makeStream = false
        var entriesRead = StreamGroup.unknownEntriesRead
        var i = 5
        while i < c.args.count {
            if allowMakeStream && c.argIs(i, "mkstream") {
                makeStream = true
                i += 1
            } else if c.argIs(i, "entriesread") && i + 1 < c.args.count {
                guard let n = c.integerArgument(i + 1) else { return nil }
                guard n >= 0 || n == StreamGroup.unknownEntriesRead else {
                    c.out.error("ERR value for ENTRIESREAD must be positive or -1")
                    return nil
                }
                entriesRead = n
                i += 2
            } else {
                subcommandSyntax(&c, "XGROUP")
                return nil
            }
        }
        return (makeStream, entriesRead)
    }

    /// The stream XGROUP works on; nil after replying (wrong type, or missing unless `mayCreate`).
    private static func groupStream(_ c: inout CommandContext, mayCreate: Bool = false) -> StreamObject?? {
        switch c.writeStream(Bytes(c.args[2])) {
        case .wrongType: c.wrongType()
        case .found(let s): return .some(s)
        case .missing:
            if mayCreate { return .some(nil) }
            c.out.error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
        }
        return nil
    }

    /// The stream and its group named by argument 3; nil after replying NOGROUP.
    private static func existingGroup(_ c: inout CommandContext) -> (StreamObject, StreamGroup)? {
        guard case .some(.some(let stream)) = groupStream(&c) else { return nil }
        guard let group = stream.group(Bytes(c.args[3])) else {
            noSuchGroup(&c, key: c.args[2], group: c.args[3])
            return nil
        }
        return (stream, group)
    }

    static func create(_ c: inout CommandContext) {
        guard let (makeStream, entriesRead) = options(&c, allowMakeStream: true) else { return }
        guard case .some(let found) = groupStream(&c, mayCreate: makeStream) else { return }
        let id: StreamID
        if c.args[4] == [UInt8(ascii: "$")] {
            id = found?.lastID ?? .zero
        } else {
            guard let parsed = c.streamIDArgument(4, strict: true) else { return }
            id = parsed
        }
        let key = Bytes(c.args[2])
        let stream: StreamObject
        if let found {
            stream = found
        } else {
            stream = StreamObject()
            c.create(key, .stream(stream))
            c.modified(key)
        }
        guard stream.addGroup(Bytes(c.args[3]), lastID: id, entriesRead: entriesRead) != nil else {
            return c.out.error("BUSYGROUP Consumer Group name already exists")
        }
        c.out.ok()
        c.server.dirty += 1
        c.notify(.stream, "xgroup-create", key)
    }

    static func setID(_ c: inout CommandContext) {
        guard let (_, entriesRead) = options(&c, allowMakeStream: false) else { return }
        guard let (stream, group) = existingGroup(&c) else { return }
        let id: StreamID
        if c.args[4] == [UInt8(ascii: "$")] {
            id = stream.lastID
        } else {
            guard let parsed = c.streamIDArgument(4) else { return }
            id = parsed
        }
        group.lastID = id
        group.entriesRead = entriesRead
        c.out.ok()
        c.server.dirty += 1
        c.notify(.stream, "xgroup-setid", Bytes(c.args[2]))
    }

    static func destroy(_ c: inout CommandContext) {
        guard case .some(.some(let stream)) = groupStream(&c) else { return }
        let key = Bytes(c.args[2])
        guard stream.removeGroup(Bytes(c.args[3])) else { return c.out.integer(0) }
        c.out.integer(1)
        c.server.dirty += 1
        c.notify(.stream, "xgroup-destroy", key)
        // Clients blocked in XREADGROUP on this group now get NOGROUP.
        c.signalKeyReady(key)
    }

    static func createConsumer(_ c: inout CommandContext) {
        guard let (_, group) = existingGroup(&c) else { return }
        let created = group.addConsumer(Bytes(c.args[4]), seenTime: c.streamNow) != nil
        c.out.integer(created ? 1 : 0)
        if created {
            c.server.dirty += 1
            c.notify(.stream, "xgroup-createconsumer", Bytes(c.args[2]))
        }
    }

    static func deleteConsumer(_ c: inout CommandContext) {
        guard let (_, group) = existingGroup(&c) else { return }
        guard let pending = group.removeConsumer(Bytes(c.args[4])) else { return c.out.integer(0) }
        c.out.integer(pending)
        c.server.dirty += 1
        c.notify(.stream, "xgroup-delconsumer", Bytes(c.args[2]))
    }

    // MARK: - XACK / XPENDING

    /// The stream at argument 1 and its group named by argument 2, for reads; nil when
    /// either is missing (nothing replied) or after replying WRONGTYPE (`wrongType` set).
    private static func streamGroup(_ c: inout CommandContext, wrongType: inout Bool) -> (StreamObject, StreamGroup)? {
        switch c.readStream(Bytes(c.args[1])) {
        case .wrongType:
            wrongType = true
            c.wrongType()
            return nil
        case .missing: return nil
        case .found(let stream):
            guard let group = stream.group(Bytes(c.args[2])) else { return nil }
            return (stream, group)
        }
    }

    static func xack(_ c: inout CommandContext) {
        var wrongType = false
        guard let (_, group) = streamGroup(&c, wrongType: &wrongType) else {
            if !wrongType { c.out.integer(0) }
            return
        }
        // Every ID is checked before any is acknowledged; the second reading of each after the
        // first (no list of them kept) cannot fail. The IDs are read through the arguments'
        // buffer: passing `c.args[i]` retained and released each one, twice.
        let first = c.args.withUnsafeBufferPointer { args -> StreamID? in
            for i in 4..<args.count where Self.ackID(args[i]) == nil { return nil }
            return Self.ackID(args[3])
        }
        guard let first else { return c.out.error(StreamArguments.invalidID) }
        let acknowledged = c.args.withUnsafeBufferPointer { args in
            var acknowledged = group.acknowledge(first) ? 1 : 0
            for i in 4..<args.count where group.acknowledge(Self.ackID(args[i])!) { acknowledged += 1 }
            return acknowledged
        }
        c.server.dirty += acknowledged
        c.out.integer(acknowledged)
    }

    /// An XACK ID (`-` and `+` refused), or nil. The common form is read inline, with no call
    /// for which the argument would be retained.
    @inline(__always) private static func ackID(_ raw: [UInt8]) -> StreamID? {
        if let id = StreamArguments.plainID(raw, missingSequence: 0) { return id }
        return StreamArguments.parseID(raw, missingSequence: 0, strict: true)?.id
    }

    static func xpending(_ c: inout CommandContext) {
        let summary = c.args.count == 3
        guard summary || (c.args.count >= 6 && c.args.count <= 9) else { return c.syntaxError() }
        var lower = StreamID.zero, upper = StreamID.max
        var count: Int64 = 0, minIdle: Int64 = 0
        var consumerName: Bytes?
        if !summary {
            var at = 3
            if c.argIs(3, "idle") {
                guard let n = c.integerArgument(4) else { return }
                minIdle = n
                guard c.args.count >= 8 else { return c.syntaxError() }
                at = 5
            }
            guard let n = c.integerArgument(at + 2) else { return }
            count = max(n, 0)
            guard let (start, startExclusive) = c.streamRangeBound(at, missingSequence: 0) else { return }
            lower = start
            if startExclusive {
                guard let next = lower.successor else { return c.out.error("ERR invalid start ID for the interval") }
                lower = next
            }
            guard let (end, endExclusive) = c.streamRangeBound(at + 1, missingSequence: .max) else { return }
            upper = end
            if endExclusive {
                guard let previous = upper.predecessor else { return c.out.error("ERR invalid end ID for the interval") }
                upper = previous
            }
            if at + 3 < c.args.count { consumerName = Bytes(c.args[at + 3]) }
        }
        var wrongType = false
        guard let (_, group) = streamGroup(&c, wrongType: &wrongType) else {
            if !wrongType { noGroup(&c, key: c.args[1], group: c.args[2]) }
            return
        }
        if summary { return pendingSummary(&c, group) }
        var pel = group.pending
        if let consumerName {
            guard let consumer = group.consumer(consumerName) else { return c.out.arrayHeader(0) }
            pel = consumer.pending
        }
        var rows: [(StreamID, PendingEntry)] = []
        let now = c.streamNow
        pel.forEach(from: lower) { id, entry in
            guard count > 0 && id <= upper else { return false }
            if minIdle != 0 && now &- entry.deliveryTime < minIdle { return true }
            rows.append((id, entry))
            count -= 1
            return true
        }
        c.out.arrayHeader(rows.count)
        for (id, entry) in rows {
            c.out.arrayHeader(4)
            StreamCommands.writeID(&c.out, id)
            c.out.bulk(entry.consumer.name.array)
            c.out.integer(max(c.streamNow &- entry.deliveryTime, 0))
            c.out.integer(Int64(bitPattern: entry.deliveryCount))
        }
    }

    private static func pendingSummary(_ c: inout CommandContext, _ group: StreamGroup) {
        c.out.arrayHeader(4)
        c.out.integer(group.pending.count)
        guard let first = group.pending.first?.id, let last = group.pending.last?.id else {
            c.out.null()
            c.out.null()
            return c.out.nullArray()
        }
        StreamCommands.writeID(&c.out, first)
        StreamCommands.writeID(&c.out, last)
        let owners = group.consumers.filter { !$0.pending.isEmpty }
        c.out.arrayHeader(owners.count)
        for consumer in owners {
            c.out.arrayHeader(2)
            c.out.bulk(consumer.name.array)
            c.out.bulkDecimal(Int64(consumer.pending.count))
        }
    }

    // MARK: - XCLAIM / XAUTOCLAIM

    /// The consumer `name` of `group`, created (with its event) if new; its seen time refreshed.
    static func consumer(_ c: inout CommandContext, _ group: StreamGroup, _ name: Bytes, key: Bytes) -> StreamConsumer {
        if let existing = group.consumer(name) {
            existing.seenTime = c.streamNow
            return existing
        }
        let created = group.addConsumer(name, seenTime: c.streamNow)!
        c.server.dirty += 1
        c.notify(.stream, "xgroup-createconsumer", key)
        if c.logsWrites {
            c.logAs([Array("XGROUP".utf8), Array("CREATECONSUMER".utf8), key.array, group.name.array, name.array])
        }
        return created
    }

    /// Moves a pending entry to `consumer` (the PELs of both).
    static func assign(_ entry: PendingEntry, id: StreamID, to consumer: StreamConsumer) {
        guard entry.consumer !== consumer else { return }
        entry.consumer.pending.remove(id)
        consumer.pending.insert(id, entry)
        entry.consumer = consumer
    }

    /// Records Redis's idempotent form of a pending entry's state for the append-only file.
    static func logClaim(_ c: inout CommandContext, key: [UInt8], group: StreamGroup, id: StreamID, _ entry: PendingEntry) {
        guard c.logsWrites else { return }
        c.logAs([Array("XCLAIM".utf8), key, group.name.array, entry.consumer.name.array, [UInt8(ascii: "0")], id.text,
                 Array("TIME".utf8), Array(String(entry.deliveryTime).utf8), Array("RETRYCOUNT".utf8),
                 Array(String(entry.deliveryCount).utf8), Array("FORCE".utf8), Array("JUSTID".utf8),
                 Array("LASTID".utf8), group.lastID.text])
    }

    /// Records `XGROUP SETID key group last-id ENTRIESREAD n` for the append-only file.
    static func logGroupID(_ c: inout CommandContext, key: [UInt8], group: StreamGroup) {
        guard c.logsWrites else { return }
        c.logAs([Array("XGROUP".utf8), Array("SETID".utf8), key, group.name.array, group.lastID.text,
                 Array("ENTRIESREAD".utf8), Array(String(group.entriesRead).utf8)])
    }

    /// Drops a pending entry whose stream entry is gone.
    private static func dropPending(_ group: StreamGroup, _ id: StreamID, _ entry: PendingEntry) {
        group.pending.remove(id)
        entry.consumer.pending.remove(id)
    }

    static func xclaim(_ c: inout CommandContext) {
        var wrongType = false
        guard let (stream, group) = streamGroup(&c, wrongType: &wrongType) else {
            if !wrongType { noGroup(&c, key: c.args[1], group: c.args[2]) }
            return
        }
        guard let idle = c.integerArgument(4, orError: "ERR Invalid min-idle-time argument for XCLAIM") else { return }
        let minIdle = max(idle, 0)
        var ids: [StreamID] = []
        var j = 5
        while j < c.args.count, let parsed = StreamArguments.parseID(c.args[j], missingSequence: 0, strict: true) {
            ids.append(parsed.id)
            j += 1
        }
        var force = false, justID = false
        var retryCount: Int64 = -1, deliveryTime: Int64 = -1
        var lastID = StreamID.zero
        while j < c.args.count {
            let moreArgs = c.args.count - 1 - j
            if c.argIs(j, "force") {
                force = true
            } else if c.argIs(j, "justid") {
                justID = true
            } else if c.argIs(j, "idle") && moreArgs > 0 {
                j += 1
                guard let n = c.integerArgument(j, orError: "ERR Invalid IDLE option argument for XCLAIM") else { return }
                deliveryTime = c.streamNow &- n
            } else if c.argIs(j, "time") && moreArgs > 0 {
                j += 1
                guard let n = c.integerArgument(j, orError: "ERR Invalid TIME option argument for XCLAIM") else { return }
                deliveryTime = n
            } else if c.argIs(j, "retrycount") && moreArgs > 0 {
                j += 1
                guard let n = c.integerArgument(j, orError: "ERR Invalid RETRYCOUNT option argument for XCLAIM") else { return }
                retryCount = n
            } else if c.argIs(j, "lastid") && moreArgs > 0 {
                j += 1
                guard let id = c.streamIDArgument(j, strict: true) else { return }
                lastID = id
            } else {
                return c.out.error(bytes: Array("ERR Unrecognized XCLAIM option '".utf8) + StreamGroupCommands.printed(c.args[j])
                                   + Array("'".utf8))
            }
            j += 1
        }
        let key = c.args[1]
        var movedLastID = false
        if lastID > group.lastID {
            group.lastID = lastID
            movedLastID = true
        }
        if deliveryTime == -1 || deliveryTime < 0 || deliveryTime > c.streamNow { deliveryTime = c.streamNow }
        var claimer: StreamConsumer?
        var claimed: [(StreamID, StreamObject.Entry?)] = []
        for id in ids {
            var entry = group.pending[id]
            guard let streamEntry = stream.entry(id) else {
                if let entry {
                    logClaim(&c, key: key, group: group, id: id, entry)
                    movedLastID = false
                    c.server.dirty += 1
                    dropPending(group, id, entry)
                }
                continue
            }
            if let existing = entry {
                if minIdle != 0 && c.streamNow &- existing.deliveryTime < minIdle { continue }
            } else if !force {
                continue
            }
            let owner = claimer ?? consumer(&c, group, Bytes(c.args[3]), key: Bytes(key))
            claimer = owner
            if let existing = entry {
                assign(existing, id: id, to: owner)
            } else {
                // FORCE: a pending entry made from scratch (how the append-only file restores one).
                let created = PendingEntry(deliveryTime: c.streamNow, deliveryCount: 1, consumer: owner)
                owner.pending.insert(id, created)
                group.pending.insert(id, created)
                entry = created
            }
            guard let entry else { continue }
            entry.deliveryTime = deliveryTime
            if retryCount >= 0 {
                entry.deliveryCount = UInt64(bitPattern: retryCount)
            } else if !justID {
                entry.deliveryCount &+= 1
            }
            claimed.append((id, justID ? nil : streamEntry))
            logClaim(&c, key: key, group: group, id: id, entry)
            movedLastID = false
            c.server.dirty += 1
        }
        if movedLastID {
            logGroupID(&c, key: key, group: group)
            c.server.dirty += 1
        }
        c.out.arrayHeader(claimed.count)
        for (id, entry) in claimed {
            if let entry { StreamCommands.writeEntry(&c.out, entry) } else { StreamCommands.writeID(&c.out, id) }
        }
    }

    static func xautoclaim(_ c: inout CommandContext) {
        guard let idle = c.integerArgument(4, orError: "ERR Invalid min-idle-time argument for XAUTOCLAIM") else { return }
        let minIdle = max(idle, 0)
        guard let (startBound, exclusive) = c.streamRangeBound(5, missingSequence: 0) else { return }
        var start = startBound
        if exclusive {
            guard let next = start.successor else { return c.out.error("ERR invalid start ID for the interval") }
            start = next
        }
        var count = 100
        var justID = false
        var j = 6
        while j < c.args.count {
            let moreArgs = c.args.count - 1 - j
            if c.argIs(j, "count") && moreArgs > 0 {
                guard let n = c.rangedArgument(j + 1, 1, Int64.max / 16, message: "COUNT must be > 0") else { return }
                count = Int(n)
                j += 1
            } else if c.argIs(j, "justid") {
                justID = true
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        var wrongType = false
        guard let (stream, group) = streamGroup(&c, wrongType: &wrongType) else {
            if !wrongType { noGroup(&c, key: c.args[1], group: c.args[2]) }
            return
        }
        let key = c.args[1]
        var attempts = count * 10
        var claimer: StreamConsumer?
        var claimed: [(StreamID, StreamObject.Entry?)] = []
        var deleted: [StreamID] = []
        // The entries this call may examine (each examined one costs an attempt).
        var examined: StreamID?
        for (id, entry) in group.pending.entries(from: start, limit: attempts) {
            guard attempts > 0 && count > 0 else { break }
            attempts -= 1
            examined = id
            guard let streamEntry = stream.entry(id) else {
                logClaim(&c, key: key, group: group, id: id, entry)
                c.server.dirty += 1
                dropPending(group, id, entry)
                deleted.append(id)
                count -= 1
                continue
            }
            if minIdle != 0 && c.streamNow &- entry.deliveryTime < minIdle { continue }
            let owner = claimer ?? consumer(&c, group, Bytes(c.args[3]), key: Bytes(key))
            claimer = owner
            assign(entry, id: id, to: owner)
            entry.deliveryTime = c.streamNow
            if !justID { entry.deliveryCount &+= 1 }
            claimed.append((id, justID ? nil : streamEntry))
            count -= 1
            logClaim(&c, key: key, group: group, id: id, entry)
            c.server.dirty += 1
        }
        // The cursor: the first pending entry after the last one examined, 0-0 when none.
        let after = examined.flatMap(\.successor) ?? (examined == nil ? start : nil)
        let cursor = after.flatMap { group.pending.entries(from: $0, limit: 1).first?.id } ?? .zero
        c.out.arrayHeader(3)
        StreamCommands.writeID(&c.out, cursor)
        c.out.arrayHeader(claimed.count)
        for (id, entry) in claimed {
            if let entry { StreamCommands.writeEntry(&c.out, entry) } else { StreamCommands.writeID(&c.out, id) }
        }
        c.out.arrayHeader(deleted.count)
        for id in deleted { StreamCommands.writeID(&c.out, id) }
    }

    // MARK: - XINFO GROUPS / CONSUMERS

    static func infoGroups(_ c: inout CommandContext) {
        guard let stream = StreamInfoCommands.infoStream(&c) else { return }
        c.out.arrayHeader(stream.groups.count)
        for group in stream.groups {
            c.out.mapHeader(6)
            c.out.staticBulk("name")
            c.out.bulk(group.name.array)
            c.out.staticBulk("consumers")
            c.out.integer(group.consumers.count)
            c.out.staticBulk("pending")
            c.out.integer(group.pending.count)
            c.out.staticBulk("last-delivered-id")
            StreamCommands.writeID(&c.out, group.lastID)
            StreamInfoCommands.writeReadCounters(&c.out, stream, group)
        }
    }

    static func infoConsumers(_ c: inout CommandContext) {
        guard let stream = StreamInfoCommands.infoStream(&c) else { return }
        guard let group = stream.group(Bytes(c.args[3])) else { return noSuchGroup(&c, key: c.args[2], group: c.args[3]) }
        c.out.arrayHeader(group.consumers.count)
        for consumer in group.consumers {
            c.out.mapHeader(3)
            c.out.staticBulk("name")
            c.out.bulk(consumer.name.array)
            c.out.staticBulk("pending")
            c.out.integer(consumer.pending.count)
            c.out.staticBulk("idle")
            c.out.integer(max(c.streamNow &- consumer.seenTime, 0))
        }
    }
}

extension CommandContext {
    /// The time stream bookkeeping records (delivery and seen times, idle times). Loading runs
    /// commands with `now` 0 so that nothing expires mid-load; these are clock readings that a
    /// replayed XCLAIM checks against the real time, as Redis does. (Times restored from a
    /// payload may be any 64-bit value, so idle times are differences that wrap, as in Redis's C.)
    var streamNow: Int64 { server.loading ? server.clock.nowMillis() : now }

    /// An integer argument, or nil after replying `error` (Redis's custom message for it).
    mutating func integerArgument(_ index: Int, orError error: String) -> Int64? {
        guard let n = parseStrictInt64(args[index]) else {
            out.error(error)
            return nil
        }
        return n
    }
}
