import AtollBytes
@testable import AtollKeyspace
import AtollTestSupport
import Testing

private func key(_ s: String) -> Bytes { Bytes(Array(s.utf8)) }
private func str(_ s: String) -> Value { .string(Bytes(Array(s.utf8))) }

@Suite struct DatabaseTests {
    @Test func storeAndLookup() {
        var db = Database()
        var expired = 0
        #expect(db.lookup(key("a"), now: 0, expired: &expired) == nil)
        db.store(key("a"), Entry(value: str("1")))
        db.store(key("b"), Entry(value: .int(2)))
        #expect(db.count == 2)
        #expect(db.lookup(key("a"), now: 0, expired: &expired)?.value.stringBytes == Array("1".utf8))
        #expect(db.lookup(key("b"), now: 0, expired: &expired)?.value.stringBytes == Array("2".utf8))
        #expect(expired == 0)
        #expect(db.remove(key("a")) != nil)
        #expect(db.remove(key("a")) == nil)
        #expect(db.count == 1)
    }

    @Test func lazyExpiryBoundary() {
        var db = Database()
        var expired = 0
        db.store(key("k"), Entry(value: str("v"), expireAt: 1000))
        // At exactly expireAt the key is still alive (Redis: expired when now > when).
        #expect(db.lookup(key("k"), now: 999, expired: &expired) != nil)
        #expect(db.lookup(key("k"), now: 1000, expired: &expired) != nil)
        #expect(expired == 0)
        #expect(db.count == 1)
        #expect(db.expiresCount == 1)
        // One millisecond later the lookup deletes it.
        #expect(db.lookup(key("k"), now: 1001, expired: &expired) == nil)
        #expect(expired == 1)
        #expect(db.count == 0)
        #expect(db.expiresCount == 0)
        #expect(db.table[key("k")] == nil)
    }

    @Test func peekDoesNotDelete() {
        var db = Database()
        db.store(key("k"), Entry(value: str("v"), expireAt: 1000))
        #expect(db.peek(key("k"), now: 1000) != nil)
        #expect(db.peek(key("k"), now: 1001) == nil)
        #expect(db.count == 1)
        #expect(db.expiresCount == 1)
    }

    @Test func persistentKeysNeverExpire() {
        var db = Database()
        var expired = 0
        db.store(key("k"), Entry(value: str("v")))
        #expect(db.lookup(key("k"), now: Int64.max, expired: &expired) != nil)
        #expect(expired == 0)
    }

    @Test func storeKeepsVolatileIndexRight() {
        var db = Database()
        db.store(key("a"), Entry(value: str("1"), expireAt: 100))
        #expect(db.expiresCount == 1)
        #expect(db.volatileKeys.contains(key("a")))
        // Volatile -> volatile with another time: still one entry.
        db.store(key("a"), Entry(value: str("2"), expireAt: 200))
        #expect(db.expiresCount == 1)
        // Volatile -> persistent.
        db.store(key("a"), Entry(value: str("3")))
        #expect(db.expiresCount == 0)
        #expect(!db.volatileKeys.contains(key("a")))
        // Persistent -> volatile.
        db.store(key("a"), Entry(value: str("4"), expireAt: 300))
        #expect(db.expiresCount == 1)
        db.store(key("b"), Entry(value: str("x")))
        #expect(db.expiresCount == 1)
        #expect(db.count == 2)
        db.remove(key("a"))
        #expect(db.expiresCount == 0)
        db.remove(key("b"))
        #expect(db.expiresCount == 0)
    }

    @Test func setExpiryKeepsVolatileIndexRight() {
        var db = Database()
        db.setExpiry(key("missing"), 100)
        #expect(db.expiresCount == 0)
        #expect(db.count == 0)
        db.store(key("a"), Entry(value: str("1")))
        db.setExpiry(key("a"), 100)
        #expect(db.expiresCount == 1)
        #expect(db.table[key("a")]?.expireAt == 100)
        db.setExpiry(key("a"), 500)
        #expect(db.expiresCount == 1)
        #expect(db.table[key("a")]?.expireAt == 500)
        db.setExpiry(key("a"), noExpiry)
        #expect(db.expiresCount == 0)
        #expect(db.table[key("a")]?.expireAt == noExpiry)
        db.setExpiry(key("a"), noExpiry)
        #expect(db.expiresCount == 0)
        #expect(db.count == 1)
    }

