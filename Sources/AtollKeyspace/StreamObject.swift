/// A stream: entries packed in nodes as Redis packs them, plus the stream's bookkeeping
/// (length, last and first IDs, the largest deleted ID, entries ever added) and its consumer
/// groups (`StreamGroup`).
///
/// Entries live in `nodes`, sorted by each node's master ID (its first entry's), so an ID is
/// found by binary search over the nodes, then a scan of at most one node. Each node is a
/// Redis listpack laid out as in Redis 7.0's `t_stream.c`, so memory per entry matches Redis
/// and the RDB payload carries the nodes as they are:
///
///     master entry: count, deleted, field count, field names..., 0
///     each entry:   flags, ms - master.ms, seq - master.seq,
///                   [field count, field, value, ... | value, ... when SAMEFIELDS], element count
///
/// Deleting an entry (XDEL, exact trimming) only flags it; a node whose last live entry goes
/// is removed. IDs are unsigned and the deltas wrap, exactly as Redis stores them.

import AtollBytes

public final class StreamObject {
    /// One listpack of entries and the ID its deltas count from.
    public struct Node: Sendable {
        public var master: StreamID
        public var lp: [UInt8]
        public init(master: StreamID, lp: [UInt8]) {
            self.master = master
            self.lp = lp
        }
    }

    /// Entry flags, as Redis writes them.
    public static let deletedFlag: Int64 = 1
    public static let sameFieldsFlag: Int64 = 2

    /// Where a listpack's master entry starts (after the 6-byte header).
    @usableFromInline static let countOffset = 6

    // Streams are read and changed only under the keyspace lock, and no access to these
    // re-enters (nothing runs while one is open), so the runtime exclusivity checks were pure
    // cost on every XADD, XACK and XREADGROUP. The attribute only counts in this module, so
    // what other modules use on those paths is stored under another name and reached
    // through inlinable accessors (a direct access from them would be checked). The same
    // holds for the group, consumer and pending-entry classes.
    @exclusivity(unchecked) public internal(set) var nodes: [Node] = []
    /// Live entries.
    @exclusivity(unchecked) public internal(set) var length = 0
    @exclusivity(unchecked) @usableFromInline var storedLastID = StreamID.zero
    @inlinable public var lastID: StreamID {
        get { storedLastID }
        set { storedLastID = newValue }
    }
    /// The first live entry's ID (0-0 when empty), as Redis keeps it.
    @exclusivity(unchecked) public var firstID = StreamID.zero
    @exclusivity(unchecked) public var maxDeletedID = StreamID.zero
    /// Entries ever added (XADD), or set by XSETID.
    @exclusivity(unchecked) public var entriesAdded: UInt64 = 0
    /// Consumer groups, sorted by name.
    @exclusivity(unchecked) public var groups: [StreamGroup] = []

    public init() {}

    /// A stream rebuilt from stored nodes (RDB, RESTORE).
    public init(nodes: [Node], length: Int) {
        self.nodes = nodes
        self.length = length
    }

    public func copy() -> StreamObject {
        let copy = StreamObject(nodes: nodes, length: length)
        copy.lastID = lastID
        copy.firstID = firstID
        copy.maxDeletedID = maxDeletedID
        copy.entriesAdded = entriesAdded
        copy.groups = groups.map { $0.copy() }
        return copy
    }

    // MARK: - Reading entries

    /// One entry as found in its node: its ID and where its fields and values are.
    public struct Entry {
        public let id: StreamID
        /// The node's listpack the element ranges refer to.
        public let lp: [UInt8]
        /// Field-value pairs.
        public let pairs: Int
        @usableFromInline let fieldsAt: Int
        @usableFromInline let valuesAt: Int
        @usableFromInline let sameFields: Bool

        /// An element's bytes (an integer as its decimal text).
        public func bytes(_ element: ListpackElement) -> [UInt8] {
            switch element {
            case .int(let n): return Array(String(n).utf8)
            case .string(let range): return Array(lp[range])
            }
        }

