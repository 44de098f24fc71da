/// CRC-64 as Redis computes it for RDB files and DUMP payloads: the Jones polynomial
/// (0xad93d23594c935a9), reflected, initial value 0, no final xor.
/// Check value: crc64("123456789") == 0xe9c6d914c4b8d9ca.
public enum CRC64 {
    private static let table: [UInt64] = {
        // 0x95ac9329ac4bc9b5 is the Jones polynomial with its bits reversed.
        let reflected: UInt64 = 0x95ac_9329_ac4b_c9b5
        return (0..<256).map { byte -> UInt64 in
            var crc = UInt64(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ reflected : crc >> 1 }
            return crc
        }
    }()

    /// Continues `crc` over `bytes`.
    public static func update(_ crc: UInt64, _ bytes: some Sequence<UInt8>) -> UInt64 {
        var crc = crc
        for byte in bytes { crc = table[Int((crc ^ UInt64(byte)) & 0xff)] ^ (crc >> 8) }
        return crc
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt64 { update(0, bytes) }
}
