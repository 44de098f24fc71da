/// A stream's consumer groups: each group's last delivered ID and read counter, its pending
/// entries list (PEL: entries delivered and not yet acknowledged), and its consumers, each
/// with the part of the PEL delivered to it. Groups and consumers are kept sorted by name and
/// PELs by ID, the orders Redis's radix trees give XINFO, XPENDING and the RDB.

import AtollBytes
import CSearch

/// A pending entries list: stream IDs to their `PendingEntry`, sorted by ID, as Redis's PEL
/// radix trees. Chunks of at most `chunkLimit` entries are found by binary search over their
/// first IDs, so lookups, inserts and removals anywhere (acknowledgements come in any order)
/// move at most one chunk; an ID past the last one starts a new chunk when the last is full,
/// so a PEL filled in ID order (XREADGROUP) keeps its chunks full.
///
/// Not generic, so that every use is compiled for `PendingEntry` (no runtime metadata, no
/// unspecialized array operations on the XACK and XREADGROUP paths).
public struct PendingEntryMap {
    private struct Chunk {
        var ids: [StreamID]
        var values: [PendingEntry]
    }

    private static var chunkLimit: Int { 128 }
    private var chunks: [Chunk] = []
    /// Each chunk's first ID.
    private var firsts: [StreamID] = []
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    // The two searches are CSearch's branch-free ones: acknowledgements of random IDs made
    // the branches of a plain binary search go either way at random, a third of XACK's
    // mispredicted branches.

    /// The chunk that holds, or would hold, `id` (the map is not empty).
    private func chunkIndex(_ id: StreamID) -> Int {
        firsts.withUnsafeBufferPointer { f in atoll_last_not_after(f.baseAddress!, f.count, id.ms, id.seq) }
    }

    /// Where `id` is, or belongs, in `ids`, and whether it is there.
    private static func position(_ id: StreamID, in ids: UnsafeBufferPointer<StreamID>) -> (Int, found: Bool) {
        // Past the last: the common insertion (IDs delivered in order), tested first.
        guard let last = ids.last, !(last < id) else { return (ids.count, false) }
        let i = atoll_first_not_before(ids.baseAddress!, ids.count, id.ms, id.seq)
        return (i, ids[i] == id)
    }

    /// The chunk and position of `id`, and whether it is there (the map is not empty).
    private func locate(_ id: StreamID) -> (chunk: Int, index: Int, found: Bool) {
        let c = chunkIndex(id)
        let (i, found) = chunks[c].ids.withUnsafeBufferPointer { Self.position(id, in: $0) }
        return (c, i, found)
    }

    public subscript(id: StreamID) -> PendingEntry? {
        guard !chunks.isEmpty else { return nil }
        let (c, i, found) = locate(id)
        return found ? chunks[c].values[i] : nil
    }

    /// Stores `value` under `id`, replacing any value there.
    public mutating func insert(_ id: StreamID, _ value: PendingEntry) {
        guard !chunks.isEmpty else {
            chunks.append(Chunk(ids: [id], values: [value]))
            firsts.append(id)
            count = 1
            return
        }
        let (c, i, found) = locate(id)
        if found {
            chunks[c].values[i] = value
            return
        }
        count += 1
        let size = chunks[c].ids.count
        if i == size && c == chunks.count - 1 && size >= Self.chunkLimit {
            chunks.append(Chunk(ids: [id], values: [value]))
            firsts.append(id)
            return
        }
        chunks[c].ids.insert(id, at: i)
        chunks[c].values.insert(value, at: i)
        if i == 0 { firsts[c] = id }
        if size + 1 > Self.chunkLimit {
            let half = (size + 1) / 2
            let tail = Chunk(ids: Array(chunks[c].ids[half...]), values: Array(chunks[c].values[half...]))
            chunks[c].ids.removeSubrange(half...)
            chunks[c].values.removeSubrange(half...)
            chunks.insert(tail, at: c + 1)
            firsts.insert(tail.ids[0], at: c + 1)
        }
    }

