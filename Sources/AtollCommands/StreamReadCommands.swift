/// XREAD and XREADGROUP (COUNT, BLOCK, NOACK, STREAMS; `$`, `>` and history IDs), as Redis
/// 7.0's `xreadCommand`: arguments first, then every key and ID, then each stream that can
/// serve is answered at once; with BLOCK and nothing to serve the client parks on the keys.
///
/// A parked client is re-run for the key that changed (`servedKey`) and, as Redis's
/// `serveClientsBlockedOnKey`, answered from that key alone: XREAD once the stream's last ID
/// passes the one it waits after (`$` is fixed to the last ID when it parks), XREADGROUP
/// from its group's last ID, with at most COUNT (1000 by default) entries. A blocked
/// XREADGROUP whose key is deleted or replaced, or whose group is destroyed, gets Redis's error.
///
/// XREADGROUP is logged as Redis propagates it: an `XCLAIM ... FORCE JUSTID` per delivered
/// entry and an `XGROUP SETID` for the group's new last ID, never as itself.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP
import NIOCore

enum StreamReadCommands {
    static let commands: [CommandBinding] = [
        .init("xread", xread),
        .init("xreadgroup", xreadgroup),
    ]

    /// How many entries a parked client is served when it gave no COUNT.
    static let blockedDefaultCount: Int64 = 1000

    static func xread(_ c: inout CommandContext) { read(&c, grouped: false) }
    static func xreadgroup(_ c: inout CommandContext) { read(&c, grouped: true) }

    /// A parsed XREAD / XREADGROUP.
    private struct Request {
        var deadline: Int64?
        var count: Int64 = 0
        var noAck = false
        var group: Bytes?
        var consumer: Bytes?
        var streamsAt = 0
        var streams = 0
    }

