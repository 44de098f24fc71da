/// The sorted set type: member → score, ordered by (score, member bytes).
///
/// While `compact` (Redis's listpack case) the entries are packed in order in the object's own
/// allocation (`PackedObject`): each is the score (see `PackedEntry`) then the member,
/// length-prefixed (`PackedBytes`). Lookups, ranks and ranges walk them, which is cheap for a
/// listpack's few entries. Once the set converts, for good, it has two views of the same
/// members: `Large.scores` (a `SlotMap`) answers "what is this member's score" in O(1) and gives ZSCAN its cursor guarantee and ZRANDMEMBER
/// its random picks; `Large.tree` (a counted B+tree) keeps the order for ranks and ranges in
/// O(log n). Change them only through this type's methods, which keep the two in step.
import AtollBytes

public final class SortedSetObject: PackedObject {
    /// The views of a converted set.
    final class Large {
        /// Member → score.
        var scores = SlotMap<Double>()
        /// The order.
        var tree: ScoreIndex

        init(scores: SlotMap<Double> = SlotMap(), tree: ScoreIndex = ScoreIndex()) {
            self.scores = scores
            self.tree = tree
        }
    }

    /// An empty set, compact unless Redis would create it converted (a STORE result known to
    /// be too big for a listpack), with room for `bytes` packed bytes (`packedSize`).
    public static func make(compact: Bool = true, bytes: Int = 0) -> SortedSetObject {
        let made = make(capacity: bytes)
        if !compact { made.setTail(Large(), mode: .converted) }
        return made
    }

    /// A set built from entries already in (score, member) order with distinct members.
    public static func make(sorted entries: [ScoredMember], compact: Bool) -> SortedSetObject {
        guard compact else {
            let made = make(capacity: 0)
            made.setTail(converted(entries), mode: .converted)
            return made
        }
        let length = entries.reduce(0) { $0 + PackedEntry(score: listpackScore($1.score), memberLength: $1.member.count).length }
        let made = make(capacity: length)
        made.replacePacked(0..<0, length: length, countChange: entries.count) { destination in
            var at = 0
            for e in entries {
                let score = listpackScore(e.score)
                let layout = PackedEntry(score: score, memberLength: e.member.count)
                let slot = UnsafeMutableRawBufferPointer(rebasing: destination[at..<(at + layout.length)])
                e.member.withUnsafeBytes { layout.write(score: score, member: $0, to: slot) }
                at += layout.length
            }
        }
        return made
    }

    /// The packed bytes an entry takes (see `PackedEntry`).
    public static func packedSize(memberLength: Int, score: Double) -> Int {
        PackedEntry(score: listpackScore(score), memberLength: memberLength).length
    }

    /// The most packed bytes an entry with a member of `memberLength` bytes takes, whatever its
    /// score (one that is not an integer: its 8 bytes and a tag).
    public static func largestPackedSize(memberLength: Int) -> Int {
        9 + PackedBytes.encodedSize(memberLength)
    }

    /// The varint that stands for `score` when it is a listpack-style integer: the zigzag
    /// code shifted left, so its first byte is even.
    static func integralScore(_ score: Double) -> Int? {
        let isNegativeZero = score == 0 && score.sign == .minus
        guard score.magnitude < 0x1p53 && score.rounded(.towardZero) == score && !isNegativeZero else { return nil }
        let n = Int64(score)
        return Int((n << 1) ^ (n >> 63)) << 1
    }

    private static func converted(_ entries: [ScoredMember]) -> Large {
        var scores = SlotMap<Double>()
        for e in entries { scores.set(e.member, e.score) }
        return Large(scores: scores, tree: ScoreIndex(sorted: entries))
    }

    /// Whether Redis would still hold this set as a listpack (OBJECT ENCODING).
    public var compact: Bool { !isConverted }

    var large: Large { unsafeDowncast(tailObject, to: Large.self) }

    public var count: Int { isConverted ? large.scores.count : packedCount }

    public func copy() -> SortedSetObject {
        guard !isConverted else { return SortedSetObject.make(sorted: sortedEntries, compact: false) }
        return copyPacked()
    }

    // MARK: - The packed form

    /// Moves `offset` past the score there.
    @inline(__always)
    static func skipScore(_ buffer: UnsafeRawBufferPointer, at offset: inout Int) {
        if buffer[offset] == 1 {
            offset += 9
            return
        }
        while buffer[offset] >= 0x80 { offset += 1 }
        offset += 1
    }

