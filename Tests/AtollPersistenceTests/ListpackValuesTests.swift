import AtollBytes
import AtollKeyspace
import AtollRDB
import Testing

/// Hashes, sorted sets, lists and intsets read from their listpack (and intset) payloads in
/// place: the same values as written, the same encodings, and damage refused.
@Suite struct ListpackValuesTests {
    /// A DUMP payload of one value of RDB type `type` whose body is the listpack of `elements`
    /// (integers as listpack integers, anything else as strings), written as given.
    static func payload(type: UInt8, quicklist: Bool = false, _ elements: [ListpackItem]) -> [UInt8] {
        var lp: [UInt8] = [0, 0, 0, 0, 0, 0]
        for element in elements {
            switch element {
            case .int(let n): ListpackCoding.appendInteger(n, to: &lp)
            case .text(let s): ListpackCoding.appendString(Array(s.utf8), to: &lp)
            }
        }
        lp.append(0xFF)
        ListpackCoding.setHeader(&lp, elements: elements.count)
        var body: [UInt8] = [type]
        if quicklist { body += [1, 2] }
        RDBObjectWriter.appendString(lp, to: &body)
        return DumpPayload.seal(body)
    }

    enum ListpackItem {
        case int(Int64)
        case text(String)
    }

    static func restored(_ payload: [UInt8], limits: EncodingLimits = EncodingLimits()) -> Value? {
        guard case .success(let value) = DumpPayload.restore(payload, limits: limits) else { return nil }
        return value
    }

    static func text(_ bytes: Bytes) -> String { String(decoding: bytes.array, as: UTF8.self) }

    static func pairs(_ hash: HashObject) -> [String: String] {
        var out: [String: String] = [:]
        hash.forEach { out[Self.text($0)] = Self.text($1) }
        return out
    }

    @Test func aHashComesBackWithItsIntegersAsText() throws {
        let elements: [ListpackItem] = [.text("name"), .text("atoll"), .int(7), .int(-4096), .int(Int64.min), .int(Int64.max),
                                        .text("big"), .int(300_000)]
        guard case .hash(let hash)? = Self.restored(Self.payload(type: 16, elements)) else {
            Issue.record("not a hash")
            return
        }
        #expect(hash.compact)
        #expect(Self.pairs(hash) == ["name": "atoll", "7": "-4096", "\(Int64.min)": "\(Int64.max)", "big": "300000"])
        // Written back, it reads the same (what DUMP of the restored value gives).
        guard case .hash(let again)? = Self.restored(DumpPayload.dump(.hash(hash))) else {
            Issue.record("not a hash")
            return
        }
        #expect(Self.pairs(again) == Self.pairs(hash))
    }

    @Test func aHashPastTheCompactLimitsIsConverted() throws {
        var limits = EncodingLimits()
        limits.hashMaxListpackEntries = 2
        let elements: [ListpackItem] = [.text("a"), .int(1), .text("b"), .int(2), .text("c"), .int(3)]
        guard case .hash(let many)? = Self.restored(Self.payload(type: 16, elements), limits: limits) else {
            Issue.record("not a hash")
            return
        }
        #expect(!many.compact)
        #expect(Self.pairs(many) == ["a": "1", "b": "2", "c": "3"])
        limits = EncodingLimits()
        limits.hashMaxListpackValue = 3
        guard case .hash(let long)? = Self.restored(Self.payload(type: 16, [.text("a"), .text("long value")]), limits: limits) else {
            Issue.record("not a hash")
            return
        }
        #expect(!long.compact)
        #expect(Self.pairs(long) == ["a": "long value"])
    }

    @Test func aDamagedHashIsRefused() {
        // A field twice (also as an integer and its text), an odd count, an empty listpack.
        #expect(Self.restored(Self.payload(type: 16, [.text("f"), .int(1), .text("f"), .int(2)])) == nil)
        #expect(Self.restored(Self.payload(type: 16, [.int(12), .int(1), .text("12"), .int(2)])) == nil)
        #expect(Self.restored(Self.payload(type: 16, [.text("f"), .int(1), .text("g")])) == nil)
        #expect(Self.restored(Self.payload(type: 16, [])) == nil)
        var limits = EncodingLimits()
        limits.hashMaxListpackEntries = 1
        #expect(Self.restored(Self.payload(type: 16, [.text("f"), .int(1), .text("f"), .int(2)]), limits: limits) == nil)
    }

