/// Set algebra over sorted sets (and plain sets, whose members count as score 1): ZUNION
/// ZINTER ZDIFF, their STORE forms, and ZINTERCARD, following Redis's
/// `zunionInterDiffGenericCommand` down to the order in which scores are combined.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

extension SortedSetCommands {
    enum SetOperation { case union, inter, diff }
    enum Aggregate { case sum, min, max }

    /// One input: a sorted set, a set, or a missing key (empty), with its weight.
    struct Source {
        enum Content {
            case empty
            case sorted(SortedSetObject)
            case plain(SetObject)
        }
        var content: Content
        var weight = 1.0

        var count: Int {
            switch content {
            case .empty: return 0
            case .sorted(let z): return z.count
            case .plain(let s): return s.count
            }
        }

        /// The object itself, to tell when one key is given twice.
        var identity: ObjectIdentifier? {
            switch content {
            case .empty: return nil
            case .sorted(let z): return ObjectIdentifier(z)
            case .plain(let s): return ObjectIdentifier(s)
            }
        }

        /// The member's unweighted score, or nil when absent.
        func score(of member: Bytes) -> Double? {
            switch content {
            case .empty: return nil
            case .sorted(let z): return z.score(of: member)
            case .plain(let s): return s.contains(member) ? 1 : nil
            }
        }

        /// Every member with its unweighted score.
        func forEach(_ body: (Bytes, Double) -> Void) {
            switch content {
            case .empty: break
            case .sorted(let z): z.forEach(body)
            case .plain(let s): s.forEach { member in body(member, 1) }
            }
        }
    }

    static func zunion(_ c: inout CommandContext) { algebra(&c, destination: nil, numkeysIndex: 1, .union) }
    static func zinter(_ c: inout CommandContext) { algebra(&c, destination: nil, numkeysIndex: 1, .inter) }
    static func zdiff(_ c: inout CommandContext) { algebra(&c, destination: nil, numkeysIndex: 1, .diff) }
    static func zintercard(_ c: inout CommandContext) {
        algebra(&c, destination: nil, numkeysIndex: 1, .inter, cardinalityOnly: true)
    }
    static func zunionstore(_ c: inout CommandContext) { algebra(&c, destination: Bytes(c.args[1]), numkeysIndex: 2, .union) }
    static func zinterstore(_ c: inout CommandContext) { algebra(&c, destination: Bytes(c.args[1]), numkeysIndex: 2, .inter) }
    static func zdiffstore(_ c: inout CommandContext) { algebra(&c, destination: Bytes(c.args[1]), numkeysIndex: 2, .diff) }

    private static func algebra(_ c: inout CommandContext, destination: Bytes?, numkeysIndex: Int,
                                _ operation: SetOperation, cardinalityOnly: Bool = false) {
        guard let numkeys = c.integerArgument(numkeysIndex) else { return }
        if numkeys < 1 {
            return c.out.error("ERR at least 1 input key is needed for '\(c.commandName)' command")
        }
        if numkeys > Int64(c.args.count - numkeysIndex - 1) { return c.syntaxError() }
        let setCount = Int(numkeys)
        var sources: [Source] = []
        sources.reserveCapacity(setCount)
        for j in (numkeysIndex + 1)...(numkeysIndex + setCount) {
            guard let entry = c.lookupRead(Bytes(c.args[j])) else {
                sources.append(Source(content: .empty))
                continue
            }
            switch entry.value {
            case .zset(let z): sources.append(Source(content: .sorted(z)))
            case .set(let s): sources.append(Source(content: .plain(s)))
            default: return c.wrongType()
            }
        }

        var aggregate = Aggregate.sum
        var withScores = false
        var limit = 0
        var j = numkeysIndex + setCount + 1
        while j < c.args.count {
            let remaining = c.args.count - j
            if operation != .diff && !cardinalityOnly && remaining >= setCount + 1 && c.argIs(j, "weights") {
                for i in 0..<setCount {
                    guard let w = parseScore(c.args[j + 1 + i]) else { return c.out.error("ERR weight value is not a float") }
                    sources[i].weight = w
                }
                j += setCount + 1
            } else if operation != .diff && !cardinalityOnly && remaining >= 2 && c.argIs(j, "aggregate") {
                if c.argIs(j + 1, "sum") { aggregate = .sum }
                else if c.argIs(j + 1, "min") { aggregate = .min }
                else if c.argIs(j + 1, "max") { aggregate = .max }
                else { return c.syntaxError() }
                j += 2
            } else if destination == nil && !cardinalityOnly && c.argIs(j, "withscores") {
                withScores = true
                j += 1
            } else if cardinalityOnly && remaining >= 2 && c.argIs(j, "limit") {
                guard let n = parseStrictInt64(c.args[j + 1]), n >= 0 else {
                    return c.out.error("ERR LIMIT can't be negative")
                }
                limit = Int(clamping: n)
                j += 2
            } else {
                return c.syntaxError()
            }
        }

        // Smallest first, as Redis orders the inputs (a stable sort, like glibc's qsort), so
        // scores are combined in the same order.
        if operation != .diff {
            sources = sources.enumerated().sorted { a, b in
                a.element.count != b.element.count ? a.element.count < b.element.count : a.offset < b.offset
            }.map(\.element)
        }
        if cardinalityOnly { return c.out.integer(intersectionCount(sources, limit: limit)) }

        var result: [Bytes: Double]
        switch operation {
        case .union: result = union(sources, aggregate)
        case .inter: result = intersection(sources, aggregate)
        case .diff: result = difference(sources)
        }
        var entries = result.map { ScoredMember(score: $0.value, member: $0.key) }
        entries.sort { $0.precedes($1) }

        guard let destination else {
            replyHeader(entries.count, withScores: withScores, &c)
            let pairs = withScores && c.out.resp3
            for e in entries { reply(e, withScores: withScores, pairs: pairs, &c) }
            return
        }
        guard !entries.isEmpty else {
            c.delete(destination)
            return c.out.integer(0)
        }
        let limits = c.encodingLimits
        let longest = entries.reduce(0) { max($0, $1.member.count) }
        let compact = entries.count <= limits.zsetMaxListpackEntries && longest <= limits.zsetMaxListpackValue
        let event: StaticString = operation == .union ? "zunionstore" : operation == .inter ? "zinterstore" : "zdiffstore"
        replaceWithResult(&c, destination, SortedSetObject.make(sorted: entries, compact: compact), event)
        c.out.integer(entries.count)
    }

