import AtollBytes
@testable import AtollKeyspace
import Testing

private func key(_ s: String) -> Bytes { Bytes(Array(s.utf8)) }

/// The LRU/LFU stamps (`AccessClock`), the eviction pool's ordering and the choice of keys per
/// policy, with the clock set by hand.
@Suite struct EvictionTests {
    private func clock(seconds: UInt32, lfu: Bool = false, logFactor: Int = 10, decay: Int = 1, random: UInt64 = 0) -> AccessClock {
        var clock = AccessClock()
        clock.seconds = seconds
        clock.lfu = lfu
        clock.logFactor = logFactor
        clock.decayMinutes = decay
        clock.random = random
        return clock
    }

    @Test func lruStampsAreSecondsAndIdleTimeIsTheirDistance() {
        let c = clock(seconds: 1_000_000)
        #expect(c.newEntry == 1_000_000)
        #expect(c.touched(5) == 1_000_000)
        #expect(c.idleSeconds(999_000) == 1000)
    }

    @Test func lfuStartsAtFiveAndTheFirstAccessAlwaysCounts() {
        let c = clock(seconds: 600, lfu: true, random: UInt64.max)  // the least likely draw
        #expect(c.newEntry == 10 << 8 | 5)
        #expect(c.frequency(c.newEntry) == 5)
        // At 5 the chance is 1/(0 × factor + 1) = 1: even the highest draw increments.
        #expect(c.frequency(c.touched(c.newEntry)) == 6)
        // At 6 with factor 10 the chance is 1/11: the highest draw does not.
        #expect(c.frequency(c.touched(10 << 8 | 6)) == 6)
        #expect(clock(seconds: 600, lfu: true, random: 0).frequency(c.touched(10 << 8 | 6)) == 6)
        #expect(clock(seconds: 600, lfu: true, random: 0).touched(10 << 8 | 6) & 0xFF == 7)
        #expect(c.touched(10 << 8 | 255) & 0xFF == 255)
    }

    @Test func lfuCountersDecayOnePerPeriodAndWrapWithTheMinuteClock() {
        // 10 minutes after the stamp, one period a minute: 10 off.
        let c = clock(seconds: 20 * 60, lfu: true)
        #expect(c.frequency(10 << 8 | 30) == 20)
        #expect(c.frequency(10 << 8 | 7) == 0)
        #expect(clock(seconds: 20 * 60, lfu: true, decay: 5).frequency(10 << 8 | 30) == 28)
        #expect(clock(seconds: 20 * 60, lfu: true, decay: 0).frequency(10 << 8 | 30) == 30)
        // The minutes clock is 16 bits: stamped at 65535, read at minute 1 is 1 minute later
        // by Redis's arithmetic (65535 - 65535 + 1).
        let wrapped = clock(seconds: (65536 + 1) * 60, lfu: true)
        #expect(wrapped.minutes == 1)
        #expect(wrapped.frequency(65535 << 8 | 30) == 29)
    }

    @Test func thePoolKeepsTheSixteenBestAndGivesTheBestFirst() {
        var pool = EvictionPool()
        for score in [5, 1, 9, 3] as [UInt64] { pool.offer(.init(score: score, key: key("k\(score)"), db: 0)) }
        #expect(pool.candidates.map(\.score) == [1, 3, 5, 9])
        for score in 10..<30 as Range<UInt64> where pool.accepts(score) {
            pool.offer(.init(score: score, key: key("k\(score)"), db: 0))
        }
        #expect(pool.candidates.count == EvictionPool.capacity)
        #expect(pool.candidates.first?.score == 14)
        #expect(!pool.accepts(14))
        #expect(pool.takeBest()?.score == 29)
    }

    @Test func volatilePoliciesEvictOnlyKeysWithATTLAndTTLGoesShortestFirst() {
        let keyspace = Keyspace(databaseCount: 2)
        keyspace.databases[0].store(key("persistent"), Entry(value: .int(1)))
        keyspace.databases[1].store(key("late"), Entry(value: .int(1), expireAt: 9_000))
        keyspace.databases[0].store(key("soon"), Entry(value: .int(1), expireAt: 5_000))
        let c = clock(seconds: 100)
        let first = keyspace.evictOne(.volatileTTL, samples: 5, clock: c)
        #expect(first?.db == 0 && first?.key == key("soon"))
        #expect(keyspace.evictOne(.volatileTTL, samples: 5, clock: c)?.key == key("late"))
        #expect(keyspace.evictOne(.volatileLRU, samples: 5, clock: c) == nil)
        #expect(keyspace.evictOne(.volatileRandom, samples: 5, clock: c) == nil)
        #expect(keyspace.evictOne(.noeviction, samples: 5, clock: c) == nil)
        #expect(keyspace.databases[0].count == 1)
        #expect(keyspace.evictOne(.allkeysRandom, samples: 5, clock: c)?.key == key("persistent"))
        #expect(keyspace.evictOne(.allkeysLRU, samples: 5, clock: c) == nil)
    }

    @Test func lruEvictsTheLongestIdleAndLFUTheLeastUsed() {
        let keyspace = Keyspace(databaseCount: 1)
        keyspace.databases[0].store(key("old"), Entry(value: .int(1), lastAccess: 10))
        keyspace.databases[0].store(key("recent"), Entry(value: .int(1), lastAccess: 90))
        #expect(keyspace.evictOne(.allkeysLRU, samples: 5, clock: clock(seconds: 100))?.key == key("old"))
        keyspace.databases[0].store(key("rare"), Entry(value: .int(1), lastAccess: 1 << 8 | 2))
        keyspace.databases[0].store(key("often"), Entry(value: .int(1), lastAccess: 1 << 8 | 200))
        keyspace.databases[0].remove(key("recent"))
        let lfu = clock(seconds: 60, lfu: true, decay: 0)
        #expect(keyspace.evictOne(.allkeysLFU, samples: 5, clock: lfu)?.key == key("rare"))
        #expect(keyspace.evictOne(.allkeysLFU, samples: 5, clock: lfu)?.key == key("often"))
    }
}
