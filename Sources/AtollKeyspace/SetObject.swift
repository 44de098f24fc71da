/// The set type.
///
/// Redis 7.0 keeps a set of integers, while it has at most set-max-intset-entries members, as
/// an intset: a sorted array. Atoll does the same while `compact` is true, so members come
/// back in the order Redis gives them (ascending) and membership is a binary search with no
/// hashing. The first non-integer member, or one member too many, moves the set to Redis's
/// hashtable encoding for good. Atoll holds such a set, while it is small, as one packed
/// buffer of members (`PackedBytes`, a linear search), and from then on in a `SlotMap`
/// (stable slots for SSCAN, random members in O(1)); a hashtable's order and SSCAN paging
/// are unspecified, so the packed stage changes no reply.
import AtollBytes

public final class SetObject: @unchecked Sendable {
    /// The members while compact, ascending.
    @usableFromInline var integers: [Int64] = []
    /// Whether Redis would hold this set as an intset (OBJECT ENCODING).
    public private(set) var compact = true
    /// The members of a small hashtable-encoded set, packed (empty otherwise).
    @usableFromInline var packed: [UInt8] = []
    @usableFromInline var packedCount: Int32 = 0
    /// The members of a bigger hashtable-encoded set (nil until the packed stage is outgrown).
    @usableFromInline var large: Large?

    @usableFromInline final class Large {
        @usableFromInline var table: SlotMap<Void>
        init(_ table: SlotMap<Void>) { self.table = table }
    }

    /// The packed stage holds at most this many members, each at most `packedMemberBytes`
    /// long: few enough that a linear search costs about what a hash lookup does.
    static let packedMembers = 32
    static let packedMemberBytes = 64

    public init() {}

    @inlinable public var count: Int {
        if compact { return integers.count }
        return large?.table.count ?? Int(packedCount)
    }

    @inlinable public func contains(_ member: Bytes) -> Bool {
        if let large { return large.table.contains(member) }
        guard compact else { return locatePacked(member) != nil }
        guard let n = member.strictInt64 else { return false }
        return search(n).found
    }

    /// The byte range of `member`'s entry in `packed`, if it is there.
    @inlinable func locatePacked(_ member: Bytes) -> Range<Int>? {
        packed.withUnsafeBytes { buffer in
            member.withUnsafeBytes { wanted in
                var offset = 0
                while offset < buffer.count {
                    let item = PackedBytes.item(in: buffer, at: offset)
                    if PackedBytes.equals(buffer, item, wanted) { return offset..<item.upperBound }
                    offset = item.upperBound
                }
                return nil
            }
        }
    }

    /// A set of `integers`, ascending and distinct (a loaded intset), converted when there are
    /// more than `limits.setMaxIntsetEntries`, as Redis converts such an intset after loading.
    public static func make(ascending integers: [Int64], limits: EncodingLimits) -> SetObject {
        let set = SetObject()
        set.integers = integers
        if integers.count > limits.setMaxIntsetEntries { set.convertToTable() }
        return set
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
        if let large { return large.table.set(member, ()) }
        if locatePacked(member) != nil { return false }
        if Int(packedCount) < Self.packedMembers && member.count <= Self.packedMemberBytes {
            PackedBytes.reserve(PackedBytes.encodedSize(member.count), in: &packed)
            PackedBytes.append(member, to: &packed)
            packedCount += 1
        } else {
            var table = SlotMap<Void>()
            forEach { table.set($0, ()) }
            table.set(member, ())
            large = Large(table)
            packed = []
            packedCount = 0
        }
        return true
    }

    /// Removes `member`; returns true if it was there.
    @discardableResult
    public func remove(_ member: Bytes) -> Bool {
        if let large { return large.table.remove(member) != nil }
        guard compact else {
            guard let at = locatePacked(member) else { return false }
            packed.removeSubrange(at)
            packedCount -= 1
            return true
        }
        guard let n = member.strictInt64 else { return false }
        let (index, found) = search(n)
        if found { integers.remove(at: index) }
        return found
    }

