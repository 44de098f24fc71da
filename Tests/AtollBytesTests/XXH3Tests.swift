import AtollBytes
import Testing

/// The test input of length `n`: byte i is (i * 31 + 7) & 0xff. Deterministic, covers all
/// byte values, and has no short period that could hide a wrong chunk or stripe offset.
private func pattern(_ n: Int) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
}

private func hex(_ hash: UInt64) -> String {
    String(decoding: digestHex(hash), as: UTF8.self)
}

@Suite struct XXH3Tests {
    /// Known answers from the reference implementation, produced with the PyPI `xxhash`
    /// package (4.1.0, libxxhash 0.8.4): `xxhash.xxh3_64_hexdigest(bytes(pattern(n)))`.
    /// The lengths hit every length class of XXH3-64 and both sides of each boundary:
    /// 0 | 1–3 | 4–8 | 9–16 | 17–128 (1–4 chunk pairs) | 129–240 | >240 (64-byte stripes,
    /// 1024-byte blocks, the overlapping last stripe).
    static let vectors: [(Int, String)] = [
        (0, "2d06800538d394c2"),
        (1, "4c5cca45d0f4811f"),
        (2, "a7e250c97710ff27"),
        (3, "15f7093b173d005c"),
        (4, "dca012f95811b6b9"),
        (5, "b290cafc7b254345"),
        (8, "dec6a9a43575982e"),
        (9, "cbe393399f17ffbd"),
        (15, "545e19990471dc37"),
        (16, "7e484c18d74895d0"),
        (17, "208bde5ee2bed407"),
        (31, "a937652b0119ca11"),
        (32, "03df0ac5255d1446"),
        (63, "76d4eec1f092847f"),
        (64, "dd30702ab46b3745"),
        (65, "fab36b851b94ce20"),
        (96, "d245cd2541582982"),
        (127, "a915ed6396db8cc0"),
        (128, "f92b70eaa21a6288"),
        (129, "f8f76713f2bb60fa"),
        (130, "303a2c3823c3c34a"),
        (200, "12fdb864685f344d"),
        (239, "caa9b7a588464745"),
        (240, "ccc7375172c41f03"),
        (241, "0b3b630948ce4a00"),
        (255, "89932170686cdd9a"),
        (256, "ec85b75bafe6ca74"),
        (257, "12ef0ff633841459"),
        (511, "0fec8fb6eae1df8b"),
        (512, "efc2e52d1c2ffbaa"),
        (1023, "f0d330ce2b3300fb"),
        (1024, "23bc880ebf0d29c6"),
        (1025, "c09fdfbc398c7d82"),
        (2048, "19f6f9c987331373"),
        (4096, "a3c19f8174cde0bb"),
        (10000, "441f01d9711bebed"),
        (100000, "ccf90df7e7e37036"),
    ]

    @Test(arguments: vectors)
    func knownAnswer(length: Int, expected: String) {
        #expect(hex(xxh3_64(pattern(length))) == expected)
    }

    /// The example from the Redis `DIGEST` documentation.
    @Test func redisExample() {
        #expect(hex(xxh3_64(Array("Hello world".utf8))) == "b6acb9d84a38ff74")
    }

    /// The buffer overload reads unaligned: hashing from an odd offset inside a larger
    /// buffer must give the same answer as hashing a fresh array.
    @Test(arguments: [3, 16, 100, 200, 1000, 5000])
    func unalignedInput(length: Int) {
        let padded = [0xAA] + pattern(length) + [0x55]
        let viaBuffer = padded.withUnsafeBytes { xxh3_64(UnsafeRawBufferPointer(rebasing: $0[1...length])) }
        #expect(viaBuffer == xxh3_64(pattern(length)))
    }

    @Test func digestHexIsSixteenLowercaseDigits() {
        #expect(hex(0) == "0000000000000000")
        #expect(hex(0x1) == "0000000000000001")
        #expect(hex(0xABC) == "0000000000000abc")
        #expect(hex(0x0123_4567_89AB_CDEF) == "0123456789abcdef")
        #expect(hex(UInt64.max) == "ffffffffffffffff")
        #expect(digestHex(0xFEDC_BA98_7654_3210).count == 16)
    }
}
