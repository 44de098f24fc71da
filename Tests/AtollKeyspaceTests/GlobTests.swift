import AtollKeyspace
import AtollTestSupport
import Testing

private func match(_ pattern: String, _ string: String, noCase: Bool = false) -> Bool {
    globMatch(Array(pattern.utf8), Array(string.utf8), noCase: noCase)
}

/// A direct, exponential-time transcription of the glob rules (Redis's `stringmatchlen`
/// semantics) used as the reference for randomized comparison on short inputs.
private func referenceMatch(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>, _ noCase: Bool) -> Bool {
    func fold(_ c: UInt8) -> UInt8 { noCase && c >= 65 && c <= 90 ? c + 32 : c }
    guard let first = p.first else { return s.isEmpty }
    switch first {
    case UInt8(ascii: "*"):
        var rest = p.dropFirst()
        while rest.first == UInt8(ascii: "*") { rest = rest.dropFirst() }
        if rest.isEmpty { return true }
        var t = s
        while true {
            if referenceMatch(rest, t, noCase) { return true }
            if t.isEmpty { return false }
            t = t.dropFirst()
        }
    case UInt8(ascii: "?"):
        guard !s.isEmpty else { return false }
        return referenceMatch(p.dropFirst(), s.dropFirst(), noCase)
    case UInt8(ascii: "["):
        guard let c = s.first else { return false }
        var i = p.index(after: p.startIndex)
        let negate = i < p.endIndex && p[i] == UInt8(ascii: "^")
        if negate { i += 1 }
        var matched = false
        while true {
            if i >= p.endIndex { i = p.endIndex - 1; break }   // unterminated class runs to the end
            if p[i] == UInt8(ascii: "\\") && i + 1 < p.endIndex {
                i += 1
                if fold(p[i]) == fold(c) { matched = true }
            } else if p[i] == UInt8(ascii: "]") {
                break
            } else if i + 2 < p.endIndex && p[i + 1] == UInt8(ascii: "-") {
                var lo = fold(p[i]), hi = fold(p[i + 2])
                if lo > hi { swap(&lo, &hi) }
                if fold(c) >= lo && fold(c) <= hi { matched = true }
                i += 2
            } else if fold(p[i]) == fold(c) {
                matched = true
            }
            i += 1
        }
        guard matched != negate else { return false }
        return referenceMatch(p[(i + 1)...], s.dropFirst(), noCase)
    case UInt8(ascii: "\\") where p.count >= 2:
        guard let c = s.first, fold(p[p.startIndex + 1]) == fold(c) else { return false }
        return referenceMatch(p.dropFirst(2), s.dropFirst(), noCase)
    default:
        guard let c = s.first, fold(first) == fold(c) else { return false }
        return referenceMatch(p.dropFirst(), s.dropFirst(), noCase)
    }
}

@Suite struct GlobTests {
    @Test func star() {
        #expect(match("*", "anything"))
        #expect(match("**", "x"))
        #expect(match("h*llo", "hllo"))
        #expect(match("h*llo", "heeeello"))
        #expect(!match("h*llo", "hellx"))
        #expect(match("*a", "ba"))
        #expect(!match("*a", "ab"))
        #expect(match("a*", "a"))
        #expect(match("a*b*c", "aXXbYYc"))
        #expect(!match("a*b*c", "aXXbYY"))
        #expect(match("*abc*", "xxabcxx"))
        #expect(match("*aab", "aaaab"))
        #expect(match("user:*:name", "user:1000:name"))
    }

    @Test func emptyStringIsOnlyMatchedByEmptyPattern() {
        // Redis's stringmatchlen never enters its loop for an empty string, so even "*" fails
        // (KEYS special-cases the lone "*"; `KEYS **` does not list the empty key).
        #expect(!match("*", ""))
        #expect(!match("**", ""))
        #expect(!match("?", ""))
    }

    @Test func emptyPattern() {
        #expect(match("", ""))
        #expect(!match("", "a"))
        #expect(!match("a", ""))
    }

    @Test func questionMark() {
        #expect(match("h?llo", "hello"))
        #expect(match("h?llo", "hallo"))
        #expect(!match("h?llo", "hllo"))
        #expect(!match("h?llo", "heello"))
        #expect(match("???", "abc"))
        #expect(!match("???", "ab"))
    }

