/// The slot array of a `SlotMap`: elements numbered from 0, kept in chunks of
/// `chunkSlots` elements each (128 kB or a little more), so that the array grows without moving what it holds.
///
/// A `ContiguousArray` doubles its capacity and copies every element when full: at 2 million
/// keys that was one 144 MB copy while the server waited, and right after a doubling up to
/// half of it was unused (22 bytes a key at 100,000 keys). Here the first chunk grows by
/// doubling up to `chunkSlots` (so a small map takes no more than an array would) and each
/// later chunk is allocated full size: nothing is ever moved once past the first chunk, and
/// at most one chunk is unused.
///
/// A class so that `SlotMap` keeps value semantics by copy-on-write: a map's mutations call
/// `isKnownUniquelyReferenced` first and copy the chunks when they are shared.
@usableFromInline final class SlotChunks<Element> {
    /// Chunks of at least 128 kB (2,048 key-space slots): glibc's malloc maps blocks that
    /// large from the system (Atoll fixes its threshold there, see main.swift) and unmaps them
    /// when freed. Smaller chunks came from its heap, whose pages a freed key table left
    /// resident (83 MB of RSS after FLUSHALL of a million keys, 18 MB with one array).
    @inlinable static var chunkShift: Int {
        let perChunk = (128 * 1024 + MemoryLayout<Element>.stride - 1) / Swift.max(MemoryLayout<Element>.stride, 1)
        return Swift.max(Int.bitWidth - (perChunk - 1).leadingZeroBitCount, 4)
    }
    @inlinable static var chunkSlots: Int { 1 << chunkShift }
    @inlinable static var chunkMask: Int { chunkSlots &- 1 }

    /// The chunks' addresses; `table[0]` has `firstCapacity` elements' room, the others
    /// `chunkSlots`.
    @usableFromInline var table: UnsafeMutablePointer<UnsafeMutablePointer<Element>>?
    @usableFromInline var chunkCount = 0
    @usableFromInline var tableCapacity = 0
    @usableFromInline var firstCapacity = 0
    /// Elements initialized: 0 ..< count.
    @usableFromInline var count = 0

    @usableFromInline init() {}

    deinit {
        var left = count
        for c in 0..<chunkCount {
            let chunk = table.unsafelyUnwrapped[c]
            let n = min(left, Self.chunkSlots)
            chunk.deinitialize(count: n)
            left -= n
            chunk.deallocate()
        }
        table?.deallocate()
    }

    /// Elements the chunks have room for.
    @inlinable var capacity: Int { chunkCount <= 1 ? firstCapacity : chunkCount << Self.chunkShift }

    /// The address of element `index`, which must be below `count`.
    @inlinable @inline(__always)
    func address(_ index: Int) -> UnsafeMutablePointer<Element> {
        table.unsafelyUnwrapped[index &>> Self.chunkShift] + (index & Self.chunkMask)
    }

    /// Adds `element` as element `count`.
    @inlinable func append(_ element: __owned Element) {
        if count == capacity {
            grow()
        }
        address(count).initialize(to: element)
        count &+= 1
    }

    /// Makes room for one more element: doubles the first chunk while it is the only one and
    /// smaller than `chunkSlots`, else adds a chunk.
    @inlinable @inline(never) func grow() {
        if chunkCount == 0 {
            addChunk(capacity: 4)
            firstCapacity = 4
        } else if chunkCount == 1 && firstCapacity < Self.chunkSlots {
            let bigger = UnsafeMutablePointer<Element>.allocate(capacity: firstCapacity * 2)
            let first = table.unsafelyUnwrapped[0]
            bigger.moveInitialize(from: first, count: count)
            first.deallocate()
            table.unsafelyUnwrapped[0] = bigger
            firstCapacity *= 2
        } else {
            addChunk(capacity: Self.chunkSlots)
        }
    }

    @inlinable func addChunk(capacity: Int) {
        if chunkCount == tableCapacity {
            let newCapacity = max(4, tableCapacity * 2)
            let newTable = UnsafeMutablePointer<UnsafeMutablePointer<Element>>.allocate(capacity: newCapacity)
            if let old = table {
                newTable.moveInitialize(from: old, count: chunkCount)
                old.deallocate()
            }
            table = newTable
            tableCapacity = newCapacity
        }
        (table.unsafelyUnwrapped + chunkCount).initialize(to: .allocate(capacity: capacity))
        chunkCount += 1
    }

    /// A copy holding copies of the elements, for a map whose chunks are shared.
    @usableFromInline func copy() -> SlotChunks {
        let other = SlotChunks()
        var index = 0
        for c in 0..<chunkCount {
            let n = min(count - index, Self.chunkSlots)
            other.addChunk(capacity: c == 0 ? firstCapacity : Self.chunkSlots)
            other.table.unsafelyUnwrapped[c].initialize(from: table.unsafelyUnwrapped[c], count: n)
            index += n
        }
        other.firstCapacity = firstCapacity
        other.count = count
        return other
    }
}
