/// `SlotMap`: a hash map from `Bytes` that also gives every key a stable slot number.
///
/// Lookups go through a Swift `Dictionary`. The slot array exists for two things a plain
/// dictionary cannot do: SCAN with Redis's guarantee (a cursor is a slot number; an element
/// present for the whole iteration keeps its slot, so it is returned) and picking a random
/// key in O(1) expected time (active expiry, RANDOMKEY). Freed slots are reused, so the array
/// never grows past the largest size the map has had.
import AtollBytes
public struct SlotMap<Value> {
    @usableFromInline struct Stored {
        @usableFromInline var slot: Int32
        @usableFromInline var value: Value
        @usableFromInline init(slot: Int32, value: Value) { self.slot = slot; self.value = value }
    }

    @usableFromInline var storage: [Bytes: Stored] = [:]
    @usableFromInline var slots: ContiguousArray<Bytes?> = []
    @usableFromInline var freeSlots: [Int32] = []

    public init() {}

    @inlinable public var count: Int { storage.count }
    @inlinable public var isEmpty: Bool { storage.isEmpty }
    /// Size of the slot space; cursors run from 0 to this.
    @inlinable public var slotCount: Int { slots.count }

    @inlinable public subscript(key: Bytes) -> Value? {
        storage[key]?.value
    }

    @inlinable public func contains(_ key: Bytes) -> Bool { storage[key] != nil }

    /// Inserts or replaces; returns true when the key is new.
    @inlinable @discardableResult
    public mutating func set(_ key: Bytes, _ value: Value) -> Bool {
        replace(key, value) == nil
    }

    /// Inserts or replaces with one hash lookup; returns the value it replaced, if any.
    @inlinable @discardableResult
    public mutating func replace(_ key: Bytes, _ value: Value) -> Value? {
        // The slot a new key would get; claimed only if the key turns out to be new.
        let candidate = freeSlots.last ?? Int32(slots.count)
        var old: Value?
        Self.update(&storage[key, default: Stored(slot: -1, value: value)]) { stored in
            if stored.slot == -1 {
                stored.slot = candidate
            } else {
                old = stored.value
                stored.value = value
            }
        }
        if old == nil {
            if freeSlots.popLast() != nil { slots[Int(candidate)] = key } else { slots.append(key) }
        }
        return old
    }

    @inlinable static func update(_ stored: inout Stored, _ body: (inout Stored) -> Void) { body(&stored) }

    /// Looks a key up once, letting `body` read and change its value in place or ask for it
    /// to be removed (return false). Returns nil when the key is absent.
    @inlinable public mutating func access<R>(_ key: Bytes, _ body: (inout Value) -> (keep: Bool, result: R)) -> R? {
        guard let index = storage.index(forKey: key) else { return nil }
        let (keep, result) = body(&storage.values[index].value)
        if !keep { remove(key) }
        return result
    }

    /// Mutates the value in place; returns nil when the key is absent.
    @inlinable public mutating func modify<R>(_ key: Bytes, _ body: (inout Value) -> R) -> R? {
        guard let index = storage.index(forKey: key) else { return nil }
        return body(&storage.values[index].value)
    }

    @inlinable @discardableResult
    public mutating func remove(_ key: Bytes) -> Value? {
        guard let stored = storage.removeValue(forKey: key) else { return nil }
        slots[Int(stored.slot)] = nil
        if storage.isEmpty {
            slots.removeAll(keepingCapacity: false)
            freeSlots.removeAll(keepingCapacity: false)
        } else {
            freeSlots.append(stored.slot)
        }
        return stored.value
    }

    public mutating func removeAll() {
        storage = [:]
        slots = []
        freeSlots = []
    }

    /// The key in `slot`, if that slot is in use.
    @inlinable public func key(atSlot slot: Int) -> Bytes? {
        slot < slots.count ? slots[slot] : nil
    }

    /// A random key: random probes first, then a walk from a random start.
    @inlinable public func randomKey<G: RandomNumberGenerator>(using rng: inout G) -> Bytes? {
        guard !storage.isEmpty else { return nil }
        for _ in 0..<16 {
            if let key = slots[Int.random(in: 0..<slots.count, using: &rng)] { return key }
        }
        let start = Int.random(in: 0..<slots.count, using: &rng)
        for offset in 0..<slots.count {
            if let key = slots[(start + offset) % slots.count] { return key }
        }
        return nil
    }

    /// Visits slots from `cursor` until `count` keys were seen or the end is reached.
    /// Returns the next cursor, 0 when the iteration is complete.
    public func scan(from cursor: Int, count: Int, _ visit: (Bytes, Value) -> Void) -> Int {
        var slot = max(cursor, 0)
        var seen = 0
        while slot < slots.count && seen < count {
            if let key = slots[slot], let stored = storage[key] {
                visit(key, stored.value)
                seen += 1
            }
            slot += 1
        }
        return slot >= slots.count ? 0 : slot
    }

    /// Every key and value, in no particular order.
    @inlinable public func forEach(_ body: (Bytes, Value) -> Void) {
        for (key, stored) in storage { body(key, stored.value) }
    }
}

extension SlotMap: Sendable where Value: Sendable {}
extension SlotMap.Stored: Sendable where Value: Sendable {}
