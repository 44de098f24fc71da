/// Writes snapshots in the RDB format Redis 7.0 reads (version 10): the header, auxiliary
/// fields, function libraries, each database's keys with their expiry times, and the end
/// marker with the CRC-64 of the whole file.
///
/// Values use RDB's plain encodings (strings, and lists, sets, hashes and sorted sets as
/// counted sequences of strings, sorted-set scores as binary doubles), which every Redis
/// version since 2.8 loads; Redis converts them to its compact encodings as it loads them.
import AtollBytes
import AtollKeyspace
import DequeModule
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct RDBWriter {
    /// The format version Redis 7.0 writes.
    public static let version = 10

    enum Opcode {
        static let function2: UInt8 = 245
        static let aux: UInt8 = 250
        static let resizeDB: UInt8 = 251
        static let expireTimeMS: UInt8 = 252
        static let selectDB: UInt8 = 254
        static let eof: UInt8 = 255
    }

    /// RDB's value type bytes: the plain ones snapshots use, and the compact ones DUMP uses.
    enum ValueType {
        static let string: UInt8 = 0
        static let list: UInt8 = 1
        static let set: UInt8 = 2
        static let hash: UInt8 = 4
        static let zset2: UInt8 = 5
        static let intset: UInt8 = 11
        static let hashListpack: UInt8 = 16
        static let zsetListpack: UInt8 = 17
        static let quicklist2: UInt8 = 18
    }

    public private(set) var bytes: [UInt8] = Array("REDIS0010".utf8)

    /// `rdb-key-save-delay`, a setting Redis keeps for tests: microseconds to sleep after each
    /// key; a negative value -n sleeps one microsecond after one key in n, on average.
    public var keyDelayMicros = 0
    /// Where the bytes go as they are made, for a writer that streams (a diskless sync's
    /// child): given each 64 kB or so after a key, and the rest at `finish`, which then
    /// returns nothing. Without it the whole file is returned by `finish`.
    public var sink: (([UInt8]) -> Void)?
    /// The checksum of the bytes already given to `sink`.
    private var streamedCRC: UInt64 = 0

    public init() {}

    public mutating func aux(_ key: String, _ value: String) { aux(key, Array(value.utf8)) }

    public mutating func aux(_ key: String, _ value: [UInt8]) {
        bytes.append(Opcode.aux)
        Self.appendString(Array(key.utf8), to: &bytes)
        Self.appendString(value, to: &bytes)
    }

    /// A function library, by its code (RDB_OPCODE_FUNCTION2).
    public mutating func functionLibrary(_ code: [UInt8]) {
        bytes.append(Opcode.function2)
        Self.appendString(code, to: &bytes)
    }

    /// Database `index`: every key live at `now`, with its expiry.
    public mutating func database(_ index: Int, _ db: Database, now: Int64) {
        guard db.count > 0 else { return }
        bytes.append(Opcode.selectDB)
        Self.appendLength(index, to: &bytes)
        bytes.append(Opcode.resizeDB)
        Self.appendLength(db.count, to: &bytes)
        Self.appendLength(db.expiresCount, to: &bytes)
        db.table.forEach { key, entry in
            if entry.expireAt != noExpiry {
                if now > entry.expireAt { return }
                bytes.append(Opcode.expireTimeMS)
                for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: entry.expireAt >> Int64(8 * i))) }
            }
            appendValue(key, entry.value)
            if keyDelayMicros != 0 { Self.delay(keyDelayMicros) }
            if sink != nil && bytes.count >= 1 << 16 { drain() }
        }
    }

    private static func delay(_ micros: Int) {
        let sleep = micros > 0 ? micros : (Int.random(in: 0..<(-micros)) == 0 ? 1 : 0)
        if sleep > 0 { usleep(UInt32(clamping: sleep)) }
    }

    /// The end marker and checksum; the finished file.
    public mutating func finish() -> [UInt8] {
        bytes.append(Opcode.eof)
        let crc = CRC64.update(streamedCRC, bytes)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: crc >> UInt64(8 * i))) }
        guard sink != nil else { return bytes }
        sink!(bytes)
        bytes = []
        return []
    }

    /// Hands what is made so far to `sink`.
    private mutating func drain() {
        streamedCRC = CRC64.update(streamedCRC, bytes)
        sink!(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

    private mutating func appendValue(_ key: Bytes, _ value: Value) {
        switch value {
        case .string(let string):
            bytes.append(ValueType.string)
            appendKey(key)
            appendBytes(string)
        case .int:
            bytes.append(ValueType.string)
            appendKey(key)
            Self.appendString(value.stringBytes, to: &bytes)
        case .list(let list):
            bytes.append(ValueType.list)
            appendKey(key)
            Self.appendLength(list.count, to: &bytes)
            for item in list.items { appendBytes(item) }
        case .set(let set):
            bytes.append(ValueType.set)
            appendKey(key)
            Self.appendLength(set.count, to: &bytes)
            set.forEach { appendBytes($0) }
        case .hash(let hash):
            bytes.append(ValueType.hash)
            appendKey(key)
            Self.appendLength(hash.count, to: &bytes)
            hash.forEach { field, value in
                appendBytes(field)
                appendBytes(value)
            }
        case .zset(let zset):
            bytes.append(ValueType.zset2)
            appendKey(key)
            Self.appendLength(zset.count, to: &bytes)
            zset.forEach { member, score in
                appendBytes(member)
                let bits = score.bitPattern
                for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * i))) }
            }
        case .stream(let stream):
            bytes.append(RDBStream.type)
            appendKey(key)
            RDBStream.append(stream, to: &bytes)
        }
    }

    private mutating func appendKey(_ key: Bytes) { appendBytes(key) }

    /// A length-prefixed string, copied straight from its storage.
    private mutating func appendBytes(_ string: Bytes) {
        Self.appendLength(string.count, to: &bytes)
        string.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// RDB's length encoding: 6, 14, 32 or 64 bits.
    public static func appendLength(_ n: Int, to out: inout [UInt8]) {
        if n < 1 << 6 {
            out.append(UInt8(n))
        } else if n < 1 << 14 {
            out.append(UInt8(0x40 | (n >> 8)))
            out.append(UInt8(n & 0xff))
        } else if n <= Int(UInt32.max) {
            out.append(0x80)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> shift)) }
        } else {
            out.append(0x81)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> shift)) }
        }
    }

    /// A length-prefixed string, uncompressed.
    public static func appendString(_ string: [UInt8], to out: inout [UInt8]) {
        appendLength(string.count, to: &out)
        out.append(contentsOf: string)
    }
}
