/// List commands: pushes and pops at both ends, ranges, indexes, LINSERT LREM LTRIM LPOS, the
/// moves (LMOVE RPOPLPUSH), LMPOP, and the blocking forms BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
///
/// Argument checks come in Redis 7.0's order (some before the key is looked up, some after),
/// since that order decides which error a client sees. A list never stays empty: the last pop
/// deletes the key. A new list key wakes clients blocked on it (`CommandContext.create`).
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP
import DequeModule

enum ListCommands {
    static let commands: [CommandBinding] = [
        .init("lpush", .eventsAfterReply, lpush),
        .init("rpush", .eventsAfterReply, rpush),
        .init("lpushx", .eventsAfterReply, lpushx),
        .init("rpushx", .eventsAfterReply, rpushx),
        .init("lpop", .eventsAfterReply, lpop),
        .init("rpop", .eventsAfterReply, rpop),
        .init("llen", llen),
        .init("lrange", lrange),
        .init("lindex", lindex),
        .init("lset", .eventsAfterReply, lset),
        .init("linsert", linsert),
        .init("lrem", lrem),
        .init("ltrim", ltrim),
        .init("lpos", lpos),
        .init("lmove", lmove),
        .init("rpoplpush", rpoplpush),
        .init("lmpop", .eventsAfterReply, lmpop),
        .init("blpop", blpop),
        .init("brpop", brpop),
        .init("blmove", blmove),
        .init("brpoplpush", brpoplpush),
        .init("blmpop", blmpop),
    ]

    enum End { case head, tail }

    // MARK: - Push

    static func lpush(_ c: inout CommandContext) { push(&c, .head, create: true) }
    static func rpush(_ c: inout CommandContext) { push(&c, .tail, create: true) }
    static func lpushx(_ c: inout CommandContext) { push(&c, .head, create: false) }
    static func rpushx(_ c: inout CommandContext) { push(&c, .tail, create: false) }

    private static func push(_ c: inout CommandContext, _ end: End, create: Bool) {
        let key = Bytes(c.args[1])
        let list: ListObject
        switch c.writeList(key) {
        case .wrongType: return c.wrongType()
        case .found(let l): list = l
        case .missing:
            guard create else { return c.out.integer(0) }
            list = ListObject()
            c.create(key, .list(list))
        }
        for i in 2..<c.args.count {
            let element = Bytes(c.args[i])
            if end == .head { list.items.prepend(element) } else { list.items.append(element) }
        }
        c.notify(.list, pushEvent(end), key)
        changed(&c, key, elements: c.args.count - 2)
        c.out.integer(list.count)
    }

    // MARK: - Pop

    static func lpop(_ c: inout CommandContext) { pop(&c, .head) }
    static func rpop(_ c: inout CommandContext) { pop(&c, .tail) }

    private static func pop(_ c: inout CommandContext, _ end: End) {
        if c.args.count > 3 { return c.out.error("ERR wrong number of arguments for '\(c.commandName)' command") }
        var count: Int64?
        if c.args.count == 3 {
            guard let n = c.nonNegativeArgument(2) else { return }
            count = n
        }
        let key = Bytes(c.args[1])
        guard let list = existing(c.writeList(key), &c, orReply: { count == nil ? $0.out.null() : $0.out.nullArray() }) else { return }
        guard let count else {
            let element = end == .head ? list.items.removeFirst() : list.items.removeLast()
            removed(&c, key, list, elements: 1, popEvent(end))
            return c.out.bulk(bytes: element)
        }
        if count == 0 { return c.out.arrayHeader(0) }
        popRange(&c, key, list, end, count: Int(min(count, Int64(list.count))))
    }

    /// Pops `count` elements from one end, replying with them in pop order.
    private static func popRange(_ c: inout CommandContext, _ key: Bytes, _ list: ListObject, _ end: End, count: Int) {
        c.out.arrayHeader(count)
        for _ in 0..<count {
            let element = end == .head ? list.items.removeFirst() : list.items.removeLast()
            c.out.bulk(bytes: element)
        }
        removed(&c, key, list, elements: count, popEvent(end))
    }

    /// After `elements` left a list: the command's `event`, then the key deleted (and `del`)
    /// if it is now empty, then `changed`.
    private static func removed(_ c: inout CommandContext, _ key: Bytes, _ list: ListObject, elements: Int,
                                _ event: StaticString) {
        c.deleteIfEmpty(key, count: list.count, .list, event)
        changed(&c, key, elements: elements)
    }

    private static func pushEvent(_ end: End) -> StaticString { end == .head ? "lpush" : "rpush" }
    private static func popEvent(_ end: End) -> StaticString { end == .head ? "lpop" : "rpop" }

