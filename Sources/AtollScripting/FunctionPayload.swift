/// The payload of FUNCTION DUMP / FUNCTION RESTORE, in Redis 7.0's format: each library as
/// the RDB opcode FUNCTION2 (245) followed by its code as an RDB string, then the RDB version
/// (10, two bytes little-endian) and the CRC-64 of everything before it (eight bytes,
/// little-endian). Atoll writes strings uncompressed; it reads Redis's LZF-compressed and
/// integer-encoded strings too (`RDBReader`), so payloads move both ways between the two servers.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollLua
import AtollRDB

enum FunctionPayload {
    static let rdbVersion: UInt16 = 10
    static let functionOpcode: UInt8 = 245
    static let preGAFunctionOpcode: UInt8 = 246

    static func dump(_ codes: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for code in codes {
            out.append(functionOpcode)
            RDBWriter.appendString(code, to: &out)
        }
        out.append(UInt8(rdbVersion & 0xff))
        out.append(UInt8(rdbVersion >> 8))
        let crc = CRC64.checksum(out)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: crc >> UInt64(8 * i))) }
        return out
    }

    /// The library codes in `payload`, or the error text Redis replies with.
    static func parse(_ payload: [UInt8]) -> Result<[[UInt8]], ScriptError> {
        guard payload.count >= 10 else { return .failure(ScriptError("ERR DUMP payload version or checksum are wrong")) }
        let footer = payload.count - 10
        let version = UInt16(payload[footer]) | UInt16(payload[footer + 1]) << 8
        var crc: UInt64 = 0
        for i in 0..<8 { crc |= UInt64(payload[footer + 2 + i]) << UInt64(8 * i) }
        guard version <= rdbVersion, CRC64.checksum(payload[0..<(payload.count - 8)]) == crc else {
            return .failure(ScriptError("ERR DUMP payload version or checksum are wrong"))
        }
        var reader = RDBReader(bytes: Array(payload[0..<footer]))
        var codes: [[UInt8]] = []
        while !reader.atEnd {
            guard let type = try? reader.byte() else { return .failure(ScriptError("ERR can not read data type")) }
            if type == preGAFunctionOpcode { return .failure(ScriptError("ERR Pre-GA function format not supported")) }
            guard type == functionOpcode else { return .failure(ScriptError("ERR given type is not a function")) }
            guard let code = try? reader.string() else {
                return .failure(ScriptError("ERR failed loading the given functions payload"))
            }
            codes.append(code)
        }
        return .success(codes)
    }
}
