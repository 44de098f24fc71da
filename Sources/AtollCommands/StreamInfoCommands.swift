/// XINFO STREAM (with FULL and COUNT) and XINFO HELP, in Redis 7.0's field order.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum StreamInfoCommands {
    static let commands: [CommandBinding] = [
        .init("xinfo|stream", stream),
        .init("xinfo|help", help),
    ]

    static func help(_ c: inout CommandContext) {
        replyHelp(&c, "XINFO", [
            "CONSUMERS <key> <groupname>", "    Show consumers of <groupname>.",
            "GROUPS <key>", "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]", "    Show information about the stream.",
        ])
    }

    /// The stream XINFO names (argument 2); nil after replying WRONGTYPE or `no such key`.
    static func infoStream(_ c: inout CommandContext) -> StreamObject? {
        switch c.readStream(Bytes(c.args[2])) {
        case .wrongType: c.wrongType()
        case .missing: c.out.error("ERR no such key")
        case .found(let s): return s
        }
        return nil
    }

    static func stream(_ c: inout CommandContext) {
        guard let stream = infoStream(&c) else { return }
        var full = false
        var count = 10
        if c.args.count > 3 {
            guard c.argIs(3, "full"), c.args.count == 4 || (c.args.count == 6 && c.argIs(4, "count")) else {
                return c.out.error("ERR unknown subcommand or wrong number of arguments for '\(String(decoding: c.args[1], as: UTF8.self))'. Try XINFO HELP.")
            }
            full = true
            if c.args.count == 6 {
                guard let n = c.integerArgument(5) else { return }
                count = n < 0 ? 10 : n == 0 ? Int.max : Int(n)
            }
        }
        c.out.mapHeader(full ? 9 : 10)
        c.out.staticBulk("length")
        c.out.integer(stream.length)
        c.out.staticBulk("radix-tree-keys")
        c.out.integer(stream.nodes.count)
        c.out.staticBulk("radix-tree-nodes")
        c.out.integer(radixTreeNodes(stream.nodes.map(\.master)))
        c.out.staticBulk("last-generated-id")
        StreamCommands.writeID(&c.out, stream.lastID)
        c.out.staticBulk("max-deleted-entry-id")
        StreamCommands.writeID(&c.out, stream.maxDeletedID)
        c.out.staticBulk("entries-added")
        c.out.integer(Int64(bitPattern: stream.entriesAdded))
        c.out.staticBulk("recorded-first-entry-id")
        StreamCommands.writeID(&c.out, stream.firstID)
        if full {
            c.out.staticBulk("entries")
            StreamCommands.writeRange(&c.out, stream, from: .zero, to: .max, reverse: false, count: count)
            c.out.staticBulk("groups")
            c.out.arrayHeader(stream.groups.count)
            for group in stream.groups { fullGroup(&c, stream, group, count: count) }
            return
        }
        c.out.staticBulk("groups")
        c.out.integer(stream.groups.count)
        for (label, reverse) in [("first-entry", false), ("last-entry", true)] {
            c.out.bulk(label)
            var edge: StreamObject.Entry?
            stream.forEach(from: .zero, to: .max, reverse: reverse) { edge = $0; return false }
            if let edge { StreamCommands.writeEntry(&c.out, edge) } else { c.out.null() }
        }
    }

    /// A group in XINFO STREAM FULL: its counters, up to `count` pending entries, and its
    /// consumers with up to `count` of theirs each.
    private static func fullGroup(_ c: inout CommandContext, _ stream: StreamObject, _ group: StreamGroup, count: Int) {
        c.out.mapHeader(7)
        c.out.staticBulk("name")
        c.out.bulk(group.name.array)
        c.out.staticBulk("last-delivered-id")
        StreamCommands.writeID(&c.out, group.lastID)
        writeReadCounters(&c.out, stream, group)
        c.out.staticBulk("pel-count")
        c.out.integer(group.pending.count)
        c.out.staticBulk("pending")
        let shown = group.pending.entries(limit: count)
        c.out.arrayHeader(shown.count)
        for (id, entry) in shown {
            c.out.arrayHeader(4)
            StreamCommands.writeID(&c.out, id)
            c.out.bulk(entry.consumer.name.array)
            c.out.integer(entry.deliveryTime)
            c.out.integer(Int64(bitPattern: entry.deliveryCount))
        }
        c.out.staticBulk("consumers")
        c.out.arrayHeader(group.consumers.count)
        for consumer in group.consumers {
            c.out.mapHeader(4)
            c.out.staticBulk("name")
            c.out.bulk(consumer.name.array)
            c.out.staticBulk("seen-time")
            c.out.integer(consumer.seenTime)
            c.out.staticBulk("pel-count")
            c.out.integer(consumer.pending.count)
            c.out.staticBulk("pending")
            let own = consumer.pending.entries(limit: count)
            c.out.arrayHeader(own.count)
            for (id, entry) in own {
                c.out.arrayHeader(3)
                StreamCommands.writeID(&c.out, id)
                c.out.integer(entry.deliveryTime)
                c.out.integer(Int64(bitPattern: entry.deliveryCount))
            }
        }
    }

    /// `entries-read` (nil when unknown) and `lag` (nil when it cannot be known), as Redis 7.0
    /// computes them.
    static func writeReadCounters(_ out: inout ReplyWriter, _ stream: StreamObject, _ group: StreamGroup) {
        out.staticBulk("entries-read")
        if group.entriesRead == StreamGroup.unknownEntriesRead { out.null() } else { out.integer(group.entriesRead) }
        out.staticBulk("lag")
        let added = Int64(bitPattern: stream.entriesAdded)
        if stream.entriesAdded == 0 {
            out.integer(0)
        } else if group.entriesRead != StreamGroup.unknownEntriesRead && !stream.rangeHasTombstones(from: group.lastID) {
            out.integer(added &- group.entriesRead)
        } else if let read = stream.entriesAddedUpTo(group.lastID) {
            out.integer(added &- read)
        } else {
            out.null()
        }
    }

    /// How many nodes Redis's radix tree has for these node keys (16-byte big-endian IDs,
    /// sorted): the head, each branching point and each child of one, each chain of single
    /// children (one compressed node) and each leaf, as a canonical rax holds them.
    static func radixTreeNodes(_ keys: [StreamID]) -> Int {
        if keys.isEmpty { return 1 }
        func byte(_ id: StreamID, _ depth: Int) -> UInt8 {
            let part = depth < 8 ? id.ms : id.seq
            return UInt8(truncatingIfNeeded: part >> UInt64(8 * (7 - depth % 8)))
        }
        func count(_ range: Range<Int>, _ depth: Int, startsNode: Bool) -> Int {
            if depth == 16 { return 1 }
            var children: [Range<Int>] = []
            var start = range.lowerBound
            for i in range.dropFirst() where byte(keys[i], depth) != byte(keys[start], depth) {
                children.append(start..<i)
                start = i
            }
            children.append(start..<range.upperBound)
            if children.count == 1 {
                return (startsNode ? 1 : 0) + count(range, depth + 1, startsNode: false)
            }
            return 1 + children.reduce(0) { $0 + count($1, depth + 1, startsNode: true) }
        }
        return count(0..<keys.count, 0, startsNode: true)
    }
}
