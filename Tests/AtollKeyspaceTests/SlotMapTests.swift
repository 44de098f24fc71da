import AtollBytes
@testable import AtollKeyspace
import AtollTestSupport
import Testing

private func key(_ s: String) -> Bytes { Bytes(Array(s.utf8)) }

@Suite struct SlotMapTests {
    @Test func setGetRemove() {
        var map = SlotMap<Int>()
        #expect(map.isEmpty)
        #expect(map.set(key("a"), 1) == true)
        #expect(map.set(key("b"), 2) == true)
        #expect(map.set(key("a"), 10) == false)   // replace, not new
        #expect(map.count == 2)
        #expect(map[key("a")] == 10)
        #expect(map[key("b")] == 2)
        #expect(map[key("c")] == nil)
        #expect(map.contains(key("b")))
        #expect(!map.contains(key("c")))
        #expect(map.remove(key("a")) == 10)
        #expect(map.remove(key("a")) == nil)
        #expect(map[key("a")] == nil)
        #expect(map.count == 1)
    }

    /// Prefetching is a hint: on an empty map, for absent keys, and for buckets out of range
    /// it does nothing, and lookups after it find what they found before.
    @Test func prefetchChangesNothing() {
        var map = SlotMap<Int>()
        #expect(map.prefetchBucket(key("a")) == -1)
        map.prefetchSlot(bucket: -1)
        for i in 0..<100 { map.set(key("k\(i)"), i) }
        for i in 0..<120 {
            let bucket = map.prefetchBucket(key("k\(i)"))
            #expect(bucket >= 0)
            map.prefetchSlot(bucket: bucket)
            #expect(map[key("k\(i)")] == (i < 100 ? i : nil))
        }
        map.prefetchSlot(bucket: Int.max)
        #expect(map.count == 100)
    }

    @Test func binaryAndEmptyKeys() {
        var map = SlotMap<Int>()
        map.set(Bytes([]), 1)
        map.set(Bytes([0]), 2)
        map.set(Bytes([0, 0]), 3)
        map.set(Bytes([255, 13, 10]), 4)
        #expect(map.count == 4)
        #expect(map[Bytes([])] == 1)
        #expect(map[Bytes([0])] == 2)
        #expect(map[Bytes([0, 0])] == 3)
        #expect(map[Bytes([255, 13, 10])] == 4)
    }

    @Test func modifyInPlace() {
        var map = SlotMap<[Int]>()
        map.set(key("list"), [1])
        let r = map.modify(key("list")) { v -> Int in
            v.append(2)
            return v.count
        }
        #expect(r == 2)
        #expect(map[key("list")] == [1, 2])
        let missing = map.modify(key("nope")) { _ in 1 }
        #expect(missing == nil)
        #expect(map.count == 1)
    }

    @Test func replacingKeepsTheSlot() {
        var map = SlotMap<Int>()
        map.set(key("a"), 1)
        map.set(key("b"), 2)
        map.set(key("a"), 3)
        #expect(map.slotCount == 2)
        #expect(map.key(atSlot: 0) == key("a"))
        #expect(map.key(atSlot: 1) == key("b"))
    }

    @Test func freedSlotsAreReused() {
        var map = SlotMap<Int>()
        for i in 0..<10 { map.set(key("k\(i)"), i) }
        #expect(map.slotCount == 10)
        map.remove(key("k3"))
        map.remove(key("k7"))
        #expect(map.key(atSlot: 3) == nil)
        #expect(map.key(atSlot: 7) == nil)
        map.set(key("x"), 100)
        map.set(key("y"), 101)
        #expect(map.slotCount == 10)   // no growth: both went into freed slots
        let reused = Set([map.key(atSlot: 3), map.key(atSlot: 7)].compactMap { $0 })
        #expect(reused == [key("x"), key("y")])
        map.set(key("z"), 102)
        #expect(map.slotCount == 11)
        #expect(map.key(atSlot: 10) == key("z"))
        #expect(map.key(atSlot: 11) == nil)
        #expect(map.key(atSlot: 1000) == nil)
    }

