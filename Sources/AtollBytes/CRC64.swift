/// CRC-64 as Redis computes it for RDB files and DUMP payloads: the Jones polynomial
/// (0xad93d23594c935a9), reflected, initial value 0, no final xor.
/// Check value: crc64("123456789") == 0xe9c6d914c4b8d9ca.
///
/// Eight bytes at a time ("slicing by 8"): table k gives the CRC of a byte followed by k zero
/// bytes, so one 64-bit word costs eight lookups instead of eight dependent steps.
public enum CRC64 {
    private static let tables: [UInt64] = {
        // 0x95ac9329ac4bc9b5 is the Jones polynomial with its bits reversed.
        let reflected: UInt64 = 0x95ac_9329_ac4b_c9b5
        var t = [UInt64](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt64(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ reflected : crc >> 1 }
            t[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = t[(k - 1) * 256 + byte]
                t[k * 256 + byte] = (previous >> 8) ^ t[Int(previous & 0xff)]
            }
        }
        return t
    }()

    /// Continues `crc` over `bytes`.
    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        tables.withUnsafeBufferPointer { t in
            var crc = crc
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                crc ^= UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                crc = t[7 * 256 + Int(crc & 0xff)] ^ t[6 * 256 + Int((crc >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((crc >> 16) & 0xff)] ^ t[4 * 256 + Int((crc >> 24) & 0xff)]
                    ^ t[3 * 256 + Int((crc >> 32) & 0xff)] ^ t[2 * 256 + Int((crc >> 40) & 0xff)]
                    ^ t[256 + Int((crc >> 48) & 0xff)] ^ t[Int(crc >> 56)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt64(bytes[i])) & 0xff)] ^ (crc >> 8)
                i += 1
            }
            return crc
        }
    }

    /// Continues `crc` over an array's bytes.
    public static func update(_ crc: UInt64, _ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    /// Continues `crc` over a slice's bytes.
    public static func update(_ crc: UInt64, _ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    /// The checksum of `bytes`, from the initial value 0.
    public static func checksum(_ bytes: [UInt8]) -> UInt64 { update(0, bytes) }
    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 { update(0, bytes) }
}