    /// The score at `offset` (see `PackedEntry`), moving `offset` past it.
    @inline(__always)
    static func readScore(_ buffer: UnsafeRawBufferPointer, at offset: inout Int) -> Double {
        if buffer[offset] == 1 {
            let score = Double(bitPattern: buffer.loadUnaligned(fromByteOffset: offset + 1, as: UInt64.self))
            offset += 9
            return score
        }
        let zigzag = PackedBytes.readVarint(buffer, at: &offset) >> 1
        return Double((zigzag >> 1) ^ -(zigzag & 1))
    }

    /// Walks the packed entries in order, giving each one's byte range, score and member
    /// bytes, until `body` returns false.
    @inline(__always)
    func walkPacked(_ body: (_ entry: Range<Int>, _ score: Double, _ member: UnsafeRawBufferPointer) -> Bool) {
        withPacked { buffer in
            var offset = 0
            while offset < buffer.count {
                var next = offset
                let score = Self.readScore(buffer, at: &next)
                let member = PackedBytes.item(in: buffer, at: next)
                guard body(offset..<member.upperBound, score, UnsafeRawBufferPointer(rebasing: buffer[member])) else { return }
                offset = member.upperBound
            }
        }
    }

    /// A packed member's position: its entry's byte range, its score and its rank.
    struct PackedLocation {
        var bytes: Range<Int>
        var score: Double
        var rank: Int
    }

    /// Finds a member by comparing members only, decoding just the score of the match.
    func locatePacked(_ member: Bytes) -> PackedLocation? {
        withPacked { buffer in member.withUnsafeBytes { Self.locate($0, in: buffer) } }
    }

    /// `member`'s position in `buffer`, packed entries.
    @inline(__always)
    static func locate(_ member: UnsafeRawBufferPointer, in buffer: UnsafeRawBufferPointer) -> PackedLocation? {
        var offset = 0
        var rank = 0
        while offset < buffer.count {
            var next = offset
            skipScore(buffer, at: &next)
            let bytes = PackedBytes.item(in: buffer, at: next)
            if PackedBytes.equals(buffer, bytes, member) {
                var at = offset
                let score = readScore(buffer, at: &at)
                return PackedLocation(bytes: offset..<bytes.upperBound, score: score, rank: rank)
            }
            offset = bytes.upperBound
            rank += 1
        }
        return nil
    }

    /// Inserts an entry whose member is not in the packed form, at its place in the order.
    func insertPacked(_ entry: ScoredMember) {
        var position = packedByteCount
        entry.member.withUnsafeBytes { wanted in
            walkPacked { range, score, bytes in
                if score < entry.score || (score == entry.score && compareBytes(bytes, wanted) < 0) { return true }
                position = range.lowerBound
                return false
            }
        }
        // Written in place (no array made and freed per entry).
        let layout = PackedEntry(score: entry.score, memberLength: entry.member.count)
        replacePacked(position..<position, length: layout.length, countChange: 1) { destination in
            entry.member.withUnsafeBytes { layout.write(score: entry.score, member: $0, to: destination) }
        }
    }

    /// An entry's packed bytes: the score, then the member. A score that is an integer below
    /// 2^53 in magnitude (most real scores) is a zigzag varint shifted left, so its first byte is
    /// even, as a listpack keeps integers small; any other score is the byte 1 and its 8 bytes.
    struct PackedEntry {
        /// The score's varint, when the score is written as one.
        let code: Int?
        let scoreSize: Int
        let length: Int

        init(score: Double, memberLength: Int) {
            code = SortedSetObject.integralScore(score)
            scoreSize = code.map { PackedBytes.encodedSize(0, prefix: $0) } ?? 9
            length = scoreSize + PackedBytes.encodedSize(memberLength)
        }

        /// Writes the entry at the start of `destination` (`length` bytes).
        func write(score: Double, member: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer) {
            if let code {
                _ = PackedBytes.writeLength(code, to: destination)
            } else {
                destination[0] = 1
                destination.storeBytes(of: score.bitPattern, toByteOffset: 1, as: UInt64.self)
            }
            PackedBytes.write(member, to: UnsafeMutableRawBufferPointer(rebasing: destination[scoreSize...]))
        }
    }