    @discardableResult public mutating func remove(_ id: StreamID) -> PendingEntry? {
        guard !chunks.isEmpty else { return nil }
        let (c, i, found) = locate(id)
        guard found else { return nil }
        count -= 1
        if chunks[c].ids.count == 1 {
            let value = chunks[c].values[0]
            chunks.remove(at: c)
            firsts.remove(at: c)
            return value
        }
        chunks[c].ids.remove(at: i)
        let value = chunks[c].values.remove(at: i)
        if i == 0 { firsts[c] = chunks[c].ids[0] }
        return value
    }

    public var first: (id: StreamID, value: PendingEntry)? {
        chunks.first.map { ($0.ids[0], $0.values[0]) }
    }

    public var last: (id: StreamID, value: PendingEntry)? {
        chunks.last.map { ($0.ids[$0.ids.count - 1], $0.values[$0.values.count - 1]) }
    }

    /// Calls `body` with each entry from `start` on, in ID order, until it returns false.
    public func forEach(from start: StreamID = .zero, _ body: (StreamID, PendingEntry) -> Bool) {
        guard !chunks.isEmpty else { return }
        var (c, i, _) = locate(start)
        while c < chunks.count {
            let chunk = chunks[c]
            while i < chunk.ids.count {
                if !body(chunk.ids[i], chunk.values[i]) { return }
                i += 1
            }
            c += 1
            i = 0
        }
    }

    /// Up to `limit` entries from `start` on.
    public func entries(from start: StreamID = .zero, limit: Int = .max) -> [(id: StreamID, value: PendingEntry)] {
        var out: [(id: StreamID, value: PendingEntry)] = []
        guard limit > 0 else { return out }
        forEach(from: start) { id, value in
            out.append((id, value))
            return out.count < limit
        }
        return out
    }
}

/// Where `name` is, or belongs, in `items` sorted by name.
private func position<T>(of name: Bytes, in items: [T], _ nameOf: (T) -> Bytes) -> (Int, found: Bool) {
    var low = 0, high = items.count
    while low < high {
        let mid = (low + high) / 2
        if nameOf(items[mid]) < name { low = mid + 1 } else { high = mid }
    }
    return (low, low < items.count && nameOf(items[low]) == name)
}

/// Up to this many groups or consumers, a name is found by comparing for equality in turn
/// (cheaper than ordering comparisons); the binary search takes over beyond.
private let linearSearchLimit = 16

/// An entry delivered to a consumer and not yet acknowledged.
// The stored properties of these classes are unchecked for exclusivity, for the reason
// `StreamObject` gives (the ones other modules use on the hot paths behind inlinable accessors).

public final class PendingEntry {
    /// Unix milliseconds of the last delivery.
    @exclusivity(unchecked) public var deliveryTime: Int64
    @exclusivity(unchecked) public var deliveryCount: UInt64
    public unowned var consumer: StreamConsumer

    public init(deliveryTime: Int64, deliveryCount: UInt64, consumer: StreamConsumer) {
        self.deliveryTime = deliveryTime
        self.deliveryCount = deliveryCount
        self.consumer = consumer
    }
}

public final class StreamConsumer {
    public let name: Bytes
    /// Unix milliseconds of the consumer's last read or claim attempt.
    @exclusivity(unchecked) public var seenTime: Int64
    @exclusivity(unchecked) @usableFromInline var storedPending = PendingEntryMap()
    /// The group's pending entries delivered to this consumer (the same objects).
    @inlinable public var pending: PendingEntryMap {
        _read { yield storedPending }
        _modify { yield &storedPending }
    }

    public init(name: Bytes, seenTime: Int64) {
        self.name = name
        self.seenTime = seenTime
    }
}

public final class StreamGroup {
    /// Redis's `SCG_INVALID_ENTRIES_READ`: the group's read counter is unknown.
    public static let unknownEntriesRead: Int64 = -1