    /// Touches the key's watchers and counts one change per element pushed, popped or removed
    /// (INFO's `rdb_changes_since_last_save`), as Redis does; 0 only touches.
    private static func changed(_ c: inout CommandContext, _ key: Bytes, elements: Int) {
        c.modified(key)
        c.server.dirty += elements - 1
    }

    // MARK: - Reads

    static func llen(_ c: inout CommandContext) {
        switch c.readList(Bytes(c.args[1])) {
        case .wrongType: c.wrongType()
        case .missing: c.out.integer(0)
        case .found(let list): c.out.integer(list.count)
        }
    }

    static func lrange(_ c: inout CommandContext) {
        guard let start = c.integerArgument(2), let end = c.integerArgument(3) else { return }
        guard let list = existing(c.readList(Bytes(c.args[1])), &c, orReply: { $0.out.arrayHeader(0) }) else { return }
        guard let range = indexRange(start: start, end: end, count: list.count) else { return c.out.arrayHeader(0) }
        c.out.arrayHeader(range.count)
        for element in list.items[range] { c.out.bulk(bytes: element) }
    }

    /// A list index (negative from the end) as a position, or nil when out of range.
    private static func position(_ index: Int64, count: Int) -> Int? {
        let i = index < 0 ? Int64(count) + index : index
        return i >= 0 && i < Int64(count) ? Int(i) : nil
    }

    static func lindex(_ c: inout CommandContext) {
        guard let list = existing(c.readList(Bytes(c.args[1])), &c, orReply: { $0.out.null() }) else { return }
        guard let index = c.integerArgument(2) else { return }
        guard let i = position(index, count: list.count) else { return c.out.null() }
        c.out.bulk(bytes: list.items[i])
    }

    static func lpos(_ c: inout CommandContext) {
        var rank: Int64 = 1, count: Int64 = -1, maxlen: Int64 = 0
        var j = 3
        while j < c.args.count {
            let more = j + 1 < c.args.count
            if c.argIs(j, "rank") && more {
                guard let r = c.integerArgument(j + 1) else { return }
                if r == 0 {
                    return c.out.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                }
                rank = r
            } else if c.argIs(j, "count") && more {
                guard let n = c.nonNegativeArgument(j + 1, message: "COUNT can't be negative") else { return }
                count = n
            } else if c.argIs(j, "maxlen") && more {
                guard let n = c.nonNegativeArgument(j + 1, message: "MAXLEN can't be negative") else { return }
                maxlen = n
            } else {
                return c.syntaxError()
            }
            j += 2
        }
        guard let list = existing(c.readList(Bytes(c.args[1])), &c, orReply: { count == -1 ? $0.out.null() : $0.out.arrayHeader(0) }) else { return }
        // Redis 7.0 negates a negative rank in C: RANK -9223372036854775808 stays negative, so
        // every match counts and COUNT's stop test (which overflows too) never ends the scan.
        let fromTail = rank < 0
        if fromTail { rank = 0 &- rank }
        let target = c.args[2]
        let n = list.count
        var matches: Int64 = 0
        var found: [Int] = []
        var step = 0
        while step < n && (maxlen == 0 || Int64(step) < maxlen) {
            let i = fromTail ? n - 1 - step : step
            if list.items[i].withUnsafeBytes({ $0.elementsEqual(target) }) {
                matches += 1
                if matches >= rank {
                    found.append(i)
                    if count == -1 || (count != 0 && matches &- rank &+ 1 >= count) { break }
                }
            }
            step += 1
        }
        if count == -1 {
            guard let first = found.first else { return c.out.null() }
            return c.out.integer(first)
        }
        c.out.arrayHeader(found.count)
        for i in found { c.out.integer(i) }
    }

    // MARK: - Updates

    static func lset(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        guard let list = existing(c.writeList(key), &c, orReply: { $0.out.error("ERR no such key") }) else { return }
        guard let index = c.integerArgument(2) else { return }
        guard let i = position(index, count: list.count) else { return c.out.error("ERR index out of range") }
        list.items[i] = Bytes(c.args[3])
        c.notify(.list, "lset", key)
        c.modified(key)
        c.out.ok()
    }

    static func linsert(_ c: inout CommandContext) {
        let after: Bool
        if c.argIs(2, "after") { after = true } else if c.argIs(2, "before") { after = false } else { return c.syntaxError() }
        let key = Bytes(c.args[1])
        guard let list = existing(c.writeList(key), &c, orReply: { $0.out.integer(0) }) else { return }
        let pivot = c.args[3]
        guard let i = list.items.firstIndex(where: { $0.withUnsafeBytes { $0.elementsEqual(pivot) } }) else {
            return c.out.integer(-1)
        }
        list.items.insert(Bytes(c.args[4]), at: after ? i + 1 : i)
        c.notify(.list, "linsert", key)
        c.modified(key)
        c.out.integer(list.count)
    }

