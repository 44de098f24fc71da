/// The payloads of DUMP / RESTORE and FUNCTION DUMP / FUNCTION RESTORE, in Redis's format:
/// RDB records, then the RDB version (two bytes, little-endian) and the CRC-64 of everything
/// before it (eight bytes, little-endian). `seal` adds that footer, `body` checks and strips it;
/// `dump` and `restore` move one value.
import AtollBytes
import AtollKeyspace

public enum DumpPayload {
    /// The RDB version Atoll writes; payloads from a later version are refused, as in Redis.
    public static let rdbVersion: UInt16 = UInt16(RDBWriter.version)

    /// `records` followed by the version and the checksum.
    public static func seal(_ records: consuming [UInt8]) -> [UInt8] {
        // Consumed: the footer is appended to the caller's array, not to a copy of it.
        var out = records
        out.append(UInt8(rdbVersion & 0xff))
        out.append(UInt8(rdbVersion >> 8))
        let crc = CRC64.checksum(out)
        RDBObjectWriter.appendLittleEndian(crc, width: 8, to: &out)
        return out
    }

    /// The records of `payload`, or nil when its footer does not check out (`isSealed`).
    public static func body(_ payload: [UInt8]) -> [UInt8]? {
        isSealed(payload) ? Array(payload[0..<(payload.count - 10)]) : nil
    }

    /// Whether `payload` is at least as long as the footer, comes from this RDB version or an
    /// earlier one, and passes its checksum (Redis's `verifyDumpPayload`).
    public static func isSealed(_ payload: [UInt8]) -> Bool {
        guard payload.count >= 10 else { return false }
        let footer = payload.count - 10
        let version = UInt16(payload[footer]) | UInt16(payload[footer + 1]) << 8
        guard version <= rdbVersion else { return false }
        var crc: UInt64 = 0
        for i in 0..<8 { crc |= UInt64(payload[footer + 2 + i]) << UInt64(8 * i) }
        return CRC64.checksum(payload[0..<(payload.count - 8)]) == crc
    }

    /// DUMP's reply for `value`.
    public static func dump(_ value: Value) -> [UInt8] { seal(RDBObjectWriter.serialize(value)) }

    /// Why a payload was refused, as RESTORE words it.
    public enum Refusal: Error {
        /// Too short, from a newer version, or a checksum that does not match.
        case versionOrChecksum
        /// Checked but not a value Atoll can load (damaged, empty, an unsupported type).
        case badData
    }

    /// The value in a DUMP payload, built whole or not at all. As Redis does, the value is read
    /// from the whole payload once its footer checked out: bytes after the value are ignored,
    /// and a value cut short may run on into the footer's bytes.
    public static func restore(_ payload: [UInt8], limits: EncodingLimits) -> Result<Value, Refusal> {
        guard isSealed(payload) else { return .failure(.versionOrChecksum) }
        var reader = RDBReader(bytes: payload, limits: limits)
        guard let value = try? reader.object() else { return .failure(.badData) }
        return .success(value)
    }
}
