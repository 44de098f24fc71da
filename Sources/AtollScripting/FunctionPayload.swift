/// The payload of FUNCTION DUMP / FUNCTION RESTORE, in Redis 7.0's format: each library as
/// the RDB opcode FUNCTION2 (245) followed by its code as an RDB string, then the RDB version
/// (10, two bytes little-endian) and the CRC-64 of everything before it (eight bytes,
/// little-endian). Atoll writes strings uncompressed; it reads Redis's LZF-compressed and
/// integer-encoded strings too (`RDBReader`), so payloads move both ways between the two servers.
import AtollCore
import AtollKeyspace
import AtollLua
import AtollRDB

enum FunctionPayload {
    static let functionOpcode: UInt8 = 245
    static let preGAFunctionOpcode: UInt8 = 246

    static func dump(_ codes: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for code in codes {
            out.append(functionOpcode)
            RDBWriter.appendString(code, to: &out)
        }
        return DumpPayload.seal(out)
    }

    /// The library codes in `payload`, or the error text Redis replies with.
    static func parse(_ payload: [UInt8]) -> Result<[[UInt8]], ScriptError> {
        guard let records = DumpPayload.body(payload) else {
            return .failure(ScriptError("ERR DUMP payload version or checksum are wrong"))
        }
        var reader = RDBReader(bytes: records)
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
