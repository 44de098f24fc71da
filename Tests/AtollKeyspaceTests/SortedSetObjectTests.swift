import AtollBytes
@testable import AtollKeyspace
import AtollTestSupport
import Testing

private func member(_ s: String) -> Bytes { Bytes(Array(s.utf8)) }

private let unlimited: EncodingLimits = {
    var l = EncodingLimits()
    l.zsetMaxListpackEntries = Int.max
    l.zsetMaxListpackValue = Int.max
    return l
}()

private let noListpack: EncodingLimits = {
    var l = EncodingLimits()
    l.zsetMaxListpackEntries = 0
    return l
}()

/// Checks the B+tree's structure: counts and totals add up, entries are in order, every bound
/// separates its neighbours, and non-root nodes hold at least the minimum width.
private func checkStructure(_ index: ScoreIndex) {
    var previous: ScoredMember?
    var failures = 0
    func check(_ condition: Bool) { if !condition { failures += 1 } }
    func walk(_ node: ScoreIndexNode, isRoot: Bool, lower: ScoredMember?, upper: ScoredMember?) {
        if !isRoot { check(node.width >= ScoreIndex.minWidth) }
        check(node.width <= ScoreIndex.maxWidth)
        if node.isLeaf {
            check(node.total == node.entries.count)
            for e in node.entries {
                if let p = previous { check(p.precedes(e)) }
                if let lower { check(!e.precedes(lower)) }
                if let upper { check(e.precedes(upper)) }
                previous = e
            }
            return
        }
        check(node.counts.count == node.children.count && node.bounds.count == node.children.count)
        check(node.total == node.counts.reduce(0, +))
        for (i, child) in node.children.enumerated() {
            check(node.counts[i] == child.total)
            let childLower = i == 0 ? lower : node.bounds[i]
            let childUpper = i + 1 < node.children.count ? node.bounds[i + 1] : upper
            walk(child, isRoot: false, lower: childLower, upper: childUpper)
        }
    }
    walk(index.root, isRoot: true, lower: nil, upper: nil)
    #expect(failures == 0)
}

/// The first index in `model` (sorted) whose entry does not satisfy `isBefore`.
private func firstIndex(_ model: [ScoredMember], notSatisfying isBefore: (ScoredMember) -> Bool) -> Int {
    var low = 0, high = model.count
    while low < high {
        let mid = (low + high) / 2
        if isBefore(model[mid]) { low = mid + 1 } else { high = mid }
    }
    return low
}

@Suite struct SortedSetObjectTests {
    @Test func ordersByScoreThenMemberBytes() {
        let z = SortedSetObject.make()
        z.set(member("b"), 1, limits: noListpack)
        z.set(member("a"), 1, limits: noListpack)
        z.set(member("c"), -.infinity, limits: noListpack)
        z.set(member("ab"), 1, limits: noListpack)
        z.set(member("z"), .infinity, limits: noListpack)
        z.set(member("\u{7f}"), 0.5, limits: noListpack)
        let order = z.sortedEntries.map { $0.member.text }
        #expect(order == ["c", "\u{7f}", "a", "ab", "b", "z"])
        #expect(z.rank(of: member("ab")) == 3)
        #expect(z.rank(of: member("missing")) == nil)
    }

    @Test func negativeZeroEqualsZeroAndOrdersByMember() {
        let z = SortedSetObject.make()
        z.set(member("b"), -0.0, limits: noListpack)
        z.set(member("a"), 0.0, limits: noListpack)
        z.set(member("c"), -0.0, limits: noListpack)
        #expect(z.sortedEntries.map { $0.member.text } == ["a", "b", "c"])
        #expect(z.score(of: member("b"))!.sign == .minus)
        // Setting 0 over -0 is "no change", as Redis compares with !=.
        z.set(member("b"), 0.0, limits: noListpack)
        #expect(z.score(of: member("b"))!.sign == .minus)
        #expect(z.count == 3)
    }

    @Test func compactSetsKeepScoresAsAListpackDoes() {
        var limits = EncodingLimits()
        limits.zsetMaxListpackEntries = 2
        limits.zsetMaxListpackValue = 3
        let z = SortedSetObject.make()
        z.set(member("a"), -0.0, limits: limits)
        #expect(z.compact)
        #expect(z.score(of: member("a"))!.sign == .plus)
        z.set(member("b"), 1, limits: limits)
        #expect(z.compact)
        z.set(member("c"), -0.0, limits: limits)   // a third member converts the set
        #expect(!z.compact)
        #expect(z.score(of: member("c"))!.sign == .minus)
        let long = SortedSetObject.make()
        long.set(member("abcd"), 1, limits: limits)
        #expect(!long.compact)
    }

