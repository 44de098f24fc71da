import AtollBytes
@testable import AtollKeyspace
import AtollTestSupport
import Testing

private func text(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A stream's live entries as (ID, [field, value, ...]) in order, read back through `forEach`.
private func contents(_ s: StreamObject, reverse: Bool = false) -> [(StreamID, [[UInt8]])] {
    var out: [(StreamID, [[UInt8]])] = []
    s.forEach(from: .zero, to: .max, reverse: reverse) { entry in
        var pairs: [[UInt8]] = []
        entry.forEachPair { f, v in
            pairs.append(entry.bytes(f))
            pairs.append(entry.bytes(v))
        }
        out.append((entry.id, pairs))
        return true
    }
    return out
}

/// Every node passes the validation a loaded node must pass, and the live counts add up.
private func checkNodes(_ s: StreamObject) {
    var live = 0
    for node in s.nodes {
        let count = StreamObject.validatedNode(node.lp)
        #expect(count != nil)
        live += count ?? 0
    }
    #expect(live == s.length)
}

@Test func listpackElementsRoundTripInEveryEncoding() {
    let values: [[UInt8]] = ["0", "127", "128", "-1", "-4096", "4095", "4096", "-32768", "32767", "32768", "8388607",
                             "-8388609", "2147483647", "2147483648", "9223372036854775807", "-9223372036854775808",
                             "9223372036854775808", "01", "+1", "", String(repeating: "x", count: 63),
                             String(repeating: "y", count: 64), String(repeating: "z", count: 4096)].map(text)
    var lp = ListpackCoding.empty
    lp.removeLast()
    for v in values { ListpackCoding.appendString(v, to: &lp) }
    lp.append(0xFF)
    ListpackCoding.setHeader(&lp, elements: values.count)
    let elements = ListpackCoding.validatedElements(lp)
    #expect(elements?.count == values.count)
    for (element, value) in zip(elements ?? [], values) {
        switch element {
        case .int(let n): #expect(text(String(n)) == value)
        case .string(let range): #expect(Array(lp[range]) == value)
        }
    }
}

@Test func damagedListpacksAreRefused() {
    var lp = ListpackCoding.empty
    lp.removeLast()
    ListpackCoding.appendString(text("hello"), to: &lp)
    lp.append(0xFF)
    ListpackCoding.setHeader(&lp, elements: 1)
    #expect(ListpackCoding.validatedElements(lp) != nil)
    var cut = lp
    cut.removeLast(2)
    #expect(ListpackCoding.validatedElements(cut) == nil)
    var badLength = lp
    badLength[6] = 0x80 | 40  // a string longer than the listpack
    #expect(ListpackCoding.validatedElements(badLength) == nil)
    var badCount = lp
    badCount[4] = 2
    #expect(ListpackCoding.validatedElements(badCount) == nil)
}

@Test func appendsSplitNodesAtTheEntryLimitAndReadBackInBothDirections() {
    let s = StreamObject()
    for i in 1...25 {
        let args = i % 7 == 0 ? [text("other"), text("\(i)")] : [text("f"), text("\(i)"), text("g"), text("v\(i)")]
        s.append(id: StreamID(ms: UInt64(i), seq: 0), args, from: 0, maxBytes: 4096, maxEntries: 10)
    }
    #expect(s.nodes.count == 3)
    #expect(s.length == 25)
    let forward = contents(s)
    #expect(forward.map(\.0.ms) == Array(1...25).map(UInt64.init))
    #expect(forward[6].1 == [text("other"), text("7")])
    #expect(forward[0].1 == [text("f"), text("1"), text("g"), text("v1")])
    #expect(contents(s, reverse: true).map(\.0) == forward.map(\.0).reversed())
    checkNodes(s)
}

@Test func deletesAndTrimsKeepCountsAndFirstID() {
    let s = StreamObject()
    for i in 1...30 { s.append(id: StreamID(ms: UInt64(i), seq: 0), [text("f"), text("\(i)")], from: 0, maxBytes: 4096, maxEntries: 10) }
    #expect(s.delete(StreamID(ms: 5, seq: 0)))
    #expect(!s.delete(StreamID(ms: 5, seq: 0)))
    #expect(!s.delete(StreamID(ms: 99, seq: 0)))
    for i in 11...20 { #expect(s.delete(StreamID(ms: UInt64(i), seq: 0))) }
    #expect(s.nodes.count == 2)  // the middle node lost its last entry and went
    #expect(s.trim(.maxLength(15), approximate: false, limit: 0) == 4)
    #expect(s.length == 15)
    #expect(s.firstID == StreamID(ms: 6, seq: 0))
    #expect(s.trim(.minID(StreamID(ms: 25, seq: 0)), approximate: true, limit: 100) == 5)
    #expect(contents(s).first?.0 == StreamID(ms: 21, seq: 0))
    #expect(s.trim(.minID(StreamID(ms: 25, seq: 0)), approximate: false, limit: 0) == 4)
    #expect(s.firstID == StreamID(ms: 25, seq: 0))
    checkNodes(s)
}

@Test func randomOperationsMatchASimpleModel() {
    var rng = SplitMix64(seed: 7)
    let s = StreamObject()
    var model: [(StreamID, [UInt8])] = []
    var next: UInt64 = 1
    for _ in 0..<3000 {
        switch rng.next() % 10 {
        case 0...5:
            let id = StreamID(ms: next, seq: rng.next() % 3)
            next += 1 + rng.next() % 3
            let value = text(String(rng.next() % 100_000))
            s.append(id: id, [text("k"), value], from: 0, maxBytes: 200, maxEntries: 7)
            model.append((id, value))
        case 6, 7:
            guard !model.isEmpty else { continue }
            let victim = model.remove(at: Int(rng.next() % UInt64(model.count))).0
            #expect(s.delete(victim))
        default:
            let keep = Int64(rng.next() % 40)
            let before = model.count
            let removed = s.trim(.maxLength(keep), approximate: false, limit: 0)
            if before > keep { model.removeFirst(before - Int(keep)) }
            #expect(removed == Int64(before - model.count))
        }
    }
    #expect(contents(s).map(\.0) == model.map(\.0))
    #expect(contents(s).map { $0.1[1] } == model.map(\.1))
    if let middle = model.dropFirst(model.count / 2).first?.0 {
        var seen: [StreamID] = []
        s.forEach(from: middle, to: .max) { seen.append($0.id); return seen.count < 5 }
        #expect(seen == Array(model.map(\.0).drop { $0 < middle }.prefix(5)))
    }
    checkNodes(s)
}

/// The pending entries list against a sorted model: inserts in order and at random (chunks
/// filled, split and emptied), lookups and removals of IDs present and absent (below, between
/// and above the chunks), acknowledgements through the group, and the order it visits in.
@Test func pendingEntriesListMatchesASortedModel() {
    var rng = SplitMix64(seed: 17)
    let group = StreamGroup(name: "g", lastID: .zero, entriesRead: 0)
    let consumer = group.addConsumer("c", seenTime: 0)!
    var model: [StreamID: PendingEntry] = [:]
    func id(_ n: UInt64) -> StreamID { StreamID(ms: n / 4, seq: n % 4) }
    func add(_ n: UInt64) {
        let entry = PendingEntry(deliveryTime: Int64(n), deliveryCount: 1, consumer: consumer)
        group.pending.insert(id(n), entry)
        consumer.pending.insert(id(n), entry)
        model[id(n)] = entry
    }
    for n in stride(from: UInt64(10), to: 2_000, by: 3) { add(n) }
    for round in 0..<6_000 {
        let n = UInt64.random(in: 0..<2_200, using: &rng)
        switch round % 3 {
        case 0: add(n)
        case 1:
            #expect(group.acknowledge(id(n)) == (model.removeValue(forKey: id(n)) != nil))
        default:
            #expect(group.pending[id(n)] === model[id(n)])
            #expect(consumer.pending[id(n)] === model[id(n)])
        }
    }
    let sorted = model.keys.sorted()
    #expect(group.pending.count == sorted.count && consumer.pending.count == sorted.count)
    #expect(group.pending.entries().map(\.id) == sorted)
    #expect(consumer.pending.entries(from: id(1_000)).map(\.id) == sorted.filter { $0 >= id(1_000) })
    #expect(group.pending.first?.id == sorted.first && group.pending.last?.id == sorted.last)
    for key in sorted { #expect(group.acknowledge(key)) }
    #expect(group.pending.isEmpty && consumer.pending.isEmpty && !group.acknowledge(id(10)))
}
