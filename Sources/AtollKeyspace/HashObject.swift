/// The hash type: field → value.
///
/// Redis 7.0 keeps a small hash as a listpack: the pairs in insertion order, found by a linear
/// search. Atoll does the same while `compact` is true, so HGETALL, HKEYS, HSCAN and the rest
/// list fields in the order Redis does. More than hash-max-listpack-entries fields, or a field
/// or value longer than hash-max-listpack-value bytes, moves the hash to a `SlotMap` (stable
/// slots for HSCAN, random fields in O(1)); like Redis, it never moves back.
import AtollBytes

public final class HashObject: @unchecked Sendable {
    /// The fields while compact, in insertion order; `listValues[i]` belongs to `listFields[i]`.
    @usableFromInline var listFields: [Bytes] = []
    @usableFromInline var listValues: [Bytes] = []
    /// The pairs once the hash is no longer compact.
    @usableFromInline var table = SlotMap<Bytes>()
    /// Whether Redis would hold this hash as a listpack (OBJECT ENCODING).
    public private(set) var compact = true

    public init() {}

    @inlinable public var count: Int { compact ? listFields.count : table.count }

    @inlinable public subscript(field: Bytes) -> Bytes? {
        guard compact else { return table[field] }
        guard let i = listFields.firstIndex(of: field) else { return nil }
        return listValues[i]
    }

    @inlinable public func contains(_ field: Bytes) -> Bool {
        compact ? listFields.contains(field) : table.contains(field)
    }

    /// Sets a field, converting as Redis's `hashTypeSet` would (first for a long field or
    /// value, then for one field too many); returns true if the field is new.
    @discardableResult
    public func set(_ field: Bytes, _ value: Bytes, limits: EncodingLimits) -> Bool {
        if compact && (field.count > limits.hashMaxListpackValue || value.count > limits.hashMaxListpackValue) {
            convertToTable()
        }
        guard compact else { return table.replace(field, value) == nil }
        if let i = listFields.firstIndex(of: field) {
            listValues[i] = value
            return false
        }
        listFields.append(field)
        listValues.append(value)
        if listFields.count > limits.hashMaxListpackEntries { convertToTable() }
        return true
    }

    /// Removes a field; returns true if it was there.
    @discardableResult
    public func remove(_ field: Bytes) -> Bool {
        guard compact else { return table.remove(field) != nil }
        guard let i = listFields.firstIndex(of: field) else { return false }
        listFields.remove(at: i)
        listValues.remove(at: i)
        return true
    }

    /// Every pair: insertion order while compact, else no particular order.
    @inlinable public func forEach(_ body: (Bytes, Bytes) -> Void) {
        if compact {
            for i in listFields.indices { body(listFields[i], listValues[i]) }
        } else {
            table.forEach(body)
        }
    }

    /// One HSCAN step. A compact hash is returned whole with the final cursor 0, as Redis does
    /// for a listpack; otherwise slots are visited from `cursor` (see `SlotMap.scan`).
    public func scan(from cursor: Int, count: Int, _ visit: (Bytes, Bytes) -> Void) -> Int {
        guard !compact else {
            forEach(visit)
            return 0
        }
        return table.scan(from: cursor, count: count, visit)
    }

    // MARK: - Random fields

    /// A random pair; the hash must not be empty.
    public func randomPair(using rng: inout FastRandom) -> (field: Bytes, value: Bytes) {
        if compact {
            let i = Int.random(in: 0..<listFields.count, using: &rng)
            return (listFields[i], listValues[i])
        }
        let field = table.randomKey(using: &rng)!
        return (field, table[field]!)
    }

    /// `count` distinct random pairs, `count` < `self.count`, in expected O(count) time.
    public func randomDistinctPairs(_ count: Int, using rng: inout FastRandom) -> [(field: Bytes, value: Bytes)] {
        if compact {
            let size = listFields.count
            let positions = sampleDistinct(count: count, size: size, using: &rng, all: { Array(0..<size) },
                                           draw: { Int.random(in: 0..<size, using: &$0) })
            return positions.map { (listFields[$0], listValues[$0]) }
        }
        let table = self.table
        let fields = sampleDistinct(count: count, size: table.count, using: &rng, all: {
            var all: [Bytes] = []
            all.reserveCapacity(table.count)
            table.forEach { field, _ in all.append(field) }
            return all
        }, draw: { table.randomKey(using: &$0)! })
        return fields.map { ($0, table[$0]!) }
    }

    // MARK: - Encoding

    func convertToTable() {
        var converted = SlotMap<Bytes>()
        for i in listFields.indices { converted.set(listFields[i], listValues[i]) }
        table = converted
        listFields = []
        listValues = []
        compact = false
    }

    public func copy() -> HashObject {
        let other = HashObject()
        other.listFields = listFields
        other.listValues = listValues
        other.table = table
        other.compact = compact
        return other
    }
}
