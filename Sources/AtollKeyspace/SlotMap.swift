/// `SlotMap`: a hash map from `Bytes` that also gives every key a stable slot number.
///
/// The pairs live in an array of slots (`SlotChunks`, which grows a chunk at a time), each
/// holding a value, its key and the index of the next slot in the same hash chain; a second
/// array of buckets holds the first slot of each chain (Redis's dict, with the entries in a few
/// blocks instead of one allocation each). That
/// is about 77 bytes per key for the key space, where a Swift `Dictionary` plus a separate
/// slot array took about 250.
///
/// A slot number never changes while its key is present, which gives two things a plain
/// dictionary cannot: SCAN with Redis's guarantee (a cursor is a slot number, so an element
/// present for the whole iteration is returned) and a random key in O(1) expected time
/// (active expiry, RANDOMKEY). Freed slots are reused, so the slot array never grows past
/// the largest size the map has had.
///
/// The buckets double incrementally, as Redis's dict rehashes: relinking millions of keys at
/// once stopped the server for half a second at 2 million keys. While a rehash runs, the keys
/// of old bucket `i` stay chained there until `i` is moved (`rehashIndex`); each insertion and
/// removal moves a few, and the server's cron moves more (`activerehashing`). A lookup finds
/// a key in exactly one place: its old bucket if not yet moved, else its new one.
import AtollBytes
import CPrefetch

public struct SlotMap<Value> {
    /// The value comes first. For the key space that puts the key inside one cache line of a
    /// large slot array (whose elements start 48 bytes into a line with glibc), so a probe's
    /// key comparison reads one line; key first, GET and SET at -P 16 measured 6–8% slower.
    @usableFromInline struct Slot {
        @usableFromInline var value: Value
        @usableFromInline var key: Bytes
        /// The next slot in this key's chain, plus one; 0 ends the chain.
        @usableFromInline var next: UInt32
        @inlinable init(key: Bytes, next: UInt32, value: Value) {
            self.key = key
            self.next = next
            self.value = value
        }
    }

    /// nil marks a free slot (its number is in `freeSlots`). Shared between copies of the
    /// map until one of them changes (`uniqueSlots`).
    @usableFromInline var slots = SlotChunks<Slot?>()
    /// The first slot of each chain, plus one (0: empty chain). A power of two in size, at
    /// least `count`, so chains average under one slot (Redis's dict keeps the same ratio).
    @usableFromInline var buckets: ContiguousArray<UInt32> = []
    @usableFromInline var freeSlots: [Int32] = []
    @usableFromInline var liveCount = 0
    /// During a rehash, the buckets before the doubling (half as many); empty otherwise.
    @usableFromInline var oldBuckets: ContiguousArray<UInt32> = []
    /// During a rehash, the first old bucket not yet moved into `buckets`.
    @usableFromInline var rehashIndex = 0
    /// Set by the map's owner before an insertion that `growsOnNextInsert` when memory does not
    /// allow the doubling (Redis's `dictExpandAllowed` under `maxmemory`): the buckets then wait
    /// until the chains average `forcedGrowthLoad` keys.
    public var growthHeld = false

    public init() {}

    @inlinable public var count: Int { liveCount }
    @inlinable public var isEmpty: Bool { liveCount == 0 }
    /// Size of the slot space; cursors run from 0 to this.
    @inlinable public var slotCount: Int { slots.count }

    /// Slot `index`'s storage, for reading; `index` must be below `slotCount`.
    @inlinable @inline(__always) func slot(_ index: Int) -> UnsafeMutablePointer<Slot?> {
        assert(index >= 0 && index < slots.count)
        return slots.address(index)
    }

    /// Slot `index`'s storage, for changing it: the slots are copied first when another copy
    /// of the map shares them.
    @inlinable @inline(__always) mutating func slotForChange(_ index: Int) -> UnsafeMutablePointer<Slot?> {
        uniqueSlots()
        return slot(index)
    }

    @inlinable @inline(__always) mutating func uniqueSlots() {
        if _slowPath(!isKnownUniquelyReferenced(&slots)) { slots = slots.copy() }
    }

    @inlinable func bucket(_ key: Bytes) -> Int { bucket(hash: key.tableHash) }

    /// The bucket of a key whose `tableHash` is `hash`.
    @inlinable func bucket(hash: Int) -> Int { hash & (buckets.count &- 1) }