    static func lrem(_ c: inout CommandContext) {
        guard let toRemove = c.integerArgument(2) else { return }
        let key = Bytes(c.args[1])
        guard let list = existing(c.writeList(key), &c, orReply: { $0.out.integer(0) }) else { return }
        let target = c.args[3]
        let limit = toRemove == 0 ? UInt64.max : toRemove.magnitude
        let fromHead = toRemove >= 0
        func matches(_ element: Bytes) -> Bool { element.withUnsafeBytes { $0.elementsEqual(target) } }
        // Find the limit-th match from the chosen end: matches between that end and it go.
        var removedCount: UInt64 = 0
        var edge = fromHead ? list.count - 1 : 0
        for i in stride(from: fromHead ? 0 : list.count - 1, to: fromHead ? list.count : -1, by: fromHead ? 1 : -1)
        where matches(list.items[i]) {
            removedCount += 1
            if removedCount == limit {
                edge = i
                break
            }
        }
        if removedCount > 0 {
            let span = fromHead ? 0...edge : edge...(list.count - 1)
            var kept = Deque<Bytes>()
            kept.reserveCapacity(list.count - Int(removedCount))
            for (i, element) in list.items.enumerated() where !(span.contains(i) && matches(element)) {
                kept.append(element)
            }
            list.items = kept
            removed(&c, key, list, elements: Int(removedCount), "lrem")
        }
        c.out.integer(Int64(removedCount))
    }

    static func ltrim(_ c: inout CommandContext) {
        guard let start = c.integerArgument(2), let end = c.integerArgument(3) else { return }
        let key = Bytes(c.args[1])
        guard let list = existing(c.writeList(key), &c, orReply: { $0.out.ok() }) else { return }
        let before = list.count
        if let range = indexRange(start: start, end: end, count: list.count) {
            list.items.removeLast(list.count - range.upperBound)
            list.items.removeFirst(range.lowerBound)
        } else {
            list.items.removeAll()
        }
        // Redis touches the key even when nothing was trimmed.
        removed(&c, key, list, elements: before - list.count, "ltrim")
        c.out.ok()
    }

    // MARK: - Moves

    private static func end(_ c: CommandContext, _ index: Int) -> End? {
        if c.argIs(index, "left") { return .head }
        if c.argIs(index, "right") { return .tail }
        return nil
    }

    static func lmove(_ c: inout CommandContext) {
        guard let from = end(c, 3), let to = end(c, 4) else { return c.syntaxError() }
        move(&c, from, to)
    }

    static func rpoplpush(_ c: inout CommandContext) { move(&c, .tail, .head) }

    /// LMOVE's body: pops from args[1] and pushes onto args[2]; replies with the element or null.
    private static func move(_ c: inout CommandContext, _ from: End, _ to: End) {
        let source = Bytes(c.args[1]), destination = Bytes(c.args[2])
        guard let list = existing(c.writeList(source), &c, orReply: { $0.out.null() }) else { return }
        var target: ListObject?
        switch c.writeList(destination) {
        case .wrongType: return c.wrongType()
        case .missing: target = nil
        case .found(let l): target = l
        }
        let element = from == .head ? list.items.removeFirst() : list.items.removeLast()
        if target == nil {
            let created = ListObject()
            c.create(destination, .list(created))
            target = created
        }
        if to == .head { target!.items.prepend(element) } else { target!.items.append(element) }
        // Pushed before the emptiness check, so rotating a one-element list keeps it. Redis
        // replies between the push's event and the pop's.
        c.notify(.list, pushEvent(to), destination)
        c.out.bulk(bytes: element)
        removed(&c, source, list, elements: 1, popEvent(from))
        changed(&c, destination, elements: 0)
    }

    // MARK: - Multi-key pops

    /// `LMPOP numkeys key... LEFT|RIGHT [COUNT n]` (and BLMPOP's tail): the keys' range and options.
    private static func parseMultiPop(_ c: inout CommandContext, numkeysIndex: Int) -> (keys: Range<Int>, end: End, count: Int64)? {
        guard let numkeys = c.rangedArgument(numkeysIndex, 1, Int64.max, message: "numkeys should be greater than 0") else { return nil }
        let whereIndex = numkeysIndex + 1 + Int(min(numkeys, Int64(c.args.count)))
        guard whereIndex < c.args.count else { c.syntaxError(); return nil }
        guard let end = end(c, whereIndex) else { c.syntaxError(); return nil }
        var count: Int64 = -1
        var j = whereIndex + 1
        while j < c.args.count {
            if count == -1 && c.argIs(j, "count") && j + 1 < c.args.count {
                guard let n = c.rangedArgument(j + 1, 1, Int64.max, message: "count should be greater than 0") else { return nil }
                count = n
                j += 2
            } else {
                c.syntaxError()
                return nil
            }
        }
        return (numkeysIndex + 1..<whereIndex, end, count == -1 ? 1 : count)
    }

