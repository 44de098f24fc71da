/// Stream commands on entries: XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID. XINFO is in
/// `StreamInfoCommands.swift`.
///
/// Checks come in Redis 7.0's order (options before the key lookup), since that decides
/// which error a client sees. XADD logs its concrete ID (and an approximate trim as the exact
/// one it did), so the append-only file replays the same stream.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum StreamCommands {
    static let commands: [CommandBinding] = [
        .init("xadd", .eventsAfterReply, xadd),
        .init("xrange", xrange),
        .init("xrevrange", xrevrange),
        .init("xlen", xlen),
        .init("xdel", xdel),
        .init("xtrim", xtrim),
        .init("xsetid", .eventsAfterReply, xsetid),
    ] + StreamInfoCommands.commands + StreamGroupCommands.commands + StreamReadCommands.commands

    // MARK: - XADD

    static func xadd(_ c: inout CommandContext) {
        guard let options = StreamTrimOptions.parse(&c, forAdd: true) else { return }
        let fieldsAt = options.idIndex + 1
        let pairsArgs = c.args.count - fieldsAt
        if pairsArgs < 2 || pairsArgs % 2 == 1 {
            return c.out.error("ERR wrong number of arguments for 'xadd' command")
        }
        if let id = options.id, options.sequenceGiven, id == .zero {
            return c.out.error("ERR The ID specified in XADD must be greater than 0-0")
        }
        let key = Bytes(c.args[1])
        let stream: StreamObject
        switch c.writeStream(key) {
        case .wrongType: return c.wrongType()
        case .found(let s): stream = s
        case .missing:
            if options.noMakeStream { return c.out.null() }
            stream = StreamObject()
            c.create(key, .stream(stream))
        }
        if stream.lastID == .max {
            return c.out.error("ERR The stream has exhausted the last possible ID, unable to add more items")
        }
        guard let id = nextID(stream, options, now: c.now, &c) else { return }
        stream.append(id: id, c.args, from: fieldsAt, maxBytes: c.encodingLimits.streamNodeMaxBytes,
                      maxEntries: c.encodingLimits.streamNodeMaxEntries)
        writeID(&c.out, id)
        c.modified(key)
        c.notify(.stream, "xadd", key)
        var logged = c.logsWrites ? c.args : []
        if let bound = options.bound {
            if stream.trim(bound, approximate: options.approximate, limit: options.limit) > 0 {
                c.notify(.stream, "xtrim", key)
            }
            if options.approximate && c.logsWrites {
                logged[options.boundIndex - 1] = [UInt8(ascii: "=")]
                logged[options.boundIndex] = exactBound(stream, bound)
            }
        }
        if c.logsWrites && (options.id == nil || !options.sequenceGiven || options.approximate) {
            if options.id == nil || !options.sequenceGiven { logged[options.idIndex] = id.text }
            c.logAs(logged)
        }
        c.signalKeyReady(key)
    }

    /// The ID XADD adds: `*` from the clock (or after the last ID), `ms-*` the next sequence
    /// in that millisecond; nil after replying Redis's error when it is not above the last ID.
    private static func nextID(_ stream: StreamObject, _ options: StreamTrimOptions, now: Int64,
                               _ c: inout CommandContext) -> StreamID? {
        let last = stream.lastID
        let id: StreamID
        if let given = options.id {
            if options.sequenceGiven {
                id = given
            } else if given.ms == last.ms {
                guard last.seq != .max else {
                    c.out.error("ERR Elements are too large to be stored")
                    return nil
                }
                id = StreamID(ms: last.ms, seq: last.seq + 1)
            } else {
                id = given
            }
        } else {
            let ms = UInt64(max(now, 0))
            id = ms > last.ms ? StreamID(ms: ms, seq: 0) : last.successor!
        }
        guard id > last else {
            c.out.error("ERR The ID specified in XADD is equal or smaller than the target stream top item")
            return nil
        }
        return id
    }

    /// What an approximate trim amounted to, as an exact bound: the length kept, or the first ID.
    private static func exactBound(_ stream: StreamObject, _ bound: StreamObject.TrimBound) -> [UInt8] {
        switch bound {
        case .maxLength: return Array(String(stream.length).utf8)
        case .minID: return stream.firstID.text
        }
    }

    // MARK: - XRANGE / XREVRANGE

    static func xrange(_ c: inout CommandContext) { range(&c, reverse: false) }
    static func xrevrange(_ c: inout CommandContext) { range(&c, reverse: true) }

    /// Redis's `xrangeGenericCommand`: the lower bound is parsed first (XREVRANGE's last argument).
    private static func range(_ c: inout CommandContext, reverse: Bool) {
        let (lowerAt, upperAt) = reverse ? (3, 2) : (2, 3)
        guard let (lowerBound, lowerExclusive) = c.streamRangeBound(lowerAt, missingSequence: 0) else { return }
        var lower = lowerBound
        if lowerExclusive {
            guard let next = lower.successor else { return c.out.error("ERR invalid start ID for the interval") }
            lower = next
        }
        guard let (upperBound, upperExclusive) = c.streamRangeBound(upperAt, missingSequence: .max) else { return }
        var upper = upperBound
        if upperExclusive {
            guard let previous = upper.predecessor else { return c.out.error("ERR invalid end ID for the interval") }
            upper = previous
        }
        var count: Int64 = -1
        var i = 4
        while i < c.args.count {
            guard c.argIs(i, "count"), i + 1 < c.args.count else { return c.syntaxError() }
            guard let n = c.integerArgument(i + 1) else { return }
            count = max(n, 0)
            i += 2
        }
        let stream: StreamObject
        switch c.readStream(Bytes(c.args[1])) {
        case .wrongType: return c.wrongType()
        case .missing: return c.out.arrayHeader(0)
        case .found(let s): stream = s
        }
        if count == 0 { return c.out.nullArray() }
        writeRange(&c.out, stream, from: lower, to: upper, reverse: reverse, count: count < 0 ? Int.max : Int(count))
    }

    /// The entries in `lower...upper` (at most `count`), as an array of [ID, [field, value, ...]].
    static func writeRange(_ out: inout ReplyWriter, _ stream: StreamObject, from lower: StreamID, to upper: StreamID,
                           reverse: Bool, count: Int) {
        var entries: [StreamObject.Entry] = []
        stream.forEach(from: lower, to: upper, reverse: reverse) { entry in
            entries.append(entry)
            return entries.count < count
        }
        out.arrayHeader(entries.count)
        for entry in entries { writeEntry(&out, entry) }
    }

    /// One entry: [ID, [field, value, ...]].
    static func writeEntry(_ out: inout ReplyWriter, _ entry: StreamObject.Entry) {
        out.arrayHeader(2)
        writeID(&out, entry.id)
        out.arrayHeader(2 * entry.pairs)
        entry.lp.withUnsafeBytes { raw in
            entry.forEachPair { field, value in
                writeElement(&out, field, raw)
                writeElement(&out, value, raw)
            }
        }
    }

    @inlinable static func writeElement(_ out: inout ReplyWriter, _ element: ListpackElement, _ raw: UnsafeRawBufferPointer) {
        switch element {
        case .int(let n): out.bulkDecimal(n)
        case .string(let range): out.bulk(UnsafeRawBufferPointer(rebasing: raw[range]))
        }
    }

    /// An ID as a bulk string, formatted on the stack (replies carry many).
    static func writeID(_ out: inout ReplyWriter, _ id: StreamID) {
        withUnsafeTemporaryAllocation(byteCount: 48, alignment: 1) { buffer in
            var end = 48
            func prepend(_ value: UInt64) {
                var v = value
                repeat {
                    end -= 1
                    buffer[end] = UInt8(48 + v % 10)
                    v /= 10
                } while v != 0
            }
            prepend(id.seq)
            end -= 1
            buffer[end] = UInt8(ascii: "-")
            prepend(id.ms)
            out.bulk(UnsafeRawBufferPointer(rebasing: buffer[end...]))
        }
    }

    // MARK: - XLEN / XDEL / XTRIM / XSETID

    static func xlen(_ c: inout CommandContext) {
        switch c.readStream(Bytes(c.args[1])) {
        case .wrongType: c.wrongType()
        case .missing: c.out.integer(0)
        case .found(let stream): c.out.integer(stream.length)
        }
    }

    static func xdel(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        guard let stream = existingOrZero(&c, key) else { return }
        // Every ID is checked before any is deleted.
        var ids: [StreamID] = []
        for i in 2..<c.args.count {
            guard let id = c.streamIDArgument(i, strict: true) else { return }
            ids.append(id)
        }
        var deleted = 0
        var firstDeleted = false
        for id in ids where stream.delete(id) {
            if id == stream.firstID { firstDeleted = true }
            if id > stream.maxDeletedID { stream.maxDeletedID = id }
            deleted += 1
        }
        if firstDeleted { stream.refreshFirstID() }
        if deleted > 0 {
            c.modified(key)
            c.notify(.stream, "xdel", key)
            c.server.dirty += deleted - 1
        }
        c.out.integer(deleted)
    }

    /// The stream at `key` for a write that removes entries; nil after replying 0 (no key) or WRONGTYPE.
    private static func existingOrZero(_ c: inout CommandContext, _ key: Bytes) -> StreamObject? {
        switch c.writeStream(key) {
        case .wrongType: c.wrongType()
        case .missing: c.out.integer(0)
        case .found(let s): return s
        }
        return nil
    }

    static func xtrim(_ c: inout CommandContext) {
        guard let options = StreamTrimOptions.parse(&c, forAdd: false), let bound = options.bound else { return }
        let key = Bytes(c.args[1])
        guard let stream = existingOrZero(&c, key) else { return }
        let deleted = stream.trim(bound, approximate: options.approximate, limit: options.limit)
        if deleted > 0 {
            c.modified(key)
            c.notify(.stream, "xtrim", key)
            c.server.dirty += Int(deleted) - 1
            if options.approximate && c.logsWrites {
                var logged = c.args
                logged[options.boundIndex - 1] = [UInt8(ascii: "=")]
                logged[options.boundIndex] = exactBound(stream, bound)
                c.logAs(logged)
            }
        }
        c.out.integer(Int(deleted))
    }

    static func xsetid(_ c: inout CommandContext) {
        guard let id = c.streamIDArgument(2, strict: true) else { return }
        var entriesAdded: Int64 = -1
        var maxDeleted = StreamID.zero
        var i = 3
        while i < c.args.count {
            let moreArgs = c.args.count - 1 - i
            if c.argIs(i, "entriesadded") && moreArgs > 0 {
                guard let n = c.integerArgument(i + 1) else { return }
                guard n >= 0 else { return c.out.error("ERR entries_added must be positive") }
                entriesAdded = n
            } else if c.argIs(i, "maxdeletedid") && moreArgs > 0 {
                guard let deleted = c.streamIDArgument(i + 1, strict: true) else { return }
                guard id >= deleted else {
                    return c.out.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                }
                maxDeleted = deleted
            } else {
                return c.syntaxError()
            }
            i += 2
        }
        let key = Bytes(c.args[1])
        let stream: StreamObject
        switch c.writeStream(key) {
        case .wrongType: return c.wrongType()
        case .missing: return c.out.error("ERR no such key")
        case .found(let s): stream = s
        }
        if stream.length > 0 {
            if let top = stream.edgeID(last: true), id < top {
                return c.out.error("ERR The ID specified in XSETID is smaller than the target stream top item")
            }
            if entriesAdded != -1 && Int64(stream.length) > entriesAdded {
                return c.out.error("ERR The entries_added specified in XSETID is smaller than the target stream length")
            }
        }
        stream.lastID = id
        if entriesAdded != -1 { stream.entriesAdded = UInt64(entriesAdded) }
        if maxDeleted != .zero { stream.maxDeletedID = maxDeleted }
        c.out.ok()
        // Redis 7.0 counts the change but touches no WATCH.
        c.server.dirty += 1
        c.notify(.stream, "xsetid", key)
    }
}