    @Test func aBigCompactCollectionIsCheckedForDuplicatesToo() {
        // Past 64 entries the names are checked through a hash set rather than a search.
        let fields: [ListpackItem] = (0..<100).flatMap { [ListpackItem.text("f\($0)"), .int(Int64($0))] }
        guard case .hash(let hash)? = Self.restored(Self.payload(type: 16, fields)) else {
            Issue.record("not a hash")
            return
        }
        #expect(hash.compact && hash.count == 100)
        #expect(Self.restored(Self.payload(type: 16, fields + [.text("f42"), .int(1)])) == nil)
        #expect(Self.restored(Self.payload(type: 16, [.int(7), .int(1)] + fields + [.text("7"), .int(1)])) == nil)
        let members: [ListpackItem] = (0..<100).flatMap { [ListpackItem.text("m\($0)"), .int(Int64($0))] }
        guard case .zset(let zset)? = Self.restored(Self.payload(type: 17, members)) else {
            Issue.record("not a sorted set")
            return
        }
        #expect(zset.compact && zset.count == 100)
        #expect(Self.restored(Self.payload(type: 17, members + [.text("m3"), .int(500)])) == nil)
    }

    @Test func aSortedSetInOrderIsAppendedAndOutOfOrderIsSorted() {
        let inOrder: [ListpackItem] = [.text("a"), .int(-3), .text("b"), .text("2.5"), .text("c"), .text("2.5"), .text("d"), .int(1 << 40)]
        let shuffled: [ListpackItem] = [.text("d"), .int(1 << 40), .text("c"), .text("2.5"), .text("a"), .int(-3), .text("b"), .text("2.5")]
        for elements in [inOrder, shuffled] {
            guard case .zset(let zset)? = Self.restored(Self.payload(type: 17, elements)) else {
                Issue.record("not a sorted set")
                continue
            }
            #expect(zset.compact)
            #expect(zset.sortedEntries.map { Self.text($0.member) } == ["a", "b", "c", "d"])
            #expect(zset.sortedEntries.map(\.score) == [-3, 2.5, 2.5, Double(1 << 40)])
            #expect(zset.score(of: Bytes(Array("b".utf8))) == 2.5)
            #expect(zset.rank(of: Bytes(Array("d".utf8))) == 3)
        }
    }

    @Test func aDamagedSortedSetIsRefused() {
        // A member twice (in order, and out of order), a score that is not one, an odd count.
        #expect(Self.restored(Self.payload(type: 17, [.text("a"), .int(1), .text("a"), .int(2)])) == nil)
        #expect(Self.restored(Self.payload(type: 17, [.text("a"), .int(2), .text("b"), .int(1), .text("a"), .int(3)])) == nil)
        #expect(Self.restored(Self.payload(type: 17, [.text("a"), .text("x1")])) == nil)
        #expect(Self.restored(Self.payload(type: 17, [.text("a"), .text("nan")])) == nil)
        #expect(Self.restored(Self.payload(type: 17, [.text("a"), .int(1), .text("b")])) == nil)
    }

    @Test func aSortedSetPastTheCompactLimitsIsConverted() {
        var limits = EncodingLimits()
        limits.zsetMaxListpackEntries = 1
        guard case .zset(let zset)? = Self.restored(Self.payload(type: 17, [.text("a"), .int(1), .text("b"), .int(2)]), limits: limits) else {
            Issue.record("not a sorted set")
            return
        }
        #expect(!zset.compact)
        #expect(zset.sortedEntries.map(\.score) == [1, 2])
    }

    @Test func aQuicklistNodeKeepsItsItemsInOrder() {
        guard case .list(let list)? = Self.restored(Self.payload(type: 18, quicklist: true, [.text("x"), .int(-1), .int(123_456_789_012), .text("")])) else {
            Issue.record("not a list")
            return
        }
        #expect(list.items.map { Self.text($0) } == ["x", "-1", "123456789012", ""])
    }

    @Test func anIntsetIsKeptAsIntegersUntilItIsTooBig() {
        var body: [UInt8] = [11]
        // Width 2, three members: -5, 1, 300.
        RDBObjectWriter.appendString([2, 0, 0, 0, 3, 0, 0, 0, 0xFB, 0xFF, 1, 0, 0x2C, 0x01], to: &body)
        let payload = DumpPayload.seal(body)
        guard case .set(let small)? = Self.restored(payload) else {
            Issue.record("not a set")
            return
        }
        #expect(small.compact)
        #expect(small.members.map { Self.text($0) } == ["-5", "1", "300"])
        var limits = EncodingLimits()
        limits.setMaxIntsetEntries = 2
        guard case .set(let big)? = Self.restored(payload, limits: limits) else {
            Issue.record("not a set")
            return
        }
        #expect(!big.compact)
        #expect(Set(big.members.map { Self.text($0) }) == ["-5", "1", "300"])
    }
}
