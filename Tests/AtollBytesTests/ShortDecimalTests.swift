import AtollBytes
import Testing

@Suite struct ShortDecimalTests {
    static func read(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBytes { shortDecimal($0) }
    }

    @Test func agreesWithTheFullParserBitForBit() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...15, using: &rng)
            var text = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &rng)) }.joined()
            let point = Int.random(in: 0...digits, using: &rng)
            if Bool.random(using: &rng) { text.insert(".", at: text.index(text.startIndex, offsetBy: point)) }
            if Bool.random(using: &rng) { text = "-" + text }
            let expected = Double(text)!
            #expect(Self.read(text)?.bitPattern == expected.bitPattern, "\(text)")
        }
    }

    @Test func edgeCases() {
        #expect(Self.read("2.5") == 2.5)
        #expect(Self.read("5.") == 5)
        #expect(Self.read(".5") == 0.5)
        #expect(Self.read("-0")?.sign == .minus)
        #expect(Self.read("0.1") == 0.1)
        #expect(Self.read("123456789012345") == 123456789012345)
        // Anything else is left to the full parser.
        for text in ["", "-", ".", "1.2.3", "+1", "1e5", "inf", "nan", " 1", "1 ", "1234567890123456", "0.0000000000000001", "--1"] {
            #expect(Self.read(text) == nil, "\(text)")
        }
    }
}