    /// Appends a member to a compact set being loaded, after every member in it: the caller
    /// checked that (score, member) comes after the last entry, keeps the set within the compact
    /// limits, and says how many bytes it made the set with (`make(bytes: reserved)`). False,
    /// and nothing added, when the member is already in the set (the payload is damaged;
    /// `knownNew`: the caller checked, and the bytes are not searched).
    public func appendNew(member: UnsafeRawBufferPointer, score: Double, reserved: Int, knownNew: Bool = false) -> Bool {
        precondition(!isConverted, "appendNew on a converted sorted set")
        let stored = Self.listpackScore(score)
        let layout = PackedEntry(score: stored, memberLength: member.count)
        return appendUnlessPresent(length: layout.length, reserved: reserved, isPresent: {
            !knownNew && Self.locate(member, in: $0) != nil
        }, fill: { layout.write(score: stored, member: member, to: $0) })
    }

    /// Moves the entries to the `Large` views, for good.
    func convert() {
        setTail(Self.converted(sortedEntries), mode: .converted)
    }

    // MARK: - Reading

    public func score(of member: Bytes) -> Double? {
        guard !isConverted else { return large.scores[member] }
        return locatePacked(member)?.score
    }

    /// The member's 0-based rank in ascending order, or nil when absent.
    public func rank(of member: Bytes) -> Int? {
        guard !isConverted else {
            guard let score = large.scores[member] else { return nil }
            return large.tree.rank(of: ScoredMember(score: score, member: member))
        }
        return locatePacked(member)?.rank
    }

    /// The entry at a 0-based ascending rank (must be in range).
    public func entry(atRank rank: Int) -> ScoredMember {
        guard !isConverted else { return large.tree.entry(atRank: rank) }
        var found: ScoredMember?
        var r = 0
        walkPacked { _, score, member in
            if r == rank { found = ScoredMember(score: score, member: Bytes(member)) }
            r += 1
            return found == nil
        }
        return found!
    }

    /// How many entries come before the first whose score `isBefore` rejects (`isBefore` must
    /// hold for a prefix of the order); see `ScoreIndex.partition(byScore:)`.
    public func partition(byScore isBefore: (Double) -> Bool) -> Int {
        guard !isConverted else { return large.tree.partition(byScore: isBefore) }
        var n = 0
        walkPacked { _, score, _ in
            guard isBefore(score) else { return false }
            n += 1
            return true
        }
        return n
    }

    /// Visits the scores from `rank` (which must be in range) up, with each one's rank, until
    /// `body` returns false; see `ScoreIndex.visitScores`.
    public func visitScores(fromRank rank: Int, _ body: (_ score: Double, _ rank: Int) -> Bool) {
        guard !isConverted else { return large.tree.visitScores(fromRank: rank, body) }
        var r = 0
        walkPacked { _, score, _ in
            defer { r += 1 }
            return r < rank || body(score, r)
        }
    }

    /// How many entries come before the first one `isBefore` rejects (`isBefore` must hold
    /// for a prefix of the order).
    public func partition(_ isBefore: (ScoredMember) -> Bool) -> Int {
        guard !isConverted else { return large.tree.partition(isBefore) }
        var n = 0
        walkPacked { _, score, member in
            guard isBefore(ScoredMember(score: score, member: Bytes(member))) else { return false }
            n += 1
            return true
        }
        return n
    }

    /// Visits entries from `rank` (which must be in range) up, or down when `reverse`, until
    /// `body` returns false.
    public func visit(fromRank rank: Int, reverse: Bool, _ body: (ScoredMember) -> Bool) {
        guard !isConverted else { return large.tree.visit(fromRank: rank, reverse: reverse, body) }
        if reverse {
            let entries = sortedEntries
            for e in entries[...rank].reversed() where !body(e) { return }
            return
        }
        var r = 0
        walkPacked { _, score, member in
            defer { r += 1 }
            return r < rank || body(ScoredMember(score: score, member: Bytes(member)))
        }
    }

    /// Every member with its score: in order while compact, else in no particular order.
    public func forEach(_ body: (Bytes, Double) -> Void) {
        guard !isConverted else { return large.scores.forEach(body) }
        walkPacked { _, score, member in
            body(Bytes(member), score)
            return true
        }
    }

    /// The entries in order.
    public var sortedEntries: [ScoredMember] {
        guard !isConverted else { return large.tree.sortedEntries }
        var all: [ScoredMember] = []
        all.reserveCapacity(count)
        walkPacked { _, score, member in
            all.append(ScoredMember(score: score, member: Bytes(member)))
            return true
        }
        return all
    }