    /// Every member: ascending integers while compact, else in no particular order.
    @inlinable public func forEach(_ body: (Bytes) -> Void) {
        if let large {
            large.table.forEach { member, _ in body(member) }
        } else if compact {
            for n in integers { body(Bytes(decimal: n)) }
        } else {
            packed.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let item = PackedBytes.item(in: buffer, at: offset)
                    body(PackedBytes.bytes(buffer, item))
                    offset = item.upperBound
                }
            }
        }
    }

    /// Every member, in `forEach` order.
    public var members: [Bytes] {
        var all: [Bytes] = []
        all.reserveCapacity(count)
        forEach { all.append($0) }
        return all
    }

    /// One SSCAN step. A compact or packed set is returned whole with the final cursor 0, as
    /// Redis does for an intset; otherwise slots are visited from `cursor` (see `SlotMap.scan`).
    public func scan(from cursor: Int, count: Int, _ visit: (Bytes) -> Void) -> Int {
        guard let large else {
            forEach(visit)
            return 0
        }
        return large.table.scan(from: cursor, count: count) { member, _ in visit(member) }
    }

    // MARK: - Random members

    /// A random member; the set must not be empty.
    public func randomMember(using rng: inout FastRandom) -> Bytes {
        if let large { return large.table.randomKey(using: &rng)! }
        if compact { return Bytes(decimal: integers[Int.random(in: 0..<integers.count, using: &rng)]) }
        return members[Int.random(in: 0..<Int(packedCount), using: &rng)]
    }

    /// `count` distinct random members, `count` < `self.count`, in expected O(count) time.
    public func randomDistinctMembers(_ count: Int, using rng: inout FastRandom) -> [Bytes] {
        if let large {
            let table = large.table
            return sampleDistinct(count: count, size: table.count, using: &rng, all: { members },
                                  draw: { table.randomKey(using: &$0)! })
        }
        let all = members
        let size = all.count
        let positions = sampleDistinct(count: count, size: size, using: &rng, all: { Array(0..<size) },
                                       draw: { Int.random(in: 0..<size, using: &$0) })
        return positions.map { all[$0] }
    }

    // MARK: - Encoding

    /// Whether a set built afresh from these members would be an intset: all of them integers
    /// and few enough.
    public func wouldBeCompact(_ limits: EncodingLimits) -> Bool {
        guard count <= limits.setMaxIntsetEntries else { return false }
        if compact { return true }
        var allIntegers = true
        forEach { member in if allIntegers && member.strictInt64 == nil { allIntegers = false } }
        return allIntegers
    }

    /// Gives the set the encoding Redis gives a set built afresh from its members (SPOP with a
    /// count close to the size replaces the set with such a rebuilt one).
    public func reencodeAsRebuilt(_ limits: EncodingLimits) {
        let fits = wouldBeCompact(limits)
        if fits && !compact {
            var values: [Int64] = []
            values.reserveCapacity(count)
            forEach { member in values.append(member.strictInt64!) }
            integers = values.sorted()
            large = nil
            packed = []
            packedCount = 0
            compact = true
        } else if !fits && compact {
            convertToTable()
        }
    }

    /// Moves the members to the hash table encoding for good.
    public func convertToTable() {
        guard compact else { return }
        compact = false
        if integers.count <= Self.packedMembers {
            for n in integers { PackedBytes.append(Bytes(decimal: n), to: &packed) }
            packedCount = Int32(integers.count)
        } else {
            var table = SlotMap<Void>()
            for n in integers { table.set(Bytes(decimal: n), ()) }
            large = Large(table)
        }
        integers = []
    }

    public func copy() -> SetObject {
        let other = SetObject()
        other.integers = integers
        other.compact = compact
        other.packed = packed
        other.packedCount = packedCount
        other.large = large.map { Large($0.table) }
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
