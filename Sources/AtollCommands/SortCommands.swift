/// SORT and SORT_RO on lists, sets and sorted sets: numeric or ALPHA order, BY a pattern
/// (`weight_*`, `h_*->field`, or a constant for no sorting), GET patterns and `#`, LIMIT,
/// ASC/DESC, and (SORT only) STORE into a list. Scores are read with C's strtod, as Redis does.
import AtollCore
import AtollBytes
import AtollKeyspace
import AtollRESP
import DequeModule
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum SortCommands {
    static let commands: [CommandBinding] = [
        .init("sort", keys: keys, keyFlags: keyFlags, sort),
        .init("sort_ro", sortReadOnly),
    ]

    /// Redis's `sortGetKeys`: the sorted key and the last STORE's key, found by scanning the
    /// options the way SORT reads them (LIMIT skips two arguments, BY and GET one), since the
    /// STORE keyword may come anywhere.
    static func keys(_ args: [[UInt8]]) -> [Int] {
        var store: Int?
        var i = 2
        while i < args.count {
            if asciiCaseInsensitiveEquals(args[i], "limit") {
                i += 2
            } else if asciiCaseInsensitiveEquals(args[i], "by") || asciiCaseInsensitiveEquals(args[i], "get") {
                i += 1
            } else if asciiCaseInsensitiveEquals(args[i], "store") && i + 1 < args.count {
                store = i + 1
            }
            i += 1
        }
        return [1] + (store.map { [$0] } ?? [])
    }

    /// The sorted key is read, the STORE key overwritten (Redis's `sortGetKeys` flags).
    static func keyFlags(_ args: [[UInt8]], _ position: Int) -> [String] {
        position == 1 ? ["RO", "access"] : ["OW", "update"]
    }

    static func sort(_ c: inout CommandContext) { run(&c, readOnly: false) }
    static func sortReadOnly(_ c: inout CommandContext) { run(&c, readOnly: true) }

    struct Options {
        var descending = false
        var alpha = false
        var limitStart = 0
        var limitCount = -1
        var by: [UInt8]?
        var dontSort = false
        var gets: [[UInt8]] = []
        var store: Bytes?
    }

    /// The options, or nil after an error reply.
    static func parse(_ c: inout CommandContext, readOnly: Bool) -> Options? {
        var options = Options()
        // BY and GET patterns may name any key: only for a user who may read them all, as in Redis.
        let mayReadEveryKey = c.command.map { c.client.user.mayReadEveryKey(running: $0, c.args) } ?? true
        var j = 2
        while j < c.args.count {
            let remaining = c.args.count - j - 1
            if c.argIs(j, "asc") {
                options.descending = false
            } else if c.argIs(j, "desc") {
                options.descending = true
            } else if c.argIs(j, "alpha") {
                options.alpha = true
            } else if c.argIs(j, "limit") && remaining >= 2 {
                guard let start = c.integerArgument(j + 1), let count = c.integerArgument(j + 2) else { return nil }
                options.limitStart = Int(start)
                options.limitCount = Int(count)
                j += 2
            } else if !readOnly && c.argIs(j, "store") && remaining >= 1 {
                options.store = Bytes(c.args[j + 1])
                j += 1
            } else if c.argIs(j, "by") && remaining >= 1 {
                options.by = c.args[j + 1]
                // A pattern without `*` (such as "nosort") means: do not sort.
                options.dontSort = !cString(c.args[j + 1]).contains(UInt8(ascii: "*"))
                if !options.dontSort && !mayReadEveryKey {
                    c.out.error("ERR BY option of SORT denied due to insufficient ACL permissions.")
                    return nil
                }
                j += 1
            } else if c.argIs(j, "get") && remaining >= 1 {
                if !mayReadEveryKey {
                    c.out.error("ERR GET option of SORT denied due to insufficient ACL permissions.")
                    return nil
                }
                options.gets.append(c.args[j + 1])
                j += 1
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return options
    }

    /// One element to sort and what it sorts by.
    struct Item {
        var element: Bytes
        var score: Double = 0
        var compareWith: [UInt8]?
    }

    static func run(_ c: inout CommandContext, readOnly: Bool) {
        guard var options = parse(&c, readOnly: readOnly) else { return }
        let source = c.lookupRead(Bytes(c.args[1]))?.value
        switch source {
        case nil, .list?, .set?, .zset?: break
        default: return c.wrongType()
        }
        // A set has no order of its own: with nothing to sort by, a script or STORE sorts it
        // by its members so the result is the same everywhere (replicas, the AOF).
        if options.dontSort, case .set? = source, options.store != nil || c.client.isScriptClient {
            options.dontSort = false
            options.alpha = true
            options.by = nil
        }
        let total = count(source)
        var start = min(max(options.limitStart, 0), total)
        let limit = min(max(options.limitCount, -1), total)
        var end = limit < 0 ? total - 1 : start + limit - 1
        if start >= total {
            start = total - 1
            end = total - 2
        }
        if end >= total { end = total - 1 }

        var items: [Item]
        if options.dontSort {
            switch source {
            case .list?, .zset?:
                // Lists and sorted sets keep their order (reversed by DESC); only the range is read.
                items = ordered(source, from: start, through: end, descending: options.descending)
                end -= start
                start = 0
            default:
                items = all(source)
            }
        } else {
            items = all(source)
            var unconvertible = false
            for i in items.indices {
                guard let pattern = options.by else {
                    // Sorting by the elements themselves: ALPHA compares them directly.
                    if !options.alpha {
                        guard let score = items[i].element.withUnsafeBytes(strtodScore) else {
                            unconvertible = true
                            continue
                        }
                        items[i].score = score
                    }
                    continue
                }
                guard let by = lookupByPattern(&c, pattern, items[i].element) else { continue }
                if options.alpha {
                    items[i].compareWith = by
                } else if let score = by.withUnsafeBytes(strtodScore) {
                    items[i].score = score
                } else {
                    unconvertible = true
                }
            }
            if unconvertible { return c.out.error("ERR One or more scores can't be converted into double") }
            let order = Comparator(alpha: options.alpha, byPattern: options.by != nil, binary: options.store != nil)
            // Positions are sorted, not the items, so that no element is retained and released
            // at every swap. Numeric order compares the scores first, from their own array, so
            // that an item is copied only for a tie.
            var positions = Array(items.indices)
            let descending = options.descending, numeric = !options.alpha
            let scores = items.map(\.score)
            scores.withUnsafeBufferPointer { scores in
                items.withUnsafeBufferPointer { items in
                    if options.by != nil && (start != 0 || end != total - 1) {
                        // Redis sorts BY a pattern with a LIMIT short of the whole with its
                        // pqsort, which decides the order of equal BY values.
                        PartialQuicksort.sort(&positions, keeping: start, through: end) { i, j in
                            let result = numeric && scores[i] != scores[j]
                                ? (scores[i] > scores[j] ? 1 : -1) : order.compare(items[i], items[j])
                            return descending ? -result : result
                        }
                    } else {
                        // Stable, as Redis's qsort (glibc's merge sort) is.
                        positions.sort { i, j in
                            if numeric && scores[i] != scores[j] { return descending ? scores[i] > scores[j] : scores[i] < scores[j] }
                            let result = descending ? order.compare(items[j], items[i]) : order.compare(items[i], items[j])
                            return result != 0 ? result < 0 : i < j
                        }
                    }
                }
            }
            items = positions.map { items[$0] }
        }

        let outputCount = max(end - start + 1, 0) * max(options.gets.count, 1)
        guard let destination = options.store else {
            c.out.arrayHeader(outputCount)
            guard start <= end else { return }
            for item in items[start...end] {
                if options.gets.isEmpty { item.element.withUnsafeBytes { c.out.bulk($0) } }
                for pattern in options.gets {
                    if let value = lookupByPattern(&c, pattern, item.element) { c.out.bulk(value) } else { c.out.null() }
                }
            }
            return
        }
        let list = ListObject()
        if start <= end {
            for item in items[start...end] {
                if options.gets.isEmpty { list.items.append(item.element) }
                for pattern in options.gets {
                    list.items.append(Bytes(lookupByPattern(&c, pattern, item.element) ?? []))
                }
            }
        }
        if list.count > 0 {
            c.create(destination, .list(list))
            c.modified(destination)
            c.notify(.list, "sortstore", destination)
        } else {
            c.delete(destination)
        }
        c.out.integer(outputCount)
    }

    static func count(_ source: Value?) -> Int {
        switch source {
        case .list(let list)?: return list.count
        case .set(let set)?: return set.count
        case .zset(let zset)?: return zset.count
        default: return 0
        }
    }

    /// Every element, unsorted.
    static func all(_ source: Value?) -> [Item] {
        switch source {
        case .list(let list)?: return list.items.map { Item(element: $0) }
        case .set(let set)?: return set.members.map { Item(element: $0) }
        case .zset(let zset)?: return zset.sortedEntries.map { Item(element: $0.member) }
        default: return []
        }
    }

    /// Positions `start...end` of a list or sorted set in its own order (from the end with
    /// `descending`).
    static func ordered(_ source: Value?, from start: Int, through end: Int, descending: Bool) -> [Item] {
        guard start <= end else { return [] }
        switch source {
        case .list(let list)?:
            let n = list.count
            return (start...end).map { Item(element: list.items[descending ? n - 1 - $0 : $0]) }
        case .zset(let zset)?:
            let n = zset.count
            return (start...end).map { Item(element: zset.entry(atRank: descending ? n - 1 - $0 : $0).member) }
        default:
            return []
        }
    }

    /// Redis's `sortCompare`: numeric by score, ties by the element's bytes; ALPHA by the BY
    /// values (missing ones first) or the elements, compared as C strings unless storing.
    struct Comparator {
        let alpha: Bool
        let byPattern: Bool
        let binary: Bool

        func compare(_ a: Item, _ b: Item) -> Int {
            if !alpha {
                if a.score > b.score { return 1 }
                if a.score < b.score { return -1 }
                return a.element == b.element ? 0 : (a.element < b.element ? -1 : 1)
            }
            if byPattern {
                switch (a.compareWith, b.compareWith) {
                case (nil, nil): return 0
                case (nil, _): return -1
                case (_, nil): return 1
                case let (x?, y?):
                    return x.withUnsafeBytes { xr in y.withUnsafeBytes { yr in order(xr, yr) } }
                }
            }
            return a.element.withUnsafeBytes { xr in b.element.withUnsafeBytes { yr in order(xr, yr) } }
        }

        /// Binary (memcmp, then length) when storing; else as C strings, up to a NUL byte.
        func order(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Int {
            guard !binary else { return compareBytes(x, y) }
            let xEnd = x.firstIndex(of: 0) ?? x.count, yEnd = y.firstIndex(of: 0) ?? y.count
            return compareBytes(UnsafeRawBufferPointer(rebasing: x[..<xEnd]), UnsafeRawBufferPointer(rebasing: y[..<yEnd]))
        }
    }

    /// The bytes before the first NUL: what C string functions see.
    static func cString(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        bytes.prefix { $0 != 0 }
    }

    /// C's strtod over the whole (C) string, as Redis reads a score: nil when characters are
    /// left over, the value is out of range, or it is not a number.
    static func strtodScore(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let length = bytes.firstIndex(of: 0) ?? bytes.count
        // Plain decimal integers of up to 15 digits are exact doubles: strtod would agree.
        if length == bytes.count, length > 0, length <= 15, let n = parseStrictInt64(bytes) { return Double(n) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer -> Double? in
            let base = buffer.baseAddress!
            if length > 0 { UnsafeMutableRawPointer(base).copyMemory(from: bytes.baseAddress!, byteCount: length) }
            base[length] = 0
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            let value = strtod(base, &end)
            guard let end, end.pointee == 0, errno != ERANGE, !value.isNaN else { return nil }
            return value
        }
    }

    /// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is
    /// replaced by the element and the key read as a string, or with `->field` as a hash field.
    /// Nil when the pattern has no `*` or the key or field is missing or of another type.
    static func lookupByPattern(_ c: inout CommandContext, _ pattern: [UInt8], _ element: Bytes) -> [UInt8]? {
        let visible = cString(pattern)
        if visible.count == 1 && visible.first == UInt8(ascii: "#") { return element.array }
        guard let star = visible.firstIndex(of: UInt8(ascii: "*")) else { return nil }
        var field: [UInt8]?
        var keyEnd = pattern.count
        if let arrow = firstArrow(in: visible, after: star), arrow + 2 < visible.endIndex {
            field = Array(pattern[(arrow + 2)...])
            keyEnd = arrow
        }
        let key = Bytes(Array(pattern[..<star]) + element.array + Array(pattern[(star + 1)..<keyEnd]))
        guard let value = c.lookupRead(key)?.value else { return nil }
        if let field {
            guard case .hash(let hash) = value else { return nil }
            return hash[Bytes(field)]?.array
        }
        guard value.isString else { return nil }
        return value.stringBytes
    }

    static func firstArrow(in text: ArraySlice<UInt8>, after star: Int) -> Int? {
        var i = star + 1
        while i + 1 < text.endIndex {
            if text[i] == UInt8(ascii: "-") && text[i + 1] == UInt8(ascii: ">") { return i }
            i += 1
        }
        return nil
    }
}
