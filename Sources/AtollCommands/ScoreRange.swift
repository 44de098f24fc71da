/// Parsing sorted-set arguments as Redis does: scores (`strtod`), score intervals with `(`
/// exclusive bounds, and lexicographic intervals (`-`, `+`, `[x`, `(x`), plus where such an
/// interval starts and ends in a sorted set's order.
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

/// `strtod` over `bytes[start...]` read as a C string (it stops at a NUL byte, as Redis's
/// does). Returns the value, whether the whole C string was consumed, and errno.
private func cStrtod(_ bytes: [UInt8], from start: Int) -> (value: Double, consumed: Int, cStringLength: Int, errno: Int32) {
    let n = bytes.count - start
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf in
        bytes.withUnsafeBytes { src in
            if n > 0 { UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: src.baseAddress! + start, byteCount: n) }
        }
        buf[n] = 0
        let begin = UnsafePointer(buf.baseAddress!)
        var end: UnsafeMutablePointer<CChar>?
        errno = 0
        let value = strtod(begin, &end)
        let consumed = end.map { UnsafePointer($0) - begin } ?? 0
        return (value, consumed, strlen(begin), errno)
    }
}

/// Plain decimal integers of up to 15 digits are exact doubles: no strtod needed.
@inline(__always) private func smallInteger(_ bytes: [UInt8], from start: Int) -> Double? {
    let n = bytes.count - start
    guard n > 0 && n <= 15 else { return nil }
    return bytes.withUnsafeBytes { raw in
        parseStrictInt64(UnsafeRawBufferPointer(rebasing: raw[start...])).map { Double($0) }
    }
}

/// A score argument as Redis's `string2d` reads it (ZADD, ZINCRBY, WEIGHTS): the whole
/// argument, no leading space, no overflow or underflow to zero, no NaN.
func parseScore(_ bytes: [UInt8]) -> Double? {
    if let n = smallInteger(bytes, from: 0) { return n }
    guard let first = bytes.first, !(first == 32 || (first >= 9 && first <= 13)) else { return nil }
    let r = cStrtod(bytes, from: 0)
    guard r.consumed == bytes.count, !r.value.isNaN else { return nil }
    if r.errno == ERANGE && (r.value.isInfinite || r.value == 0) { return nil }
    return r.value
}

/// A score interval, as ZRANGEBYSCORE, ZCOUNT and ZREMRANGEBYSCORE take it.
struct ScoreRange {
    var min: Double
    var max: Double
    var minExclusive: Bool
    var maxExclusive: Bool

    /// Redis's `zslParseRange`: `(` makes a bound exclusive; the rest goes to `strtod`, which
    /// must reach the end of the C string (an empty bound is 0); NaN is refused.
    init?(min: [UInt8], max: [UInt8]) {
        guard let (low, lowExclusive) = Self.bound(min), let (high, highExclusive) = Self.bound(max) else { return nil }
        self.min = low
        self.max = high
        minExclusive = lowExclusive
        maxExclusive = highExclusive
    }

    private static func bound(_ bytes: [UInt8]) -> (Double, Bool)? {
        let exclusive = bytes.first == UInt8(ascii: "(")
        if let n = smallInteger(bytes, from: exclusive ? 1 : 0) { return (n, exclusive) }
        let r = cStrtod(bytes, from: exclusive ? 1 : 0)
        guard r.consumed == r.cStringLength, !r.value.isNaN else { return nil }
        return (r.value, exclusive)
    }

    @inlinable func aboveMin(_ score: Double) -> Bool { minExclusive ? score > min : score >= min }
    @inlinable func belowMax(_ score: Double) -> Bool { maxExclusive ? score < max : score <= max }

    /// The ranks of the set's entries inside the interval.
    func ranks(in z: SortedSetObject) -> Range<Int> {
        if min > max || (min == max && (minExclusive || maxExclusive)) { return 0..<0 }
        let start = z.partition(byScore: { !aboveMin($0) })
        let end = z.partition(byScore: { belowMax($0) })
        return start < end ? start..<end : start..<start
    }
}

/// A lexicographic interval, as ZRANGEBYLEX, ZLEXCOUNT and ZREMRANGEBYLEX take it.
struct LexRange {
    /// One end: `-` (below everything), `+` (above everything) or a member.
    enum Limit {
        case lowest
        case highest
        case member([UInt8])
    }

