/// Cluster slots: Redis Cluster puts a key in slot CRC16(key) mod 16384, where only the hash
/// tag is hashed if the key has one (the text between the first `{` and the next `}`, if not
/// empty). Keys a multi-key command or script touches must share a slot; `sameSlot` checks.
///
/// Seed scenario: "hash tags for cluster slots" — `{user:42}:cart` and `{user:42}:orders` can
/// be used in one transaction on a cluster.

/// Hash tags and slot numbers for Redis Cluster.
public enum HashSlot {
    public static let count = 16384

    /// The part of `key` that is hashed: its hash tag, or the whole key.
    public static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
           let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            return key[(open + 1)..<close]
        }
        return key[...]
    }

    /// The slot of `key` (0..<16384).
    public static func slot(of key: String) -> Int {
        Int(crc16(hashedPart(of: Array(key.utf8))) % UInt16(count))
    }

    /// Whether all `keys` are in one slot.
    public static func sameSlot(_ keys: [String]) -> Bool {
        Set(keys.map(slot(of:))).count <= 1
    }

    /// A key in the same slot as `key`, ending with `suffix`: `key` made the hash tag
    /// (`{key}` plus the suffix) when it has no tag. A key with a tag, or with a `}` that would
    /// end such a tag early, gets the suffix alone (with a tag that is the same slot).
    public static func keyInSameSlot(as key: String, suffix: String) -> String {
        let bytes = Array(key.utf8)
        let untagged = hashedPart(of: bytes).count == bytes.count && !bytes.contains(UInt8(ascii: "}"))
        return untagged ? "{\(key)}\(suffix)" : key + suffix
    }

    /// CRC-16/XMODEM (polynomial 0x1021, initial 0), the variant Redis Cluster uses.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}