    @Test func slotSpaceNeverExceedsPeakSize() {
        var map = SlotMap<Int>()
        var rng = SplitMix64(seed: 1)
        var live = Set<Int>()
        var peak = 0
        for step in 0..<20_000 {
            let k = Int(rng.next() % 500)
            if rng.next() % 2 == 0 {
                map.set(key("k\(k)"), step)
                live.insert(k)
            } else {
                map.remove(key("k\(k)"))
                live.remove(k)
            }
            peak = max(peak, live.count)
            #expect(map.slotCount <= peak)
        }
        #expect(map.count == live.count)
        for k in live { #expect(map[key("k\(k)")] != nil) }
    }

    @Test func removingEverythingResets() {
        var map = SlotMap<Int>()
        for i in 0..<100 { map.set(key("k\(i)"), i) }
        for i in 0..<100 { map.remove(key("k\(i)")) }
        #expect(map.isEmpty)
        #expect(map.slotCount == 0)
        map.set(key("new"), 1)
        #expect(map.slotCount == 1)
        map.removeAll()
        #expect(map.isEmpty)
        #expect(map.slotCount == 0)
        #expect(map[key("new")] == nil)
    }

    @Test func forEachVisitsEveryEntryOnce() {
        var map = SlotMap<Int>()
        for i in 0..<300 { map.set(key("k\(i)"), i) }
        for i in stride(from: 0, to: 300, by: 3) { map.remove(key("k\(i)")) }
        var seen: [Bytes: Int] = [:]
        map.forEach { k, v in seen[k, default: 0] += 1; #expect(map[k] == v) }
        #expect(seen.count == 200)
        #expect(seen.values.allSatisfy { $0 == 1 })
    }

    // MARK: - SCAN

    @Test func fullScanReturnsEveryKeyOnce() {
        var map = SlotMap<Int>()
        for i in 0..<1000 { map.set(key("k\(i)"), i) }
        var seen: [Bytes: Int] = [:]
        var cursor = 0
        var calls = 0
        repeat {
            cursor = map.scan(from: cursor, count: 7) { k, _ in seen[k, default: 0] += 1 }
            calls += 1
        } while cursor != 0 && calls < 10_000
        #expect(cursor == 0)
        #expect(seen.count == 1000)
        #expect(seen.values.allSatisfy { $0 == 1 })
    }

    @Test func scanCountLimitsEachCall() {
        var map = SlotMap<Int>()
        for i in 0..<100 { map.set(key("k\(i)"), i) }
        var n = 0
        let next = map.scan(from: 0, count: 10) { _, _ in n += 1 }
        #expect(n == 10)
        #expect(next == 10)
    }

    @Test func scanOfEmptyMapAndCursorPastTheEnd() {
        var map = SlotMap<Int>()
        var n = 0
        #expect(map.scan(from: 0, count: 10) { _, _ in n += 1 } == 0)
        map.set(key("a"), 1)
        #expect(map.scan(from: 5000, count: 10) { _, _ in n += 1 } == 0)
        #expect(map.scan(from: -3, count: 10) { _, _ in n += 1 } == 0)
        #expect(n == 1)
    }

    @Test func scanGuaranteeUnderConcurrentChanges() {
        // Every key present from the start to the end of a scan is returned at least once,
        // however many keys are added and removed between the calls.
        var map = SlotMap<Int>()
        for i in 0..<1000 { map.set(key("old\(i)"), i) }
        var rng = SplitMix64(seed: 99)
        // Keys with i % 4 == 0 get deleted during the scan; the others stay throughout.
        var toDelete = (0..<1000).filter { $0 % 4 == 0 }.map { key("old\($0)") }
        toDelete.shuffle(using: &rng)
        var returned = Set<Bytes>()
        var cursor = 0
        var calls = 0
        var added = 0
        repeat {
            cursor = map.scan(from: cursor, count: 10) { k, _ in returned.insert(k) }
            calls += 1
            // Between calls: add 40 new keys (2000 in all) and delete up to 5 old ones.
            for _ in 0..<40 where added < 2000 {
                map.set(key("new\(added)"), added)
                added += 1
            }
            for _ in 0..<5 {
                guard let k = toDelete.popLast() else { break }
                map.remove(k)
            }
        } while cursor != 0 && calls < 100_000
        #expect(cursor == 0)
        #expect(added == 2000)
        #expect(toDelete.isEmpty)
        let missing = (0..<1000).filter { $0 % 4 != 0 }.map { key("old\($0)") }.filter { !returned.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) keys present throughout were never returned")
    }

    // MARK: - Random keys

    @Test func randomKeyReturnsOnlyLiveKeys() {
        var map = SlotMap<Int>()
        var rng = SplitMix64(seed: 5)
        #expect(map.randomKey(using: &rng) == nil)
        for i in 0..<1000 { map.set(key("k\(i)"), i) }
        // Leave a sparse map: 10 live keys among 1000 slots.
        for i in 0..<1000 where i % 100 != 0 { map.remove(key("k\(i)")) }
        #expect(map.count == 10)
        var seen = Set<Bytes>()
        for _ in 0..<2000 {
            let k = map.randomKey(using: &rng)
            #expect(k != nil)
            if let k {
                #expect(map.contains(k))
                seen.insert(k)
            }
        }
        #expect(seen.count == 10)   // every live key shows up with 2000 draws
    }

    @Test func randomKeyWithOneKey() {
        var map = SlotMap<Int>()
        var rng = SplitMix64(seed: 6)
        for i in 0..<50 { map.set(key("k\(i)"), i) }
        for i in 0..<49 { map.remove(key("k\(i)")) }
        for _ in 0..<100 { #expect(map.randomKey(using: &rng) == key("k49")) }
    }
}

@Suite struct BytesTests {
    @Test func ordering() {
        #expect(Bytes([1, 2]) < Bytes([1, 3]))
        #expect(Bytes([1, 2]) < Bytes([1, 2, 0]))
        #expect(Bytes([]) < Bytes([0]))
        #expect(Bytes([255]) > Bytes([1, 255]))
        #expect(!(Bytes([1]) < Bytes([1])))
        #expect(compareBytes([0x61], [0x61]) == 0)
    }

    @Test func equalityAndHashing() {
        let a: Bytes = "hello"
        #expect(a == Bytes(Array("hello".utf8)))
        #expect(a != "hellO")
        #expect(Bytes([]) == Bytes([]))
        #expect(Set([a, "hello", "world"]).count == 2)
        #expect(a.text == "hello")
        #expect(a.count == 5)
    }
}

/// The incremental rehash (see `SlotMap.rehash`): whatever mix of insertions, removals and
/// steps runs while buckets double, every key is found in exactly one place.
@Suite struct SlotMapRehashTests {
    /// A model dictionary and the map, driven by the same random operations through several
    /// doublings, compared after every operation that could move a chain.
    @Test func randomOperationsMatchADictionary() {
        var map = SlotMap<Int>()
        var model: [String: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        var sawRehash = false
        for step in 0..<40_000 {
            let name = "k\(Int.random(in: 0..<6_000, using: &rng))"
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                #expect(map.set(key(name), step) == (model.updateValue(step, forKey: name) == nil))
            case 6..<9:
                #expect(map.remove(key(name)) == model.removeValue(forKey: name))
            default:
                map.rehash(buckets: Int.random(in: 1...50, using: &rng))
            }
            sawRehash = sawRehash || map.isRehashing
            #expect(map[key(name)] == model[name])
            #expect(map.count == model.count)
        }
        #expect(sawRehash)
        for (name, value) in model { #expect(map[key(name)] == value) }
        var seen = 0
        map.forEach { _, _ in seen += 1 }
        #expect(seen == model.count)
    }

    /// A doubling leaves most buckets to move; lookups work meanwhile, and stepping ends it.
    @Test func aDoublingIsFinishedByStepsAlone() {
        var map = SlotMap<Int>()
        for i in 0..<4_096 { map.set(key("k\(i)"), i) }
        map.set(key("one more"), -1)
        #expect(map.isRehashing)
        for i in 0..<4_096 { #expect(map[key("k\(i)")] == i) }
        var steps = 0
        while map.rehash(buckets: 64) { steps += 1 }
        #expect(!map.isRehashing)
        #expect(steps > 10)
        for i in 0..<4_096 { #expect(map[key("k\(i)")] == i) }
        #expect(map[key("one more")] == -1)
    }

    /// Emptying the map mid-rehash leaves a map that works from scratch.
    @Test func removeAllDuringARehash() {
        var map = SlotMap<Int>()
        for i in 0..<1_025 { map.set(key("k\(i)"), i) }
        #expect(map.isRehashing)
        map.removeAll()
        #expect(!map.isRehashing && map.isEmpty)
        for i in 0..<10 { map.set(key("n\(i)"), i) }
        #expect(map[key("n9")] == 9 && map.count == 10)
    }

    /// Thousands of keys span several of `SlotChunks`' chunks: every key stays findable
    /// through the growth, freed slots are reused and forEach and scan see each key once.
    @Test func manyChunks() {
        let n = SlotChunks<SlotMap<Int>.Slot?>.chunkSlots * 5 + 7
        var map = SlotMap<Int>()
        for i in 0..<n { map.set(key("k\(i)"), i) }
        #expect(map.count == n && map.slotCount == n)
        for i in stride(from: 0, to: n, by: 2) { #expect(map.remove(key("k\(i)")) == i) }
        for i in 0..<n / 2 { map.set(key("r\(i)"), -i) }
        #expect(map.slotCount == n)
        var seen = 0
        map.forEach { k, v in
            seen += 1
            #expect(map[k] == v)
        }
        #expect(seen == map.count)
        var scanned = Set<Bytes>()
        var cursor = 0
        repeat {
            cursor = map.scan(from: cursor, count: 100) { k, _ in scanned.insert(k) }
        } while cursor != 0
        #expect(scanned.count == map.count)
        for i in 0..<n { #expect(map[key("k\(i)")] == (i % 2 == 0 ? nil : i)) }
    }

    /// A copy of a map shares its slots until one of them changes; then the other keeps
    /// what it had, through every kind of change, a rehash's steps included.
    @Test func copiesAreIndependent() {
        let n = SlotChunks<SlotMap<[Int]>.Slot?>.chunkSlots * 2 + 5
        var original = SlotMap<[Int]>()
        for i in 0..<n { original.set(key("k\(i)"), [i]) }
        var copy = original
        copy.set(key("new"), [1])
        _ = copy.modify(key("k1")) { $0.append(2) }
        _ = copy.access(key("k2")) { _ in (keep: false, result: 0) }
        copy.remove(key("k3"))
        copy.set(key("k4"), [-4])
        var steps = 0
        while copy.rehash(buckets: 16) && steps < 10_000 { steps += 1 }
        #expect(original.count == n && original[key("new")] == nil)
        for i in 0..<n { #expect(original[key("k\(i)")] == [i]) }
        #expect(copy.count == n - 1 && copy[key("k1")] == [1, 2] && copy[key("k2")] == nil)
        #expect(copy[key("k3")] == nil && copy[key("k4")] == [-4] && copy[key("new")] == [1])
        original.removeAll()
        #expect(copy[key("k5")] == [5])
    }

    /// Values held by the slots are released with the map, and a copy keeps them alive.
    @Test func valuesAreReleasedWithTheMap() {
        final class Tracked {}
        weak var first: Tracked?
        weak var last: Tracked?
        var copy: SlotMap<Tracked>?
        do {
            var map = SlotMap<Tracked>()
            let n = SlotChunks<SlotMap<Tracked>.Slot?>.chunkSlots * 2 + 5
            for i in 0..<n {
                let value = Tracked()
                if i == 0 { first = value }
                if i == n - 1 { last = value }
                map.set(key("k\(i)"), value)
            }
            copy = map
            map.remove(key("k0"))
            #expect(first != nil)
        }
        #expect(first != nil && last != nil)
        copy = nil
        #expect(first == nil && last == nil && copy == nil)
    }

    /// With `growthHeld`, a full map's buckets wait to double until the chains average
    /// `forcedGrowthLoad` keys; without it they double at one key per bucket.
    @Test func heldGrowthWaitsForTheForcedLoad() {
        var map = SlotMap<Int>()
        for i in 0..<1024 { map.set(key("k\(i)"), i) }
        #expect(map.growsOnNextInsert && map.buckets.count == 1024)
        map.growthHeld = true
        var i = 1024
        while Double(i) < 1024 * SlotMap<Int>.forcedGrowthLoad {
            map.set(key("k\(i)"), i)
            i += 1
        }
        #expect(map.buckets.count == 1024 && map.count == i)
        map.set(key("k\(i)"), i)
        #expect(map.buckets.count == 2048)
        for j in 0...i { #expect(map[key("k\(j)")] == j) }
    }
}