    @Test func removeRanksKeepsBothViewsInStep() {
        let z = SortedSetObject.make()
        for i in 0..<1000 { z.set(member("m\(i)"), Double(i % 10), limits: noListpack) }
        let expected = z.sortedEntries
        let removed = z.removeRanks(100..<900)
        #expect(removed.map(\.member) == expected[100..<900].map(\.member))
        #expect(z.count == 200 && z.count == 200)
        #expect(z.sortedEntries.map(\.member) == (expected[..<100] + expected[900...]).map(\.member))
        for e in removed { #expect(z.score(of: e.member) == nil) }
        checkStructure(z.large.tree)
        z.removeRanks(0..<5)
        #expect(z.count == 195 && z.count == 195)
        checkStructure(z.large.tree)
    }

    @Test func copyIsIndependent() {
        let z = SortedSetObject.make()
        for i in 0..<300 { z.set(member("m\(i)"), Double(i), limits: EncodingLimits()) }
        let other = z.copy()
        other.remove(member("m5"))
        #expect(z.count == 300 && other.count == 299)
        #expect(other.compact == z.compact)
        checkStructure(other.large.tree)
    }

    /// 200,000 random members checked against a sorted array: ranks, entries by rank, range
    /// starts by score, reverse walks; after re-scoring a tenth, and again after deleting half.
    @Test func largeRandomSetMatchesASortedArray() {
        checkAgainstModel(size: 200_000, limits: noListpack, seed: 42)
    }

    /// The same checks on the packed (listpack) form.
    @Test func compactRandomSetMatchesASortedArray() {
        checkAgainstModel(size: 500, limits: unlimited, seed: 7)
    }

    private func checkAgainstModel(size: Int, limits: EncodingLimits, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let z = SortedSetObject.make()
        var model: [ScoredMember] = []
        var seen = Set<Bytes>()
        while model.count < size {
            let length = Int.random(in: 1...30, using: &rng)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let m = Bytes(bytes)
            guard seen.insert(m).inserted else { continue }
            // Few distinct scores, so ties (ordered by member) are common; some -0 and 0.
            let score = Double(Int.random(in: -500...500, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1) / 4
            z.set(m, score, limits: limits)
            model.append(ScoredMember(score: score, member: m))
        }
        // Re-score a tenth of them: the old positions must go, the new ones appear.
        for i in stride(from: 0, to: model.count, by: 10) {
            let score = Double(Int.random(in: -500...500, using: &rng)) / 4
            #expect(z.set(model[i].member, score, limits: limits) == model[i].score)
            model[i].score = score
        }
        #expect(z.compact == (limits.zsetMaxListpackEntries >= size))
        model.sort { $0.precedes($1) }
        verify(z, model, &rng)

        var kept: [ScoredMember] = []
        for e in model {
            if Bool.random(using: &rng) {
                #expect(z.remove(e.member) == e.score)
            } else {
                kept.append(e)
            }
        }
        verify(z, kept, &rng)
    }

    private func verify(_ z: SortedSetObject, _ model: [ScoredMember], _ rng: inout SplitMix64) {
        #expect(z.count == model.count && z.count == model.count)
        if z.isConverted { checkStructure(z.large.tree) }
        let all = z.sortedEntries
        #expect(all.count == model.count)
        #expect(zip(all, model).allSatisfy { $0.member == $1.member && $0.score == $1.score })
        for _ in 0..<2000 {
            let r = Int.random(in: 0..<model.count, using: &rng)
            #expect(z.rank(of: model[r].member) == r)
            #expect(z.entry(atRank: r).member == model[r].member)
            // First rank with score >= s, and with score > s.
            let s = model[r].score
            let atLeast = firstIndex(model) { $0.score < s }
            let above = firstIndex(model) { $0.score <= s }
            #expect(z.partition { $0.score < s } == atLeast)
            #expect(z.partition { $0.score <= s } == above)
            // Reverse walk from r sees the entries below it in reverse.
            var walked: [Bytes] = []
            z.visit(fromRank: r, reverse: true) { walked.append($0.member); return walked.count < 5 }
            #expect(walked == model[max(0, r - 4)...r].reversed().map(\.member))
        }
    }
}

@Suite struct SortedSetPackedScoreTests {
    /// Scores kept as varints and as raw doubles come back exactly, in order.
    @Test func packedScoresRoundTrip() {
        let scores: [Double] = [-.infinity, -0x1p53, -0x1p53 + 1, -1e15, -2.5, -1, 0, 0.1, 1, 63, 64, 127, 128,
                                1e15, 0x1p53 - 1, 0x1p53, 1e300, .infinity]
        var limits = EncodingLimits()
        limits.zsetMaxListpackEntries = 1000
        let z = SortedSetObject.make()
        for (i, s) in scores.enumerated().reversed() { z.set(Bytes(Array("m\(i)".utf8)), s, limits: limits) }
        #expect(z.compact)
        #expect(z.sortedEntries.map(\.score) == scores)
        #expect(z.sortedEntries.map(\.member.text) == scores.indices.map { "m\($0)" })
        z.set(Bytes(Array("neg".utf8)), -0.0, limits: limits)
        #expect(z.score(of: Bytes(Array("neg".utf8)))!.sign == .plus)
    }
}
