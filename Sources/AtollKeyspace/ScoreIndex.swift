/// `ScoreIndex`: the order of a sorted set, (score, member bytes), as a counted B+tree.
///
/// Leaves hold small sorted arrays of entries; inner nodes hold their children, the number of
/// entries under each child, and a lower bound per child. That gives O(log n) insert, delete,
/// rank, and "first position at or after a bound", with entries packed in arrays rather than
/// one heap node per member as a skiplist needs.
///
/// Bounds: for i ≥ 1, `bounds[i]` is ≤ every entry of `children[i]` and > every entry of
/// `children[i-1]`. Deleting entries never breaks that, so bounds are only set when nodes are
/// split, merged or rebalanced. `bounds[0]` is only a placeholder, kept to align the arrays.
import AtollBytes

/// One member of a sorted set with its score.
public struct ScoredMember: Sendable {
    public var score: Double
    public var member: Bytes

    @inlinable public init(score: Double, member: Bytes) {
        self.score = score
        self.member = member
    }

    /// Redis's order: by score (compared with `<`, so -0 equals 0), then by member bytes.
    @inlinable public func precedes(_ other: ScoredMember) -> Bool {
        if score != other.score { return score < other.score }
        return member < other.member
    }
}

final class ScoreIndexNode {
    /// Leaf entries, sorted (empty for inner nodes).
    var entries: [ScoredMember] = []
    /// Inner node children (empty for leaves).
    var children: [ScoreIndexNode] = []
    /// Entries under each child.
    var counts: [Int] = []
    /// Lower bound of each child (see the type's comment).
    var bounds: [ScoredMember] = []
    /// Entries under this node.
    var total = 0

    var isLeaf: Bool { children.isEmpty }
    /// Entries of a leaf or children of an inner node: what the fill limits apply to.
    var width: Int { isLeaf ? entries.count : children.count }

    init() {}

    init(entries: [ScoredMember]) {
        self.entries = entries
        total = entries.count
    }

    init(children: [ScoreIndexNode], bounds: [ScoredMember]) {
        self.children = children
        self.bounds = bounds
        counts = children.map(\.total)
        total = counts.reduce(0, +)
    }

    /// The child whose key range holds `key`: the last i ≥ 1 with bounds[i] ≤ key, else 0.
    func childIndex(for key: ScoredMember) -> Int {
        lastChild { !key.precedes($0) }
    }

