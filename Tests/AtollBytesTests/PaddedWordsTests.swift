import AtollBytes
import Testing

/// `paddedWords` must give exactly what copying the bytes into zeroed words gives: `Bytes`
/// compares, hashes and reads back inline strings through those words.
@Suite struct PaddedWordsTests {
    private func copied(_ bytes: [UInt8]) -> (UInt64, UInt64, UInt64) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { dst in bytes.withUnsafeBytes { dst.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) } }
        return words
    }

    @Test func everyLengthMatchesACopyIntoZeroedWords() {
        var generator = SystemRandomNumberGenerator()
        for n in 1...Bytes.inlineCapacity {
            for _ in 0..<200 {
                // Bytes at the end of a larger buffer: a load past the string would read the 0xEE guard.
                let string = (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let buffer = [UInt8](repeating: 0xEE, count: 8) + string
                let words = buffer.withUnsafeBytes { paddedWords($0.baseAddress! + 8, n) }
                #expect(words == copied(string), "length \(n)")
            }
        }
    }

    @Test func bytesMadeFromArraysAndRawBytesAgree() {
        for n in 0...30 {
            let string = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
            let fromArray = Bytes(string)
            let fromRaw = string.withUnsafeBytes { Bytes($0) }
            #expect(fromArray == fromRaw)
            #expect(fromArray.array == string)
            #expect(string.withUnsafeBytes { sameBytes(string, $0) })
            if n > 0 {
                var other = string
                other[n - 1] ^= 1
                #expect(!other.withUnsafeBytes { sameBytes(string, $0) })
                #expect(Bytes(other) != fromArray)
            }
        }
    }
}
