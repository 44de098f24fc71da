/// The payload of FUNCTION DUMP / FUNCTION RESTORE, in Redis 7.0's format: each library as
/// the RDB opcode FUNCTION2 (245) followed by its code as an RDB string, then the RDB version
/// (10, two bytes little-endian) and the CRC-64 of everything before it (eight bytes,
/// little-endian). Atoll writes strings uncompressed; it reads Redis's LZF-compressed and
/// integer-encoded strings too, so payloads move both ways between the two servers.
import AtollBytes
import AtollKeyspace
import AtollLua

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
        var reader = RDBStringReader(bytes: payload[0..<footer])
        var codes: [[UInt8]] = []
        while !reader.atEnd {
            let type = reader.byte()
            if type == preGAFunctionOpcode { return .failure(ScriptError("ERR Pre-GA function format not supported")) }
            guard type == functionOpcode else { return .failure(ScriptError("ERR given type is not a function")) }
            guard let code = reader.string() else { return .failure(ScriptError("ERR failed loading the given functions payload")) }
            codes.append(code)
        }
        return .success(codes)
    }
}

/// Reads RDB lengths and strings (plain, integer-encoded, LZF-compressed).
struct RDBStringReader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var atEnd: Bool { position >= bytes.endIndex }

    mutating func byte() -> UInt8 {
        guard position < bytes.endIndex else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A length, or for special encodings (top bits 11) the encoding number with `encoded` set.
    mutating func length() -> (value: Int, encoded: Bool)? {
        guard !atEnd else { return nil }
        let first = byte()
        switch first >> 6 {
        case 0: return (Int(first & 0x3f), false)
        case 1:
            guard !atEnd else { return nil }
            return (Int(first & 0x3f) << 8 | Int(byte()), false)
        case 2:
            let width = first == 0x80 ? 4 : (first == 0x81 ? 8 : 0)
            guard width > 0, position + width <= bytes.endIndex else { return nil }
            var n: UInt64 = 0
            for _ in 0..<width { n = n << 8 | UInt64(byte()) }
            guard n <= UInt64(Int.max) else { return nil }
            return (Int(n), false)
        default: return (Int(first & 0x3f), true)
        }
    }

    mutating func string() -> [UInt8]? {
        guard let (n, encoded) = length() else { return nil }
        guard encoded else {
            guard position + n <= bytes.endIndex else { return nil }
            defer { position += n }
            return Array(bytes[position..<position + n])
        }
        switch n {
        case 0, 1, 2:
            let width = 1 << n
            guard position + width <= bytes.endIndex else { return nil }
            var raw: UInt64 = 0
            for i in 0..<width { raw |= UInt64(byte()) << UInt64(8 * i) }
            let value: Int64 = width == 1 ? Int64(Int8(truncatingIfNeeded: raw))
                : width == 2 ? Int64(Int16(truncatingIfNeeded: raw)) : Int64(Int32(truncatingIfNeeded: raw))
            return Array(String(value).utf8)
        case 3:
            guard let (compressed, c1) = length(), !c1, let (original, c2) = length(), !c2,
                  position + compressed <= bytes.endIndex else { return nil }
            defer { position += compressed }
            return LZF.decompress(bytes[position..<position + compressed], expectedLength: original)
        default:
            return nil
        }
    }
}
