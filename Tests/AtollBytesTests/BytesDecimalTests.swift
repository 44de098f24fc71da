import AtollBytes
import Testing

@Suite struct BytesDecimalTests {
    @Test func decimalTextMatchesString() {
        for n: Int64 in [0, 1, -1, 9, 10, -10, 123_456_789, Int64.max, Int64.min, Int64.min + 1, 1_000_000_000_000] {
            #expect(Bytes(decimal: n) == Bytes(Array(String(n).utf8)))
            #expect(Bytes(decimal: n).strictInt64 == n)
        }
    }

    @Test func strictReadingRejectsNonCanonicalText() {
        for text in ["", "-", "01", "+1", " 1", "1 ", "-0", "1.0", "9223372036854775808", "0x10", String(repeating: "1", count: 30)] {
            #expect(Bytes(Array(text.utf8)).strictInt64 == nil, "\(text)")
        }
        #expect(Bytes("-9223372036854775808").strictInt64 == Int64.min)
    }
}
