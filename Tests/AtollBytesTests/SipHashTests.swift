import AtollBytes
import Testing

/// SipHash against the reference vectors of its paper (SipHash-2-4, key 00..0f, messages
/// 00, 01, 02, ...), and the key tables' hash: equal strings hash alike whatever their form.
@Suite struct SipHashTests {
    private let referenceKey: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908)

    private func sip24(_ count: Int) -> UInt64 {
        var state = SipHash(key: referenceKey, compressionRounds: 2, finalizationRounds: 4)
        let message = (0..<count).map { UInt8($0) }
        return message.withUnsafeBytes { state.hash($0) }
    }

    @Test func referenceVectors() {
        #expect(sip24(0) == 0x726f_db47_dd0e_0e31)
        #expect(sip24(15) == 0xa129_ca61_49be_45e5)
    }

    @Test func tableHashFollowsTheContent() {
        let short = Bytes(Array("user:1000".utf8))
        #expect(short.tableHash == Bytes(Array("user:1000".utf8)).tableHash)
        #expect(short.tableHash != Bytes(Array("user:1001".utf8)).tableHash)
        // Inline strings differing only in length (trailing zero bytes) differ.
        #expect(Bytes([0]).tableHash != Bytes([0, 0]).tableHash)
        // A byte in each inline word counts, up to the 24th.
        let full = Array("abcdefghijklmnopqrstuvwx".utf8)
        for position in [0, 7, 8, 15, 16, 23] {
            var changed = full
            changed[position] = UInt8(ascii: "#")
            #expect(Bytes(full).tableHash != Bytes(changed).tableHash)
            #expect(Bytes(Array(full[...position])).tableHash != Bytes(Array(changed[...position])).tableHash)
        }
        let long = Array(repeating: UInt8(ascii: "k"), count: 100)
        #expect(Bytes(long).tableHash == Bytes(long).tableHash)
        #expect(Bytes(long).tableHash != Bytes(long + [1]).tableHash)
    }
}
