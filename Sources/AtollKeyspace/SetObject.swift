/// The set type.
///
/// Redis 7.0 keeps a set of integers, while it has at most set-max-intset-entries members, as
/// an intset: a sorted array. Atoll does the same while `compact` is true, so members come
/// back in the order Redis gives them (ascending) and membership is a binary search with no
/// hashing. The first non-integer member, or one member too many, moves the set to a
/// `SlotMap` (stable slots for SSCAN, random members in O(1)); like Redis, it never moves back
/// on its own.
import AtollBytes

public final class SetObject: @unchecked Sendable {
    /// The members while compact, ascending.
    @usableFromInline var integers: [Int64] = []
    /// The members once the set is no longer compact.
    @usableFromInline var table = SlotMap<Void>()
    /// Whether Redis would hold this set as an intset (OBJECT ENCODING).
    public private(set) var compact = true

    public init() {}

    @inlinable public var count: Int { compact ? integers.count : table.count }

    @inlinable public func contains(_ member: Bytes) -> Bool {
        guard compact else { return table.contains(member) }
        guard let n = member.strictInt64 else { return false }
        return search(n).found
    }

    /// Adds `member`, converting as Redis's `setTypeAdd` would; returns true if it is new.
    @discardableResult
    public func insert(_ member: Bytes, limits: EncodingLimits) -> Bool {
        if compact {
            if let n = member.strictInt64 {
                let (index, found) = search(n)
                if found { return false }
                integers.insert(n, at: index)
                if integers.count > limits.setMaxIntsetEntries { convertToTable() }
                return true
            }
            convertToTable()
        }
        return table.set(member, ())
    }

    /// Removes `member`; returns true if it was there.
    @discardableResult
    public func remove(_ member: Bytes) -> Bool {
        guard compact else { return table.remove(member) != nil }
        guard let n = member.strictInt64 else { return false }
        let (index, found) = search(n)
        if found { integers.remove(at: index) }
        return found
    }

    /// Every member: ascending integers while compact, else in no particular order.
    @inlinable public func forEach(_ body: (Bytes) -> Void) {
        if compact {
            for n in integers { body(Bytes(decimal: n)) }
        } else {
            table.forEach { member, _ in body(member) }
        }
    }

    /// Every member, in `forEach` order.
    public var members: [Bytes] {
        var all: [Bytes] = []
        all.reserveCapacity(count)
        forEach { all.append($0) }
        return all
    }

    /// One SSCAN step. A compact set is returned whole with the final cursor 0, as Redis does
    /// for an intset; otherwise slots are visited from `cursor` (see `SlotMap.scan`).
    public func scan(from cursor: Int, count: Int, _ visit: (Bytes) -> Void) -> Int {
        guard !compact else {
            forEach(visit)
            return 0
        }
        return table.scan(from: cursor, count: count) { member, _ in visit(member) }
    }

    // MARK: - Random members

    /// A random member; the set must not be empty.
    public func randomMember(using rng: inout FastRandom) -> Bytes {
        if compact { return Bytes(decimal: integers[Int.random(in: 0..<integers.count, using: &rng)]) }
        return table.randomKey(using: &rng)!
    }

    /// `count` distinct random members, `count` < `self.count`, in expected O(count) time.
    public func randomDistinctMembers(_ count: Int, using rng: inout FastRandom) -> [Bytes] {
        if compact {
            let size = integers.count
            let positions = sampleDistinct(count: count, size: size, using: &rng, all: { Array(0..<size) },
                                           draw: { Int.random(in: 0..<size, using: &$0) })
            return positions.map { Bytes(decimal: integers[$0]) }
        }
        let table = self.table
        return sampleDistinct(count: count, size: table.count, using: &rng, all: { members },
                              draw: { table.randomKey(using: &$0)! })
    }

    // MARK: - Encoding

    /// Whether a set built afresh from these members would be an intset: all of them integers
    /// and few enough.
    public func wouldBeCompact(_ limits: EncodingLimits) -> Bool {
        guard count <= limits.setMaxIntsetEntries else { return false }
        if compact { return true }
        var allIntegers = true
        table.forEach { member, _ in if allIntegers && member.strictInt64 == nil { allIntegers = false } }
        return allIntegers
    }

    /// Gives the set the encoding Redis gives a set built afresh from its members (SPOP with a
    /// count close to the size replaces the set with such a rebuilt one).
    public func reencodeAsRebuilt(_ limits: EncodingLimits) {
        let fits = wouldBeCompact(limits)
        if fits && !compact {
            var values: [Int64] = []
            values.reserveCapacity(table.count)
            table.forEach { member, _ in values.append(member.strictInt64!) }
            integers = values.sorted()
            table = SlotMap()
            compact = true
        } else if !fits && compact {
            convertToTable()
        }
    }

    /// Moves the members to the hash table encoding for good.
    public func convertToTable() {
        guard compact else { return }
        var converted = SlotMap<Void>()
        for n in integers { converted.set(Bytes(decimal: n), ()) }
        table = converted
        integers = []
        compact = false
    }

    public func copy() -> SetObject {
        let other = SetObject()
        other.integers = integers
        other.table = table
        other.compact = compact
        return other
    }

    /// Binary search in `integers`: where `n` is, or where it would go.
    @inlinable func search(_ n: Int64) -> (index: Int, found: Bool) {
        var low = 0, high = integers.count
        while low < high {
            let mid = (low + high) / 2
            let v = integers[mid]
            if v == n { return (mid, true) }
            if v < n { low = mid + 1 } else { high = mid }
        }
        return (low, false)
    }
}