    private static func parse(_ c: inout CommandContext, grouped: Bool) -> Request? {
        var r = Request()
        var i = 1
        while i < c.args.count {
            let moreArgs = c.args.count - i - 1
            if c.argIs(i, "block") && moreArgs > 0 {
                if c.client.isScriptClient {
                    c.out.error(bytes: Array("ERR ".utf8) + StreamGroupCommands.printed(c.args[0])
                                + Array(" command is not allowed with BLOCK option from scripts".utf8))
                    return nil
                }
                i += 1
                guard let deadline = millisecondTimeout(&c, i) else { return nil }
                r.deadline = deadline
            } else if c.argIs(i, "count") && moreArgs > 0 {
                i += 1
                guard let n = c.integerArgument(i) else { return nil }
                r.count = max(n, 0)
            } else if c.argIs(i, "streams") && moreArgs > 0 {
                r.streamsAt = i + 1
                let n = c.args.count - r.streamsAt
                guard n % 2 == 0 else {
                    c.out.error(grouped
                        ? "ERR Unbalanced XREADGROUP list of streams: for each stream key an ID or '>' must be specified."
                        : "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
                    return nil
                }
                r.streams = n / 2
                break
            } else if c.argIs(i, "group") && moreArgs >= 2 {
                guard grouped else {
                    c.out.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
                    return nil
                }
                r.group = Bytes(c.args[i + 1])
                r.consumer = Bytes(c.args[i + 2])
                i += 2
            } else if c.argIs(i, "noack") {
                guard grouped else {
                    c.out.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
                    return nil
                }
                r.noAck = true
            } else {
                c.syntaxError()
                return nil
            }
            i += 1
        }
        if r.streamsAt == 0 {
            c.syntaxError()
            return nil
        }
        if grouped && r.group == nil {
            c.out.error("ERR Missing GROUP option for XREADGROUP")
            return nil
        }
        return r
    }

    /// Redis's `getTimeoutFromObjectOrReply` in milliseconds: an absolute deadline, 0 for ever.
    private static func millisecondTimeout(_ c: inout CommandContext, _ index: Int) -> Int64? {
        guard let ms = c.integerArgument(index, orError: "ERR timeout is not an integer or out of range") else { return nil }
        guard ms >= 0 else {
            c.out.error("ERR timeout is negative")
            return nil
        }
        if ms == 0 { return 0 }
        // A deadline past Int64 never comes (Redis's sum wraps around and its timeout table never reaches it).
        let (deadline, overflow) = c.streamNow.addingReportingOverflow(ms)
        return overflow ? Int64.max : deadline
    }

    /// What a stream's ID argument asks for.
    private enum After {
        /// Entries after this ID (XREAD, `$` resolved).
        case id(StreamID)
        /// XREADGROUP `>`: entries never delivered to the group.
        case undelivered
        /// XREADGROUP history: the consumer's pending entries after this ID.
        case history(StreamID)
    }

    private static func read(_ c: inout CommandContext, grouped: Bool) {
        guard let r = parse(&c, grouped: grouped) else { return }
        if let served = c.servedKey { return serveParked(&c, r, key: served) }
        // Every key and ID is checked before anything is served.
        var after: [After] = []
        var groups: [StreamGroup] = []
        for k in 0..<r.streams {
            let keyArg = c.args[r.streamsAt + k]
            var stream: StreamObject?
            switch c.readStream(Bytes(keyArg)) {
            case .wrongType: return c.wrongType()
            case .missing: stream = nil
            case .found(let s): stream = s
            }
            if let name = r.group {
                guard let group = stream?.group(name) else {
                    return StreamGroupCommands.noGroup(&c, key: keyArg, group: name.array, suffix: " in XREADGROUP with GROUP option")
                }
                groups.append(group)
            }
            if c.argIs(r.streamsAt + r.streams + k, "$") {
                guard !grouped else {
                    return c.out.error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
                }
                after.append(.id(stream?.lastID ?? .zero))
            } else if c.argIs(r.streamsAt + r.streams + k, ">") {
                guard grouped else {
                    return c.out.error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
                }
                after.append(.undelivered)
            } else {
                guard let id = c.streamIDArgument(r.streamsAt + r.streams + k, strict: true) else { return }
                after.append(grouped ? .history(id) : .id(id))
            }
        }
        var body = ReplyWriter(buffer: ByteBuffer(), resp3: c.out.resp3)
        var served = 0
        for k in 0..<r.streams {
            let keyArg = c.args[r.streamsAt + k]
            guard case .found(let stream) = c.readStream(Bytes(keyArg)) else { continue }
            let group = grouped ? groups[k] : nil
            var start: StreamID
            var history = false
            switch after[k] {
            case .history(let id):
                start = id
                history = true
            case .undelivered:
                guard let group else { continue }
                start = group.lastID
            case .id(let id):
                start = id
            }
            // New entries come strictly after `start` (nothing comes after the largest ID); a
            // stream with none is left out of the reply. They are read once, here.
            var entries: [StreamObject.Entry] = []
            if !history {
                // Nothing was added after `start` (a group or reader that is up to date, the
                // common case for a polling consumer): no node is searched, as in Redis.
                guard stream.lastID > start, let first = start.successor else { continue }
                entries = newEntries(stream, from: first, count: r.count)
                if entries.isEmpty { continue }
            }
            served += 1
            if !body.resp3 { body.arrayHeader(2) }
            body.bulk(keyArg)
            if history {
                guard let first = start.successor else {
                    body.arrayHeader(0)
                    continue
                }
                start = first
            }
            if let group, let name = r.consumer {
                let consumer = StreamGroupCommands.consumer(&c, group, name, key: Bytes(keyArg))
                if history {
                    serveHistory(&c, &body, stream, consumer, from: start, count: r.count)
                } else {
                    serveGroup(&c, &body, stream, key: keyArg, group, consumer, entries, noAck: r.noAck)
                }
                c.server.dirty += 1
            } else {
                body.arrayHeader(entries.count)
                for entry in entries { StreamCommands.writeEntry(&body, entry) }
            }
        }
        if grouped { c.loggedAs = c.loggedAs ?? [] }
        if served > 0 {
            if c.out.resp3 { c.out.mapHeader(served) } else { c.out.arrayHeader(served) }
            c.out.buffer.writeBuffer(&body.buffer)
            return
        }
        guard let deadline = r.deadline else { return c.out.nullArray() }
        guard c.mayBlock else { return c.out.nullArray() }
        // `$` waits after the last ID as it is now.
        for k in 0..<r.streams where c.args[r.streamsAt + r.streams + k] == [UInt8(ascii: "$")] {
            if case .id(let id) = after[k] { c.args[r.streamsAt + r.streams + k] = id.text }
        }
        c.block(on: (0..<r.streams).map { Bytes(c.args[r.streamsAt + $0]) }, waitsFor: .stream, deadline: deadline)
    }

    /// A parked client re-run for `key`: answered from that key alone, or parked on.
    private static func serveParked(_ c: inout CommandContext, _ r: Request, key: Bytes) {
        let count = r.count == 0 ? blockedDefaultCount : r.count
        guard let k = (0..<r.streams).first(where: { Bytes(c.args[r.streamsAt + $0]) == key }) else { return }
        let stream: StreamObject
        switch c.writeStream(key) {
        case .found(let s): stream = s
        case .missing, .wrongType:
            if r.group != nil { return c.out.error("UNBLOCKED the stream key no longer exists") }
            return c.block(on: [], waitsFor: .stream, deadline: 0)
        }
        var after: StreamID
        var group: StreamGroup?
        if let name = r.group {
            guard let found = stream.group(name) else {
                return c.out.error("NOGROUP the consumer group this client was blocked on no longer exists")
            }
            group = found
            after = found.lastID
        } else {
            guard let id = StreamArguments.parseID(c.args[r.streamsAt + r.streams + k], missingSequence: 0, strict: true) else {
                return c.block(on: [], waitsFor: .stream, deadline: 0)
            }
            after = id.id
        }
        guard stream.lastID > after, let start = after.successor else { return c.block(on: [], waitsFor: .stream, deadline: 0) }
        var body = ReplyWriter(buffer: ByteBuffer(), resp3: c.out.resp3)
        if body.resp3 {
            body.mapHeader(1)
        } else {
            body.arrayHeader(1)
            body.arrayHeader(2)
        }
        body.bulk(key.array)
        if let group, let name = r.consumer {
            let consumer = StreamGroupCommands.consumer(&c, group, name, key: key)
            serveGroup(&c, &body, stream, key: key.array, group, consumer, newEntries(stream, from: start, count: count),
                       noAck: r.noAck)
            c.loggedAs = c.loggedAs ?? []
        } else {
            StreamCommands.writeRange(&body, stream, from: start, to: .max, reverse: false, count: Int(clamping: count))
        }
        c.out.buffer.writeBuffer(&body.buffer)
    }

    /// The live entries from `start` on, at most `count` of them (0: all).
    private static func newEntries(_ stream: StreamObject, from start: StreamID, count: Int64) -> [StreamObject.Entry] {
        var entries: [StreamObject.Entry] = []
        stream.forEach(from: start, to: .max) { entry in
            entries.append(entry)
            return count == 0 || Int64(entries.count) < count
        }
        return entries
    }

    /// Redis's `streamReplyWithRange` for a group: the new `entries`, moving the group's last
    /// ID and read counter, and (unless NOACK) adding each to the PELs.
    private static func serveGroup(_ c: inout CommandContext, _ out: inout ReplyWriter, _ stream: StreamObject, key: [UInt8],
                                   _ group: StreamGroup, _ consumer: StreamConsumer, _ entries: [StreamObject.Entry],
                                   noAck: Bool) {
        var movedLastID = false
        out.arrayHeader(entries.count)
        for entry in entries {
            let id = entry.id
            if id > group.lastID {
                if group.entriesRead != StreamGroup.unknownEntriesRead && !stream.rangeHasTombstones(from: id) {
                    group.entriesRead &+= 1
                } else if stream.entriesAdded != 0 {
                    group.entriesRead = stream.entriesAddedUpTo(id) ?? StreamGroup.unknownEntriesRead
                }
                group.lastID = id
                movedLastID = true
            }
            StreamCommands.writeEntry(&out, entry)
            guard !noAck else { continue }
            if let pending = group.pending[id] {
                StreamGroupCommands.assign(pending, id: id, to: consumer)
                pending.deliveryTime = c.streamNow
                pending.deliveryCount = 1
                StreamGroupCommands.logClaim(&c, key: key, group: group, id: id, pending)
            } else {
                let pending = PendingEntry(deliveryTime: c.streamNow, deliveryCount: 1, consumer: consumer)
                group.pending.insert(id, pending)
                consumer.pending.insert(id, pending)
                StreamGroupCommands.logClaim(&c, key: key, group: group, id: id, pending)
            }
        }
        if movedLastID { StreamGroupCommands.logGroupID(&c, key: key, group: group) }
    }

    /// A consumer's own pending entries from `start`: each delivered again (its count and
    /// time updated), or [ID, nil] when the entry was deleted from the stream.
    private static func serveHistory(_ c: inout CommandContext, _ out: inout ReplyWriter, _ stream: StreamObject,
                                     _ consumer: StreamConsumer, from start: StreamID, count: Int64) {
        var rows: [(StreamID, StreamObject.Entry?)] = []
        for (id, pending) in consumer.pending.entries(from: start, limit: count == 0 ? .max : Int(clamping: count)) {
            let entry = stream.entry(id)
            if entry != nil {
                pending.deliveryTime = c.streamNow
                pending.deliveryCount &+= 1
            }
            rows.append((id, entry))
        }
        out.arrayHeader(rows.count)
        for (id, entry) in rows {
            if let entry {
                StreamCommands.writeEntry(&out, entry)
            } else {
                out.arrayHeader(2)
                StreamCommands.writeID(&out, id)
                out.nullArray()
            }
        }
    }
}
