/// Hash commands: HSET HSETNX HMSET HGET HMGET HGETALL HKEYS HVALS HDEL HLEN HEXISTS HSTRLEN
/// HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
///
/// Checks come in Redis 7.0's order (argument errors before the key lookup where Redis does
/// so), and nothing creates a key before every argument was found valid, so an error never
/// leaves an empty hash behind. The last HDEL deletes the key.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum HashCommands {
    static let commands: [CommandBinding] = [
        .init("hset", .eventsAfterReply, hset),
        .init("hsetnx", .eventsAfterReply, hsetnx),
        .init("hget", hget),
        .init("hmget", hmget),
        .init("hmset", .eventsAfterReply, hmset),
        .init("hgetall", hgetall),
        .init("hdel", hdel),
        .init("hexists", hexists),
        .init("hlen", hlen),
        .init("hkeys", hkeys),
        .init("hvals", hvals),
        .init("hincrby", .eventsAfterReply, hincrby),
        .init("hincrbyfloat", .eventsAfterReply, hincrbyfloat),
        .init("hstrlen", hstrlen),
        .init("hrandfield", hrandfield),
        .init("hscan", hscan),
    ]

    /// The hash under argument 1 for a read: nil after replying WRONGTYPE or `missingReply`.
    private static func readable(_ c: inout CommandContext, missing missingReply: (inout CommandContext) -> Void) -> HashObject? {
        existing(c.readHash(Bytes(c.args[1])), &c, orReply: missingReply)
    }

    /// The hash under `key` for a write, created empty when missing (with room for `pairs`,
    /// field, value, ..., when they fit the compact form); nil after WRONGTYPE.
    private static func writable(_ c: inout CommandContext, _ key: Bytes, pairs: ArraySlice<[UInt8]> = []) -> HashObject? {
        switch c.writeHash(key) {
        case .found(let hash): return hash
        case .wrongType:
            c.wrongType()
            return nil
        case .missing:
            let hash = HashObject.make(bytes: HashObject.compactSize(pairs: pairs, limits: c.encodingLimits))
            c.create(key, .hash(hash))
            return hash
        }
    }

    // MARK: - Setting

    static func hset(_ c: inout CommandContext) { setFields(&c, replyOK: false) }
    static func hmset(_ c: inout CommandContext) { setFields(&c, replyOK: true) }

    private static func setFields(_ c: inout CommandContext, replyOK: Bool) {
        guard c.args.count % 2 == 0 else {
            return c.out.error("ERR wrong number of arguments for '\(c.commandName)' command")
        }
        let key = Bytes(c.args[1])
        guard let hash = writable(&c, key, pairs: c.args[2...]) else { return }
        let limits = c.encodingLimits
        var added = 0
        for i in stride(from: 2, to: c.args.count, by: 2) where hash.set(Bytes(c.args[i]), Bytes(c.args[i + 1]), limits: limits) {
            added += 1
        }
        c.notify(.hash, "hset", key)
        c.modified(key)
        replyOK ? c.out.ok() : c.out.integer(added)
    }

    static func hsetnx(_ c: inout CommandContext) {
        let key = Bytes(c.args[1]), field = Bytes(c.args[2])
        guard let hash = writable(&c, key) else { return }
        if hash.contains(field) { return c.out.integer(0) }
        hash.set(field, Bytes(c.args[3]), limits: c.encodingLimits)
        c.notify(.hash, "hset", key)
        c.modified(key)
        c.out.integer(1)
    }

    // MARK: - Reading

    static func hget(_ c: inout CommandContext) {
        guard let hash = readable(&c, missing: { $0.out.null() }) else { return }
        guard let value = hash[Bytes(c.args[2])] else { return c.out.null() }
        c.out.bulk(bytes: value)
    }

    static func hmget(_ c: inout CommandContext) {
        let hash: HashObject?
        switch c.readHash(Bytes(c.args[1])) {
        case .wrongType: return c.wrongType()
        case .missing: hash = nil
        case .found(let h): hash = h
        }
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            if let value = hash?[Bytes(c.args[i])] { c.out.bulk(bytes: value) } else { c.out.null() }
        }
    }

    static func hgetall(_ c: inout CommandContext) {
        guard let hash = readable(&c, missing: { $0.out.mapHeader(0) }) else { return }
        c.out.mapHeader(hash.count)
        hash.forEach { field, value in
            c.out.bulk(bytes: field)
            c.out.bulk(bytes: value)
        }
    }

    static func hkeys(_ c: inout CommandContext) {
        guard let hash = readable(&c, missing: { $0.out.arrayHeader(0) }) else { return }
        c.out.arrayHeader(hash.count)
        hash.forEach { field, _ in c.out.bulk(bytes: field) }
    }

    static func hvals(_ c: inout CommandContext) {
        guard let hash = readable(&c, missing: { $0.out.arrayHeader(0) }) else { return }
        c.out.arrayHeader(hash.count)
        hash.forEach { _, value in c.out.bulk(bytes: value) }
    }

    static func hlen(_ c: inout CommandContext) {
        guard let hash = readable(&c, missing: { $0.out.integer(0) }) else { return }
        c.out.integer(hash.count)
    }

    static func hexists(_ c: inout CommandContext) {
        guard let hash = readable(&c, missing: { $0.out.integer(0) }) else { return }
        c.out.integer(hash.contains(Bytes(c.args[2])) ? 1 : 0)
    }

    static func hstrlen(_ c: inout CommandContext) {
        guard let hash = readable(&c, missing: { $0.out.integer(0) }) else { return }
        c.out.integer(hash[Bytes(c.args[2])]?.count ?? 0)
    }

    // MARK: - Deleting

    static func hdel(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        guard let hash = existing(c.writeHash(key), &c, orReply: { $0.out.integer(0) }) else { return }
        removeArguments(&c, key, .hash, "hdel", remove: { hash.remove($0) }, remaining: { hash.count })
    }

    // MARK: - Counters

    /// The hash for HINCRBY/HINCRBYFLOAT (nil when missing) and the field's current value;
    /// nil after replying WRONGTYPE.
    private static func counterTarget(_ c: inout CommandContext, _ key: Bytes, _ field: Bytes) -> (hash: HashObject?, value: Bytes?)? {
        switch c.writeHash(key) {
        case .wrongType:
            c.wrongType()
            return nil
        case .missing: return (nil, nil)
        case .found(let hash): return (hash, hash[field])
        }
    }

    /// Stores a counter's new text, creating the hash if needed, and publishes `event`.
    private static func storeCounter(_ c: inout CommandContext, _ key: Bytes, _ hash: HashObject?, _ field: Bytes, _ value: Bytes,
                                     _ event: StaticString) {
        guard let target = hash ?? writable(&c, key) else { return }
        target.set(field, value, limits: c.encodingLimits)
        c.notify(.hash, event, key)
        c.modified(key)
    }

    static func hincrby(_ c: inout CommandContext) {
        guard let delta = c.integerArgument(3) else { return }
        let key = Bytes(c.args[1]), field = Bytes(c.args[2])
        guard let target = counterTarget(&c, key, field) else { return }
        let (hash, old) = target
        var current: Int64 = 0
        if let old {
            guard let n = old.strictInt64 else { return c.out.error("ERR hash value is not an integer") }
            current = n
        }
        let (result, overflow) = current.addingReportingOverflow(delta)
        if overflow { return c.out.error("ERR increment or decrement would overflow") }
        storeCounter(&c, key, hash, field, Bytes(decimal: result), "hincrby")
        c.out.integer(result)
    }

    static func hincrbyfloat(_ c: inout CommandContext) {
        guard let delta = parseLongDouble(c.args[3]) else { return c.notFloat() }
        if delta.isNaN || delta.isInfinite { return c.out.error("ERR value is NaN or Infinity") }
        let key = Bytes(c.args[1]), field = Bytes(c.args[2])
        guard let target = counterTarget(&c, key, field) else { return }
        let (hash, old) = target
        var current: Float80 = 0
        if let old {
            guard let v = parseLongDouble(old.array) else { return c.out.error("ERR hash value is not a float") }
            current = v
        }
        let result = current + delta
        if result.isNaN || result.isInfinite { return c.out.error("ERR increment would produce NaN or Infinity") }
        let text = formatLongDouble(result)
        storeCounter(&c, key, hash, field, Bytes(text), "hincrbyfloat")
        if c.logsWrites { c.logAs([Array("HSET".utf8), c.args[1], c.args[2], text]) }
        c.out.bulk(text)
    }

    // MARK: - Random fields

    static func hrandfield(_ c: inout CommandContext) {
        guard c.args.count >= 3 else {
            guard let hash = readable(&c, missing: { $0.out.null() }) else { return }
            let field = hash.randomPair(using: &c.keyspace.rng).field
            return c.out.bulk(bytes: field)
        }
        guard let n = c.rangedArgument(2, -Int64.max, Int64.max) else { return }
        if c.args.count > 4 || (c.args.count == 4 && !c.argIs(3, "withvalues")) { return c.syntaxError() }
        let withValues = c.args.count == 4
        if withValues && (n < -Int64.max / 2 || n > Int64.max / 2) { return c.out.error("ERR value is out of range") }
        guard let hash = readable(&c, missing: { $0.out.arrayHeader(0) }) else { return }
        randomFields(&c, hash, count: n, withValues: withValues)
    }

    /// HRANDFIELD with a count: a negative count may repeat fields, a positive one does not
    /// and is capped at the hash's size. WITHVALUES gives a flat list in RESP2 and
    /// [field, value] pairs in RESP3.
    private static func randomFields(_ c: inout CommandContext, _ hash: HashObject, count n: Int64, withValues: Bool) {
        let flat = withValues && !c.out.resp3
        func header(_ c: inout CommandContext, _ pairs: Int) {
            c.out.arrayHeader(flat ? pairs * 2 : pairs)
        }
        func pair(_ c: inout CommandContext, _ field: Bytes, _ value: Bytes) {
            if withValues && !flat { c.out.arrayHeader(2) }
            c.out.bulk(bytes: field)
            if withValues { c.out.bulk(bytes: value) }
        }
        if n == 0 { return c.out.arrayHeader(0) }
        if n < 0 || n == 1 {
            let count = Int(n.magnitude)
            header(&c, count)
            for _ in 0..<count {
                if c.out.overflowed { break }
                let (field, value) = hash.randomPair(using: &c.keyspace.rng)
                pair(&c, field, value)
            }
            return
        }
        let count = Int(n)
        if count >= hash.count {
            header(&c, hash.count)
            hash.forEach { pair(&c, $0, $1) }
            return
        }
        header(&c, count)
        for (field, value) in hash.randomDistinctPairs(count, using: &c.keyspace.rng) { pair(&c, field, value) }
    }

    // MARK: - HSCAN

    static func hscan(_ c: inout CommandContext) {
        guard CollectionScan.cursorIsValid(&c) else { return }
        guard let hash = readable(&c, missing: { CollectionScan.replyEmpty(&$0) }) else { return }
        guard let options = CollectionScan.options(&c) else { return }
        var items: [Bytes] = []
        let next = hash.scan(from: options.cursor, count: options.count) { field, value in
            guard CollectionScan.matches(options.pattern, field) else { return }
            items.append(field)
            items.append(value)
        }
        CollectionScan.reply(&c, next: next, items: items)
    }
}
