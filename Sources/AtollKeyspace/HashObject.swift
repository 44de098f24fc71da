/// The hash type: field → value.
///
/// Redis 7.0 keeps a small hash as a listpack: the pairs in insertion order, found by a linear
/// search. Atoll does the same while `compact` is true, so HGETALL, HKEYS, HSCAN and the rest
/// list fields in the order Redis does. More than hash-max-listpack-entries fields, or a field
/// or value longer than hash-max-listpack-value bytes, moves the hash to a `SlotMap` (stable
/// slots for HSCAN, random fields in O(1)); like Redis, it never moves back.
import AtollBytes

public final class HashObject: @unchecked Sendable {
    /// The pairs while compact, in insertion order: field, value, field, value... packed as
    /// length-prefixed strings (`PackedBytes`) in one buffer.
    @usableFromInline var packed: [UInt8] = []
    @usableFromInline var packedCount: Int32 = 0
    /// Whether Redis would hold this hash as a listpack (OBJECT ENCODING).
    public private(set) var compact = true
    /// The pairs once the hash is no longer compact (nil while compact: a reference costs
    /// fewer words per object than an empty `SlotMap`).
    @usableFromInline var large: Large?

    @usableFromInline final class Large {
        @usableFromInline var table: SlotMap<Bytes>
        init(_ table: SlotMap<Bytes>) { self.table = table }
    }

    public init() {}

    @inlinable public var count: Int { compact ? Int(packedCount) : large!.table.count }

    /// Where `field`'s pair sits in `packed`: the pair's start, the value's payload, and the
    /// pair's end (where the next pair starts).
    @usableFromInline struct PairLocation {
        @usableFromInline var start: Int
        @usableFromInline var value: Range<Int>
        @usableFromInline init(start: Int, value: Range<Int>) { self.start = start; self.value = value }
    }

    @inlinable func locate(_ field: Bytes) -> PairLocation? {
        packed.withUnsafeBytes { buffer in
            field.withUnsafeBytes { wanted in
                var offset = 0
                while offset < buffer.count {
                    let name = PackedBytes.item(in: buffer, at: offset)
                    let value = PackedBytes.item(in: buffer, at: name.upperBound)
                    if PackedBytes.equals(buffer, name, wanted) { return PairLocation(start: offset, value: value) }
                    offset = value.upperBound
                }
                return nil
            }
        }
    }

    @inlinable public subscript(field: Bytes) -> Bytes? {
        guard compact else { return large!.table[field] }
        guard let at = locate(field) else { return nil }
        return packed.withUnsafeBytes { PackedBytes.bytes($0, at.value) }
    }

    @inlinable public func contains(_ field: Bytes) -> Bool {
        compact ? locate(field) != nil : large!.table.contains(field)
    }

    /// Sets a field, converting as Redis's `hashTypeSet` would (first for a long field or
    /// value, then for one field too many); returns true if the field is new.
    @discardableResult
    public func set(_ field: Bytes, _ value: Bytes, limits: EncodingLimits) -> Bool {
        if compact && (field.count > limits.hashMaxListpackValue || value.count > limits.hashMaxListpackValue) {
            convertToTable()
        }
        guard compact else { return large!.table.replace(field, value) == nil }
        if let at = locate(field) {
            var encoded: [UInt8] = []
            PackedBytes.append(value, to: &encoded)
            // The old value with its length prefix starts where the field ends.
            let oldStart = packed.withUnsafeBytes { PackedBytes.item(in: $0, at: at.start).upperBound }
            PackedBytes.reserve(encoded.count - (at.value.upperBound - oldStart), in: &packed)
            packed.replaceSubrange(oldStart..<at.value.upperBound, with: encoded)
            return false
        }
        PackedBytes.reserve(PackedBytes.encodedSize(field.count) + PackedBytes.encodedSize(value.count), in: &packed)
        PackedBytes.append(field, to: &packed)
        PackedBytes.append(value, to: &packed)
        packedCount += 1
        if packedCount > limits.hashMaxListpackEntries { convertToTable() }
        return true
    }

    /// Removes a field; returns true if it was there.
    @discardableResult
    public func remove(_ field: Bytes) -> Bool {
        guard compact else { return large!.table.remove(field) != nil }
        guard let at = locate(field) else { return false }
        packed.removeSubrange(at.start..<at.value.upperBound)
        packedCount -= 1
        return true
    }

    /// Every pair: insertion order while compact, else no particular order.
    @inlinable public func forEach(_ body: (Bytes, Bytes) -> Void) {
        guard compact else { return large!.table.forEach(body) }
        packed.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let name = PackedBytes.item(in: buffer, at: offset)
                let value = PackedBytes.item(in: buffer, at: name.upperBound)
                body(PackedBytes.bytes(buffer, name), PackedBytes.bytes(buffer, value))
                offset = value.upperBound
            }
        }
    }

    /// One HSCAN step. A compact hash is returned whole with the final cursor 0, as Redis does
    /// for a listpack; otherwise slots are visited from `cursor` (see `SlotMap.scan`).
    public func scan(from cursor: Int, count: Int, _ visit: (Bytes, Bytes) -> Void) -> Int {
        guard !compact else {
            forEach(visit)
            return 0
        }
        return large!.table.scan(from: cursor, count: count, visit)
    }

    // MARK: - Random fields

    /// The compact pairs in order (random access for HRANDFIELD; at most a listpack's worth).
    func packedPairs() -> [(field: Bytes, value: Bytes)] {
        var pairs: [(field: Bytes, value: Bytes)] = []
        pairs.reserveCapacity(Int(packedCount))
        forEach { pairs.append(($0, $1)) }
        return pairs
    }

    /// A random pair; the hash must not be empty.
    public func randomPair(using rng: inout FastRandom) -> (field: Bytes, value: Bytes) {
        if compact {
            let wanted = Int.random(in: 0..<Int(packedCount), using: &rng)
            return packed.withUnsafeBytes { buffer in
                var offset = 0
                for _ in 0..<wanted {
                    offset = PackedBytes.item(in: buffer, at: PackedBytes.item(in: buffer, at: offset).upperBound).upperBound
                }
                let name = PackedBytes.item(in: buffer, at: offset)
                let value = PackedBytes.item(in: buffer, at: name.upperBound)
                return (PackedBytes.bytes(buffer, name), PackedBytes.bytes(buffer, value))
            }
        }
        let field = large!.table.randomKey(using: &rng)!
        return (field, large!.table[field]!)
    }

    /// `count` distinct random pairs, `count` < `self.count`, in expected O(count) time.
    public func randomDistinctPairs(_ count: Int, using rng: inout FastRandom) -> [(field: Bytes, value: Bytes)] {
        if compact {
            let pairs = packedPairs()
            let size = pairs.count
            let positions = sampleDistinct(count: count, size: size, using: &rng, all: { Array(0..<size) },
                                           draw: { Int.random(in: 0..<size, using: &$0) })
            return positions.map { pairs[$0] }
        }
        let table = large!.table
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
        forEach { converted.set($0, $1) }
        large = Large(converted)
        packed = []
        packedCount = 0
        compact = false
    }

    public func copy() -> HashObject {
        let other = HashObject()
        other.packed = packed
        other.packedCount = packedCount
        other.large = large.map { Large($0.table) }
        other.compact = compact
        return other
    }
}