    public let name: Bytes
    @exclusivity(unchecked) @usableFromInline var storedLastID: StreamID
    @exclusivity(unchecked) @usableFromInline var storedEntriesRead: Int64
    @exclusivity(unchecked) @usableFromInline var storedPending = PendingEntryMap()
    @inlinable public var lastID: StreamID {
        get { storedLastID }
        set { storedLastID = newValue }
    }
    /// Entries the group has read, or `unknownEntriesRead`.
    @inlinable public var entriesRead: Int64 {
        get { storedEntriesRead }
        set { storedEntriesRead = newValue }
    }
    @inlinable public var pending: PendingEntryMap {
        _read { yield storedPending }
        _modify { yield &storedPending }
    }
    /// Sorted by name.
    @exclusivity(unchecked) public private(set) var consumers: [StreamConsumer] = []

    public init(name: Bytes, lastID: StreamID, entriesRead: Int64) {
        self.name = name
        storedLastID = lastID
        storedEntriesRead = entriesRead
    }

    private func consumerIndex(_ name: Bytes) -> (Int, found: Bool) { position(of: name, in: consumers, \.name) }

    /// XACK of one ID: removes it from the PEL and from its consumer's; false if it was not
    /// pending.
    public func acknowledge(_ id: StreamID) -> Bool {
        guard let entry = storedPending.remove(id) else { return false }
        entry.consumer.storedPending.remove(id)
        return true
    }

    public func consumer(_ name: Bytes) -> StreamConsumer? {
        if consumers.count <= linearSearchLimit {
            for consumer in consumers where consumer.name == name { return consumer }
            return nil
        }
        let (i, found) = consumerIndex(name)
        return found ? consumers[i] : nil
    }

    /// Adds a consumer; nil if one of that name exists.
    @discardableResult public func addConsumer(_ name: Bytes, seenTime: Int64) -> StreamConsumer? {
        let (i, found) = consumerIndex(name)
        guard !found else { return nil }
        let consumer = StreamConsumer(name: name, seenTime: seenTime)
        consumers.insert(consumer, at: i)
        return consumer
    }

    /// Removes a consumer and its pending entries from the group's PEL; returns how many it had.
    public func removeConsumer(_ name: Bytes) -> Int? {
        let (i, found) = consumerIndex(name)
        guard found else { return nil }
        let consumer = consumers.remove(at: i)
        consumer.pending.forEach { id, _ in
            pending.remove(id)
            return true
        }
        return consumer.pending.count
    }

    /// A copy sharing nothing with this group (COPY of a stream key).
    public func copy() -> StreamGroup {
        let copy = StreamGroup(name: name, lastID: lastID, entriesRead: entriesRead)
        for consumer in consumers {
            let c = copy.addConsumer(consumer.name, seenTime: consumer.seenTime)!
            consumer.pending.forEach { id, old in
                let entry = PendingEntry(deliveryTime: old.deliveryTime, deliveryCount: old.deliveryCount, consumer: c)
                c.pending.insert(id, entry)
                copy.pending.insert(id, entry)
                return true
            }
        }
        return copy
    }
}

extension StreamObject {
    private func groupIndex(_ name: Bytes) -> (Int, found: Bool) { position(of: name, in: groups, \.name) }

    public func group(_ name: Bytes) -> StreamGroup? {
        if groups.count <= linearSearchLimit {
            for group in groups where group.name == name { return group }
            return nil
        }
        let (i, found) = groupIndex(name)
        return found ? groups[i] : nil
    }

    /// Adds a group; nil if one of that name exists.
    public func addGroup(_ name: Bytes, lastID: StreamID, entriesRead: Int64) -> StreamGroup? {
        let (i, found) = groupIndex(name)
        guard !found else { return nil }
        let group = StreamGroup(name: name, lastID: lastID, entriesRead: entriesRead)
        groups.insert(group, at: i)
        return group
    }

    public func removeGroup(_ name: Bytes) -> Bool {
        let (i, found) = groupIndex(name)
        if found { groups.remove(at: i) }
        return found
    }
}