    /// Where the chain of a key whose `tableHash` is `hash` starts: in the old buckets while
    /// its old bucket is not moved yet, else in `buckets`. The map must not be empty.
    @inlinable func chain(hash: Int) -> (old: Bool, index: Int) {
        if _slowPath(!oldBuckets.isEmpty) {
            let old = hash & (oldBuckets.count &- 1)
            if old >= rehashIndex { return (true, old) }
        }
        return (false, bucket(hash: hash))
    }

    @inlinable func head(_ chain: (old: Bool, index: Int)) -> UInt32 {
        chain.old ? oldBuckets[chain.index] : buckets[chain.index]
    }

    @inlinable mutating func setHead(_ chain: (old: Bool, index: Int), _ link: UInt32) {
        if chain.old { oldBuckets[chain.index] = link } else { buckets[chain.index] = link }
    }

    /// The next new key doubles the buckets, unless `growthHeld`.
    @inlinable public var growsOnNextInsert: Bool { liveCount >= buckets.count }

    /// The bytes the doubled buckets take.
    @inlinable public var grownBucketBytes: Int { max(buckets.count * 2, 4) * MemoryLayout<UInt32>.stride }

    /// Keys per bucket at which the buckets double even when `growthHeld` (Redis's
    /// HASHTABLE_MAX_LOAD_FACTOR).
    @inlinable public static var forcedGrowthLoad: Double { 1.618 }

    /// A rehash is under way.
    @inlinable public var isRehashing: Bool { !oldBuckets.isEmpty }

    /// The slot holding `key`, if any.
    @inlinable func find(_ key: Bytes) -> Int? { find(key, hash: key.tableHash) }

    /// As above, with the key's `tableHash` already computed.
    @inlinable func find(_ key: Bytes, hash: Int) -> Int? {
        guard !buckets.isEmpty else { return nil }
        var link = head(chain(hash: hash))
        while link != 0 {
            let slot = Int(link &- 1)
            if self.slot(slot).pointee.unsafelyUnwrapped.key == key { return slot }
            link = self.slot(slot).pointee.unsafelyUnwrapped.next
        }
        return nil
    }

    /// The first of two prefetch steps for a lookup of `key` that comes soon: starts loading
    /// its chain head and returns it for `prefetchSlot`, or -1 when the map is empty.
    @inlinable public func prefetchBucket(_ key: Bytes) -> Int { prefetchBucket(hash: key.tableHash) }

    /// As above, for a key whose `tableHash` is `hash`.
    @inlinable public func prefetchBucket(hash: Int) -> Int {
        guard !buckets.isEmpty else { return -1 }
        let b = bucket(hash: hash)
        buckets.withUnsafeBufferPointer { atoll_prefetch($0.baseAddress! + b) }
        return b
    }

    /// The second step: once the chain head has had time to arrive, starts loading the first
    /// slot of that chain (both cache lines a slot may span).
    @inlinable public func prefetchSlot(bucket b: Int) {
        guard b >= 0 && b < buckets.count else { return }
        let link = Int(buckets[b])
        guard link != 0 && link <= slots.count else { return }
        let slot = UnsafeRawPointer(self.slot(link - 1))
        atoll_prefetch(slot)
        atoll_prefetch(slot + (MemoryLayout<Slot?>.size - 1))
    }

    @inlinable public subscript(key: Bytes) -> Value? {
        guard let slot = find(key) else { return nil }
        return self.slot(slot).pointee.unsafelyUnwrapped.value
    }

    @inlinable public func contains(_ key: Bytes) -> Bool { find(key) != nil }

    /// Inserts or replaces; returns true when the key is new.
    @inlinable @discardableResult
    public mutating func set(_ key: Bytes, _ value: Value) -> Bool {
        replace(key, value) == nil
    }

    /// Inserts or replaces; returns the value it replaced, if any.
    @inlinable @discardableResult
    public mutating func replace(_ key: Bytes, _ value: Value) -> Value? {
        replace(key, hash: key.tableHash, value)
    }

    /// As above, for a key whose `tableHash` is `hash`.
    @inlinable @discardableResult
    public mutating func replace(_ key: Bytes, hash: Int, _ value: Value) -> Value? {
        // One hash for the search and, when the key is new, its insertion.
        if let slot = find(key, hash: hash) {
            return Self.swap(&slotForChange(slot).pointee!.value, value)
        }
        insertNew(key, value, hash: hash)
        return nil
    }

    @inlinable static func swap(_ stored: inout Value, _ value: Value) -> Value {
        let old = stored
        stored = value
        return old
    }

