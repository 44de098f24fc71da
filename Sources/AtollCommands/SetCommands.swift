/// Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SMOVE SPOP SRANDMEMBER SSCAN here,
/// and the algebra (SINTER SINTERCARD SUNION SDIFF and the STORE forms) in SetAlgebraCommands.
///
/// Checks come in Redis 7.0's order, and a set never stays empty: the last removal deletes
/// the key. Which encoding OBJECT ENCODING reports follows Redis's rules (see `SetObject`).
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum SetCommands {
    static let commands: [CommandBinding] = [
        .init("sadd", sadd),
        .init("srem", srem),
        .init("smembers", smembers),
        .init("sismember", sismember),
        .init("smismember", smismember),
        .init("scard", scard),
        .init("spop", spop),
        .init("srandmember", srandmember),
        .init("smove", smove),
        .init("sinter", sinter),
        .init("sintercard", sintercard),
        .init("sunion", sunion),
        .init("sdiff", sdiff),
        .init("sinterstore", .eventsAfterReply, sinterstore),
        .init("sunionstore", .eventsAfterReply, sunionstore),
        .init("sdiffstore", .eventsAfterReply, sdiffstore),
        .init("sscan", sscan),
    ]

    /// The set under argument 1 for a read: nil after replying WRONGTYPE or `missingReply`.
    static func readable(_ c: inout CommandContext, missing missingReply: (inout CommandContext) -> Void) -> SetObject? {
        existing(c.readSet(Bytes(c.args[1])), &c, orReply: missingReply)
    }

    /// Writes a member as a bulk string.
    static func reply(_ c: inout CommandContext, _ member: Bytes) {
        c.out.bulk(bytes: member)
    }

    /// The whole set as a RESP3 set (an array in RESP2).
    static func replyAll(_ c: inout CommandContext, _ set: SetObject) {
        c.out.setHeader(set.count)
        set.forEach { reply(&c, $0) }
    }

    // MARK: - Adding and removing

    static func sadd(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        let set: SetObject
        switch c.writeSet(key) {
        case .wrongType: return c.wrongType()
        case .found(let s): set = s
        case .missing:
            set = SetObject()
            c.create(key, .set(set))
        }
        let limits = c.encodingLimits
        var added = 0
        for i in 2..<c.args.count where set.insert(Bytes(c.args[i]), limits: limits) { added += 1 }
        if added > 0 {
            c.notify(.set, "sadd", key)
            c.modified(key)
        }
        c.out.integer(added)
    }

    static func srem(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        guard let set = existing(c.writeSet(key), &c, orReply: { $0.out.integer(0) }) else { return }
        removeArguments(&c, key, .set, "srem", remove: { set.remove($0) }, remaining: { set.count })
    }

    static func smove(_ c: inout CommandContext) {
        let sourceKey = Bytes(c.args[1]), destinationKey = Bytes(c.args[2]), member = Bytes(c.args[3])
        let sourceLookup = c.writeSet(sourceKey), destinationLookup = c.writeSet(destinationKey)
        let source: SetObject
        switch sourceLookup {
        case .missing: return c.out.integer(0)
        case .wrongType: return c.wrongType()
        case .found(let s): source = s
        }
        var destination: SetObject?
        switch destinationLookup {
        case .wrongType: return c.wrongType()
        case .missing: destination = nil
        case .found(let s): destination = s
        }
        if sourceKey == destinationKey { return c.out.integer(source.contains(member) ? 1 : 0) }
        guard source.remove(member) else { return c.out.integer(0) }
        c.deleteIfEmpty(sourceKey, count: source.count, .set, "srem")
        c.modified(sourceKey)
        if destination == nil {
            let created = SetObject()
            c.create(destinationKey, .set(created))
            destination = created
        }
        if destination!.insert(member, limits: c.encodingLimits) {
            c.notify(.set, "sadd", destinationKey)
            c.modified(destinationKey)
        }
        c.out.integer(1)
    }

    // MARK: - Reading

    static func smembers(_ c: inout CommandContext) {
        guard let set = readable(&c, missing: { $0.out.setHeader(0) }) else { return }
        replyAll(&c, set)
    }

    static func sismember(_ c: inout CommandContext) {
        guard let set = readable(&c, missing: { $0.out.integer(0) }) else { return }
        c.out.integer(set.contains(Bytes(c.args[2])) ? 1 : 0)
    }

    static func smismember(_ c: inout CommandContext) {
        let set: SetObject?
        switch c.readSet(Bytes(c.args[1])) {
        case .wrongType: return c.wrongType()
        case .missing: set = nil
        case .found(let s): set = s
        }
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count { c.out.integer(set?.contains(Bytes(c.args[i])) == true ? 1 : 0) }
    }

    static func scard(_ c: inout CommandContext) {
        guard let set = readable(&c, missing: { $0.out.integer(0) }) else { return }
        c.out.integer(set.count)
    }

    static func sscan(_ c: inout CommandContext) {
        guard CollectionScan.cursorIsValid(&c) else { return }
        guard let set = readable(&c, missing: { CollectionScan.replyEmpty(&$0) }) else { return }
        guard let options = CollectionScan.options(&c) else { return }
        var items: [Bytes] = []
        let next = set.scan(from: options.cursor, count: options.count) { member in
            if CollectionScan.matches(options.pattern, member) { items.append(member) }
        }
        CollectionScan.reply(&c, next: next, items: items)
    }

    // MARK: - Random members

    static func spop(_ c: inout CommandContext) {
        if c.args.count > 3 { return c.syntaxError() }
        if c.args.count == 3 { return spopWithCount(&c) }
        let key = Bytes(c.args[1])
        guard let set = existing(c.writeSet(key), &c, orReply: { $0.out.null() }) else { return }
        let member = set.randomMember(using: &c.keyspace.rng)
        set.remove(member)
        // Redis's order: the event, the reply, then the key's deletion.
        c.notify(.set, "spop", key)
        reply(&c, member)
        c.deleteIfEmpty(key, count: set.count)
        c.modified(key)
        if c.logsWrites { c.logAs([srem, c.args[1], member.array]) }
    }

    private static let srem = Array("SREM".utf8)

    /// SPOP with a count: distinct members, removed. Popping all but a few leaves the set
    /// encoded as Redis's rebuilt remainder would be.
    private static func spopWithCount(_ c: inout CommandContext) {
        guard let n = c.nonNegativeArgument(2) else { return }
        let key = Bytes(c.args[1])
        guard let set = existing(c.writeSet(key), &c, orReply: { $0.out.setHeader(0) }) else { return }
        if n == 0 { return c.out.setHeader(0) }
        if n >= Int64(set.count) {
            c.notify(.set, "spop", key)
            replyAll(&c, set)
            c.deleteIfEmpty(key, count: 0)
            c.modified(key)
            if c.logsWrites { c.logAs([AppendOnlyFeed.del, c.args[1]]) }
            return
        }
        let count = Int(n)
        let remaining = set.count - count
        let popped = set.randomDistinctMembers(count, using: &c.keyspace.rng)
        c.notify(.set, "spop", key)
        c.out.setHeader(count)
        for member in popped {
            set.remove(member)
            reply(&c, member)
        }
        // Redis builds a new set from the few members left when that is cheaper.
        if remaining * 5 <= count { set.reencodeAsRebuilt(c.encodingLimits) }
        c.modified(key)
        if c.logsWrites { c.logAs([srem, c.args[1]] + popped.map(\.array)) }
    }

    static func srandmember(_ c: inout CommandContext) {
        if c.args.count > 3 { return c.syntaxError() }
        if c.args.count == 3 { return srandmemberWithCount(&c) }
        guard let set = readable(&c, missing: { $0.out.null() }) else { return }
        let member = set.randomMember(using: &c.keyspace.rng)
        reply(&c, member)
    }

    /// SRANDMEMBER with a count: a negative count may repeat members, a positive one does
    /// not and is capped at the set's size. Always an array, in RESP3 too.
    private static func srandmemberWithCount(_ c: inout CommandContext) {
        guard let n = c.rangedArgument(2, -Int64.max, Int64.max) else { return }
        guard let set = readable(&c, missing: { $0.out.arrayHeader(0) }) else { return }
        if n == 0 { return c.out.arrayHeader(0) }
        if n < 0 || n == 1 {
            let count = Int(n.magnitude)
            c.out.arrayHeader(count)
            for _ in 0..<count {
                if c.out.overflowed { break }
                let member = set.randomMember(using: &c.keyspace.rng)
                reply(&c, member)
            }
            return
        }
        if n >= Int64(set.count) {
            c.out.arrayHeader(set.count)
            set.forEach { reply(&c, $0) }
            return
        }
        let picked = set.randomDistinctMembers(Int(n), using: &c.keyspace.rng)
        c.out.arrayHeader(picked.count)
        for member in picked { reply(&c, member) }
    }
}