    @Test func updateValueKeepsExpiry() {
        var db = Database()
        db.store(key("a"), Entry(value: .int(1), expireAt: 100))
        #expect(db.updateValueInPlace(key("a")) { $0 = .int(2) })
        #expect(!db.updateValueInPlace(key("nope")) { $0 = .int(2) })
        #expect(db.table[key("a")]?.expireAt == 100)
        #expect(db.table[key("a")]?.value.stringBytes == Array("2".utf8))
        #expect(db.table[key("a")]?.rawEncoding == true)
        #expect(db.expiresCount == 1)
        #expect(db.count == 1)
    }

    @Test func lookupWithTouchSetsAccessTime() {
        var db = Database()
        var expired = 0
        var clock = AccessClock()
        clock.seconds = 42
        db.store(key("a"), Entry(value: .int(1), lastAccess: 5))
        _ = db.lookup(key("a"), now: 0, expired: &expired, touch: clock)
        #expect(db.table[key("a")]?.lastAccess == 42)
        _ = db.lookup(key("a"), now: 0, expired: &expired)
        #expect(db.table[key("a")]?.lastAccess == 42)
        #expect(db.lookup(key("missing"), now: 0, expired: &expired, touch: clock) == nil)
        #expect(db.count == 1)
    }

    @Test func removeAllClearsBothIndexes() {
        var db = Database()
        for i in 0..<100 { db.store(key("k\(i)"), Entry(value: .int(Int64(i)), expireAt: i % 2 == 0 ? 1000 : noExpiry)) }
        #expect(db.expiresCount == 50)
        db.removeAll()
        #expect(db.count == 0)
        #expect(db.expiresCount == 0)
    }