    /// Adds a key known to be absent, whose `tableHash` is `hash`.
    @inlinable mutating func insertNew(_ key: Bytes, _ value: Value, hash: Int) {
        if liveCount >= buckets.count
            && (!growthHeld || Double(liveCount) >= Double(buckets.count) * Self.forcedGrowthLoad) {
            growBuckets()
        } else if _slowPath(!oldBuckets.isEmpty) {
            rehash(buckets: 2)
        }
        let chain = chain(hash: hash)
        let next = head(chain)
        let slot: Int
        uniqueSlots()
        if let free = freeSlots.popLast() {
            slot = Int(free)
            self.slot(slot).pointee = Slot(key: key, next: next, value: value)
        } else {
            slot = slots.count
            precondition(slot < Int(Int32.max), "SlotMap: too many slots")
            slots.append(Slot(key: key, next: next, value: value))
        }
        setHead(chain, UInt32(truncatingIfNeeded: slot &+ 1))
        liveCount += 1
    }

    /// Doubles the buckets: the current ones become the old ones, moved over by later calls
    /// (a rehash still running is finished first; with two buckets moved per insertion it
    /// ends long before the next doubling).
    @inlinable @inline(never) mutating func growBuckets() {
        if !oldBuckets.isEmpty { rehash(buckets: oldBuckets.count) }
        guard !buckets.isEmpty else {
            buckets = ContiguousArray(repeating: 0, count: 4)
            return
        }
        oldBuckets = buckets
        rehashIndex = 0
        buckets = ContiguousArray(repeating: 0, count: oldBuckets.count * 2)
        rehash(buckets: 2)
    }

    /// Moves up to `count` old buckets' keys into `buckets` (each key's hash is computed again:
    /// storing it would add four bytes to every slot); returns whether a rehash still runs.
    /// Inlinable so that it is specialized for the value type (unspecialized, each slot was
    /// copied and destroyed through the runtime's generic witnesses); never inlined.
    @inlinable @inline(never) @discardableResult
    public mutating func rehash(buckets count: Int) -> Bool {
        guard !oldBuckets.isEmpty else { return false }
        var index = rehashIndex
        let end = min(oldBuckets.count, index + count)
        let mask = buckets.count - 1
        uniqueSlots()
        let slots = self.slots
        oldBuckets.withUnsafeMutableBufferPointer { old in
            buckets.withUnsafeMutableBufferPointer { heads in
                while index < end {
                    var link = old[index]
                    while link != 0 {
                        let slot = slots.address(Int(link &- 1))
                        let next = slot.pointee.unsafelyUnwrapped.next
                        let b = slot.pointee.unsafelyUnwrapped.key.tableHash & mask
                        slot.pointee!.next = heads[b]
                        heads[b] = link
                        link = next
                    }
                    old[index] = 0
                    index += 1
                }
            }
        }
        if index == oldBuckets.count {
            oldBuckets = []
            rehashIndex = 0
            return false
        }
        rehashIndex = index
        return true
    }

    /// Looks a key up once, letting `body` read and change its value in place or ask for it
    /// to be removed (return false). Returns nil when the key is absent.
    @inlinable public mutating func access<R>(_ key: Bytes, _ body: (inout Value) -> (keep: Bool, result: R)) -> R? {
        access(key, hash: key.tableHash, body)
    }

    /// As above, for a key whose `tableHash` is `hash`.
    @inlinable public mutating func access<R>(_ key: Bytes, hash: Int, _ body: (inout Value) -> (keep: Bool, result: R)) -> R? {
        guard let slot = find(key, hash: hash) else { return nil }
        let (keep, result) = body(&slotForChange(slot).pointee!.value)
        if !keep { remove(key) }
        return result
    }

    /// Mutates the value in place; returns nil when the key is absent.
    @inlinable public mutating func modify<R>(_ key: Bytes, _ body: (inout Value) -> R) -> R? {
        guard let slot = find(key) else { return nil }
        return body(&slotForChange(slot).pointee!.value)
    }

