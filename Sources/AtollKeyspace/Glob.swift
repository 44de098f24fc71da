/// Glob-style matching with Redis's rules (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`), used by
/// KEYS, SCAN MATCH, CONFIG GET and friends. `*` backtracks to the last star only, so the
/// cost stays O(pattern × string) whatever the pattern.
import AtollBytes
public func globMatch(_ pattern: [UInt8], _ string: [UInt8], noCase: Bool = false) -> Bool {
    let p = pattern, s = string
    // As Redis's matcher: an empty string is only matched by an empty pattern (callers treat
    // the lone "*" as match-everything before getting here).
    if s.isEmpty { return p.isEmpty }
    @inline(__always) func fold(_ c: UInt8) -> UInt8 {
        noCase && c >= 65 && c <= 90 ? c + 32 : c
    }
    /// Matches the single pattern element at `pi` against `c`; returns (matched, next pattern index).
    func matchOne(_ pi: Int, _ c: UInt8) -> (Bool, Int) {
        switch p[pi] {
        case UInt8(ascii: "?"):
            return (true, pi + 1)
        case UInt8(ascii: "\\") where pi + 1 < p.count:
            return (fold(p[pi + 1]) == fold(c), pi + 2)
        case UInt8(ascii: "["):
            var i = pi + 1
            let negate = i < p.count && p[i] == UInt8(ascii: "^")
            if negate { i += 1 }
            var matched = false
            while true {
                if i >= p.count { i -= 1; break }            // unterminated: the class runs to the end
                if p[i] == UInt8(ascii: "\\") && i + 1 < p.count {
                    i += 1
                    if fold(p[i]) == fold(c) { matched = true }
                } else if p[i] == UInt8(ascii: "]") {
                    break
                } else if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") {
                    var lo = fold(p[i]), hi = fold(p[i + 2])
                    if lo > hi { swap(&lo, &hi) }
                    let fc = fold(c)
                    if fc >= lo && fc <= hi { matched = true }
                    i += 2
                } else if fold(p[i]) == fold(c) {
                    matched = true
                }
                i += 1
            }
            return (matched != negate, i + 1)
        default:
            return (fold(p[pi]) == fold(c), pi + 1)
        }
    }
    var pi = 0, si = 0
    var starP = -1, starS = 0
    while si < s.count {
        if pi < p.count && p[pi] == UInt8(ascii: "*") {
            while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
            if pi == p.count { return true }
            starP = pi
            starS = si
            continue
        }
        if pi < p.count {
            let (ok, next) = matchOne(pi, s[si])
            if ok {
                pi = next
                si += 1
                continue
            }
        }
        guard starP >= 0 else { return false }
        starS += 1
        si = starS
        pi = starP
    }
    while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
}