    @Test func volatileIndexMatchesTableUnderRandomOperations() {
        var db = Database()
        var rng = SplitMix64(seed: 3)
        for _ in 0..<5000 {
            let k = key("k\(rng.next() % 200)")
            switch rng.next() % 5 {
            case 0: db.store(k, Entry(value: .int(1), expireAt: rng.next() % 2 == 0 ? 1000 : noExpiry))
            case 1: db.setExpiry(k, rng.next() % 2 == 0 ? 2000 : noExpiry)
            case 2: db.remove(k)
            case 3: db.updateValueInPlace(k) { $0 = .int(2) }
            default:
                var expired = 0
                _ = db.lookup(k, now: Int64(rng.next() % 2500), expired: &expired)
            }
        }
        var volatileInTable = 0
        db.table.forEach { k, entry in
            if entry.expireAt != noExpiry {
                volatileInTable += 1
                #expect(db.volatileKeys.contains(k))
            }
        }
        #expect(volatileInTable == db.expiresCount)
        db.volatileKeys.forEach { k, _ in #expect(db.table[k].map { $0.expireAt != noExpiry } == true) }
    }

    @Test func randomKeySkipsAndDeletesExpiredKeys() {
        var db = Database()
        var rng = SplitMix64(seed: 11)
        for i in 0..<100 {
            db.store(key("k\(i)"), Entry(value: .int(Int64(i)), expireAt: i < 90 ? 50 : noExpiry))
        }
        var expired = 0
        var seen = Set<Bytes>()
        for _ in 0..<300 {
            guard let k = db.randomKey(now: 100, using: &rng, onExpired: { _ in expired += 1 }) else {
                Issue.record("randomKey returned nil with live keys present")
                break
            }
            seen.insert(k)
            #expect(db.table[k]?.expireAt == noExpiry)
        }
        #expect(seen.count == 10)
        #expect(seen.isSubset(of: Set((90..<100).map { key("k\($0)") })))
        #expect(expired > 0)
        #expect(db.count == 100 - expired)
    }

    @Test func randomKeyOfOnlyExpiredKeysEmptiesTheDatabase() {
        var db = Database()
        var rng = SplitMix64(seed: 12)
        for i in 0..<50 { db.store(key("k\(i)"), Entry(value: .int(1), expireAt: 10)) }
        var expired = 0
        var result: Bytes? = key("sentinel")
        for _ in 0..<100 {
            result = db.randomKey(now: 20, using: &rng, onExpired: { _ in expired += 1 })
            if result == nil { break }
        }
        #expect(result == nil)
        #expect(db.count == 0)
        #expect(db.expiresCount == 0)
        #expect(expired == 50)
    }

    @Test func expireSampleDeletesOnlyExpiredKeys() {
        var db = Database()
        var rng = SplitMix64(seed: 13)
        for i in 0..<40 { db.store(key("e\(i)"), Entry(value: .int(1), expireAt: 10)) }
        for i in 0..<40 { db.store(key("f\(i)"), Entry(value: .int(1), expireAt: 1000)) }
        for i in 0..<40 { db.store(key("p\(i)"), Entry(value: .int(1))) }
        var totalExpired = 0
        for _ in 0..<200 {
            let (sampled, expired) = db.expireSample(samples: 20, now: 100, using: &rng)
            #expect(sampled <= 20)
            #expect(expired <= sampled)
            totalExpired += expired
        }
        #expect(totalExpired == 40)
        #expect(db.count == 80)
        #expect(db.expiresCount == 40)
        for i in 0..<40 {
            #expect(db.table[key("f\(i)")] != nil)
            #expect(db.table[key("p\(i)")] != nil)
        }
    }

    @Test func databaseScanSkipsNothingPresent() {
        var db = Database()
        for i in 0..<250 { db.store(key("k\(i)"), Entry(value: .int(Int64(i)))) }
        var seen = Set<Bytes>()
        var cursor = 0
        var calls = 0
        repeat {
            cursor = db.scan(from: cursor, count: 25) { k, _ in seen.insert(k) }
            calls += 1
        } while cursor != 0 && calls < 1000
        #expect(seen.count == 250)
    }
}

@Suite struct KeyspaceTests {
    @Test func databasesAreIndependent() {
        let ks = Keyspace(databaseCount: 4)
        #expect(ks.databases.count == 4)
        ks.databases[0].store(key("a"), Entry(value: .int(1)))
        ks.databases[3].store(key("a"), Entry(value: .int(3)))
        #expect(ks.databases[1].count == 0)
        #expect(ks.databases[3].table[key("a")]?.value.stringBytes == Array("3".utf8))
        ks.flushAll()
        #expect(ks.databases.allSatisfy { $0.count == 0 && $0.expiresCount == 0 })
        #expect(Keyspace(databaseCount: 0).databases.count == 1)
    }

    @Test func activeExpireReclaimsTenThousandKeys() {
        let ks = Keyspace(databaseCount: 2)
        for i in 0..<10_000 { ks.databases[0].store(key("e\(i)"), Entry(value: .int(1), expireAt: 100)) }
        for i in 0..<1000 { ks.databases[0].store(key("p\(i)"), Entry(value: .int(1))) }
        for i in 0..<500 { ks.databases[1].store(key("e\(i)"), Entry(value: .int(1), expireAt: 100)) }
        var fakeClock: UInt64 = 0
        var cycles = 0
        var deleted = 0
        while ks.databases[0].expiresCount + ks.databases[1].expiresCount > 0 && cycles < 50 {
            deleted += ks.activeExpireCycle(now: 200, budgetNanoseconds: 1_000_000_000) {
                fakeClock += 1
                return fakeClock
            }
            cycles += 1
        }
        #expect(ks.databases[0].expiresCount == 0)
        #expect(ks.databases[1].expiresCount == 0)
        #expect(ks.databases[0].count == 1000)
        #expect(ks.databases[1].count == 0)
        #expect(deleted == 10_500)
        #expect(ks.stats.expiredKeys == 10_500)
        #expect(cycles <= 5)
    }

