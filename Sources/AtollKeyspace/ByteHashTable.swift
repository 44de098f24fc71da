/// `ByteHashTable`: an open-addressing hash table from `Bytes`, built for the keyspace's
/// access pattern (random keys, far more keys than fit in cache).
///
/// Beside the buckets it keeps a dense array of 32-bit hash tags, so a probe reads 4 bytes
/// per bucket and touches a bucket's key only when the tags match; a miss or a collision
/// usually costs no key comparison at all. Linear probing with backward-shift deletion (no
/// tombstones); the table doubles above 3/4 full and halves below 1/8.
import AtollBytes

public struct ByteHashTable<Value> {
    @usableFromInline struct Bucket {
        @usableFromInline var key: Bytes
        @usableFromInline var value: Value
        @usableFromInline init(key: Bytes, value: Value) { self.key = key; self.value = value }
    }

    /// 0 marks an empty bucket; occupied tags always have the top bit set.
    @usableFromInline var tags: [UInt32] = []
    @usableFromInline var buckets: ContiguousArray<Bucket?> = []
    @usableFromInline var mask = -1
    @usableFromInline var storedCount = 0

    @inlinable public var count: Int { storedCount }
    @inlinable public var isEmpty: Bool { storedCount == 0 }

    public init() {}

    @inlinable static func tag(_ key: Bytes) -> UInt32 {
        UInt32(truncatingIfNeeded: key.hashValue) | 0x8000_0000
    }

    /// Bucket index holding `key`, or nil.
    @inlinable public func find(_ key: Bytes) -> Int? {
        guard storedCount > 0 else { return nil }
        let tag = Self.tag(key)
        var i = Int(tag) & mask
        return tags.withUnsafeBufferPointer { t in
            while true {
                let current = t[i]
                if current == 0 { return nil }
                if current == tag && buckets[i]!.key == key { return i }
                i = (i &+ 1) & mask
            }
        }
    }

    @inlinable public subscript(key: Bytes) -> Value? {
        guard let i = find(key) else { return nil }
        return buckets[i]!.value
    }

    /// The value in bucket `index` (from `find`), changed in place.
    @inlinable public mutating func modify<R>(at index: Int, _ body: (inout Value) -> R) -> R {
        body(&buckets[index]!.value)
    }

    /// Looks `key` up once: `body` gets its value (or nil when absent) and may set, change or
    /// clear it (nil removes the key).
    @inlinable @discardableResult
    public mutating func update<R>(_ key: Bytes, _ body: (inout Value?) -> R) -> R {
        if tags.isEmpty { grow(to: 8) }
        let tag = Self.tag(key)
        var i = Int(tag) & mask
        while true {
            let current = tags[i]
            if current == 0 { break }
            if current == tag && buckets[i]!.key == key {
                var value: Value? = buckets[i].take()!.value
                let result = body(&value)
                if let value {
                    buckets[i] = Bucket(key: key, value: value)
                } else {
                    removeBucket(at: i)
                }
                return result
            }
            i = (i &+ 1) & mask
        }
        var value: Value? = nil
        let result = body(&value)
        if let value {
            tags[i] = tag
            buckets[i] = Bucket(key: key, value: value)
            storedCount += 1
            if storedCount * 4 > tags.count * 3 { grow(to: tags.count * 2) }
        }
        return result
    }

    @inlinable @discardableResult
    public mutating func remove(_ key: Bytes) -> Value? {
        guard let i = find(key) else { return nil }
        let value = buckets[i]!.value
        removeBucket(at: i)
        return value
    }

    /// Empties bucket `index` and shifts later members of its probe run back, so that no
    /// lookup ever meets a hole before reaching its key.
    @usableFromInline mutating func removeBucket(at index: Int) {
        var hole = index
        var j = index
        while true {
            j = (j &+ 1) & mask
            let tag = tags[j]
            if tag == 0 { break }
            let home = Int(tag) & mask
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if stays { continue }
            tags[hole] = tag
            buckets[hole] = buckets[j].take()
            hole = j
        }
        tags[hole] = 0
        buckets[hole] = nil
        storedCount -= 1
        if tags.count > 8 && storedCount * 8 < tags.count { grow(to: tags.count / 2) }
    }

    @usableFromInline mutating func grow(to capacity: Int) {
        let oldBuckets = buckets
        tags = [UInt32](repeating: 0, count: capacity)
        buckets = ContiguousArray(repeating: nil, count: capacity)
        mask = capacity - 1
        for bucket in oldBuckets {
            guard let bucket else { continue }
            let tag = Self.tag(bucket.key)
            var i = Int(tag) & mask
            while tags[i] != 0 { i = (i &+ 1) & mask }
            tags[i] = tag
            buckets[i] = bucket
        }
    }

    public mutating func removeAll() {
        tags = []
        buckets = []
        mask = -1
        storedCount = 0
    }

    @inlinable public func forEach(_ body: (Bytes, Value) -> Void) {
        for bucket in buckets {
            if let bucket { body(bucket.key, bucket.value) }
        }
    }
}

extension ByteHashTable: Sendable where Value: Sendable {}
extension ByteHashTable.Bucket: Sendable where Value: Sendable {}
