import AtollBytes
import Testing

@Suite struct CRC64AndLZFTests {
    @Test func crc64CheckValue() {
        // Redis's own check value for its CRC-64 (Jones polynomial, reflected).
        #expect(CRC64.checksum(Array("123456789".utf8)) == 0xe9c6_d914_c4b8_d9ca)
        #expect(CRC64.checksum([UInt8]()) == 0)
    }

    @Test func crc64IsIncremental() {
        let data = Array("hello, atoll".utf8)
        #expect(CRC64.update(CRC64.checksum(data[0..<5]), data[5...]) == CRC64.checksum(data))
    }

    @Test func lzfLiteralRunsAndBackReferences() {
        // "abcabcabcabc": a literal run of 3 ("abc"), then a back-reference of length 9 at distance 3.
        let compressed: [UInt8] = [0x02, 97, 98, 99, 0xe0, 0x00, 0x02]
        #expect(LZF.decompress(compressed[...], expectedLength: 12) == Array("abcabcabcabc".utf8))
    }

    @Test func lzfRejectsBadInput() {
        #expect(LZF.decompress([0x05, 1, 2][...], expectedLength: 6) == nil)       // literal run past the end
        #expect(LZF.decompress([0x20, 0x05][...], expectedLength: 2) == nil)       // reference before the start
        #expect(LZF.decompress([0x00, 65][...], expectedLength: 2) == nil)         // shorter than promised
    }
}

@Test func lzfCompressionRoundTripsAndRespectsItsLimit() {
    var rng = SystemRandomNumberGenerator()
    for n in [1, 2, 3, 5, 21, 100, 1000, 70000] {
        let text = (0..<n).map { _ in UInt8.random(in: 97...100, using: &rng) }
        let compressed = LZF.compress(text, limit: n + 64)
        #expect(compressed.map { LZF.decompress($0[...], expectedLength: n) } == text)
        if let c = LZF.compress(text, limit: n - 4 > 0 ? n - 4 : 1) { #expect(c.count <= max(n - 4, 1)) }
    }
    // liblzf's output for a run of 30 'a's, as Redis's DUMP of SET k aaa...a shows it.
    #expect(LZF.compress(Array(repeating: 97, count: 30), limit: 26) == [0x01, 0x61, 0x61, 0xE0, 0x11, 0x00, 0x01, 0x61, 0x61])
}
