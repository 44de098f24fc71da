/// The sorted set type: member → score, ordered by (score, member bytes).
///
/// Two views of the same members: `scores` (a `SlotMap`) answers "what is this member's
/// score" in O(1) and gives ZSCAN its cursor guarantee and ZRANDMEMBER its random picks;
/// `index` (a counted B+tree) keeps the order for ranks and ranges in O(log n). Change them
/// only through this type's methods, which keep the two in step.
import AtollBytes

public final class SortedSetObject: @unchecked Sendable {
    public private(set) var scores = SlotMap<Double>()
    public private(set) var index = ScoreIndex()
    /// Whether Redis would still hold this set as a listpack (OBJECT ENCODING).
    public var compact = true

    public init() {}

    /// A set built from entries already in (score, member) order with distinct members.
    public init(sorted entries: [ScoredMember], compact: Bool) {
        self.compact = compact
        var entries = entries
        if compact { for i in entries.indices { entries[i].score = Self.listpackScore(entries[i].score) } }
        for e in entries { scores.set(e.member, e.score) }
        index = ScoreIndex(sorted: entries)
    }

    public var count: Int { scores.count }

    public func copy() -> SortedSetObject {
        SortedSetObject(sorted: index.sortedEntries, compact: compact)
    }

    @inlinable public func score(of member: Bytes) -> Double? { scores[member] }

    /// Sets a member's score (adding the member if new), as Redis's `zsetAdd` stores it: a new
    /// member that outgrows the listpack limits converts the set for good, and while the set is
    /// a listpack the score is kept the way the listpack keeps it. Returns the previous score.
    @discardableResult
    public func set(_ member: Bytes, _ score: Double, limits: EncodingLimits) -> Double? {
        // Written as if the member were new (one hash lookup), corrected below if it was not.
        let staysCompact = compact && count + 1 <= limits.zsetMaxListpackEntries
            && member.count <= limits.zsetMaxListpackValue
        let stored = staysCompact ? Self.listpackScore(score) : score
        guard let old = scores.replace(member, stored) else {
            compact = staysCompact
            index.insert(ScoredMember(score: stored, member: member))
            return nil
        }
        // An existing member never converts the set; Redis leaves an equal score alone (so
        // 0 stays 0 when -0 is set).
        let updated = compact ? Self.listpackScore(score) : score
        let kept = old == updated ? old : updated
        if kept.bitPattern != stored.bitPattern { scores.modify(member) { $0 = kept } }
        if old != updated {
            index.remove(ScoredMember(score: old, member: member))
            index.insert(ScoredMember(score: updated, member: member))
        }
        return old
    }

    /// Removes a member; returns its score, or nil when it was not there.
    @discardableResult
    public func remove(_ member: Bytes) -> Double? {
        guard let old = scores.remove(member) else { return nil }
        index.remove(ScoredMember(score: old, member: member))
        return old
    }

    /// The member's 0-based rank in ascending order, or nil when absent.
    public func rank(of member: Bytes) -> Int? {
        guard let score = scores[member] else { return nil }
        return index.rank(of: ScoredMember(score: score, member: member))
    }

    /// The entry at a 0-based ascending rank (must be in range).
    public func entry(atRank rank: Int) -> ScoredMember { index.entry(atRank: rank) }

    /// Removes the entries with ranks in `ranks` and returns them in order.
    @discardableResult
    public func removeRanks(_ ranks: Range<Int>) -> [ScoredMember] {
        var removed: [ScoredMember] = []
        removed.reserveCapacity(ranks.count)
        index.visit(fromRank: ranks.lowerBound, reverse: false) { entry in
            guard removed.count < ranks.count else { return false }
            removed.append(entry)
            return true
        }
        for e in removed { scores.remove(e.member) }
        // Removing most of a big set entry by entry would rebalance the tree over and over;
        // rebuilding from what is left is linear.
        if removed.count > 64 && removed.count * 4 > index.count {
            var kept = index.sortedEntries
            kept.removeSubrange(ranks)
            index = ScoreIndex(sorted: kept)
        } else {
            for e in removed { index.remove(e) }
        }
        return removed
    }

    /// A score as a listpack holds it: Redis stores integral scores as integers there, so -0
    /// comes back as 0.
    @inlinable public static func listpackScore(_ score: Double) -> Double {
        score == 0 ? 0 : score
    }
}
