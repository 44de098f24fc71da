import AtollBytes
import Testing

/// The FIPS 180-4 example vectors (NIST's SHA-256 examples), plus a message whose padding needs
/// a second block and the million-'a' vector.
@Suite struct SHA256Tests {
    private func hex(_ text: String) -> String { String(decoding: sha256Hex(Array(text.utf8)), as: UTF8.self) }

    @Test func fipsVectors() {
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(String(decoding: sha256Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)), as: UTF8.self)
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func redisPasswordHash() {
        // ACL SETUSER u >p1 on redis-server 7.0.15 lists #f64551fc...
        #expect(hex("p1") == "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a")
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("ab".utf8)))
    }
}
