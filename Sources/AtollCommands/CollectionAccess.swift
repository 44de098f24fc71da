/// Typed access to collection keys, shared by the hash, list, set and sorted-set families:
/// look a key up, check its type (the caller replies WRONGTYPE), create it on first write,
/// and delete it when a command leaves it empty, as Redis never keeps an empty collection.
import AtollBytes
import AtollCore
import AtollKeyspace

/// What a typed lookup found.
public enum Typed<T> {
    case missing
    case found(T)
    /// The key holds another type; the caller replies with `c.wrongType()`.
    case wrongType
}

extension CommandContext {
    /// For reads: counts a keyspace hit or miss and refreshes the access time.
    @inlinable public mutating func readHash(_ key: Bytes) -> Typed<HashObject> {
        typed(lookupRead(key)) { if case .hash(let h) = $0 { return h } else { return nil } }
    }
    /// For writes: no hit or miss counted, as in Redis's `lookupKeyWrite` (the access is stamped).
    @inlinable public mutating func writeHash(_ key: Bytes) -> Typed<HashObject> {
        typed(lookupWrite(key)) { if case .hash(let h) = $0 { return h } else { return nil } }
    }
    @inlinable public mutating func readList(_ key: Bytes) -> Typed<ListObject> {
        typed(lookupRead(key)) { if case .list(let l) = $0 { return l } else { return nil } }
    }
    @inlinable public mutating func writeList(_ key: Bytes) -> Typed<ListObject> {
        typed(lookupWrite(key)) { if case .list(let l) = $0 { return l } else { return nil } }
    }
    @inlinable public mutating func readSet(_ key: Bytes) -> Typed<SetObject> {
        typed(lookupRead(key)) { if case .set(let s) = $0 { return s } else { return nil } }
    }
    @inlinable public mutating func writeSet(_ key: Bytes) -> Typed<SetObject> {
        typed(lookupWrite(key)) { if case .set(let s) = $0 { return s } else { return nil } }
    }
    @inlinable public mutating func readSortedSet(_ key: Bytes) -> Typed<SortedSetObject> {
        typed(lookupRead(key)) { if case .zset(let z) = $0 { return z } else { return nil } }
    }
    @inlinable public mutating func writeSortedSet(_ key: Bytes) -> Typed<SortedSetObject> {
        typed(lookupWrite(key)) { if case .zset(let z) = $0 { return z } else { return nil } }
    }

    @inlinable public mutating func readStream(_ key: Bytes) -> Typed<StreamObject> {
        typed(lookupRead(key)) { if case .stream(let s) = $0 { return s } else { return nil } }
    }
    @inlinable public mutating func writeStream(_ key: Bytes) -> Typed<StreamObject> {
        typed(lookup(key)) { if case .stream(let s) = $0 { return s } else { return nil } }
    }

    @inlinable func typed<T>(_ entry: Entry?, _ extract: (Value) -> T?) -> Typed<T> {
        guard let entry else { return .missing }
        guard let object = extract(entry.value) else { return .wrongType }
        return .found(object)
    }

    /// Stores a new collection under `key` (which must be missing or about to be replaced) and
    /// returns it for the caller to fill. The caller still calls `modified(key)` once it has
    /// changed it; creating a key also tells blocked clients about it.
    /// (A key that did not exist is `new`, Redis's `dbAdd` event.)
    @inlinable public mutating func create(_ key: Bytes, _ value: Value, expireAt: Int64 = noExpiry) {
        let replaced = keyspace.databases[client.db].store(key, Entry(value: value, expireAt: expireAt, lastAccess: server.accessClock.newEntry))
        if replaced == nil || replaced! != noExpiry { stored(key, replacedExpiry: replaced) }
        signalKeyReady(key, holding: value)
    }

    /// After a pop or removal: publishes the command's `event` (of class `type`), then deletes
    /// `key` when its collection is empty, with the `del` event, in Redis's order; returns
    /// true if it deleted it.
    @inlinable @discardableResult
    public mutating func deleteIfEmpty(_ key: Bytes, count: Int, _ type: KeyspaceEventClass, _ event: StaticString) -> Bool {
        notify(type, event, key)
        return deleteIfEmpty(key, count: count)
    }

    /// Deletes `key` when its collection is empty, with the `del` event (for commands whose
    /// own event went out before their reply, the `del` after it); true if it deleted it.
    @inlinable @discardableResult
    public mutating func deleteIfEmpty(_ key: Bytes, count: Int) -> Bool {
        guard count == 0 else { return false }
        keyspace.databases[client.db].remove(key)
        notify(.generic, "del", key)
        return true
    }

    /// The encoding thresholds in force (CONFIG SET can change them).
    @inlinable public var encodingLimits: EncodingLimits { server.config.encodingLimits }
}