        /// Calls `body` with each field and value, in order.
        @inlinable public func forEachPair(_ body: (ListpackElement, ListpackElement) -> Void) {
            lp.withUnsafeBytes { raw in
                var f = fieldsAt, v = valuesAt
                for _ in 0..<pairs {
                    if sameFields {
                        let (field, nf) = ListpackCoding.read(raw, at: f)
                        let (value, nv) = ListpackCoding.read(raw, at: v)
                        f = nf
                        v = nv
                        body(field, value)
                    } else {
                        let (field, nf) = ListpackCoding.read(raw, at: v)
                        let (value, nv) = ListpackCoding.read(raw, at: nf)
                        v = nv
                        body(field, value)
                    }
                }
            }
        }
    }

    /// A node's master entry: live and deleted counts, field count, where the master fields
    /// start and where the first entry starts.
    @usableFromInline struct Master {
        var count: Int64
        var deleted: Int64
        var fields: Int
        var fieldsAt: Int
        var entriesAt: Int
    }

    @usableFromInline static func master(_ raw: UnsafeRawBufferPointer) -> Master {
        let (count, a) = ListpackCoding.integer(raw, at: countOffset)
        let (deleted, b) = ListpackCoding.integer(raw, at: a)
        let (fields, c) = ListpackCoding.integer(raw, at: b)
        var p = c
        for _ in 0..<fields { p = ListpackCoding.skip(raw, at: p) }
        p = ListpackCoding.skip(raw, at: p)  // the master entry's 0 terminator
        return Master(count: count, deleted: deleted, fields: Int(fields), fieldsAt: c, entriesAt: p)
    }

    /// The start of the entry at `offset` of a node: its flags, its ID, and where its fields
    /// (or, with SAMEFIELDS, its values) start.
    @usableFromInline static func entryHeader(_ raw: UnsafeRawBufferPointer, at offset: Int, master id: StreamID)
        -> (flags: Int64, id: StreamID, rest: Int) {
        let (flags, a) = ListpackCoding.integer(raw, at: offset)
        let (msDelta, b) = ListpackCoding.integer(raw, at: a)
        let (seqDelta, c) = ListpackCoding.integer(raw, at: b)
        return (flags, StreamID(ms: id.ms &+ UInt64(bitPattern: msDelta), seq: id.seq &+ UInt64(bitPattern: seqDelta)), c)
    }

    /// The offset of the entry after the one whose header `entryHeader` read.
    @usableFromInline static func entryEnd(_ raw: UnsafeRawBufferPointer, flags: Int64, rest: Int, _ m: Master) -> Int {
        var p = rest
        var items = m.fields
        if flags & sameFieldsFlag == 0 {
            let (pairs, d) = ListpackCoding.integer(raw, at: rest)
            p = d
            items = 2 * Int(pairs)
        }
        for _ in 0..<items { p = ListpackCoding.skip(raw, at: p) }
        return ListpackCoding.skip(raw, at: p)  // the entry's element count
    }

    /// The entry whose header `entryHeader` read, as `Entry`.
    @usableFromInline static func makeEntry(_ raw: UnsafeRawBufferPointer, _ lp: [UInt8], id: StreamID, flags: Int64,
                                            rest: Int, _ m: Master) -> Entry {
        if flags & sameFieldsFlag != 0 {
            return Entry(id: id, lp: lp, pairs: m.fields, fieldsAt: m.fieldsAt, valuesAt: rest, sameFields: true)
        }
        let (pairs, d) = ListpackCoding.integer(raw, at: rest)
        return Entry(id: id, lp: lp, pairs: Int(pairs), fieldsAt: d, valuesAt: d, sameFields: false)
    }

