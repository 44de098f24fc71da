/// `Ziplist`: reading the ziplists of RDB version 9 and older (Redis 6 and before), which Redis
/// 7.0 still loads and RESTOREs: small lists (type 10), sorted sets (12), hashes (13) and the
/// nodes of quicklists (14). Atoll never writes them.
///
/// The layout, from Redis's ziplist.c: a 10-byte header (total bytes and the last entry's
/// offset, 32 bits each, and the entry count, 16 bits, all little-endian), the entries, and a
/// 0xFF terminator. Each entry is the previous entry's length (1 byte below 254, else 0xFE and
/// 4 bytes), an encoding, and the content: a string whose length is in the encoding (6 bits, 14
/// bits big-endian, or 32 bits big-endian), or an integer (16, 32, 64, 24 or 8 bits, or 0 to
/// 12 inside the encoding byte itself).
enum Ziplist {
    /// The entries, integers as their decimal text; nil when the bytes are not a whole ziplist.
    static func entries(_ blob: [UInt8]) -> [[UInt8]]? {
        guard blob.count >= 11, Int(blob.littleEndian(at: 0, width: 4)) == blob.count, blob[blob.count - 1] == 0xFF else { return nil }
        var items: [[UInt8]] = []
        var i = 10
        while i < blob.count - 1 {
            // The previous entry's length: only its size matters here.
            i += blob[i] < 0xFE ? 1 : 5
            guard i < blob.count - 1 else { return nil }
            let encoding = blob[i]
            let stringLength: Int?
            let integerWidth: Int
            switch encoding >> 6 {
            case 0b00:
                (stringLength, integerWidth) = (Int(encoding & 0x3F), 0)
                i += 1
            case 0b01:
                guard i + 2 <= blob.count else { return nil }
                (stringLength, integerWidth) = (Int(encoding & 0x3F) << 8 | Int(blob[i + 1]), 0)
                i += 2
            case 0b10:
                guard encoding == 0x80, i + 5 <= blob.count else { return nil }
                (stringLength, integerWidth) = (Int(bigEndian(blob, i + 1, 4)), 0)
                i += 5
            default:
                i += 1
                stringLength = nil
                switch encoding {
                case 0xC0: integerWidth = 2
                case 0xD0: integerWidth = 4
                case 0xE0: integerWidth = 8
                case 0xF0: integerWidth = 3
                case 0xFE: integerWidth = 1
                case 0xF1...0xFD:
                    items.append(Array(String(Int(encoding & 0x0F) - 1).utf8))
                    continue
                default: return nil
                }
            }
            if let n = stringLength {
                guard n <= blob.count - 1 - i else { return nil }
                items.append(Array(blob[i..<(i + n)]))
                i += n
            } else {
                guard integerWidth <= blob.count - 1 - i else { return nil }
                items.append(Array(String(blob.signedLittleEndian(at: i, width: integerWidth)).utf8))
                i += integerWidth
            }
        }
        // The header's count, unless it says "too many to count" (65535).
        let counted = Int(blob.littleEndian(at: 8, width: 2))
        guard i == blob.count - 1, counted == 65535 || counted == items.count else { return nil }
        return items
    }

    private static func bigEndian(_ blob: [UInt8], _ at: Int, _ n: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<n { value = value << 8 | UInt64(blob[at + k]) }
        return value
    }
}