    @inlinable @discardableResult
    public mutating func remove(_ key: Bytes) -> Value? {
        guard !buckets.isEmpty else { return nil }
        if _slowPath(!oldBuckets.isEmpty) { rehash(buckets: 1) }
        let chain = chain(hash: key.tableHash)
        var previous = -1
        var link = head(chain)
        while link != 0 {
            let slot = Int(link &- 1)
            let next = self.slot(slot).pointee.unsafelyUnwrapped.next
            if self.slot(slot).pointee.unsafelyUnwrapped.key == key {
                if previous < 0 { setHead(chain, next) } else { slotForChange(previous).pointee!.next = next }
                let removed = slotForChange(slot).pointee.take().unsafelyUnwrapped.value
                liveCount -= 1
                if liveCount == 0 {
                    removeAll()
                } else {
                    freeSlots.append(Int32(truncatingIfNeeded: slot))
                }
                return removed
            }
            previous = slot
            link = next
        }
        return nil
    }

    public mutating func removeAll() {
        slots = SlotChunks()
        buckets = []
        oldBuckets = []
        rehashIndex = 0
        freeSlots = []
        liveCount = 0
    }

    /// The bytes of one slot in the slot array.
    @inlinable public static var slotBytes: Int { MemoryLayout<Slot?>.stride }

    /// The bytes of the slots waiting for a new key: those freed, and the room left in the
    /// last chunk.
    @inlinable public var freeSlotBytes: Int { (freeSlots.count + slots.capacity - slots.count) * Self.slotBytes }

    /// The key in `slot`, if that slot is in use.
    @inlinable public func key(atSlot slot: Int) -> Bytes? {
        slot >= 0 && slot < slots.count ? self.slot(slot).pointee?.key : nil
    }

    /// A random key: random probes first, then a walk from a random start.
    @inlinable public func randomKey<G: RandomNumberGenerator>(using rng: inout G) -> Bytes? {
        guard liveCount > 0 else { return nil }
        for _ in 0..<16 {
            if let slot = slot(Int.random(in: 0..<slots.count, using: &rng)).pointee { return slot.key }
        }
        let start = Int.random(in: 0..<slots.count, using: &rng)
        for offset in 0..<slots.count {
            if let slot = slot((start + offset) % slots.count).pointee { return slot.key }
        }
        return nil
    }

    /// Visits up to `count` pairs in neighbouring slots from the slot `seed` picks (wrapping
    /// round), as Redis's `dictGetSomeKeys` samples neighbouring buckets: one random jump, so
    /// one cache miss, for a whole sample; `prefetchSample` can take that miss ahead of time.
    @inlinable public func sample(_ count: Int, seed: UInt64, _ visit: (Bytes, Value) -> Void) {
        guard liveCount > 0 else { return }
        // Held here, so that a visit that changes the map (which then copies) cannot free them.
        let slots = self.slots
        let total = slots.count
        var index = Int(seed % UInt64(total))
        var seen = 0
        for _ in 0..<total {
            let slot = slots.address(index)
            if slot.pointee != nil {
                visit(slot.pointee.unsafelyUnwrapped.key, slot.pointee.unsafelyUnwrapped.value)
                seen += 1
                if seen == count { return }
            }
            index = index + 1 == total ? 0 : index + 1
        }
    }

    /// Starts loading the first slot `sample` with `seed` will read.
    @inlinable public func prefetchSample(seed: UInt64) {
        guard slots.count > 0 else { return }
        let slot = UnsafeRawPointer(self.slot(Int(seed % UInt64(slots.count))))
        atoll_prefetch(slot)
        atoll_prefetch(slot + (Self.slotBytes - 1))
    }

    /// Visits slots from `cursor` until `count` keys were seen or the end is reached.
    /// Returns the next cursor, 0 when the iteration is complete.
    public func scan(from cursor: Int, count: Int, _ visit: (Bytes, Value) -> Void) -> Int {
        let slots = self.slots  // as in `sample`
        var slot = max(cursor, 0)
        var seen = 0
        while slot < slots.count && seen < count {
            if let pair = slots.address(slot).pointee {
                visit(pair.key, pair.value)
                seen += 1
            }
            slot += 1
        }
        return slot >= slots.count ? 0 : slot
    }

    /// Every key and value, in slot order.
    @inlinable public func forEach(_ body: (Bytes, Value) -> Void) {
        let slots = self.slots  // as in `sample`
        for index in 0..<slots.count {
            if let pair = slots.address(index).pointee { body(pair.key, pair.value) }
        }
    }
}

extension SlotMap: Sendable where Value: Sendable {}
extension SlotMap.Slot: Sendable where Value: Sendable {}
/// Shared only under copy-on-write, as an array's storage is.
extension SlotChunks: @unchecked Sendable where Element: Sendable {}