    var min: Limit
    var max: Limit
    var minExclusive: Bool
    var maxExclusive: Bool

    /// Redis's `zslParseLexRange`: `-` or `+` alone, or `[`/`(` then the member.
    init?(min: [UInt8], max: [UInt8]) {
        guard let (low, lowExclusive) = Self.limit(min), let (high, highExclusive) = Self.limit(max) else { return nil }
        self.min = low
        self.max = high
        minExclusive = lowExclusive
        maxExclusive = highExclusive
    }

    private static func limit(_ bytes: [UInt8]) -> (Limit, Bool)? {
        guard let first = bytes.first else { return nil }
        // The sign stands alone when the C string ends after it.
        let alone = bytes.count == 1 || bytes[1] == 0
        switch first {
        case UInt8(ascii: "+"): return alone ? (.highest, true) : nil
        case UInt8(ascii: "-"): return alone ? (.lowest, true) : nil
        case UInt8(ascii: "("): return (.member(Array(bytes[1...])), true)
        case UInt8(ascii: "["): return (.member(Array(bytes[1...])), false)
        default: return nil
        }
    }

    /// Redis's `sdscmplex`: `-` below and `+` above every member (and equal to themselves).
    private static func compare(_ a: Limit, _ b: Limit) -> Int {
        switch (a, b) {
        case (.lowest, .lowest), (.highest, .highest): return 0
        case (.lowest, _), (_, .highest): return -1
        case (.highest, _), (_, .lowest): return 1
        case let (.member(x), .member(y)): return compareBytes(x, y)
        }
    }

    private static func compare(_ member: Bytes, _ limit: Limit) -> Int {
        switch limit {
        case .lowest: return 1
        case .highest: return -1
        case .member(let bytes): return member.withUnsafeBytes { m in bytes.withUnsafeBytes { compareBytes(m, $0) } }
        }
    }

    func aboveMin(_ member: Bytes) -> Bool {
        let c = Self.compare(member, min)
        return minExclusive ? c > 0 : c >= 0
    }

    func belowMax(_ member: Bytes) -> Bool {
        let c = Self.compare(member, max)
        return maxExclusive ? c < 0 : c <= 0
    }

    /// The ranks of the set's entries inside the interval, found from the starting end as
    /// Redis walks it (`reverse` starts from the top). With all scores equal, as lex ranges
    /// are meant to be used, both directions agree and a binary search finds the ends; small
    /// (listpack) sets are walked like a listpack, so mixed scores give Redis's answer too.
    func ranks(in z: SortedSetObject, reverse: Bool = false) -> Range<Int> {
        let c = Self.compare(min, max)
        if c > 0 || (c == 0 && (minExclusive || maxExclusive)) || z.count == 0 { return 0..<0 }
        if !z.compact {
            let start = z.partition { !aboveMin($0.member) }
            let end = z.partition { belowMax($0.member) }
            return start < end ? start..<end : start..<start
        }
        var members: [Bytes] = []
        members.reserveCapacity(z.count)
        z.visit(fromRank: 0, reverse: false) { members.append($0.member); return true }
        guard aboveMin(members[members.count - 1]), belowMax(members[0]) else { return 0..<0 }
        if reverse {
            guard let top = members.lastIndex(where: belowMax), aboveMin(members[top]) else { return 0..<0 }
            var low = top
            while low > 0 && aboveMin(members[low - 1]) { low -= 1 }
            return low..<(top + 1)
        }
        guard let low = members.firstIndex(where: aboveMin), belowMax(members[low]) else { return 0..<0 }
        var end = low + 1
        while end < members.count && belowMax(members[end]) { end += 1 }
        return low..<end
    }
}

extension CommandContext {
    /// Arguments `minIndex` and `maxIndex` as a score interval, or nil after Redis's error.
    mutating func scoreRange(_ minIndex: Int, _ maxIndex: Int) -> ScoreRange? {
        guard let range = ScoreRange(min: args[minIndex], max: args[maxIndex]) else {
            out.error("ERR min or max is not a float")
            return nil
        }
        return range
    }

    /// Arguments `minIndex` and `maxIndex` as a lex interval, or nil after Redis's error.
    mutating func lexRange(_ minIndex: Int, _ maxIndex: Int) -> LexRange? {
        guard let range = LexRange(min: args[minIndex], max: args[maxIndex]) else {
            out.error("ERR min or max not valid string range item")
            return nil
        }
        return range
    }
}