    /// The last child i ≥ 1 whose bound satisfies `isBefore` (monotone over the order), else 0.
    func lastChild(_ isBefore: (ScoredMember) -> Bool) -> Int {
        var low = 1, high = children.count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(bounds[mid]) { low = mid + 1 } else { high = mid }
        }
        return low - 1
    }

    /// As `lastChild`, testing only the bounds' scores (no member copied for the test).
    func lastChild(byScore isBefore: (Double) -> Bool) -> Int {
        var low = 1, high = children.count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(bounds[mid].score) { low = mid + 1 } else { high = mid }
        }
        return low - 1
    }

    /// The child of an inner node that holds the entry at `rank` under it, and that entry's
    /// rank within the child.
    func child(holdingRank rank: Int) -> (index: Int, rank: Int) {
        var i = 0
        var r = rank
        while r >= counts[i] {
            r -= counts[i]
            i += 1
        }
        return (i, r)
    }

    /// Entries in the children before `index`.
    func countBefore(_ index: Int) -> Int {
        var n = 0
        for i in 0..<index { n += counts[i] }
        return n
    }

    /// Number of leaf entries satisfying `isBefore` (a prefix, as the predicate is monotone).
    func leafPartition(_ isBefore: (ScoredMember) -> Bool) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(entries[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// As `leafPartition`, testing only the scores.
    func leafPartition(byScore isBefore: (Double) -> Bool) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(entries[mid].score) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

public struct ScoreIndex {
    static let maxWidth = 64
    static let minWidth = 24
    /// Leaves built in bulk are filled to this, leaving room for inserts.
    static let bulkWidth = 48

    var root = ScoreIndexNode()

    public init() {}

    /// Builds the index from entries already in order, in O(n).
    public init(sorted entries: [ScoredMember]) {
        guard entries.count > Self.maxWidth else {
            root = ScoreIndexNode(entries: entries)
            return
        }
        var level = Self.chunks(entries.count).map { ScoreIndexNode(entries: Array(entries[$0])) }
        while level.count > 1 {
            let nodes = level
            level = Self.chunks(nodes.count).map { range in
                ScoreIndexNode(children: Array(nodes[range]), bounds: nodes[range].map(Self.lowestEntry))
            }
        }
        root = level[0]
    }

    /// Splits `n` items into even runs of about `bulkWidth` (never below `minWidth` unless n is).
    private static func chunks(_ n: Int) -> [Range<Int>] {
        let parts = max(1, (n + bulkWidth - 1) / bulkWidth)
        return (0..<parts).map { p in (p * n / parts)..<((p + 1) * n / parts) }
    }

    private static func lowestEntry(_ node: ScoreIndexNode) -> ScoredMember {
        node.isLeaf ? node.entries[0] : node.bounds[0]
    }

    public var count: Int { root.total }

    // MARK: - Changes

    /// Inserts an entry that is not in the index yet.
    public mutating func insert(_ entry: ScoredMember) {
        guard let (separator, right) = Self.insert(entry, into: root) else { return }
        let left = root
        root = ScoreIndexNode(children: [left, right], bounds: [Self.lowestEntry(left), separator])
    }

    /// Returns the separator and new right sibling when `node` had to split.
    private static func insert(_ entry: ScoredMember, into node: ScoreIndexNode) -> (ScoredMember, ScoreIndexNode)? {
        node.total += 1
        if node.isLeaf {
            node.entries.insert(entry, at: node.leafPartition { $0.precedes(entry) })
            guard node.entries.count > maxWidth else { return nil }
            let half = node.entries.count / 2
            let right = ScoreIndexNode(entries: Array(node.entries[half...]))
            node.entries.removeSubrange(half...)
            node.total = node.entries.count
            return (right.entries[0], right)
        }
        let i = node.childIndex(for: entry)
        let child = node.children[i]
        guard let (separator, right) = insert(entry, into: child) else {
            node.counts[i] += 1
            return nil
        }
        node.counts[i] = child.total
        node.children.insert(right, at: i + 1)
        node.counts.insert(right.total, at: i + 1)
        node.bounds.insert(separator, at: i + 1)
        guard node.children.count > maxWidth else { return nil }
        let half = node.children.count / 2
        let sibling = ScoreIndexNode(children: Array(node.children[half...]), bounds: Array(node.bounds[half...]))
        node.children.removeSubrange(half...)
        node.counts.removeSubrange(half...)
        node.bounds.removeSubrange(half...)
        node.total -= sibling.total
        return (sibling.bounds[0], sibling)
    }

    /// Removes the entry equal to `entry` (same score and member); false when absent.
    @discardableResult
    public mutating func remove(_ entry: ScoredMember) -> Bool {
        guard Self.remove(entry, from: root) else { return false }
        if !root.isLeaf && root.children.count == 1 { root = root.children[0] }
        return true
    }

    private static func remove(_ entry: ScoredMember, from node: ScoreIndexNode) -> Bool {
        if node.isLeaf {
            let i = node.leafPartition { $0.precedes(entry) }
            guard i < node.entries.count, node.entries[i].score == entry.score,
                  node.entries[i].member == entry.member else { return false }
            node.entries.remove(at: i)
            node.total -= 1
            return true
        }
        let i = node.childIndex(for: entry)
        guard remove(entry, from: node.children[i]) else { return false }
        node.counts[i] -= 1
        node.total -= 1
        if node.children[i].width < minWidth { rebalance(node, at: i) }
        return true
    }

    /// Merges an underfull child with a neighbour, or evens the two out when both are too big
    /// to merge.
    private static func rebalance(_ parent: ScoreIndexNode, at index: Int) {
        guard parent.children.count > 1 else { return }
        let j = index > 0 ? index - 1 : index
        let left = parent.children[j], right = parent.children[j + 1]
        let separator = parent.bounds[j + 1]
        if left.width + right.width <= maxWidth {
            if left.isLeaf {
                left.entries.append(contentsOf: right.entries)
            } else {
                left.children.append(contentsOf: right.children)
                left.counts.append(contentsOf: right.counts)
                left.bounds.append(separator)
                left.bounds.append(contentsOf: right.bounds.dropFirst())
            }
            left.total += right.total
            parent.children.remove(at: j + 1)
            parent.counts.remove(at: j + 1)
            parent.bounds.remove(at: j + 1)
            parent.counts[j] = left.total
            return
        }
        if left.isLeaf {
            let all = left.entries + right.entries
            let half = all.count / 2
            left.entries = Array(all[..<half])
            right.entries = Array(all[half...])
            left.total = left.entries.count
            right.total = right.entries.count
            parent.bounds[j + 1] = right.entries[0]
        } else {
            let children = left.children + right.children
            let counts = left.counts + right.counts
            let bounds = left.bounds + [separator] + right.bounds.dropFirst()
            let half = children.count / 2
            left.children = Array(children[..<half])
            left.counts = Array(counts[..<half])
            left.bounds = Array(bounds[..<half])
            right.children = Array(children[half...])
            right.counts = Array(counts[half...])
            right.bounds = Array(bounds[half...])
            left.total = left.counts.reduce(0, +)
            right.total = right.counts.reduce(0, +)
            parent.bounds[j + 1] = bounds[half]
        }
        parent.counts[j] = left.total
        parent.counts[j + 1] = right.total
    }

    // MARK: - Positions

    /// How many entries precede `entry` in the order (its rank when present).
    public func rank(of entry: ScoredMember) -> Int {
        partition { $0.precedes(entry) }
    }

    /// How many entries satisfy `isBefore`, which must hold for a prefix of the order
    /// ("score < min", "member < min", ...): the rank where the rest starts.
    public func partition(_ isBefore: (ScoredMember) -> Bool) -> Int {
        var node = root
        var rank = 0
        while !node.isLeaf {
            let i = node.lastChild(isBefore)
            rank += node.countBefore(i)
            node = node.children[i]
        }
        return rank + node.leafPartition(isBefore)
    }

    /// As `partition`, testing only the scores: no member is copied for the tests, where
    /// `partition` copies each entry it tests (ZRANGEBYSCORE's and GEOSEARCH's bounds).
    public func partition(byScore isBefore: (Double) -> Bool) -> Int {
        var node = root
        var rank = 0
        while !node.isLeaf {
            let i = node.lastChild(byScore: isBefore)
            rank += node.countBefore(i)
            node = node.children[i]
        }
        return rank + node.leafPartition(byScore: isBefore)
    }

    /// The entry at `rank` (0-based, must be in range).
    public func entry(atRank rank: Int) -> ScoredMember {
        var node = root
        var r = rank
        while !node.isLeaf {
            let (i, inChild) = node.child(holdingRank: r)
            r = inChild
            node = node.children[i]
        }
        return node.entries[r]
    }

    /// Visits entries from `rank` towards higher ranks (or lower ones when `reverse`) until
    /// `body` returns false or the set ends.
    public func visit(fromRank rank: Int, reverse: Bool, _ body: (ScoredMember) -> Bool) {
        guard rank >= 0 && rank < count else { return }
        _ = Self.visit(root, from: rank, reverse: reverse, body)
    }

    /// Returns false once `body` asked to stop.
    private static func visit(_ node: ScoreIndexNode, from rank: Int, reverse: Bool,
                              _ body: (ScoredMember) -> Bool) -> Bool {
        if node.isLeaf {
            if reverse {
                for j in stride(from: rank, through: 0, by: -1) where !body(node.entries[j]) { return false }
            } else {
                for j in rank..<node.entries.count where !body(node.entries[j]) { return false }
            }
            return true
        }
        let (i, r) = node.child(holdingRank: rank)
        guard visit(node.children[i], from: r, reverse: reverse, body) else { return false }
        if reverse {
            for k in stride(from: i - 1, through: 0, by: -1)
            where !visit(node.children[k], from: node.counts[k] - 1, reverse: true, body) { return false }
        } else {
            for k in (i + 1)..<node.children.count
            where !visit(node.children[k], from: 0, reverse: false, body) { return false }
        }
        return true
    }

    /// Visits the scores from `rank` towards higher ranks, with each one's rank, until `body`
    /// returns false or the set ends. No member is copied: for scans that test the score and
    /// fetch the few members they keep by rank (GEOSEARCH).
    public func visitScores(fromRank rank: Int, _ body: (_ score: Double, _ rank: Int) -> Bool) {
        guard rank >= 0 && rank < count else { return }
        var next = rank
        _ = Self.visitScores(root, from: rank, next: &next, body)
    }

    /// Returns false once `body` asked to stop; `next` is the rank of the next entry passed.
    private static func visitScores(_ node: ScoreIndexNode, from rank: Int, next: inout Int,
                                    _ body: (Double, Int) -> Bool) -> Bool {
        if node.isLeaf {
            for j in rank..<node.entries.count {
                defer { next += 1 }
                if !body(node.entries[j].score, next) { return false }
            }
            return true
        }
        let (i, r) = node.child(holdingRank: rank)
        guard visitScores(node.children[i], from: r, next: &next, body) else { return false }
        for k in (i + 1)..<node.children.count where !visitScores(node.children[k], from: 0, next: &next, body) {
            return false
        }
        return true
    }

    /// Every entry in order.
    public var sortedEntries: [ScoredMember] {
        var all: [ScoredMember] = []
        all.reserveCapacity(count)
        visit(fromRank: 0, reverse: false) { all.append($0); return true }
        return all
    }
}
