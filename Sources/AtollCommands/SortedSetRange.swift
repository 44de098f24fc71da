/// The range commands: ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES), ZRANGESTORE and the older
/// ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE, all through one
/// parser with Redis's option rules and error order.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

extension SortedSetCommands {
    enum RangeKind { case auto, rank, score, lex }
    enum Direction { case auto, forward, reverse }

    static func zrange(_ c: inout CommandContext) { rangeGeneric(&c, start: 1, store: false, .auto, .auto) }
    static func zrangestore(_ c: inout CommandContext) { rangeGeneric(&c, start: 2, store: true, .auto, .auto) }
    static func zrevrange(_ c: inout CommandContext) { rangeGeneric(&c, start: 1, store: false, .rank, .reverse) }
    static func zrangebyscore(_ c: inout CommandContext) { rangeGeneric(&c, start: 1, store: false, .score, .forward) }
    static func zrevrangebyscore(_ c: inout CommandContext) { rangeGeneric(&c, start: 1, store: false, .score, .reverse) }
    static func zrangebylex(_ c: inout CommandContext) { rangeGeneric(&c, start: 1, store: false, .lex, .forward) }
    static func zrevrangebylex(_ c: inout CommandContext) { rangeGeneric(&c, start: 1, store: false, .lex, .reverse) }

    /// What a range selects once parsed; `ranks` needs the set itself.
    private enum Selection {
        case rank(start: Int64, end: Int64)
        case score(ScoreRange)
        case lex(LexRange)
    }

    /// Redis's `zrangeGenericCommand`: `start` is the index of the source key.
    private static func rangeGeneric(_ c: inout CommandContext, start: Int, store: Bool,
                                     _ initialKind: RangeKind, _ initialDirection: Direction) {
        var kind = initialKind
        var direction = initialDirection
        var withScores = false
        var offset: Int64 = 0
        var limit: Int64 = -1
        var j = start + 3
        while j < c.args.count {
            let left = c.args.count - j - 1
            if !store && c.argIs(j, "withscores") {
                withScores = true
            } else if c.argIs(j, "limit") && left >= 2 {
                guard let o = c.integerArgument(j + 1), let l = c.integerArgument(j + 2) else { return }
                offset = o
                limit = l
                j += 2
            } else if direction == .auto && c.argIs(j, "rev") {
                direction = .reverse
            } else if kind == .auto && c.argIs(j, "bylex") {
                kind = .lex
            } else if kind == .auto && c.argIs(j, "byscore") {
                kind = .score
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        if kind == .auto { kind = .rank }
        let reverse = direction == .reverse
        if limit != -1 && kind == .rank {
            return c.out.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores && kind == .lex {
            return c.out.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        // Reverse score and lex ranges name the high end first.
        var minIndex = start + 1, maxIndex = start + 2
        if reverse && kind != .rank { swap(&minIndex, &maxIndex) }
        let selection: Selection
        switch kind {
        case .score:
            guard let r = c.scoreRange(minIndex, maxIndex) else { return }
            selection = .score(r)
        case .lex:
            guard let r = c.lexRange(minIndex, maxIndex) else { return }
            selection = .lex(r)
        default:
            guard let s = c.integerArgument(minIndex), let e = c.integerArgument(maxIndex) else { return }
            selection = .rank(start: s, end: e)
        }

        let destination = store ? Bytes(c.args[1]) : nil
        let z: SortedSetObject
        switch c.readSortedSet(Bytes(c.args[start])) {
        case .wrongType: return c.wrongType()
        case .found(let found): z = found
        case .missing:
            if let destination { return storeRange(&c, destination, from: nil, 0..<0, reverse: false, knownLength: false) }
            return c.out.arrayHeader(0)
        }

        // The ranks to emit, walking from `first` forward or backward.
        let ranks: Range<Int>
        switch selection {
        case .rank(let s, let e):
            // Reverse ranks count from the highest entry.
            let span = indexRange(start: s, end: e, count: z.count) ?? 0..<0
            ranks = reverse ? (z.count - span.upperBound)..<(z.count - span.lowerBound) : span
        case .score(let r):
            ranks = window(r.ranks(in: z), offset: offset, limit: limit, reverse: reverse)
        case .lex(let r):
            ranks = window(r.ranks(in: z, reverse: reverse), offset: offset, limit: limit, reverse: reverse)
        }
        if let destination {
            let isRank = if case .rank = selection { true } else { false }
            return storeRange(&c, destination, from: z, ranks, reverse: reverse, knownLength: isRank)
        }
        replyHeader(ranks.count, withScores: withScores, &c)
        guard !ranks.isEmpty else { return }
        let pairs = withScores && c.out.resp3
        var left = ranks.count
        z.visit(fromRank: reverse ? ranks.upperBound - 1 : ranks.lowerBound, reverse: reverse) { e in
            reply(e, withScores: withScores, pairs: pairs, &c)
            left -= 1
            return left > 0
        }
    }

    /// LIMIT applied to the ranks of a score or lex range, as Redis walks it: skip `offset`
    /// entries from the starting end (a negative offset skips everything), then take `limit`
    /// (negative: all).
    private static func window(_ span: Range<Int>, offset: Int64, limit: Int64, reverse: Bool) -> Range<Int> {
        guard offset >= 0, offset < Int64(span.count) else { return span.lowerBound..<span.lowerBound }
        let available = span.count - Int(offset)
        let take = limit < 0 ? available : min(available, Int(clamping: limit))
        if reverse {
            let high = span.upperBound - Int(offset)
            return (high - take)..<high
        }
        let low = span.lowerBound + Int(offset)
        return low..<(low + take)
    }

    /// ZRANGESTORE's destination: the entries in emission order, added one by one as Redis
    /// does (so the encoding converts at the same point), or the destination deleted when
    /// there are none.
    private static func storeRange(_ c: inout CommandContext, _ destination: Bytes, from z: SortedSetObject?,
                                   _ ranks: Range<Int>, reverse: Bool, knownLength: Bool) {
        guard let z, !ranks.isEmpty else {
            c.delete(destination)
            return c.out.integer(0)
        }
        let limits = c.encodingLimits
        let result = SortedSetObject.make(compact: !(knownLength && ranks.count > limits.zsetMaxListpackEntries))
        var left = ranks.count
        z.visit(fromRank: reverse ? ranks.upperBound - 1 : ranks.lowerBound, reverse: reverse) { e in
            result.set(e.member, e.score, limits: limits)
            left -= 1
            return left > 0
        }
        replaceWithResult(&c, destination, result, "zrangestore")
        c.out.integer(result.count)
    }

    /// Stores a non-empty computed set under `key`, replacing whatever was there (and its TTL),
    /// and publishes `event` (after `new` for a key that was not there).
    static func replaceWithResult(_ c: inout CommandContext, _ key: Bytes, _ result: SortedSetObject, _ event: StaticString) {
        c.store(key, .zset(result))
        c.notify(.zset, event, key)
        c.signalKeyReady(key)
    }
}
