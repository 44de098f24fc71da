/// Splits a line into arguments the way Redis's `sdssplitargs` does: used for inline commands
/// and for configuration files. Double quotes understand `\n \r \t \b \a \\ \" \xHH`; single
/// quotes understand `\'`; a closing quote must be followed by white space or the end.
/// A NUL byte ends the line, as it does for the C original. Returns nil for unbalanced quotes.
import AtollBytes
public func splitArguments(_ line: UnsafeRawBufferPointer) -> [[UInt8]]? {
    if !needsQuoteRules(line) {
        var result: [[UInt8]] = []
        forEachUnquotedWord(line) { result.append(Array(UnsafeRawBufferPointer(rebasing: line[$0]))) }
        return result
    }
    let n = line.count
    @inline(__always) func at(_ i: Int) -> UInt8 { i < n ? line[i] : 0 }
    @inline(__always) func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }
    @inline(__always) func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var result: [[UInt8]] = []
    var p = 0
    while true {
        while at(p) != 0 && isSpace(at(p)) { p += 1 }
        if at(p) == 0 { return result }
        var inDouble = false, inSingle = false, done = false
        var current: [UInt8] = []
        while !done {
            let c = at(p)
            if inDouble {
                if c == UInt8(ascii: "\\") && at(p + 1) == UInt8(ascii: "x"),
                   let hi = hexValue(at(p + 2)), let lo = hexValue(at(p + 3)) {
                    current.append(hi << 4 | lo)
                    p += 3
                } else if c == UInt8(ascii: "\\") && at(p + 1) != 0 {
                    p += 1
                    switch at(p) {
                    case UInt8(ascii: "n"): current.append(10)
                    case UInt8(ascii: "r"): current.append(13)
                    case UInt8(ascii: "t"): current.append(9)
                    case UInt8(ascii: "b"): current.append(8)
                    case UInt8(ascii: "a"): current.append(7)
                    default: current.append(at(p))
                    }
                } else if c == UInt8(ascii: "\"") {
                    if at(p + 1) != 0 && !isSpace(at(p + 1)) { return nil }
                    done = true
                } else if c == 0 {
                    return nil
                } else {
                    current.append(c)
                }
            } else if inSingle {
                if c == UInt8(ascii: "\\") && at(p + 1) == UInt8(ascii: "'") {
                    p += 1
                    current.append(UInt8(ascii: "'"))
                } else if c == UInt8(ascii: "'") {
                    if at(p + 1) != 0 && !isSpace(at(p + 1)) { return nil }
                    done = true
                } else if c == 0 {
                    return nil
                } else {
                    current.append(c)
                }
            } else {
                switch c {
                case 32, 10, 13, 9, 0: done = true
                case UInt8(ascii: "\""): inDouble = true
                case UInt8(ascii: "'"): inSingle = true
                default: current.append(c)
                }
            }
            if at(p) != 0 { p += 1 }
        }
        result.append(current)
    }
}

/// Whether `line` has quotes or a NUL byte; without them a line splits at white space alone.
@inlinable public func needsQuoteRules(_ line: UnsafeRawBufferPointer) -> Bool {
    line.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") || $0 == 0 })
}

/// The words of a line without quotes or NUL bytes (every inline command a benchmark or telnet
/// user sends), as ranges of `line`, under the same rules as `splitArguments`.
@inlinable public func forEachUnquotedWord(_ line: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) {
    let n = line.count
    var p = 0
    while true {
        while p < n && (line[p] == 32 || (line[p] >= 9 && line[p] <= 13)) { p += 1 }
        if p == n { return }
        let start = p
        while p < n && line[p] != 32 && line[p] != 10 && line[p] != 13 && line[p] != 9 { p += 1 }
        body(start..<p)
    }
}

/// Convenience for whole byte arrays (configuration lines, tests).
public func splitArguments(_ line: [UInt8]) -> [[UInt8]]? {
    line.withUnsafeBytes { splitArguments($0) }
}
