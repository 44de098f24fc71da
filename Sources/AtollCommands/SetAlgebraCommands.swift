/// Set algebra: SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE.
///
/// As in Redis 7.0, every source key's type is checked before any work, a missing key is an
/// empty set, and a STORE replaces whatever the destination held (a set with no TTL) or
/// deletes it when the result is empty. Results are built the way Redis builds them, so
/// their encoding (and, for integer sets, their order) is Redis's.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

extension SetCommands {
    /// The sets under `c.args[keys]`, nil where a key is missing; nil after replying WRONGTYPE.
    /// Sources are reads (keyspace hits and misses) for the STORE forms too, as in Redis.
    private static func sources(_ c: inout CommandContext, _ keys: Range<Int>) -> [SetObject?]? {
        var sets: [SetObject?] = []
        sets.reserveCapacity(keys.count)
        for i in keys {
            let key = Bytes(c.args[i])
            switch c.readSet(key) {
            case .wrongType:
                c.wrongType()
                return nil
            case .missing: sets.append(nil)
            case .found(let set): sets.append(set)
            }
        }
        return sets
    }

    /// Replaces `destination` with `result` and publishes `event`, or deletes it when the
    /// result is empty; replies with the result's size.
    private static func store(_ c: inout CommandContext, _ destination: Bytes, _ result: SetObject, _ event: StaticString) {
        if result.count == 0 {
            c.delete(destination)
        } else {
            c.store(destination, .set(result))
            c.notify(.set, event, destination)
        }
        c.out.integer(result.count)
    }

    // MARK: - Intersection

    /// Calls `found` with each member of every set (all present), up to `limit` of them when
    /// `limit` > 0. Like Redis it walks the smallest set (the first such on a tie) in its own
    /// order, so an intset's members come out ascending.
    private static func intersect(_ sets: [SetObject], limit: Int, _ found: (Bytes) -> Void) {
        let order = sets.indices.sorted { (sets[$0].count, $0) < (sets[$1].count, $1) }
        let smallest = sets[order[0]]
        let others = order.dropFirst().map { sets[$0] }.filter { $0 !== smallest }
        var matched = 0
        for member in smallest.members where others.allSatisfy({ $0.contains(member) }) {
            found(member)
            matched += 1
            if matched == limit { return }
        }
    }

    /// The present sets, or nil when any key is missing (an empty intersection).
    private static func allPresent(_ sets: [SetObject?]) -> [SetObject]? {
        var present: [SetObject] = []
        present.reserveCapacity(sets.count)
        for set in sets {
            guard let set else { return nil }
            present.append(set)
        }
        return present
    }

    static func sinter(_ c: inout CommandContext) {
        guard let sets = sources(&c, 1..<c.args.count) else { return }
        var members: [Bytes] = []
        if let present = allPresent(sets) { intersect(present, limit: 0) { members.append($0) } }
        c.out.setHeader(members.count)
        for member in members { reply(&c, member) }
    }

    static func sintercard(_ c: inout CommandContext) {
        guard let numkeys = c.rangedArgument(1, 1, Int64.max, message: "numkeys should be greater than 0") else { return }
        if numkeys > Int64(c.args.count - 2) {
            return c.out.error("ERR Number of keys can't be greater than number of args")
        }
        let keysEnd = 2 + Int(numkeys)
        var limit: Int64 = 0
        var i = keysEnd
        while i < c.args.count {
            guard c.argIs(i, "limit") && i + 1 < c.args.count else { return c.syntaxError() }
            guard let n = c.nonNegativeArgument(i + 1, message: "LIMIT can't be negative") else { return }
            limit = n
            i += 2
        }
        guard let sets = sources(&c, 2..<keysEnd) else { return }
        var cardinality = 0
        if let present = allPresent(sets) {
            intersect(present, limit: Int(min(limit, Int64(Int.max)))) { _ in cardinality += 1 }
        }
        c.out.integer(cardinality)
    }

    static func sinterstore(_ c: inout CommandContext) {
        guard let sets = sources(&c, 2..<c.args.count) else { return }
        let result = SetObject()
        let limits = c.encodingLimits
        if let present = allPresent(sets) { intersect(present, limit: 0) { result.insert($0, limits: limits) } }
        store(&c, Bytes(c.args[1]), result, "sinterstore")
    }

    // MARK: - Union

    private static func union(_ sets: [SetObject?], _ limits: EncodingLimits) -> SetObject {
        let result = SetObject()
        for case let set? in sets { set.forEach { result.insert($0, limits: limits) } }
        return result
    }

    static func sunion(_ c: inout CommandContext) { combine(&c, storing: false, "", union) }
    static func sunionstore(_ c: inout CommandContext) { combine(&c, storing: true, "sunionstore", union) }

    // MARK: - Difference

    /// The members of the first set in none of the others. Redis picks one of two algorithms
    /// by estimated cost; the second starts from a copy of the whole first set, so its result
    /// is a hash table whenever the first set could not be an intset, and so is ours.
    private static func difference(_ sets: [SetObject?], _ limits: EncodingLimits) -> SetObject {
        let result = SetObject()
        guard let first = sets[0] else { return result }
        let others = sets.dropFirst().compactMap { $0 }
        if others.contains(where: { $0 === first }) { return result }
        for member in first.members where !others.contains(where: { $0.contains(member) }) {
            result.insert(member, limits: limits)
        }
        let firstPasses = (others.count + 1) * first.count / 2
        let memberVisits = others.reduce(first.count) { $0 + $1.count }
        if firstPasses > memberVisits && !first.wouldBeCompact(limits) { result.convertToTable() }
        return result
    }

    static func sdiff(_ c: inout CommandContext) { combine(&c, storing: false, "", difference) }
    static func sdiffstore(_ c: inout CommandContext) { combine(&c, storing: true, "sdiffstore", difference) }

    /// SUNION/SDIFF reply with the result as a set; their STORE forms put it under argument 1
    /// and publish `event`.
    private static func combine(_ c: inout CommandContext, storing: Bool, _ event: StaticString,
                                _ operation: ([SetObject?], EncodingLimits) -> SetObject) {
        guard let sets = sources(&c, (storing ? 2 : 1)..<c.args.count) else { return }
        let result = operation(sets, c.encodingLimits)
        if storing { store(&c, Bytes(c.args[1]), result, event) } else { replyAll(&c, result) }
    }
}