    /// A random member; the set must not be empty.
    public func randomMember(using rng: inout FastRandom) -> Bytes {
        guard !isConverted else { return large.scores.randomKey(using: &rng)! }
        return entry(atRank: Int.random(in: 0..<count, using: &rng)).member
    }

    /// One ZSCAN step over a converted set: slots are visited from `cursor` (see
    /// `SlotMap.scan`); returns the next cursor.
    public func scan(from cursor: Int, count: Int, _ visit: (Bytes, Double) -> Void) -> Int {
        guard !isConverted else { return large.scores.scan(from: cursor, count: count, visit) }
        forEach(visit)
        return 0
    }

    // MARK: - Changes

    /// Sets a member's score (adding the member if new), as Redis's `zsetAdd` stores it: a new
    /// member that outgrows the listpack limits converts the set for good, and while the set is
    /// a listpack the score is kept the way the listpack keeps it. Returns the previous score.
    @discardableResult
    public func set(_ member: Bytes, _ score: Double, limits: EncodingLimits) -> Double? {
        if !isConverted {
            if let at = locatePacked(member) {
                // An existing member never converts the set; Redis leaves an equal score
                // alone (so 0 stays 0 when -0 is set).
                let updated = Self.listpackScore(score)
                if at.score != updated {
                    removePacked(at.bytes, entries: 1)
                    insertPacked(ScoredMember(score: updated, member: member))
                }
                return at.score
            }
            if count + 1 <= limits.zsetMaxListpackEntries && member.count <= limits.zsetMaxListpackValue {
                insertPacked(ScoredMember(score: Self.listpackScore(score), member: member))
                return nil
            }
            convert()
        }
        // Written as if the member were new (one hash lookup), corrected below if it was not.
        guard let old = large.scores.replace(member, score) else {
            large.tree.insert(ScoredMember(score: score, member: member))
            return nil
        }
        if old == score {
            if old.bitPattern != score.bitPattern { large.scores.modify(member) { $0 = old } }
        } else {
            large.tree.remove(ScoredMember(score: old, member: member))
            large.tree.insert(ScoredMember(score: score, member: member))
        }
        return old
    }

    /// Removes a member; returns its score, or nil when it was not there.
    @discardableResult
    public func remove(_ member: Bytes) -> Double? {
        guard !isConverted else {
            guard let old = large.scores.remove(member) else { return nil }
            large.tree.remove(ScoredMember(score: old, member: member))
            return old
        }
        guard let at = locatePacked(member) else { return nil }
        removePacked(at.bytes, entries: 1)
        return at.score
    }

    /// Removes the entries with ranks in `ranks` and returns them in order.
    @discardableResult
    public func removeRanks(_ ranks: Range<Int>) -> [ScoredMember] {
        var removed: [ScoredMember] = []
        removed.reserveCapacity(ranks.count)
        if !isConverted {
            var r = 0
            var first = packedByteCount
            var end = packedByteCount
            walkPacked { entry, score, member in
                if r == ranks.lowerBound { first = entry.lowerBound }
                if r == ranks.upperBound {
                    end = entry.lowerBound
                    return false
                }
                if r >= ranks.lowerBound { removed.append(ScoredMember(score: score, member: Bytes(member))) }
                r += 1
                return true
            }
            removePacked(first..<end, entries: removed.count)
            return removed
        }
        large.tree.visit(fromRank: ranks.lowerBound, reverse: false) { entry in
            guard removed.count < ranks.count else { return false }
            removed.append(entry)
            return true
        }
        for e in removed { large.scores.remove(e.member) }
        // Removing most of a big set entry by entry would rebalance the tree over and over;
        // rebuilding from what is left is linear.
        if removed.count > 64 && removed.count * 4 > large.tree.count {
            var kept = large.tree.sortedEntries
            kept.removeSubrange(ranks)
            large.tree = ScoreIndex(sorted: kept)
        } else {
            for e in removed { large.tree.remove(e) }
        }
        return removed
    }

    /// A score as a listpack holds it: Redis stores integral scores as integers there, so -0
    /// comes back as 0.
    @inlinable public static func listpackScore(_ score: Double) -> Double {
        score == 0 ? 0 : score
    }

    /// A score as a listpack stores it (Redis's `zzlInsertAt`): integral values within
    /// ±2^62 as integers, anything else as `%.17g`.
    public static func listpackScoreText(_ score: Double) -> String {
        if score >= -4.611686018427388e18 && score <= 4.611686018427388e18, let n = Int64(exactly: score) {
            return String(n)
        }
        return formatDouble17g(score)
    }
}