    static func lmpop(_ c: inout CommandContext) {
        guard let p = parseMultiPop(&c, numkeysIndex: 1) else { return }
        if !popFirstNonEmpty(&c, keys: p.keys, p.end, count: p.count) { c.out.nullArray() }
    }

    /// Pops from the first non-empty list among `keys`, replying `[key, [elements]]` (count given)
    /// or `[key, element]`. Returns false, having replied nothing, when all are missing; a
    /// wrong-type key met first replies WRONGTYPE (and returns true).
    private static func popFirstNonEmpty(_ c: inout CommandContext, keys: Range<Int>, _ end: End, count: Int64?) -> Bool {
        for i in keys {
            let key = Bytes(c.args[i])
            switch c.writeList(key) {
            case .missing: continue
            case .wrongType:
                c.wrongType()
                return true
            case .found(let list):
                c.out.arrayHeader(2)
                c.out.bulk(bytes: key)
                // Logged as a pop from the key it took from: replayed, it takes the same.
                if let count {
                    if c.logsWrites {
                        c.logAs([Array("LMPOP".utf8), [49], c.args[i], end == .head ? left : right, Array("COUNT".utf8), Array(String(count).utf8)])
                    }
                    popRange(&c, key, list, end, count: Int(min(count, Int64(list.count))))
                } else {
                    if c.logsWrites { c.logAs([end == .head ? Array("LPOP".utf8) : Array("RPOP".utf8), c.args[i]]) }
                    let element = end == .head ? list.items.removeFirst() : list.items.removeLast()
                    removed(&c, key, list, elements: 1, popEvent(end))
                    c.out.bulk(bytes: element)
                }
                return true
            }
        }
        return false
    }

    // MARK: - Blocking

    private static let left = Array("LEFT".utf8), right = Array("RIGHT".utf8)

    static func blpop(_ c: inout CommandContext) { blockingPop(&c, .head) }
    static func brpop(_ c: inout CommandContext) { blockingPop(&c, .tail) }

    private static func blockingPop(_ c: inout CommandContext, _ end: End) {
        let last = c.args.count - 1
        guard let deadline = c.timeoutArgument(last) else { return }
        if popFirstNonEmpty(&c, keys: keysToTry(c, 1..<last), end, count: nil) { return }
        if !c.mayBlock { return c.out.nullArray() }
        c.block(on: c.args[1..<last].map { Bytes($0) }, waitsFor: .list, deadline: deadline)
    }

    static func blmpop(_ c: inout CommandContext) {
        guard let p = parseMultiPop(&c, numkeysIndex: 2) else { return }
        guard let deadline = c.timeoutArgument(1) else { return }
        if popFirstNonEmpty(&c, keys: keysToTry(c, p.keys), p.end, count: p.count) { return }
        if !c.mayBlock { return c.out.nullArray() }
        c.block(on: c.args[p.keys].map { Bytes($0) }, waitsFor: .list, deadline: deadline)
    }

    /// The key arguments a blocking pop tries: all, or while a parked client is served, only the
    /// key that woke it (Redis 7.0 serves from that key even if an earlier one has data too).
    private static func keysToTry(_ c: CommandContext, _ keys: Range<Int>) -> Range<Int> {
        guard let served = c.servedKey,
              let i = keys.first(where: { i in served.withUnsafeBytes { $0.elementsEqual(c.args[i]) } }) else { return keys }
        return i..<i + 1
    }

    static func blmove(_ c: inout CommandContext) {
        guard let from = end(c, 3), let to = end(c, 4) else { return c.syntaxError() }
        blockingMove(&c, from, to, timeoutIndex: 5)
    }

    static func brpoplpush(_ c: inout CommandContext) { blockingMove(&c, .tail, .head, timeoutIndex: 3) }

    private static func blockingMove(_ c: inout CommandContext, _ from: End, _ to: End, timeoutIndex: Int) {
        guard let deadline = c.timeoutArgument(timeoutIndex) else { return }
        switch c.writeList(Bytes(c.args[1])) {
        case .wrongType: return c.wrongType()
        case .found:
            if c.logsWrites { c.logAs([Array("LMOVE".utf8), c.args[1], c.args[2], from == .head ? left : right, to == .head ? left : right]) }
            return move(&c, from, to)
        case .missing:
            if !c.mayBlock { return c.out.null() }
            c.block(on: [Bytes(c.args[1])], waitsFor: .list, deadline: deadline)
        }
    }
}
