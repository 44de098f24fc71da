import AtollRESP
import Testing

/// `splitArguments` follows Redis's `sdssplitargs`.
@Suite struct SplitArgumentsTests {
    private func split(_ s: String) -> [String]? {
        splitArguments(Array(s.utf8)).map { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    private func splitBytes(_ s: String) -> [[UInt8]]? { splitArguments(Array(s.utf8)) }

    @Test func plainWords() {
        #expect(split("foo bar baz") == ["foo", "bar", "baz"])
        #expect(split("  foo\t\tbar  ") == ["foo", "bar"])
        // Vertical tab and form feed are skipped between words (isspace) but do not end a word.
        #expect(split("a\u{0B}b\u{0C}c") == ["a\u{0B}b\u{0C}c"])
        #expect(split("\u{0B}\u{0C}a \u{0B}b") == ["a", "b"])
    }

    @Test func emptyAndBlankLines() {
        #expect(split("") == [])
        #expect(split("   \t ") == [])
        #expect(split("\r\n") == [])
    }

    @Test func doubleQuotes() {
        #expect(split(#""hello world" x"#) == ["hello world", "x"])
        #expect(split(#""""#) == [""])
        #expect(split(#"a "" b"#) == ["a", "", "b"])
    }

    @Test func doubleQuoteEscapes() {
        #expect(splitBytes(#""\n\r\t\b\a""#) == [[10, 13, 9, 8, 7]])
        #expect(split(#""\\ \" \z""#) == [#"\ " z"#])
    }

    @Test func hexEscapes() {
        #expect(splitBytes(#""\x41\x6a\x6A\x00\xff""#) == [[0x41, 0x6a, 0x6a, 0, 0xff]])
        // Not two hex digits: the backslash is dropped and the `x` is kept, as in C.
        #expect(split(#""\x4g""#) == ["x4g"])
        #expect(split(#""\xZZ""#) == ["xZZ"])
        #expect(split(#""\x4""#) == ["x4"])
    }

    @Test func hexEscapesOutsideQuotesAreLiteral() {
        #expect(split(#"a\x41b"#) == [#"a\x41b"#])
    }

    @Test func singleQuotes() {
        #expect(split("'hello world'") == ["hello world"])
        #expect(split(#"'it\'s'"#) == ["it's"])
        // Only \' is an escape inside single quotes.
        #expect(split(#"'a\nb\x41'"#) == [#"a\nb\x41"#])
        #expect(split("''") == [""])
    }

    @Test func quoteInsideAWordStartsAQuotedPart() {
        #expect(split(#"foo"bar baz""#) == ["foobar baz"])
        #expect(split("ab'c d'") == ["abc d"])
    }

    @Test func closingQuoteMustBeFollowedBySpace() {
        #expect(split(#""foo"bar"#) == nil)
        #expect(split("'foo'bar") == nil)
        #expect(split(#""foo" bar"#) == ["foo", "bar"])
        #expect(split(#""foo"\#tbar"#) == ["foo", "bar"])
    }

    @Test func unbalancedQuotes() {
        #expect(split(#""foo"#) == nil)
        #expect(split("'foo") == nil)
        #expect(split(#"a "b\"#) == nil)
        #expect(split(#""foo\""#) == nil)
    }

    @Test func nulByteEndsTheLine() {
        #expect(splitArguments([0x61, 0x20, 0x62, 0x00, 0x63]) == [[0x61], [0x62]])
        #expect(splitArguments([0x22, 0x61, 0x00, 0x22]) == nil)   // a NUL inside quotes leaves them open
    }

    @Test func nonASCIIBytesPassThrough() {
        #expect(splitArguments([0xc3, 0xa9, 0x20, 0xff]) == [[0xc3, 0xa9], [0xff]])
    }

    /// Lines without quotes take a fast path; appending a quoted empty word forces the general
    /// path, which must then give the same words plus that empty one.
    @Test func unquotedFastPathMatchesGeneralRules() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [32, 9, 10, 11, 12, 13, 97, 98, 0x5c, 0xff]
        for _ in 0..<2000 {
            let line = (0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let fast = splitArguments(line)
            let general = splitArguments(line + Array(" \"\"".utf8))
            #expect(fast.map { $0 + [[]] } == general, "line \(line)")
        }
    }
}
