/// A stream's consumer groups: each group's last delivered ID and read counter, its pending
/// entries list (PEL: entries delivered and not yet acknowledged), and its consumers, each
/// with the part of the PEL delivered to it. Groups and consumers are kept sorted by name and
/// PELs by ID, the orders Redis's radix trees give XINFO, XPENDING and the RDB.

import AtollBytes

/// A map from stream IDs to values, sorted by ID, as Redis's PEL radix trees: chunks of at
/// most `chunkLimit` entries found by binary search over their first IDs, so lookups,
/// inserts and removals anywhere (acknowledgements come in any order) move at most one chunk.
public struct StreamIDMap<Value> {
    private struct Chunk {
        var ids: [StreamID] = []
        var values: [Value] = []
    }

    private static var chunkLimit: Int { 128 }
    private var chunks: [Chunk] = []
    /// Each chunk's first ID.
    private var firsts: [StreamID] = []
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// The chunk that holds, or would hold, `id`.
    private func chunkIndex(_ id: StreamID) -> Int {
        var low = 0, high = firsts.count
        while low < high {
            let mid = (low + high) / 2
            if firsts[mid] <= id { low = mid + 1 } else { high = mid }
        }
        return max(low - 1, 0)
    }

    private static func position(_ id: StreamID, in ids: [StreamID]) -> Int {
        if let last = ids.last, last < id { return ids.count }
        var low = 0, high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    public subscript(id: StreamID) -> Value? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkIndex(id)
        let i = Self.position(id, in: chunks[c].ids)
        return i < chunks[c].ids.count && chunks[c].ids[i] == id ? chunks[c].values[i] : nil
    }

    /// Stores `value` under `id`, replacing any value there.
    public mutating func insert(_ id: StreamID, _ value: Value) {
        if chunks.isEmpty {
            chunks.append(Chunk(ids: [id], values: [value]))
            firsts.append(id)
            count = 1
            return
        }
        let c = chunkIndex(id)
        let i = Self.position(id, in: chunks[c].ids)
        if i < chunks[c].ids.count && chunks[c].ids[i] == id {
            chunks[c].values[i] = value
            return
        }
        chunks[c].ids.insert(id, at: i)
        chunks[c].values.insert(value, at: i)
        if i == 0 { firsts[c] = id }
        count += 1
        if chunks[c].ids.count > Self.chunkLimit {
            let half = chunks[c].ids.count / 2
            let tail = Chunk(ids: Array(chunks[c].ids[half...]), values: Array(chunks[c].values[half...]))
            chunks[c].ids.removeSubrange(half...)
            chunks[c].values.removeSubrange(half...)
            chunks.insert(tail, at: c + 1)
            firsts.insert(tail.ids[0], at: c + 1)
        }
    }

    @discardableResult public mutating func remove(_ id: StreamID) -> Value? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkIndex(id)
        let i = Self.position(id, in: chunks[c].ids)
        guard i < chunks[c].ids.count && chunks[c].ids[i] == id else { return nil }
        chunks[c].ids.remove(at: i)
        let value = chunks[c].values.remove(at: i)
        count -= 1
        if chunks[c].ids.isEmpty {
            chunks.remove(at: c)
            firsts.remove(at: c)
        } else if i == 0 {
            firsts[c] = chunks[c].ids[0]
        }
        return value
    }

    public var first: (id: StreamID, value: Value)? {
        chunks.first.map { ($0.ids[0], $0.values[0]) }
    }

    public var last: (id: StreamID, value: Value)? {
        chunks.last.map { ($0.ids[$0.ids.count - 1], $0.values[$0.values.count - 1]) }
    }

    /// Calls `body` with each entry from `start` on, in ID order, until it returns false.
    public func forEach(from start: StreamID = .zero, _ body: (StreamID, Value) -> Bool) {
        guard !chunks.isEmpty else { return }
        var c = chunkIndex(start)
        var i = Self.position(start, in: chunks[c].ids)
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
    public func entries(from start: StreamID = .zero, limit: Int = .max) -> [(id: StreamID, value: Value)] {
        var out: [(id: StreamID, value: Value)] = []
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

/// An entry delivered to a consumer and not yet acknowledged.
public final class PendingEntry {
    /// Unix milliseconds of the last delivery.
    public var deliveryTime: Int64
    public var deliveryCount: UInt64
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
    public var seenTime: Int64
    /// The group's pending entries delivered to this consumer (the same objects).
    public var pending = StreamIDMap<PendingEntry>()

    public init(name: Bytes, seenTime: Int64) {
        self.name = name
        self.seenTime = seenTime
    }
}

public final class StreamGroup {
    /// Redis's `SCG_INVALID_ENTRIES_READ`: the group's read counter is unknown.
    public static let unknownEntriesRead: Int64 = -1

    public let name: Bytes
    public var lastID: StreamID
    /// Entries the group has read, or `unknownEntriesRead`.
    public var entriesRead: Int64
    public var pending = StreamIDMap<PendingEntry>()
    /// Sorted by name.
    public private(set) var consumers: [StreamConsumer] = []

    public init(name: Bytes, lastID: StreamID, entriesRead: Int64) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
    }

    private func consumerIndex(_ name: Bytes) -> (Int, found: Bool) { position(of: name, in: consumers, \.name) }

    public func consumer(_ name: Bytes) -> StreamConsumer? {
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
