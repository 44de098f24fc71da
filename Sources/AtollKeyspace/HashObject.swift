/// The hash type: field → value.
///
/// Redis 7.0 keeps a small hash as a listpack: the pairs in insertion order, found by a linear
/// search. Atoll does the same while the hash is not converted, so HGETALL, HKEYS, HSCAN and
/// the rest list fields in the order Redis does; the pairs are packed in the object's own
/// allocation (`PackedObject`). More than hash-max-listpack-entries fields, or a field or
/// value longer than hash-max-listpack-value bytes, converts the hash to a `SlotMap` (stable
/// slots for HSCAN, random fields in O(1)); like Redis, it never converts back.
import AtollBytes

public final class HashObject: PackedObject {
    /// The converted form.
    @usableFromInline final class Large {
        @usableFromInline var table: SlotMap<Bytes>
        init(_ table: SlotMap<Bytes>) { self.table = table }
    }

    /// An empty hash with room for `bytes` bytes of packed pairs (`packedSize`), so that a
    /// hash created with all its fields at once is one block of about their size.
    public static func make(bytes: Int = 0) -> HashObject { make(capacity: bytes) }

    /// The packed bytes one field and its value take.
    @inlinable public static func packedSize(fieldLength: Int, valueLength: Int) -> Int {
        PackedBytes.encodedSize(fieldLength) + PackedBytes.encodedSize(valueLength)
    }

    /// The packed bytes of `pairs` (field, value, ...) when all of them fit the compact form,
    /// else 0: a hash that will convert would only keep the room unused.
    public static func compactSize(pairs: ArraySlice<[UInt8]>, limits: EncodingLimits) -> Int {
        guard pairs.count / 2 <= limits.hashMaxListpackEntries else { return 0 }
        var bytes = 0
        for i in stride(from: pairs.startIndex, to: pairs.endIndex - 1, by: 2) {
            let field = pairs[i].count, value = pairs[i + 1].count
            guard field <= limits.hashMaxListpackValue && value <= limits.hashMaxListpackValue else { return 0 }
            bytes += packedSize(fieldLength: field, valueLength: value)
        }
        return bytes
    }

    /// Whether Redis would hold this hash as a listpack (OBJECT ENCODING).
    @inlinable public var compact: Bool { !isConverted }

    @inlinable var large: Large { unsafeDowncast(tailObject, to: Large.self) }

    @inlinable public var count: Int { isConverted ? large.table.count : packedCount }

    /// Where `field`'s pair sits in the packed bytes: the pair's start, the value's payload,
    /// and the pair's end (where the next pair starts).
    @usableFromInline struct PairLocation {
        @usableFromInline var start: Int
        @usableFromInline var value: Range<Int>
        @usableFromInline init(start: Int, value: Range<Int>) { self.start = start; self.value = value }
    }

    @inlinable func locate(_ field: Bytes) -> PairLocation? {
        withPacked { buffer in field.withUnsafeBytes { Self.locate($0, in: buffer) } }
    }

    /// Where `field`'s pair sits in `buffer`, packed pairs.
    @inlinable @inline(__always) static func locate(_ field: UnsafeRawBufferPointer, in buffer: UnsafeRawBufferPointer) -> PairLocation? {
        var offset = 0
        while offset < buffer.count {
            let name = PackedBytes.item(in: buffer, at: offset)
            let value = PackedBytes.item(in: buffer, at: name.upperBound)
            if PackedBytes.equals(buffer, name, field) { return PairLocation(start: offset, value: value) }
            offset = value.upperBound
        }
        return nil
    }

    @inlinable public subscript(field: Bytes) -> Bytes? {
        guard !isConverted else { return large.table[field] }
        guard let at = locate(field) else { return nil }
        return withPacked { PackedBytes.bytes($0, at.value) }
    }

    @inlinable public func contains(_ field: Bytes) -> Bool {
        isConverted ? large.table.contains(field) : locate(field) != nil
    }

