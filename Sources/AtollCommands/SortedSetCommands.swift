/// Sorted set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT
/// ZREMRANGEBYSCORE ZREMRANGEBYRANK ZREMRANGEBYLEX ZRANDMEMBER ZSCAN here; the range family
/// (ZRANGE ...) in SortedSetRange.swift, the pops in SortedSetPop.swift, and the set algebra
/// (ZUNION, ZINTER, ZDIFF ...) in SortedSetStore.swift.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum SortedSetCommands {
    static let commands: [CommandBinding] = [
        .init("zadd", .eventsAfterReply, zadd),
        .init("zincrby", .eventsAfterReply, zincrby),
        .init("zrem", zrem),
        .init("zcard", zcard),
        .init("zscore", zscore),
        .init("zmscore", zmscore),
        .init("zrank", zrank),
        .init("zrevrank", zrevrank),
        .init("zcount", zcount),
        .init("zlexcount", zlexcount),
        .init("zrange", zrange),
        .init("zrangestore", .eventsAfterReply, zrangestore),
        .init("zrangebyscore", zrangebyscore),
        .init("zrevrangebyscore", zrevrangebyscore),
        .init("zrangebylex", zrangebylex),
        .init("zrevrangebylex", zrevrangebylex),
        .init("zrevrange", zrevrange),
        .init("zremrangebyscore", zremrangebyscore),
        .init("zremrangebyrank", zremrangebyrank),
        .init("zremrangebylex", zremrangebylex),
        .init("zpopmin", zpopmin),
        .init("zpopmax", zpopmax),
        .init("bzpopmin", bzpopmin),
        .init("bzpopmax", bzpopmax),
        .init("zmpop", zmpop),
        .init("bzmpop", bzmpop),
        .init("zunion", zunion),
        .init("zinter", zinter),
        .init("zdiff", zdiff),
        .init("zunionstore", .eventsAfterReply, zunionstore),
        .init("zinterstore", .eventsAfterReply, zinterstore),
        .init("zdiffstore", .eventsAfterReply, zdiffstore),
        .init("zintercard", zintercard),
        .init("zrandmember", zrandmember),
        .init("zscan", zscan),
    ]

    // MARK: - Shared pieces

    /// Looks up a sorted set for reading; nil after replying `missing` (when given) or WRONGTYPE.
    static func readOrReply(_ c: inout CommandContext, _ key: Bytes,
                            missing: (inout CommandContext) -> Void) -> SortedSetObject? {
        switch c.readSortedSet(key) {
        case .found(let z): return z
        case .missing: missing(&c)
        case .wrongType: c.wrongType()
        }
        return nil
    }

    /// Looks up a sorted set for a removal; nil after replying 0 (missing) or WRONGTYPE.
    static func writeOrReply(_ c: inout CommandContext, _ key: Bytes) -> SortedSetObject? {
        switch c.writeSortedSet(key) {
        case .found(let z): return z
        case .missing: c.out.integer(0)
        case .wrongType: c.wrongType()
        }
        return nil
    }

    /// One entry of a reply: the member, then (with scores) its score; in RESP3 a pair of them
    /// is its own array when `pairs` is set, as Redis sends WITHSCORES replies.
    @inlinable static func reply(_ e: ScoredMember, withScores: Bool, pairs: Bool, _ c: inout CommandContext) {
        if pairs { c.out.arrayHeader(2) }
        e.member.withUnsafeBytes { c.out.bulk($0) }
        if withScores { c.out.double(e.score) }
    }

    /// The array header for `count` entries: RESP2 flattens member and score, RESP3 pairs them.
    @inlinable static func replyHeader(_ count: Int, withScores: Bool, _ c: inout CommandContext) {
        c.out.arrayHeader(withScores && !c.out.resp3 ? count * 2 : count)
    }

    /// After removing entries: publishes `event`, deletes the key when the set is empty (with
    /// `del`), and records the change.
    static func removed(_ count: Int, from z: SortedSetObject, key: Bytes, _ event: StaticString, _ c: inout CommandContext) {
        guard count > 0 else { return }
        c.deleteIfEmpty(key, count: z.count, .zset, event)
        c.modified(key)
    }

    // MARK: - ZADD, ZINCRBY

    static func zadd(_ c: inout CommandContext) { addGeneric(&c, increment: false) }
    static func zincrby(_ c: inout CommandContext) { addGeneric(&c, increment: true) }

    /// ZADD's options, parsed as Redis does: option words first, then score/member pairs.
    struct AddOptions {
        var nx = false, xx = false, gt = false, lt = false, ch = false, incr = false
    }

    private static func addGeneric(_ c: inout CommandContext, increment: Bool) {
        var o = AddOptions()
        o.incr = increment
        var first = 2
        while first < c.args.count {
            if c.argIs(first, "nx") { o.nx = true }
            else if c.argIs(first, "xx") { o.xx = true }
            else if c.argIs(first, "ch") { o.ch = true }
            else if c.argIs(first, "incr") { o.incr = true }
            else if c.argIs(first, "gt") { o.gt = true }
            else if c.argIs(first, "lt") { o.lt = true }
            else { break }
            first += 1
        }
        let remaining = c.args.count - first
        if remaining == 0 || remaining % 2 != 0 { return c.syntaxError() }
        if o.nx && o.xx { return c.out.error("ERR XX and NX options at the same time are not compatible") }
        if (o.gt && o.nx) || (o.lt && o.nx) || (o.gt && o.lt) {
            return c.out.error("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if o.incr && remaining > 2 { return c.out.error("ERR INCR option supports a single increment-element pair") }
        var scores: [Double] = []
        scores.reserveCapacity(remaining / 2)
        for i in stride(from: first, to: c.args.count, by: 2) {
            guard let s = parseScore(c.args[i]) else { return c.notFloat() }
            scores.append(s)
        }
        add(&c, o, scores: scores, firstMember: first + 1, memberStride: 2)
    }

    /// ZADD's work once its arguments are read (GEOADD's too): `scores[j]` goes with the
    /// member at argument `firstMember + j * memberStride`. Replies, publishes the event and
    /// wakes blocked clients as ZADD does.
    static func add(_ c: inout CommandContext, _ o: AddOptions, scores: [Double], firstMember: Int, memberStride: Int) {
        let key = Bytes(c.args[1])
        let limits = c.encodingLimits
        let z: SortedSetObject
        switch c.writeSortedSet(key) {
        case .wrongType: return c.wrongType()
        case .found(let existing): z = existing
        case .missing:
            if o.xx { return o.incr ? c.out.null() : c.out.integer(0) }
            // Room for every entry when they all fit the compact form (see HSET).
            var bytes = 0
            if scores.count <= limits.zsetMaxListpackEntries {
                for (j, score) in scores.enumerated() {
                    let length = c.args[firstMember + memberStride * j].count
                    guard length <= limits.zsetMaxListpackValue else {
                        bytes = 0
                        break
                    }
                    bytes += SortedSetObject.packedSize(memberLength: length, score: score)
                }
            }
            z = SortedSetObject.make(bytes: bytes)
            c.create(key, .zset(z))
        }
        var added = 0, updated = 0, processed = 0
        var lastScore = 0.0
        for (j, given) in scores.enumerated() {
            let member = Bytes(c.args[firstMember + memberStride * j])
            var score = given
            if let current = z.score(of: member) {
                if o.nx { continue }
                if o.incr {
                    score += current
                    if score.isNaN {
                        if added + updated > 0 {
                            c.notify(.zset, o.incr ? "zincr" : "zadd", key)
                            c.modified(key)
                        }
                        return c.out.error("ERR resulting score is not a number (NaN)")
                    }
                }
                if (o.lt && score >= current) || (o.gt && score <= current) { continue }
                processed += 1
                lastScore = score
                if score != current {
                    z.set(member, score, limits: limits)
                    updated += 1
                }
            } else {
                if o.xx { continue }
                z.set(member, score, limits: limits)
                added += 1
                processed += 1
                lastScore = score
            }
        }
        if added + updated > 0 {
            c.notify(.zset, o.incr ? "zincr" : "zadd", key)
            c.modified(key)
            if added > 0 { c.signalKeyReady(key) }
        }
        if o.incr {
            processed > 0 ? c.out.double(lastScore) : c.out.null()
        } else {
            c.out.integer(o.ch ? added + updated : added)
        }
    }

    // MARK: - Removing

    static func zrem(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        guard let z = writeOrReply(&c, key) else { return }
        var deleted = 0
        for i in 2..<c.args.count {
            if z.remove(Bytes(c.args[i])) != nil { deleted += 1 }
            if z.count == 0 { break }
        }
        removed(deleted, from: z, key: key, "zrem", &c)
        c.out.integer(deleted)
    }

    static func zremrangebyrank(_ c: inout CommandContext) {
        guard let start = c.integerArgument(2), let end = c.integerArgument(3) else { return }
        removeRange(&c, "zremrangebyrank") { z in indexRange(start: start, end: end, count: z.count) ?? 0..<0 }
    }

    static func zremrangebyscore(_ c: inout CommandContext) {
        guard let range = c.scoreRange(2, 3) else { return }
        removeRange(&c, "zremrangebyscore") { range.ranks(in: $0) }
    }

    static func zremrangebylex(_ c: inout CommandContext) {
        guard let range = c.lexRange(2, 3) else { return }
        removeRange(&c, "zremrangebylex") { range.ranks(in: $0) }
    }

    private static func removeRange(_ c: inout CommandContext, _ event: StaticString, _ ranks: (SortedSetObject) -> Range<Int>) {
        let key = Bytes(c.args[1])
        guard let z = writeOrReply(&c, key) else { return }
        let span = ranks(z)
        if !span.isEmpty { z.removeRanks(span) }
        removed(span.count, from: z, key: key, event, &c)
        c.out.integer(span.count)
    }

    // MARK: - Reading

    static func zcard(_ c: inout CommandContext) {
        guard let z = readOrReply(&c, Bytes(c.args[1]), missing: { $0.out.integer(0) }) else { return }
        c.out.integer(z.count)
    }

    static func zscore(_ c: inout CommandContext) {
        guard let z = readOrReply(&c, Bytes(c.args[1]), missing: { $0.out.null() }) else { return }
        if let s = z.score(of: Bytes(c.args[2])) { c.out.double(s) } else { c.out.null() }
    }

    static func zmscore(_ c: inout CommandContext) {
        var z: SortedSetObject?
        switch c.readSortedSet(Bytes(c.args[1])) {
        case .wrongType: return c.wrongType()
        case .missing: z = nil
        case .found(let found): z = found
        }
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let s = z?.score(of: Bytes(c.args[i])) { c.out.double(s) } else { c.out.null() }
        }
    }

    static func zrank(_ c: inout CommandContext) { rankGeneric(&c, reverse: false) }
    static func zrevrank(_ c: inout CommandContext) { rankGeneric(&c, reverse: true) }

    private static func rankGeneric(_ c: inout CommandContext, reverse: Bool) {
        guard let z = readOrReply(&c, Bytes(c.args[1]), missing: { $0.out.null() }) else { return }
        guard let rank = z.rank(of: Bytes(c.args[2])) else { return c.out.null() }
        c.out.integer(reverse ? z.count - 1 - rank : rank)
    }

    static func zcount(_ c: inout CommandContext) {
        guard let range = c.scoreRange(2, 3) else { return }
        guard let z = readOrReply(&c, Bytes(c.args[1]), missing: { $0.out.integer(0) }) else { return }
        c.out.integer(range.ranks(in: z).count)
    }

    static func zlexcount(_ c: inout CommandContext) {
        guard let range = c.lexRange(2, 3) else { return }
        guard let z = readOrReply(&c, Bytes(c.args[1]), missing: { $0.out.integer(0) }) else { return }
        c.out.integer(range.ranks(in: z).count)
    }

    // MARK: - ZRANDMEMBER

    static func zrandmember(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        guard c.args.count >= 3 else {
            guard let z = readOrReply(&c, key, missing: { $0.out.null() }) else { return }
            let member = z.randomMember(using: &c.keyspace.rng)
            return member.withUnsafeBytes { c.out.bulk($0) }
        }
        guard let n = c.integerArgument(2) else { return }
        if n == Int64.min {
            return c.out.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        if c.args.count > 4 || (c.args.count == 4 && !c.argIs(3, "withscores")) { return c.syntaxError() }
        let withScores = c.args.count == 4
        if withScores && (n < -Int64.max / 2 || n > Int64.max / 2) { return c.out.error("ERR value is out of range") }
        guard let z = readOrReply(&c, key, missing: { $0.out.arrayHeader(0) }) else { return }
        if n == 0 { return c.out.arrayHeader(0) }
        let pairs = withScores && c.out.resp3
        // Negative counts (and 1) pick with repetition.
        if n < 0 || n == 1 {
            let picks = Int(n.magnitude)
            replyHeader(picks, withScores: withScores, &c)
            // A compact set is listed once rather than walked for every pick.
            let listed = z.compact ? z.sortedEntries : []
            for _ in 0..<picks {
                if c.out.overflowed { break }
                if !listed.isEmpty {
                    reply(listed[Int.random(in: 0..<listed.count, using: &c.keyspace.rng)], withScores: withScores, pairs: pairs, &c)
                    continue
                }
                let member = z.randomMember(using: &c.keyspace.rng)
                reply(ScoredMember(score: z.score(of: member)!, member: member), withScores: withScores, pairs: pairs, &c)
            }
            return
        }
        // Asking for the whole set returns it highest first, as Redis walks it.
        if n >= z.count {
            replyHeader(z.count, withScores: withScores, &c)
            z.visit(fromRank: z.count - 1, reverse: true) { e in
                reply(e, withScores: withScores, pairs: pairs, &c)
                return true
            }
            return
        }
        let picks = Int(n)
        var chosen: [Bytes]
        if picks * 3 > z.count {
            // Most of the set: shuffle all members and keep a prefix.
            chosen = []
            chosen.reserveCapacity(z.count)
            z.forEach { member, _ in chosen.append(member) }
            for i in 0..<picks { chosen.swapAt(i, Int.random(in: i..<chosen.count, using: &c.keyspace.rng)) }
            chosen.removeSubrange(picks...)
        } else {
            var seen = Set<Bytes>()
            chosen = []
            while chosen.count < picks {
                let member = z.randomMember(using: &c.keyspace.rng)
                if seen.insert(member).inserted { chosen.append(member) }
            }
        }
        replyHeader(picks, withScores: withScores, &c)
        for member in chosen {
            reply(ScoredMember(score: z.score(of: member)!, member: member), withScores: withScores, pairs: pairs, &c)
        }
    }

    // MARK: - ZSCAN

    static func zscan(_ c: inout CommandContext) {
        guard KeyCommands.parseCursor(c.args[2]) != nil else { return c.out.error("ERR invalid cursor") }
        guard let z = readOrReply(&c, Bytes(c.args[1]), missing: { c in
            c.out.arrayHeader(2)
            c.out.bulk([UInt8(ascii: "0")])
            c.out.arrayHeader(0)
        }) else { return }
        guard let o = KeyCommands.parseScan(&c, cursorIndex: 2, allowType: false) else { return }
        var found: [ScoredMember] = []
        let next: Int
        if z.compact {
            // A listpack is scanned whole in one call, in order, as Redis does.
            z.visit(fromRank: 0, reverse: false) { e in
                if o.pattern.map({ p in e.member.withUnsafeBytes { globMatch(p, Array($0)) } }) ?? true { found.append(e) }
                return true
            }
            next = 0
        } else {
            next = z.scan(from: o.cursor, count: o.count) { member, score in
                if let p = o.pattern, !globMatch(p, member.array) { return }
                found.append(ScoredMember(score: score, member: member))
            }
        }
        c.out.arrayHeader(2)
        c.out.bulk(Array(String(next).utf8))
        c.out.arrayHeader(found.count * 2)
        for e in found {
            e.member.withUnsafeBytes { c.out.bulk($0) }
            c.out.bulk(z.compact ? SortedSetObject.listpackScoreText(e.score) : formatDouble17g(e.score))
        }
    }
}