    /// The entry at `offset` of a node: its flags, ID, entry and the next entry's offset.
    @usableFromInline static func entry(_ raw: UnsafeRawBufferPointer, _ lp: [UInt8], at offset: Int, master id: StreamID,
                                        _ m: Master) -> (flags: Int64, entry: Entry, next: Int) {
        let (flags, entryID, rest) = entryHeader(raw, at: offset, master: id)
        let entry = makeEntry(raw, lp, id: entryID, flags: flags, rest: rest, m)
        return (flags, entry, entryEnd(raw, flags: flags, rest: rest, m))
    }

    /// Index of the last node whose master ID is at most `id`, or nil if every node starts after it.
    @usableFromInline func nodeIndex(atOrBefore id: StreamID) -> Int? {
        var low = 0, high = nodes.count
        while low < high {
            let mid = (low + high) / 2
            if nodes[mid].master <= id { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }

    /// Calls `body` with each live entry whose ID is in `lower...upper`, in ID order (or
    /// backwards when `reverse`), until `body` returns false.
    public func forEach(from lower: StreamID, to upper: StreamID, reverse: Bool = false, _ body: (Entry) -> Bool) {
        guard lower <= upper, !nodes.isEmpty else { return }
        if reverse { return forEachBackwards(from: upper, to: lower, body) }
        var i = nodeIndex(atOrBefore: lower) ?? 0
        while i < nodes.count {
            let node = nodes[i]
            if node.master > upper { return }
            let stop: Bool = node.lp.withUnsafeBytes { raw in
                let m = Self.master(raw)
                var p = m.entriesAt
                while p < raw.count - 1 {
                    // Only the entries served are made into `Entry` values (each holds the node).
                    let (flags, id, rest) = Self.entryHeader(raw, at: p, master: node.master)
                    if flags & Self.deletedFlag == 0 && id >= lower {
                        if id > upper || !body(Self.makeEntry(raw, node.lp, id: id, flags: flags, rest: rest, m)) {
                            return true
                        }
                    }
                    p = Self.entryEnd(raw, flags: flags, rest: rest, m)
                }
                return false
            }
            if stop { return }
            i += 1
        }
    }

    private func forEachBackwards(from upper: StreamID, to lower: StreamID, _ body: (Entry) -> Bool) {
        guard var i = nodeIndex(atOrBefore: upper) else { return }
        var found: [Entry] = []
        while i >= 0 {
            let node = nodes[i]
            found.removeAll(keepingCapacity: true)
            node.lp.withUnsafeBytes { raw in
                let m = Self.master(raw)
                var p = m.entriesAt
                while p < raw.count - 1 {
                    let (flags, entry, next) = Self.entry(raw, node.lp, at: p, master: node.master, m)
                    p = next
                    if flags & Self.deletedFlag == 0 { found.append(entry) }
                }
            }
            for entry in found.reversed() where entry.id <= upper {
                if entry.id < lower || !body(entry) { return }
            }
            i -= 1
        }
    }

    /// The live entry with this ID.
    public func entry(_ id: StreamID) -> Entry? {
        var found: Entry?
        forEach(from: id, to: id) { found = $0; return false }
        return found
    }

    /// The first (or last) live entry's ID, skipping tombstones.
    public func edgeID(last: Bool) -> StreamID? {
        var found: StreamID?
        forEach(from: .zero, to: .max, reverse: last) { found = $0.id; return false }
        return found
    }

    /// Sets `firstID` from the entries (after deletions at the head).
    public func refreshFirstID() { firstID = edgeID(last: false) ?? .zero }

    /// Checks a loaded node against the layout `entry` and `forEach` rely on; returns its
    /// live entry count, or nil when it is damaged.
    public static func validatedNode(_ lp: [UInt8]) -> Int? {
        guard let elements = ListpackCoding.validatedElements(lp) else { return nil }
        var i = 0
        func integer() -> Int64? {
            guard i < elements.count, case .int(let n) = elements[i] else { return nil }
            i += 1
            return n
        }
        guard let count = integer(), let deleted = integer(), let fields = integer(),
              count >= 0, deleted >= 0, fields >= 0, fields <= Int64(elements.count) else { return nil }
        i += Int(fields)
        guard integer() == 0 else { return nil }
        var live: Int64 = 0, dead: Int64 = 0
        while i < elements.count {
            guard let flags = integer(), flags >= 0 && flags <= 3, integer() != nil, integer() != nil else { return nil }
            var pairs = fields
            var items = fields
            if flags & sameFieldsFlag == 0 {
                guard let n = integer(), n >= 0, n <= Int64(elements.count) else { return nil }
                pairs = n
                items = 2 * n
            }
            guard Int64(i) + items < Int64(elements.count) else { return nil }
            i += Int(items)
            guard let lpCount = integer(), lpCount == 3 + items + (flags & sameFieldsFlag == 0 ? 1 : 0),
                  pairs >= 0 else { return nil }
            if flags & deletedFlag != 0 { dead += 1 } else { live += 1 }
        }
        guard live == count, dead == deleted else { return nil }
        return Int(count)
    }

    // MARK: - Adding

    /// Appends an entry with `id` (greater than `lastID`, checked by the caller) and the
    /// field-value pairs `args[from...]`, starting a new node when the tail one holds
    /// `maxEntries` entries (live or deleted) or would reach `maxBytes` (0: 1 GiB).
    public func append(id: StreamID, _ args: [[UInt8]], from: Int, maxBytes: Int, maxEntries: Int) {
        // Arguments are read through a buffer pointer: an element borrowed from it is not
        // retained and released around each use, as one taken from the array is.
        args.withUnsafeBufferPointer { append(id: id, $0, from: from, maxBytes: maxBytes, maxEntries: maxEntries) }
    }

    private func append(id: StreamID, _ args: UnsafeBufferPointer<[UInt8]>, from: Int, maxBytes: Int, maxEntries: Int) {
        let pairs = (args.count - from) / 2
        var payload = 0
        for i in from..<args.count { payload += args[i].count }
        let nodeLimit = maxBytes == 0 || maxBytes > 1 << 30 ? 1 << 30 : maxBytes
        if !nodes.isEmpty {
            // The tail node is taken out while it is edited, so that it stays uniquely held
            // (no copy) and the edits do not go through the node array each time.
            let tail = nodes.count - 1
            var lp: [UInt8] = []
            swap(&lp, &nodes[tail].lp)
            let m = lp.withUnsafeBytes { Self.master($0) }
            if lp.count + payload < nodeLimit && (maxEntries == 0 || m.count + m.deleted < Int64(maxEntries)) {
                // Compared before the count changes, which may move the fields.
                let same = m.fields == pairs && sameFields(lp, at: m.fieldsAt, args, from: from, pairs: pairs)
                ListpackCoding.replaceInteger(&lp, at: Self.countOffset, with: m.count + 1)
                appendEntry(&lp, id: id, master: nodes[tail].master, same: same, args, from: from, pairs: pairs)
                swap(&lp, &nodes[tail].lp)
                added(id)
                return
            }
            lp.shrinkToFit()
            swap(&lp, &nodes[tail].lp)
        }
        var lp = ListpackCoding.empty
        lp.removeLast()
        ListpackCoding.appendInteger(1, to: &lp)
        ListpackCoding.appendInteger(0, to: &lp)
        ListpackCoding.appendInteger(Int64(pairs), to: &lp)
        for k in 0..<pairs { args[from + 2 * k].withUnsafeBytes { ListpackCoding.appendString($0, to: &lp) } }
        ListpackCoding.appendInteger(0, to: &lp)
        lp.append(0xFF)
        ListpackCoding.setHeader(&lp, elements: 4 + pairs)
        appendEntry(&lp, id: id, master: id, same: true, args, from: from, pairs: pairs)
        nodes.append(Node(master: id, lp: lp))
        added(id)
    }

    /// The bookkeeping of an appended entry.
    private func added(_ id: StreamID) {
        if length == 0 { firstID = id }
        length += 1
        lastID = id
        entriesAdded &+= 1
    }

    private func sameFields(_ lp: [UInt8], at fieldsAt: Int, _ args: UnsafeBufferPointer<[UInt8]>, from: Int,
                            pairs: Int) -> Bool {
        lp.withUnsafeBytes { raw in
            var p = fieldsAt
            for k in 0..<pairs {
                let (element, next) = ListpackCoding.read(raw, at: p)
                p = next
                let same = args[from + 2 * k].withUnsafeBytes { field in
                    switch element {
                    case .int(let n):
                        return field.count <= 20 && parseStrictInt64(field) == n
                    case .string(let range):
                        return compareBytes(field, UnsafeRawBufferPointer(rebasing: raw[range])) == 0
                    }
                }
                if !same { return false }
            }
            return true
        }
    }

    /// Appends one entry (with SAMEFIELDS when `same`) and counts its elements in the header.
    private func appendEntry(_ lp: inout [UInt8], id: StreamID, master: StreamID, same: Bool,
                             _ args: UnsafeBufferPointer<[UInt8]>, from: Int, pairs: Int) {
        let before = ListpackCoding.headerCount(lp)
        lp.removeLast()
        ListpackCoding.appendInteger(same ? Self.sameFieldsFlag : 0, to: &lp)
        ListpackCoding.appendInteger(Int64(bitPattern: id.ms &- master.ms), to: &lp)
        ListpackCoding.appendInteger(Int64(bitPattern: id.seq &- master.seq), to: &lp)
        if !same { ListpackCoding.appendInteger(Int64(pairs), to: &lp) }
        for k in 0..<pairs {
            if !same { args[from + 2 * k].withUnsafeBytes { ListpackCoding.appendString($0, to: &lp) } }
            args[from + 2 * k + 1].withUnsafeBytes { ListpackCoding.appendString($0, to: &lp) }
        }
        let elements = 3 + pairs + (same ? 0 : pairs + 1)
        ListpackCoding.appendInteger(Int64(elements), to: &lp)
        lp.append(0xFF)
        ListpackCoding.setHeader(&lp, elements: before == 65535 ? 65535 : before + elements + 1)
    }

    // MARK: - Removing

    /// Flags the live entry `id` deleted (removing its node if it was the node's last);
    /// false if there is none. The caller keeps `firstID` and `maxDeletedID`.
    public func delete(_ id: StreamID) -> Bool {
        guard let i = nodeIndex(atOrBefore: id) else { return false }
        let node = nodes[i]
        let offset: Int? = node.lp.withUnsafeBytes { raw in
            let m = Self.master(raw)
            var p = m.entriesAt
            while p < raw.count - 1 {
                let (flags, entry, next) = Self.entry(raw, node.lp, at: p, master: node.master, m)
                if entry.id == id { return flags & Self.deletedFlag == 0 ? p : nil }
                if entry.id > id { return nil }
                p = next
            }
            return nil
        }
        guard let offset else { return false }
        let m = node.lp.withUnsafeBytes { Self.master($0) }
        if m.count == 1 {
            nodes.remove(at: i)
        } else {
            nodes[i].lp[offset] |= UInt8(Self.deletedFlag)  // flags are 0...3: one byte
            moveToDeleted(node: i, m, count: 1)
        }
        length -= 1
        return true
    }

    /// Moves `count` entries of node `i` (whose master entry was `m`) from its live count to
    /// its deleted count.
    private func moveToDeleted(node i: Int, _ m: Master, count: Int64) {
        ListpackCoding.replaceInteger(&nodes[i].lp, at: Self.countOffset, with: m.count - count)
        let deletedAt = nodes[i].lp.withUnsafeBytes { ListpackCoding.skip($0, at: Self.countOffset) }
        ListpackCoding.replaceInteger(&nodes[i].lp, at: deletedAt, with: m.deleted + count)
    }

    /// How to trim: to a length, or below an ID.
    public enum TrimBound: Sendable {
        case maxLength(Int64)
        case minID(StreamID)
    }

    /// Redis 7.0's `streamTrim`: removes whole nodes from the head while the bound allows
    /// (and `limit`, when not 0, is not passed), then, unless `approximate`, flags entries of
    /// the next node deleted up to the bound. Returns the entries removed; `firstID` follows.
    public func trim(_ bound: TrimBound, approximate: Bool, limit: Int64) -> Int64 {
        if case .maxLength(let maxlen) = bound, Int64(length) <= maxlen { return 0 }
        var deleted: Int64 = 0
        while !nodes.isEmpty {
            if case .maxLength(let maxlen) = bound, Int64(length) <= maxlen { break }
            let node = nodes[0]
            let m = node.lp.withUnsafeBytes { Self.master($0) }
            if limit != 0 && deleted + m.count > limit { break }
            let removeNode: Bool
            switch bound {
            case .maxLength(let maxlen): removeNode = Int64(length) - m.count >= maxlen
            case .minID(let minID): removeNode = lastEntryID(node) < minID
            }
            if removeNode {
                nodes.removeFirst()
                length -= Int(m.count)
                deleted += m.count
                continue
            }
            if approximate { break }
            var marked: Int64 = 0
            var p = m.entriesAt
            while true {
                let step: (flags: Int64, id: StreamID, next: Int)? = nodes[0].lp.withUnsafeBytes { raw in
                    guard p < raw.count - 1 else { return nil }
                    let (flags, entry, next) = Self.entry(raw, nodes[0].lp, at: p, master: node.master, m)
                    return (flags, entry.id, next)
                }
                guard let step else { break }
                let stop: Bool
                switch bound {
                case .maxLength(let maxlen): stop = Int64(length) <= maxlen
                case .minID(let minID): stop = step.id >= minID
                }
                if stop { break }
                if step.flags & Self.deletedFlag == 0 {
                    nodes[0].lp[p] |= UInt8(Self.deletedFlag)
                    marked += 1
                    length -= 1
                }
                p = step.next
            }
            deleted += marked
            if marked > 0 { moveToDeleted(node: 0, m, count: marked) }
            break
        }
        refreshFirstID()
        return deleted
    }

    /// The ID of a node's last entry, deleted or not (Redis's `lpGetEdgeStreamID`).
    private func lastEntryID(_ node: Node) -> StreamID {
        node.lp.withUnsafeBytes { raw in
            let m = Self.master(raw)
            var p = m.entriesAt
            var last = node.master
            while p < raw.count - 1 {
                let (_, entry, next) = Self.entry(raw, node.lp, at: p, master: node.master, m)
                last = entry.id
                p = next
            }
            return last
        }
    }

    // MARK: - Consumer-group arithmetic (Redis 7.0's lag and read counters)

    /// Redis's `streamRangeHasTombstones`: whether a deleted entry may lie in `start...end`.
    public func rangeHasTombstones(from start: StreamID, to end: StreamID = .max) -> Bool {
        if length == 0 || maxDeletedID == .zero { return false }
        if firstID > maxDeletedID { return false }
        return start <= maxDeletedID && maxDeletedID <= end
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: how many entries were added up to
    /// `id`, or nil when deletions make it unknowable.
    public func entriesAddedUpTo(_ id: StreamID) -> Int64? {
        if entriesAdded == 0 { return 0 }
        let added = Int64(bitPattern: entriesAdded)
        if length == 0 && id <= lastID { return added }
        if id == lastID { return added }
        if id > lastID { return nil }
        if maxDeletedID == .zero || maxDeletedID < firstID {
            if id < firstID { return added &- Int64(length) }
            if id == firstID { return added &- Int64(length) &+ 1 }
        }
        return nil
    }
}

extension Array where Element == UInt8 {
    /// Drops spare capacity (a full stream node is kept at its exact size).
    mutating func shrinkToFit() {
        guard capacity > count + 16 else { return }
        self = withUnsafeBufferPointer { Array($0) }
    }
}