    @Test func activeExpireLeavesLiveVolatileKeys() {
        let ks = Keyspace(databaseCount: 1)
        for i in 0..<10_000 { ks.databases[0].store(key("e\(i)"), Entry(value: .int(1), expireAt: 100)) }
        for i in 0..<1000 { ks.databases[0].store(key("f\(i)"), Entry(value: .int(1), expireAt: 10_000)) }
        var cycles = 0
        var deleted = 0
        while cycles < 300 {
            deleted += ks.activeExpireCycle(now: 200, budgetNanoseconds: UInt64.max / 2) { 0 }
            cycles += 1
        }
        // The cycle stops once 25% or fewer of a sample have expired, so it need not reclaim
        // every key, but repeated cycles get nearly all of them and never a live one.
        #expect(deleted >= 9_500)
        #expect(ks.databases[0].count == 11_000 - deleted)
        for i in 0..<1000 { #expect(ks.databases[0].table[key("f\(i)")] != nil) }
    }

    @Test func activeExpireRespectsTheTimeBudget() {
        let ks = Keyspace(databaseCount: 2)
        for db in 0..<2 {
            for i in 0..<10_000 { ks.databases[db].store(key("e\(i)"), Entry(value: .int(1), expireAt: 100)) }
        }
        var fakeClock: UInt64 = 0
        // Every clock read advances 1 ns and the budget is 0: the first check stops the cycle.
        let deleted = ks.activeExpireCycle(now: 200, budgetNanoseconds: 0) {
            fakeClock += 1
            return fakeClock
        }
        #expect(deleted > 0)
        #expect(deleted <= 16 * 20)
        #expect(ks.databases[1].count == 10_000)   // the budget ran out before the second database
    }

    @Test func activeExpireWithNothingToDo() {
        let ks = Keyspace()
        ks.databases[0].store(key("p"), Entry(value: .int(1)))
        ks.databases[0].store(key("f"), Entry(value: .int(1), expireAt: 1000))
        #expect(ks.activeExpireCycle(now: 10, budgetNanoseconds: 1_000_000) { 0 } == 0)
        #expect(ks.databases[0].count == 2)
    }
}

@Suite struct ValueTests {
    @Test func stringBytesOfBothEncodings() {
        #expect(Value.int(-12).stringBytes == Array("-12".utf8))
        #expect(Value.int(Int64.min).stringBytes == Array("-9223372036854775808".utf8))
        #expect(Value.string(Bytes([1, 2])).stringBytes == [1, 2])
        #expect("\(Value.int(1).typeName)" == "string")
        #expect("\(Value.string(Bytes([])).typeName)" == "string")
    }

    @Test func encodedStringKeepsCanonicalIntegersAsInt() {
        func isInt(_ s: String) -> Bool {
            if case .int = Value.encodedString(Array(s.utf8)) { return true }
            return false
        }
        #expect(isInt("0"))
        #expect(isInt("-1"))
        #expect(isInt("9223372036854775807"))
        #expect(isInt("-9223372036854775808"))
        #expect(!isInt("007"))
        #expect(!isInt("+1"))
        #expect(!isInt("-0"))
        #expect(!isInt("9223372036854775808"))
        #expect(!isInt("1.5"))
        #expect(!isInt(""))
        #expect(!isInt(" 1"))
        for s in ["0", "-1", "007", "abc", ""] {
            #expect(Value.encodedString(Array(s.utf8)).stringBytes == Array(s.utf8))
        }
    }

    /// Every key pays for an `Entry` in the table: the small fields must sit in `value`'s padding.
    @Test func entryIsFiveWords() {
        #expect(MemoryLayout<Entry>.stride == 40)
    }
}