    @Test func classes() {
        #expect(match("h[ae]llo", "hello"))
        #expect(match("h[ae]llo", "hallo"))
        #expect(!match("h[ae]llo", "hillo"))
        #expect(!match("h[ae]llo", "hllo"))
        #expect(match("h[^e]llo", "hallo"))
        #expect(!match("h[^e]llo", "hello"))
        #expect(match("h[a-b]llo", "hbllo"))
        #expect(!match("h[a-b]llo", "hcllo"))
        #expect(match("[a-z]", "m"))
        #expect(!match("[a-z]", "M"))
        #expect(!match("[^a-z]", "m"))
        #expect(match("[0-9][0-9]", "42"))
        // As in Redis, `c-]` is a range (from ']' to 'c'), so the class is unterminated.
        #expect(!match("[abc-]", "-"))
        #expect(match("[abc-]", "]"))
        #expect(match("[abc-]", "^"))
        #expect(match("[abc-]", "b"))
        #expect(match("[]", "]") == false) // `[]` is an empty class followed by nothing
    }

    @Test func reversedRangeIsSwapped() {
        #expect(match("[z-a]", "m"))
        #expect(match("[z-a]", "a"))
        #expect(match("[z-a]", "z"))
        #expect(!match("[z-a]", "A"))
    }

    @Test func escapes() {
        #expect(match(#"\*"#, "*"))
        #expect(!match(#"\*"#, "a"))
        #expect(match(#"a\?b"#, "a?b"))
        #expect(!match(#"a\?b"#, "axb"))
        #expect(match(#"\[a]"#, "[a]"))
        #expect(match(#"[\]]"#, "]"))
        #expect(match(#"[\^a]"#, "^"))
        #expect(match(#"\\"#, #"\"#))
        // A trailing backslash matches itself.
        #expect(match(#"a\"#, #"a\"#))
        #expect(!match(#"a\"#, "a"))
    }

    @Test func noCase() {
        #expect(match("HELLO", "hello", noCase: true))
        #expect(match("hello", "HeLLo", noCase: true))
        #expect(!match("hello", "HeLLo"))
        #expect(match("[A-C]x", "bX", noCase: true))
        #expect(match("[^A]", "b", noCase: true))
        #expect(!match("[^A]", "a", noCase: true))
        #expect(match(#"\A"#, "a", noCase: true))
        #expect(match("max*", "MAXCLIENTS", noCase: true))
    }

    @Test func unterminatedClass() {
        // `[abc` runs to the end of the pattern and matches one character from it.
        #expect(match("[abc", "a"))
        #expect(match("[abc", "c"))
        #expect(!match("[abc", "d"))
        #expect(!match("[abc", "ab"))
        #expect(!match("[abc", ""))
        #expect(match("x[", "x[") == false)
        #expect(match("[^a", "b"))
    }

    @Test func pathologicalPatternFinishesQuickly() {
        let long = Array(repeating: UInt8(ascii: "a"), count: 20_000)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(!globMatch(Array("a*a*a*a*a*a*b".utf8), long))
        #expect(globMatch(Array("a*a*a*a*a*a*a".utf8), long))
        #expect(!globMatch(Array("*a*a*a*a*a*a*a*a*a*a*b".utf8), long))
        #expect(clock.now - start < .seconds(5))
    }

    @Test func binarySafe() {
        #expect(globMatch([0, UInt8(ascii: "*"), 0], [0, 1, 2, 0]))
        #expect(globMatch([UInt8(ascii: "?")], [0]))
        #expect(globMatch([0xff, UInt8(ascii: "?")], [0xff, 0x00]))
    }

    @Test func agreesWithReferenceOnRandomInputs() {
        var rng = SplitMix64(seed: 0x61_6f)
        let patternTokens = ["a", "b", "A", "*", "?", "[ab]", "[^a]", "[a-b]", "[b-a]", "\\*", "\\a", "[", "[\\]]", "-", "]", "^"]
        let stringChars: [UInt8] = Array("abAB*-]^[".utf8)
        var checked = 0
        for _ in 0..<20_000 {
            var pattern: [UInt8] = []
            for _ in 0..<Int(rng.next() % 6) { pattern += Array(patternTokens[Int(rng.next() % UInt64(patternTokens.count))].utf8) }
            var string: [UInt8] = []
            for _ in 0..<Int(rng.next() % 7) { string.append(stringChars[Int(rng.next() % UInt64(stringChars.count))]) }
            let noCase = rng.next() % 4 == 0
            let expected = string.isEmpty ? pattern.isEmpty : referenceMatch(pattern[...], string[...], noCase)
            let actual = globMatch(pattern, string, noCase: noCase)
            if expected != actual {
                Issue.record("pattern \(String(decoding: pattern, as: UTF8.self).debugDescription) string \(String(decoding: string, as: UTF8.self).debugDescription) nocase \(noCase): expected \(expected)")
                break
            }
            checked += 1
        }
        #expect(checked == 20_000)
    }
}
