/// String commands: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX INCR DECR
/// INCRBY DECRBY INCRBYFLOAT APPEND STRLEN GETRANGE SUBSTR SETRANGE LCS.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum StringCommands {
    /// SET's key flags (Redis's `setGetKeys`): with GET (any later argument) the old value
    /// is read too.
    static func setKeyFlags(_ args: [[UInt8]], _ position: Int) -> [String] {
        args.dropFirst(3).contains { asciiCaseInsensitiveEquals($0, "get") } ? ["RW", "access", "update"] : ["OW", "update"]
    }

    static let commands: [CommandBinding] = [
        .init("get", get),
        .init("set", keyFlags: setKeyFlags, set),
        .init("setnx", setnx),
        .init("setex", setex),
        .init("psetex", psetex),
        .init("getset", .eventsAfterReply, getset),
        .init("getdel", .eventsAfterReply, getdel),
        .init("getex", .eventsAfterReply, getex),
        .init("mget", mget),
        .init("mset", mset),
        .init("msetnx", msetnx),
        .init("incr", incr),
        .init("decr", decr),
        .init("incrby", incrby),
        .init("decrby", decrby),
        .init("incrbyfloat", incrbyfloat),
        .init("append", append),
        .init("strlen", strlen),
        .init("getrange", getrange),
        .init("setrange", setrange),
        .init("substr", substr),
        .init("lcs", lcs),
    ]

    // MARK: - Type API

    /// Writes a string value as a bulk reply, whatever its encoding.
    static func replyString(_ value: Value, _ c: inout CommandContext) {
        switch value {
        case .string(let bytes): bytes.withUnsafeBytes { c.out.bulk($0) }
        case .int(let n): c.out.bulkDecimal(n)
        default: c.out.null()
        }
    }

    /// Reads a key that must hold a string: `.missing`, `.found`, or replies WRONGTYPE.
    enum StringLookup { case missing, found(Entry), wrongType }

    /// `forWriting`: Redis's `lookupKeyWrite` (APPEND, SETRANGE, INCRBYFLOAT), which counts no
    /// hit or miss and publishes no `keymiss`.
    static func lookupString(_ key: Bytes, _ c: inout CommandContext, forWriting: Bool = false) -> StringLookup {
        guard let entry = forWriting ? c.lookupWrite(key) : c.lookupRead(key) else { return .missing }
        switch entry.value {
        case .string, .int: return .found(entry)
        default: return .wrongType
        }
    }

    /// The expiry and condition options shared by SET and GETEX.
    struct SetOptions {
        enum Condition { case always, ifAbsent, ifPresent, compare(ValueCondition) }
        enum Expiry { case keep, persist, relative(milliseconds: Int64), absolute(milliseconds: Int64), clear }
        var condition = Condition.always
        var returnOld = false
        var expiry = Expiry.clear
        /// Argument index of the expire value, for parsing once syntax is known to be good.
        var expireArg: (index: Int, seconds: Bool, absolute: Bool)?
        var keepTTL = false
        var persist = false
    }

    /// Parses `[NX|XX|IFEQ v|IFNE v|IFDEQ d|IFDNE d] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL]` (SET) or `[EX|PX|EXAT|PXAT n|PERSIST]`
    /// (GETEX) from `start`, with Redis's rules on which options may combine.
    static func parseSetOptions(_ c: inout CommandContext, from start: Int, forGetex: Bool) -> SetOptions? {
        var o = SetOptions()
        var j = start
        let n = c.args.count
        while j < n {
            let hasNext = j + 1 < n
            let hasTime = o.expireArg != nil
            if !forGetex && c.argIs(j, "nx") && o.condition.allows(.ifAbsent) {
                o.condition = .ifAbsent
            } else if !forGetex && c.argIs(j, "xx") && o.condition.allows(.ifPresent) {
                o.condition = .ifPresent
            } else if !forGetex && hasNext, case .always = o.condition,
                      let kind = ValueCondition.Kind(keyword: c.args[j]) {
                guard let condition = ValueCondition.parse(&c, kind, argument: j + 1) else { return nil }
                o.condition = .compare(condition)
                j += 1
            } else if !forGetex && c.argIs(j, "get") {
                o.returnOld = true
            } else if !forGetex && c.argIs(j, "keepttl") && !hasTime {
                o.keepTTL = true
            } else if forGetex && c.argIs(j, "persist") && !hasTime {
                o.persist = true
            } else if hasNext && !o.keepTTL && !o.persist,
                      let kind = expireKind(c.args[j]),
                      o.expireArg == nil || (o.expireArg!.seconds == kind.seconds && o.expireArg!.absolute == kind.absolute) {
                o.expireArg = (j + 1, kind.seconds, kind.absolute)
                j += 1
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return o
    }

    private static func expireKind(_ word: [UInt8]) -> (seconds: Bool, absolute: Bool)? {
        if asciiCaseInsensitiveEquals(word, "ex") { return (true, false) }
        if asciiCaseInsensitiveEquals(word, "px") { return (false, false) }
        if asciiCaseInsensitiveEquals(word, "exat") { return (true, true) }
        if asciiCaseInsensitiveEquals(word, "pxat") { return (false, true) }
        return nil
    }

    /// Redis's `getExpireMillisecondsOrReply`: the absolute expiry time in ms, or nil after an error reply.
    static func expireTime(_ c: inout CommandContext, arg: Int, seconds: Bool, absolute: Bool) -> Int64? {
        guard var ms = c.integerArgument(arg) else { return nil }
        if ms <= 0 || (seconds && ms > Int64.max / 1000) {
            c.out.error("ERR invalid expire time in '\(c.commandName)' command")
            return nil
        }
        if seconds { ms *= 1000 }
        if !absolute {
            if ms > Int64.max - c.now {
                c.out.error("ERR invalid expire time in '\(c.commandName)' command")
                return nil
            }
            ms += c.now
        }
        return ms
    }

    // MARK: - Commands

    static func get(_ c: inout CommandContext) {
        switch lookupString(Bytes(c.args[1]), &c) {
        case .missing: c.out.null()
        case .found(let entry): replyString(entry.value, &c)
        case .wrongType: c.wrongType()
        }
    }

    static func set(_ c: inout CommandContext) {
        guard let options = parseSetOptions(&c, from: 3, forGetex: false) else { return }
        var expireAt = noExpiry
        if let e = options.expireArg {
            guard let t = expireTime(&c, arg: e.index, seconds: e.seconds, absolute: e.absolute) else { return }
            expireAt = t
        }
        let key = Bytes(c.args[1])
        // Plain SET (with or without a new expiry) needs nothing from the old value.
        if case .always = options.condition, !options.returnOld && !options.keepTTL {
            c.store(key, .encodedString(c.args[2]), expireAt: expireAt)
            notifySet(&c, key, expiring: options.expireArg != nil)
            if expireAt != noExpiry && c.logsWrites { c.logStringStore(c.args[1], c.args[2], expireAt: expireAt) }
            return c.out.ok()
        }
        let existing: Entry?
        if case .compare = options.condition {
            // Compare-and-set needs a string (or nothing) under the key, GET or not.
            switch lookupString(key, &c) {
            case .wrongType: return c.wrongType()
            case .missing: existing = nil
            case .found(let entry): existing = entry
            }
            if options.returnOld {
                if let existing { replyString(existing.value, &c) } else { c.out.null() }
            }
        } else if options.returnOld {
            switch lookupString(key, &c) {
            case .wrongType: return c.wrongType()
            case .missing: existing = nil; c.out.null()
            case .found(let entry): existing = entry; replyString(entry.value, &c)
            }
        } else {
            existing = c.lookup(key)
        }
        let proceed: Bool
        switch options.condition {
        case .always: proceed = true
        case .ifAbsent: proceed = existing == nil
        case .ifPresent: proceed = existing != nil
        case .compare(let condition): proceed = condition.holds(for: existing?.value)
        }
        if !proceed {
            if !options.returnOld { c.out.null() }
            return
        }
        if options.keepTTL, let existing { expireAt = existing.expireAt }
        c.store(key, .encodedString(c.args[2]), expireAt: expireAt)
        notifySet(&c, key, expiring: options.expireArg != nil)
        if c.logsWrites { c.logStringStore(c.args[1], c.args[2], expireAt: expireAt) }
        if !options.returnOld { c.out.ok() }
    }

    /// SET's events: `set`, then `expire` when the command gave a time.
    private static func notifySet(_ c: inout CommandContext, _ key: Bytes, expiring: Bool) {
        c.notify(.string, "set", key)
        if expiring { c.notify(.generic, "expire", key) }
    }

    static func setnx(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        if c.lookup(key) != nil { return c.out.integer(0) }
        c.store(key, .encodedString(c.args[2]))
        c.notify(.string, "set", key)
        c.out.integer(1)
    }

    static func setex(_ c: inout CommandContext) { setWithExpiry(&c, seconds: true) }
    static func psetex(_ c: inout CommandContext) { setWithExpiry(&c, seconds: false) }

    private static func setWithExpiry(_ c: inout CommandContext, seconds: Bool) {
        guard let at = expireTime(&c, arg: 2, seconds: seconds, absolute: false) else { return }
        c.store(Bytes(c.args[1]), .encodedString(c.args[3]), expireAt: at)
        notifySet(&c, Bytes(c.args[1]), expiring: true)
        if c.logsWrites { c.logStringStore(c.args[1], c.args[3], expireAt: at) }
        c.out.ok()
    }

    static func getset(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        switch lookupString(key, &c) {
        case .wrongType: return c.wrongType()
        case .missing: c.out.null()
        case .found(let entry): replyString(entry.value, &c)
        }
        c.store(key, .encodedString(c.args[2]))
        c.notify(.string, "set", key)
    }

    static func getdel(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        switch lookupString(key, &c) {
        case .wrongType: c.wrongType()
        case .missing: c.out.null()
        case .found(let entry):
            replyString(entry.value, &c)
            c.delete(key)
        }
    }

    static func getex(_ c: inout CommandContext) {
        guard let options = parseSetOptions(&c, from: 2, forGetex: true) else { return }
        let key = Bytes(c.args[1])
        let entry: Entry
        switch lookupString(key, &c) {
        case .wrongType: return c.wrongType()
        case .missing: return c.out.null()
        case .found(let e): entry = e
        }
        var newExpiry: Int64?
        if let e = options.expireArg {
            guard let t = expireTime(&c, arg: e.index, seconds: e.seconds, absolute: e.absolute) else { return }
            newExpiry = t
        }
        replyString(entry.value, &c)
        if let t = newExpiry {
            if options.expireArg!.absolute && t <= c.now {
                c.delete(key)
                if c.logsWrites { c.logAs([AppendOnlyFeed.del, c.args[1]]) }
            } else {
                c.setExpiry(key, t)
                c.notify(.generic, "expire", key)
                if c.logsWrites { c.logAs([AppendOnlyFeed.pexpireat, c.args[1], Array(String(t).utf8)]) }
            }
        } else if options.persist && entry.expireAt != noExpiry {
            c.setExpiry(key, noExpiry)
            c.notify(.generic, "persist", key)
            if c.logsWrites { c.logAs([Array("PERSIST".utf8), c.args[1]]) }
        }
    }

    static func mget(_ c: inout CommandContext) {
        c.out.arrayHeader(c.args.count - 1)
        for i in 1..<c.args.count {
            if let entry = c.lookupRead(Bytes(c.args[i])) {
                switch entry.value {
                case .string, .int: replyString(entry.value, &c)
                default: c.out.null()
                }
            } else {
                c.out.null()
            }
        }
    }

    static func mset(_ c: inout CommandContext) {
        guard c.args.count % 2 == 1 else { return c.out.error("ERR wrong number of arguments for '\(c.commandName)' command") }
        storePairs(&c)
        c.out.ok()
    }

    static func msetnx(_ c: inout CommandContext) {
        guard c.args.count % 2 == 1 else { return c.out.error("ERR wrong number of arguments for '\(c.commandName)' command") }
        for i in stride(from: 1, to: c.args.count, by: 2) where c.lookup(Bytes(c.args[i])) != nil {
            return c.out.integer(0)
        }
        storePairs(&c)
        c.out.integer(1)
    }

    /// MSET's body: each key in turn stored and its `set` published.
    private static func storePairs(_ c: inout CommandContext) {
        for i in stride(from: 1, to: c.args.count, by: 2) {
            let key = Bytes(c.args[i])
            c.store(key, .encodedString(c.args[i + 1]))
            c.notify(.string, "set", key)
        }
    }

    // MARK: Counters

    static func incr(_ c: inout CommandContext) { incrementBy(&c, 1) }
    static func decr(_ c: inout CommandContext) { incrementBy(&c, -1) }

    static func incrby(_ c: inout CommandContext) {
        guard let n = c.integerArgument(2) else { return }
        incrementBy(&c, n)
    }

    static func decrby(_ c: inout CommandContext) {
        guard let n = c.integerArgument(2) else { return }
        if n == Int64.min { return c.out.error("ERR decrement would overflow") }
        incrementBy(&c, -n)
    }

    private enum Increment { case done(Int64), notInteger, overflow, wrongType }

    private static func incrementBy(_ c: inout CommandContext, _ delta: Int64) {
        let key = Bytes(c.args[1])
        // The common case, an existing integer, is changed in place with one lookup.
        var expired = 0
        let outcome = c.keyspace.databases[c.client.db].modifyLive(key, hash: c.hintedHash(key), now: c.now, expired: &expired, touch: c.touchClock) { entry -> Increment in
            let current: Int64
            switch entry.value {
            case .int(let n): current = n
            case .string(let bytes):
                guard let n = bytes.withUnsafeBytes({ parseStrictInt64($0) }) else { return .notInteger }
                current = n
            default: return .wrongType
            }
            let (result, overflow) = current.addingReportingOverflow(delta)
            if overflow { return .overflow }
            entry.value = .int(result)
            entry.rawEncoding = false
            return .done(result)
        }
        if expired > 0 { c.noteExpired(key, db: c.client.db) }
        switch outcome {
        case .done(let n)?:
            c.modified(key)
            c.notify(.string, "incrby", key)
            return c.out.integer(n)
        case .notInteger?: return c.notInteger()
        case .wrongType?: return c.wrongType()
        case .overflow?: return c.out.error("ERR increment or decrement would overflow")
        case nil: break
        }
        // Missing key: it starts from 0.
        c.store(key, .int(delta))
        c.notify(.string, "incrby", key)
        c.out.integer(delta)
    }

    static func incrbyfloat(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        var current: Float80 = 0
        var expireAt = noExpiry
        switch lookupString(key, &c, forWriting: true) {
        case .wrongType: return c.wrongType()
        case .missing: break
        case .found(let entry):
            expireAt = entry.expireAt
            switch entry.value {
            case .int(let n): current = Float80(n)
            case .string(let bytes):
                guard let v = parseLongDouble(bytes.array) else { return c.notFloat() }
                current = v
            default: return c.wrongType()
            }
        }
        guard let delta = parseLongDouble(c.args[2]) else { return c.notFloat() }
        let result = current + delta
        if result.isNaN || result.isInfinite { return c.out.error("ERR increment would produce NaN or Infinity") }
        let text = formatLongDouble(result)
        c.store(key, .string(Bytes(text)), expireAt: expireAt)
        c.notify(.string, "incrbyfloat", key)
        if c.logsWrites { c.logAs([AppendOnlyFeed.set, c.args[1], text, Array("KEEPTTL".utf8)]) }
        c.out.bulk(text)
    }

    // MARK: Ranges and lengths

    static func append(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        switch lookupString(key, &c, forWriting: true) {
        case .wrongType: return c.wrongType()
        case .missing:
            c.store(key, .string(Bytes(c.args[2])), raw: true)
            c.notify(.string, "append", key)
            c.out.integer(c.args[2].count)
        case .found(let entry):
            let oldLength = stringLength(entry.value)
            guard checkStringLength(&c, oldLength, c.args[2].count) else { return }
            let suffix = c.args[2]
            let newLength = c.changeStringInPlace(key) { bytes in
                bytes.append(contentsOf: suffix)
                return bytes.count
            }
            c.modified(key)
            c.notify(.string, "append", key)
            c.out.integer(newLength)
        }
    }

    static func stringLength(_ value: Value) -> Int {
        switch value {
        case .string(let b): return b.count
        case .int(let n): return decimalLength(n)
        default: return 0
        }
    }

    /// Refuses results longer than `proto-max-bulk-len`.
    static func checkStringLength(_ c: inout CommandContext, _ size: Int, _ append: Int) -> Bool {
        let (total, overflow) = size.addingReportingOverflow(append)
        if overflow || total > c.server.config.protoMaxBulkLen {
            c.out.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            return false
        }
        return true
    }

    static func strlen(_ c: inout CommandContext) {
        switch lookupString(Bytes(c.args[1]), &c) {
        case .wrongType: c.wrongType()
        case .missing: c.out.integer(0)
        case .found(let entry): c.out.integer(stringLength(entry.value))
        }
    }

    static func getrange(_ c: inout CommandContext) {
        guard var start = c.integerArgument(2), var end = c.integerArgument(3) else { return }
        let bytes: [UInt8]
        switch lookupString(Bytes(c.args[1]), &c) {
        case .wrongType: return c.wrongType()
        case .missing: return c.out.bulk([])
        case .found(let entry): bytes = entry.value.stringBytes
        }
        let length = Int64(bytes.count)
        if start < 0 && end < 0 && start > end { return c.out.bulk([]) }
        if start < 0 { start += length }
        if end < 0 { end += length }
        start = max(start, 0)
        end = max(end, 0)
        if end >= length { end = length - 1 }
        if start > end || length == 0 { return c.out.bulk([]) }
        bytes.withUnsafeBytes { c.out.bulk(UnsafeRawBufferPointer(rebasing: $0[Int(start)...Int(end)])) }
    }

    static func substr(_ c: inout CommandContext) { getrange(&c) }

    static func setrange(_ c: inout CommandContext) {
        guard let offset64 = c.integerArgument(2) else { return }
        if offset64 < 0 { return c.out.error("ERR offset is out of range") }
        let key = Bytes(c.args[1])
        let patch = c.args[3]
        var bytes: [UInt8]
        var expireAt = noExpiry
        switch lookupString(key, &c, forWriting: true) {
        case .wrongType: return c.wrongType()
        case .missing:
            if patch.isEmpty { return c.out.integer(0) }
            guard checkStringLength(&c, Int(offset64), patch.count) else { return }
            bytes = []
        case .found(let entry):
            bytes = entry.value.stringBytes
            if patch.isEmpty { return c.out.integer(bytes.count) }
            guard checkStringLength(&c, Int(offset64), patch.count) else { return }
            expireAt = entry.expireAt
        }
        let offset = Int(offset64)
        if bytes.count < offset + patch.count {
            bytes.append(contentsOf: repeatElement(0, count: offset + patch.count - bytes.count))
        }
        bytes.replaceSubrange(offset..<(offset + patch.count), with: patch)
        c.store(key, .string(Bytes(bytes)), expireAt: expireAt, raw: true)
        c.notify(.string, "setrange", key)
        c.out.integer(bytes.count)
    }

    // MARK: LCS

    static func lcs(_ c: inout CommandContext) {
        let ea = c.lookupRead(Bytes(c.args[1])), eb = c.lookupRead(Bytes(c.args[2]))
        if ea?.value.isString == false || eb?.value.isString == false {
            return c.out.error("ERR The specified keys must contain string values")
        }
        let a = ea?.value.stringBytes ?? [], b = eb?.value.stringBytes ?? []
        var wantLength = false, wantIndexes = false, withMatchLength = false
        var minMatchLength: Int64 = 0
        var j = 3
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.argIs(j, "idx") { wantIndexes = true }
            else if c.argIs(j, "len") { wantLength = true }
            else if c.argIs(j, "withmatchlen") { withMatchLength = true }
            else if c.argIs(j, "minmatchlen") && more > 0 {
                guard let n = c.integerArgument(j + 1) else { return }
                minMatchLength = max(n, 0)
                j += 1
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        if wantIndexes && wantLength {
            return c.out.error("ERR If you want both the length and indexes, please just use IDX.")
        }
        // The table needs (|a|+1)×(|b|+1) 32-bit cells; Redis refuses more than proto-max-bulk-len bytes.
        let (cells, o1) = (a.count + 1).multipliedReportingOverflow(by: b.count + 1)
        let (tableBytes, o2) = cells.multipliedReportingOverflow(by: 4)
        if o1 || o2 || tableBytes > c.server.config.protoMaxBulkLen {
            return c.out.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        let table = LCSTable(a, b)
        let total = table[a.count, b.count]
        if wantLength && !wantIndexes { return c.out.integer(Int(total)) }
        // Walk back from the end, collecting the common string and the matching ranges.
        var result = [UInt8](repeating: 0, count: Int(total))
        var matches: [(aStart: Int, aEnd: Int, bStart: Int, bEnd: Int)] = []
        var remaining = Int(total)
        var i = a.count, k = b.count
        var rangeOpen = false
        var aStart = 0, aEnd = 0, bStart = 0, bEnd = 0
        while i > 0 && k > 0 {
            var emit = false
            if a[i - 1] == b[k - 1] {
                result[remaining - 1] = a[i - 1]
                if !rangeOpen {
                    rangeOpen = true
                    aStart = i - 1; aEnd = i - 1; bStart = k - 1; bEnd = k - 1
                } else if aStart == i && bStart == k {
                    aStart -= 1
                    bStart -= 1
                } else {
                    emit = true
                }
                if aStart == 0 || bStart == 0 { emit = true }
                remaining -= 1; i -= 1; k -= 1
            } else {
                if table[i - 1, k] > table[i, k - 1] { i -= 1 } else { k -= 1 }
                if rangeOpen { emit = true }
            }
            if emit {
                if minMatchLength == 0 || aEnd - aStart + 1 >= minMatchLength {
                    matches.append((aStart, aEnd, bStart, bEnd))
                }
                rangeOpen = false
            }
        }
        guard wantIndexes else { return c.out.bulk(result) }
        c.out.mapHeader(2)
        c.out.bulk("matches")
        c.out.arrayHeader(matches.count)
        for m in matches {
            c.out.arrayHeader(withMatchLength ? 3 : 2)
            c.out.arrayHeader(2); c.out.integer(m.aStart); c.out.integer(m.aEnd)
            c.out.arrayHeader(2); c.out.integer(m.bStart); c.out.integer(m.bEnd)
            if withMatchLength { c.out.integer(m.aEnd - m.aStart + 1) }
        }
        c.out.bulk("len")
        c.out.integer(Int(total))
    }

    /// The dynamic-programming table of LCS lengths for every pair of prefixes.
    struct LCSTable {
        let width: Int
        var cells: [UInt32]
        init(_ a: [UInt8], _ b: [UInt8]) {
            width = b.count + 1
            cells = [UInt32](repeating: 0, count: (a.count + 1) * width)
            for i in 1...max(a.count, 1) where i <= a.count {
                for k in 1...max(b.count, 1) where k <= b.count {
                    cells[i * width + k] = a[i - 1] == b[k - 1]
                        ? cells[(i - 1) * width + k - 1] + 1
                        : max(cells[(i - 1) * width + k], cells[i * width + k - 1])
                }
            }
        }
        subscript(i: Int, k: Int) -> UInt32 { cells[i * width + k] }
    }
}

extension CommandContext {
    /// Changes the string value of an existing key in place (APPEND, SETBIT, BITFIELD, PFADD,
    /// ...): its bytes are taken out of the table, so that the change copies nothing, and put
    /// back with the key's expiry. The key must exist (the caller looked it up under the same
    /// lock). The caller marks the key modified when it changed.
    mutating func changeStringInPlace<R>(_ key: Bytes, _ body: (inout [UInt8]) -> R) -> R {
        var result: R?
        keyspace.databases[client.db].updateValueInPlace(key) { value in result = value.changeString(body) }
        return result!
    }
}
