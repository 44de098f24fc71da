/// Popping the lowest or highest entries: ZPOPMIN ZPOPMAX ZMPOP, and the blocking BZPOPMIN
/// BZPOPMAX BZMPOP, which park the client when every key is empty (see Blocking.swift).
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

extension SortedSetCommands {
    /// How a pop reply is shaped (Redis's `genericZpopCommand` flags).
    struct PopReply {
        /// The key comes first (BZPOPMIN, ZMPOP).
        var withKey: Bool
        /// Each member/score pair is its own array (ZMPOP; ZPOPMIN with a count in RESP3).
        var nested: Bool
        /// Nothing to pop replies with a null array rather than an empty one (ZMPOP).
        var nullWhenEmpty: Bool
    }

    static func zpopmin(_ c: inout CommandContext) { popCommand(&c, max: false) }
    static func zpopmax(_ c: inout CommandContext) { popCommand(&c, max: true) }

    private static func popCommand(_ c: inout CommandContext, max: Bool) {
        if c.args.count > 3 { return c.syntaxError() }
        var count: Int64 = -1
        if c.args.count == 3 {
            guard let n = parseStrictInt64(c.args[2]), n >= 0 else {
                return c.out.error("ERR value is out of range, must be positive")
            }
            count = n
        }
        let shape = PopReply(withKey: false, nested: c.out.resp3 && count != -1, nullWhenEmpty: false)
        pop(&c, keys: [Bytes(c.args[1])], max: max, count: count, shape)
    }

    /// Pops from the first of `keys` that exists (WRONGTYPE if that one is not a sorted set).
    /// `count` -1 means a single pop without a count.
    private static func pop(_ c: inout CommandContext, keys: [Bytes], max: Bool, count: Int64, _ shape: PopReply) {
        var found: (Bytes, SortedSetObject)?
        for key in keys {
            switch c.writeSortedSet(key) {
            case .missing: continue
            case .wrongType: return c.wrongType()
            case .found(let z): found = (key, z)
            }
            break
        }
        guard let (key, z) = found else { return shape.nullWhenEmpty ? c.out.nullArray() : c.out.arrayHeader(0) }
        if count == 0 { return c.out.arrayHeader(0) }
        popFrom(&c, key, z, max: max, count: count == -1 ? 1 : Int(clamping: count), shape)
    }

    /// Pops up to `count` entries from a non-empty set and writes the reply.
    private static func popFrom(_ c: inout CommandContext, _ key: Bytes, _ z: SortedSetObject, max: Bool, count: Int, _ shape: PopReply) {
        let n = min(count, z.count)
        let popped = z.removeRanks(max ? (z.count - n)..<z.count : 0..<n)
        switch (shape.withKey, shape.nested) {
        case (false, false): c.out.arrayHeader(n * 2)
        case (false, true): c.out.arrayHeader(n)
        case (true, false):
            c.out.arrayHeader(n * 2 + 1)
            key.withUnsafeBytes { c.out.bulk($0) }
        case (true, true):
            c.out.arrayHeader(2)
            key.withUnsafeBytes { c.out.bulk($0) }
            c.out.arrayHeader(n)
        }
        // Redis publishes the event between the reply's headers and its elements, and the
        // key's deletion after them: a client subscribed to its own events sees it there.
        if n > 0 { c.notify(.zset, max ? "zpopmax" : "zpopmin", key) }
        for i in 0..<n {
            reply(popped[max ? n - 1 - i : i], withScores: true, pairs: shape.nested, &c)
        }
        if n > 0 {
            c.deleteIfEmpty(key, count: z.count)
            c.modified(key)
        }
    }

    static func zmpop(_ c: inout CommandContext) { multiPop(&c, numkeysIndex: 1, blocking: false) }
    static func bzmpop(_ c: inout CommandContext) { multiPop(&c, numkeysIndex: 2, blocking: true) }

    /// `[timeout] numkeys key... MIN|MAX [COUNT n]`.
    private static func multiPop(_ c: inout CommandContext, numkeysIndex: Int, blocking: Bool) {
        guard let numkeys = parseStrictInt64(c.args[numkeysIndex]), numkeys > 0 else {
            return c.out.error("ERR numkeys should be greater than 0")
        }
        guard numkeys < Int64(c.args.count) else { return c.syntaxError() }
        let whereIndex = numkeysIndex + Int(numkeys) + 1
        guard whereIndex < c.args.count else { return c.syntaxError() }
        let max: Bool
        if c.argIs(whereIndex, "min") { max = false } else if c.argIs(whereIndex, "max") { max = true } else {
            return c.syntaxError()
        }
        var count: Int64 = -1
        var j = whereIndex + 1
        while j < c.args.count {
            guard count == -1, c.argIs(j, "count"), j + 1 < c.args.count else { return c.syntaxError() }
            guard let n = parseStrictInt64(c.args[j + 1]), n > 0 else {
                return c.out.error("ERR count should be greater than 0")
            }
            count = n
            j += 2
        }
        if count == -1 { count = 1 }
        let keys = c.args[(numkeysIndex + 1)..<whereIndex].map { Bytes($0) }
        let shape = PopReply(withKey: true, nested: true, nullWhenEmpty: true)
        if blocking {
            blockingPop(&c, keys: keys, timeoutIndex: 1, max: max, count: count, shape)
        } else {
            pop(&c, keys: keys, max: max, count: count, shape)
        }
    }

    static func bzpopmin(_ c: inout CommandContext) { singleBlockingPop(&c, max: false) }
    static func bzpopmax(_ c: inout CommandContext) { singleBlockingPop(&c, max: true) }

    private static func singleBlockingPop(_ c: inout CommandContext, max: Bool) {
        let keys = c.args[1..<(c.args.count - 1)].map { Bytes($0) }
        let shape = PopReply(withKey: true, nested: false, nullWhenEmpty: true)
        blockingPop(&c, keys: keys, timeoutIndex: c.args.count - 1, max: max, count: -1, shape)
    }

    /// Pops from the first non-empty key, or parks the client on all of them. Re-run to serve
    /// a parked client, only the key that woke it is tried, and one that now holds another type
    /// is passed over, as Redis only serves waiters from sorted sets.
    private static func blockingPop(_ c: inout CommandContext, keys: [Bytes], timeoutIndex: Int, max: Bool,
                                    count: Int64, _ shape: PopReply) {
        guard let deadline = c.timeoutArgument(timeoutIndex) else { return }
        // Serving a parked client: only the key that woke it, as Redis 7.0 does.
        let candidates = c.servedKey.flatMap { served in keys.contains(served) ? [served] : nil } ?? keys
        for key in candidates {
            switch c.writeSortedSet(key) {
            case .missing: continue
            case .wrongType:
                if c.servingBlocked { continue }
                return c.wrongType()
            case .found(let z):
                // Logged as a pop from the key it took from: replayed, it takes the same.
                if c.logsWrites {
                    c.logAs([max ? Array("ZPOPMAX".utf8) : Array("ZPOPMIN".utf8), key.array, Array(String(count == -1 ? 1 : count).utf8)])
                }
                return popFrom(&c, key, z, max: max, count: count == -1 ? 1 : Int(clamping: count), shape)
            }
        }
        guard c.mayBlock else { return c.out.nullArray() }
        c.block(on: keys, waitsFor: .zset, deadline: deadline)
    }
}
