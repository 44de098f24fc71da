/// A stream's consumer groups: each group's last delivered ID and read counter, its pending
/// entries list (PEL: entries delivered and not yet acknowledged), and its consumers, each
/// with the part of the PEL delivered to it. Groups and consumers are kept sorted by name and
/// PELs by ID, the orders Redis's radix trees give XINFO, XPENDING and the RDB.

import AtollBytes

/// A map from stream IDs to values, sorted by ID (appends at the end, the common case, are
/// O(1); other inserts and removals move the tail).
public struct StreamIDMap<Value> {
    public private(set) var ids: [StreamID] = []
    public private(set) var values: [Value] = []

    public init() {}

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.isEmpty }

    /// The index of the first ID at or after `id`.
    public func lowerBound(_ id: StreamID) -> Int {
        if let last = ids.last, last < id { return ids.count }
        var low = 0, high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    public subscript(id: StreamID) -> Value? {
        let i = lowerBound(id)
        return i < ids.count && ids[i] == id ? values[i] : nil
    }

    /// Stores `value` under `id`, replacing any value there.
    public mutating func insert(_ id: StreamID, _ value: Value) {
        let i = lowerBound(id)
        if i < ids.count && ids[i] == id {
            values[i] = value
        } else {
            ids.insert(id, at: i)
            values.insert(value, at: i)
        }
    }

    @discardableResult public mutating func remove(_ id: StreamID) -> Value? {
        let i = lowerBound(id)
        guard i < ids.count && ids[i] == id else { return nil }
        ids.remove(at: i)
        return values.remove(at: i)
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
        for id in consumer.pending.ids { pending.remove(id) }
        return consumer.pending.count
    }

    /// A copy sharing nothing with this group (COPY of a stream key).
    public func copy() -> StreamGroup {
        let copy = StreamGroup(name: name, lastID: lastID, entriesRead: entriesRead)
        for consumer in consumers {
            let c = copy.addConsumer(consumer.name, seenTime: consumer.seenTime)!
            for (k, id) in consumer.pending.ids.enumerated() {
                let old = consumer.pending.values[k]
                let entry = PendingEntry(deliveryTime: old.deliveryTime, deliveryCount: old.deliveryCount, consumer: c)
                c.pending.insert(id, entry)
                copy.pending.insert(id, entry)
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