    /// Redis's `zunionInterAggregate` (a NaN sum becomes 0; MIN and MAX keep the first of equals).
    @inline(__always) private static func combine(_ target: inout Double, _ value: Double, _ aggregate: Aggregate) {
        switch aggregate {
        case .sum:
            target += value
            if target.isNaN { target = 0 }
        case .min: target = value < target ? value : target
        case .max: target = value > target ? value : target
        }
    }

    /// Weight times score, with NaN (0 × inf) read as 0.
    @inline(__always) private static func weighted(_ score: Double, _ weight: Double) -> Double {
        let s = weight * score
        return s.isNaN ? 0 : s
    }

    private static func union(_ sources: [Source], _ aggregate: Aggregate) -> [Bytes: Double] {
        var result: [Bytes: Double] = [:]
        result.reserveCapacity(sources.last?.count ?? 0)
        for source in sources {
            source.forEach { member, score in
                let value = weighted(score, source.weight)
                if let index = result.index(forKey: member) {
                    combine(&result.values[index], value, aggregate)
                } else {
                    result[member] = value
                }
            }
        }
        return result
    }

    private static func intersection(_ sources: [Source], _ aggregate: Aggregate) -> [Bytes: Double] {
        var result: [Bytes: Double] = [:]
        let first = sources[0]
        first.forEach { member, score in
            var total = weighted(score, first.weight)
            for other in sources.dropFirst() {
                // The same key again is not looked up: its score is this one (NaN kept).
                if other.identity != nil && other.identity == first.identity {
                    combine(&total, score * other.weight, aggregate)
                } else if let s = other.score(of: member) {
                    combine(&total, s * other.weight, aggregate)
                } else {
                    return
                }
            }
            result[member] = total
        }
        return result
    }

    private static func intersectionCount(_ sources: [Source], limit: Int) -> Int {
        var count = 0
        let first = sources[0]
        guard first.count > 0 else { return 0 }
        var stop = false
        first.forEach { member, _ in
            guard !stop else { return }
            for other in sources.dropFirst() where other.identity != first.identity && other.score(of: member) == nil {
                return
            }
            count += 1
            if limit > 0 && count >= limit { stop = true }
        }
        return count
    }

    private static func difference(_ sources: [Source]) -> [Bytes: Double] {
        var result: [Bytes: Double] = [:]
        let first = sources[0]
        // A set minus itself is empty.
        if sources.dropFirst().contains(where: { $0.identity != nil && $0.identity == first.identity }) { return result }
        first.forEach { member, score in
            if !sources.dropFirst().contains(where: { $0.score(of: member) != nil }) { result[member] = score }
        }
        return result
    }
}