    /// Sets a field, converting as Redis's `hashTypeSet` would (first for a long field or
    /// value, then for one field too many); returns true if the field is new.
    @discardableResult
    public func set(_ field: Bytes, _ value: Bytes, limits: EncodingLimits) -> Bool {
        if !isConverted && (field.count > limits.hashMaxListpackValue || value.count > limits.hashMaxListpackValue) {
            convertToTable()
        }
        guard !isConverted else { return large.table.replace(field, value) == nil }
        if let at = locate(field) {
            // The old value with its length prefix starts where the field ends.
            let oldStart = withPacked { PackedBytes.item(in: $0, at: at.start).upperBound }
            replacePacked(oldStart..<at.value.upperBound, length: PackedBytes.encodedSize(value.count), countChange: 0) {
                PackedBytes.write(value, to: $0)
            }
            return false
        }
        let fieldSize = PackedBytes.encodedSize(field.count)
        let end = packedByteCount
        replacePacked(end..<end, length: fieldSize + PackedBytes.encodedSize(value.count), countChange: 1) {
            PackedBytes.write(field, to: UnsafeMutableRawBufferPointer(rebasing: $0[..<fieldSize]))
            PackedBytes.write(value, to: UnsafeMutableRawBufferPointer(rebasing: $0[fieldSize...]))
        }
        if packedCount > limits.hashMaxListpackEntries { convertToTable() }
        return true
    }

    /// Appends a pair to a compact hash being loaded, unless `field` is already in it (false:
    /// the payload is damaged; `knownNew`: the caller checked, and the bytes are not searched).
    /// The caller keeps the hash within the compact limits, and says how many bytes it made the
    /// hash with (`make(bytes: reserved)`): pairs that fit in them are written without looking
    /// the room up.
    public func appendNew(field: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, reserved: Int,
                          knownNew: Bool = false) -> Bool {
        precondition(!isConverted, "appendNew on a converted hash")
        let fieldSize = PackedBytes.encodedSize(field.count)
        return appendUnlessPresent(length: fieldSize + PackedBytes.encodedSize(value.count), reserved: reserved, isPresent: {
            !knownNew && Self.locate(field, in: $0) != nil
        }, fill: { destination in
            PackedBytes.write(field, to: UnsafeMutableRawBufferPointer(rebasing: destination[..<fieldSize]))
            PackedBytes.write(value, to: UnsafeMutableRawBufferPointer(rebasing: destination[fieldSize...]))
        })
    }

    /// Removes a field; returns true if it was there.
    @discardableResult
    public func remove(_ field: Bytes) -> Bool {
        guard !isConverted else { return large.table.remove(field) != nil }
        guard let at = locate(field) else { return false }
        removePacked(at.start..<at.value.upperBound, entries: 1)
        return true
    }

    /// Every pair: insertion order while compact, else no particular order.
    @inlinable public func forEach(_ body: (Bytes, Bytes) -> Void) {
        guard !isConverted else { return large.table.forEach(body) }
        withPacked { buffer in
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
        guard isConverted else {
            forEach(visit)
            return 0
        }
        return large.table.scan(from: cursor, count: count, visit)
    }

    // MARK: - Random fields

    /// The compact pairs in order (random access for HRANDFIELD; at most a listpack's worth).
    func packedPairs() -> [(field: Bytes, value: Bytes)] {
        var pairs: [(field: Bytes, value: Bytes)] = []
        pairs.reserveCapacity(packedCount)
        forEach { pairs.append(($0, $1)) }
        return pairs
    }

    /// A random pair; the hash must not be empty.
    public func randomPair(using rng: inout FastRandom) -> (field: Bytes, value: Bytes) {
        guard isConverted else {
            let wanted = Int.random(in: 0..<packedCount, using: &rng)
            return withPacked { buffer in
                var offset = 0
                for _ in 0..<wanted {
                    offset = PackedBytes.item(in: buffer, at: PackedBytes.item(in: buffer, at: offset).upperBound).upperBound
                }
                let name = PackedBytes.item(in: buffer, at: offset)
                let value = PackedBytes.item(in: buffer, at: name.upperBound)
                return (PackedBytes.bytes(buffer, name), PackedBytes.bytes(buffer, value))
            }
        }
        let table = large.table
        let field = table.randomKey(using: &rng)!
        return (field, table[field]!)
    }

    /// `count` distinct random pairs, `count` < `self.count`, in expected O(count) time.
    public func randomDistinctPairs(_ count: Int, using rng: inout FastRandom) -> [(field: Bytes, value: Bytes)] {
        guard isConverted else {
            let pairs = packedPairs()
            let size = pairs.count
            let positions = sampleDistinct(count: count, size: size, using: &rng, all: { Array(0..<size) },
                                           draw: { Int.random(in: 0..<size, using: &$0) })
            return positions.map { pairs[$0] }
        }
        let table = large.table
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
        setTail(Large(converted), mode: .converted)
    }

    public func copy() -> HashObject {
        guard isConverted else { return copyPacked() }
        let other = HashObject.make()
        other.setTail(Large(large.table), mode: .converted)
        return other
    }
}
