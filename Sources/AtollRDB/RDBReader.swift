/// Reads RDB files (versions 1 to 10, as Redis 7.0 writes them): strings (plain, integer-
/// encoded, LZF-compressed), lists as quicklists of listpacks or plain sequences, sets as
/// intsets or plain, hashes and sorted sets as listpacks or plain, expiry times, databases
/// and function libraries. A damaged file is refused with the offset where reading failed.
import AtollBytes
import AtollKeyspace

/// What a snapshot holds.
public struct RDBContents {
    public struct Key {
        public let db: Int
        public let key: Bytes
        public let value: Value
        public let expireAt: Int64
    }
    public var keys: [Key] = []
    /// Function library codes (FUNCTION2 records).
    public var functions: [[UInt8]] = []
    /// EVAL script bodies Atoll keeps in `atoll-script` auxiliary fields (Redis skips them).
    public var scripts: [[UInt8]] = []
    /// The replication stream the snapshot belongs to (`repl-stream-db`, `repl-id`,
    /// `repl-offset` auxiliary fields), when it says.
    public var replStreamDB: Int?
    public var replID: String?
    public var replOffset: Int64?
}

public struct RDBError: Error, CustomStringConvertible {
    public let reason: String
    public let offset: Int
    public var description: String { "\(reason) at offset \(offset)" }
}

public struct RDBReader {
    /// The auxiliary field that carries an EVAL script's body.
    public static let scriptAuxKey = Array("atoll-script".utf8)

    let bytes: [UInt8]
    var position = 0
    let limits: EncodingLimits

    /// Parses a whole RDB file.
    public static func read(_ bytes: [UInt8], limits: EncodingLimits) throws(RDBError) -> RDBContents {
        var reader = RDBReader(bytes: bytes, limits: limits)
        return try reader.readFile()
    }

    /// A reader over `bytes` from its start (for payloads made of RDB records, like DUMP's).
    public init(bytes: [UInt8], limits: EncodingLimits = EncodingLimits()) {
        self.bytes = bytes
        self.limits = limits
    }

    public var atEnd: Bool { position >= bytes.count }

    func fail(_ reason: String) -> RDBError { RDBError(reason: reason, offset: position) }

    private mutating func readFile() throws(RDBError) -> RDBContents {
        guard bytes.count >= 9, bytes.starts(with: Array("REDIS".utf8)),
              let version = Int(String(decoding: bytes[5..<9], as: UTF8.self)) else { throw fail("Wrong signature") }
        guard version >= 1 && version <= RDBWriter.version else { throw fail("Can't handle RDB format version \(version)") }
        position = 9
        var contents = RDBContents()
        var db = 0
        var expireAt = noExpiry
        while true {
            let type = try byte()
            switch type {
            case 0xFF:
                try verifyChecksum(version: version)
                return contents
            case 0xFE: db = try length()
            case 0xFB:
                _ = try length()
                _ = try length()
            case 0xFA:
                let key = try string()
                let value = try string()
                if key == RDBReader.scriptAuxKey {
                    contents.scripts.append(value)
                } else {
                    Self.readReplicationField(key, value, into: &contents)
                }
            case 0xFC: expireAt = try littleEndian(8)
            case 0xFD: expireAt = try littleEndian(4) * 1000
            case 0xF8: _ = try length()            // LRU idle time
            case 0xF9: _ = try byte()              // LFU frequency
            case 0xF5: contents.functions.append(try string())
            case 0xF6: throw fail("Pre-GA function format not supported")
            case 0xF7: throw fail("Module auxiliary data is not supported")
            default:
                let key = Bytes(try string())
                // Redis skips an empty collection in a file (and refuses it in RESTORE).
                if let value = try readValue(type) {
                    contents.keys.append(.init(db: db, key: key, value: value, expireAt: expireAt))
                }
                expireAt = noExpiry
            }
        }
    }

    /// Redis's replication fields: a replication ID counts only at its 40 characters.
    private static func readReplicationField(_ key: [UInt8], _ value: [UInt8], into contents: inout RDBContents) {
        let text = String(decoding: value, as: UTF8.self)
        switch String(decoding: key, as: UTF8.self) {
        case "repl-stream-db": contents.replStreamDB = Int(text)
        case "repl-id" where value.count == 40: contents.replID = text
        case "repl-offset": contents.replOffset = Int64(text)
        default: break
        }
    }

    private mutating func verifyChecksum(version: Int) throws(RDBError) {
        guard version >= 5 else { return }
        let end = position
        let stored = try littleEndian(8)
        // Redis writes 0 when checksums are turned off.
        if stored != 0 && UInt64(bitPattern: stored) != CRC64.checksum(bytes[0..<end]) {
            position = end
            throw fail("Wrong RDB checksum")
        }
    }

    // MARK: - Values

    /// One value as DUMP writes it: its type byte, then the value. An empty collection is
    /// refused, as Redis's RESTORE refuses it.
    public mutating func object() throws(RDBError) -> Value {
        let type = try byte()
        guard let value = try readValue(type) else { throw fail("Empty key") }
        return value
    }

    /// The value of RDB type `type`, or nil for an empty collection. Duplicate members or
    /// fields are damage (Redis refuses them too), so a value is never half merged.
    private mutating func readValue(_ type: UInt8) throws(RDBError) -> Value? {
        switch type {
        case 0: return Value.encodedString(try string())
        case RDBStream.type: return try stream()
        case 1:
            let list = ListObject()
            for _ in 0..<(try length()) { list.items.append(Bytes(try string())) }
            return list.count == 0 ? nil : .list(list)
        case 2:
            let set = SetObject()
            for _ in 0..<(try length()) {
                guard set.insert(Bytes(try string()), limits: limits) else { throw fail("Duplicate set members detected") }
            }
            return set.count == 0 ? nil : .set(set)
        case 3, 5:
            let zset = SortedSetObject.make()
            for _ in 0..<(try length()) {
                let member = Bytes(try string())
                let score = type == 5 ? try binaryDouble() : try textDouble()
                guard !score.isNaN else { throw fail("Zset with NAN score detected") }
                guard zset.set(member, score, limits: limits) == nil else { throw fail("Duplicate zset fields detected") }
            }
            return zset.count == 0 ? nil : .zset(zset)
        case 4:
            let hash = HashObject.make()
            for _ in 0..<(try length()) {
                guard hash.set(Bytes(try string()), Bytes(try string()), limits: limits) else {
                    throw fail("Duplicate hash fields detected")
                }
            }
            return hash.count == 0 ? nil : .hash(hash)
        case 11:
            let blob = try stringBytes()
            let offset = position
            let members = try withBytes(of: blob) { (intset) throws(RDBError) in try Self.intsetMembers(intset, offset: offset) }
            return members.isEmpty ? nil : .set(SetObject.make(ascending: members, limits: limits))
        case 16:
            return try hashFromListpack()
        case 13:
            return try hash(pairs: try ziplist(try string()))
        case 17:
            return try sortedSetFromListpack()
        case 12:
            return try sortedSet(pairs: try ziplist(try string()))
        case 10:
            let list = ListObject()
            for item in try ziplist(try string()) { list.items.append(Bytes(item)) }
            return list.count == 0 ? nil : .list(list)
        case 14:
            // A quicklist of ziplists (RDB 9 and before): its nodes' entries in order.
            let list = ListObject()
            for _ in 0..<(try length()) {
                for item in try ziplist(try string()) { list.items.append(Bytes(item)) }
            }
            return list.count == 0 ? nil : .list(list)
        case 18:
            return try quicklist()
        default:
            throw fail("Unknown or unsupported RDB value type \(type)")
        }
    }

    // MARK: - Encoded collections

    /// A hash from a listpack's or ziplist's entries: field, value, field, value...
    private func hash(pairs items: [[UInt8]]) throws(RDBError) -> Value? {
        guard items.count % 2 == 0 else { throw fail("Odd listpack for a hash") }
        let hash = HashObject.make()
        for i in stride(from: 0, to: items.count, by: 2) {
            guard hash.set(Bytes(items[i]), Bytes(items[i + 1]), limits: limits) else {
                throw fail("Duplicate hash fields detected")
            }
        }
        return hash.count == 0 ? nil : .hash(hash)
    }

    /// A sorted set from a listpack's or ziplist's entries: member, score, member, score...
    private func sortedSet(pairs items: [[UInt8]]) throws(RDBError) -> Value? {
        guard items.count % 2 == 0 else { throw fail("Odd listpack for a sorted set") }
        let zset = SortedSetObject.make()
        for i in stride(from: 0, to: items.count, by: 2) {
            guard let score = Double(String(decoding: items[i + 1], as: UTF8.self)), !score.isNaN else { throw fail("Bad score") }
            guard zset.set(Bytes(items[i]), score, limits: limits) == nil else { throw fail("Duplicate zset fields detected") }
        }
        return zset.count == 0 ? nil : .zset(zset)
    }

    private func ziplist(_ blob: [UInt8]) throws(RDBError) -> [[UInt8]] {
        guard let items = Ziplist.entries(blob) else { throw fail("Bad ziplist") }
        return items
    }

    /// An intset's members, read in place: strictly ascending, as an intset is (anything else
    /// is damage, or duplicates).
    private static func intsetMembers(_ blob: UnsafeRawBufferPointer, offset: Int) throws(RDBError) -> [Int64] {
        guard blob.count >= 8 else { throw RDBError(reason: "Bad intset", offset: offset) }
        let width = Int(UInt32(littleEndian: blob.loadUnaligned(as: UInt32.self)))
        let count = Int(UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard width == 2 || width == 4 || width == 8, blob.count == 8 + width * count else {
            throw RDBError(reason: "Bad intset", offset: offset)
        }
        var ascending = true
        let members = [Int64](unsafeUninitializedCapacity: count) { members, initialized in
            var previous = Int64.min
            for i in 0..<count {
                let at = 8 + i * width
                let member = width == 2 ? Int64(Int16(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                    : width == 4 ? Int64(Int32(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                    : Int64(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int64.self))
                if i > 0 && member <= previous { ascending = false }
                previous = member
                (members.baseAddress! + i).initialize(to: member)
            }
            initialized = count
        }
        guard ascending else { throw RDBError(reason: "Bad intset", offset: offset) }
        return members
    }

    // MARK: - Primitives

    public mutating func byte() throws(RDBError) -> UInt8 {
        guard position < bytes.count else { throw fail("Unexpected end of file") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func littleEndian(_ width: Int) throws(RDBError) -> Int64 {
        guard position + width <= bytes.count else { throw fail("Unexpected end of file") }
        var raw: UInt64 = 0
        for i in 0..<width { raw |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += width
        return width == 8 ? Int64(bitPattern: raw) : Int64(raw)
    }

    private mutating func binaryDouble() throws(RDBError) -> Double {
        Double(bitPattern: UInt64(bitPattern: try littleEndian(8)))
    }

    /// Version-1 sorted-set scores: a length byte (253 nan, 254 +inf, 255 -inf) and text.
    private mutating func textDouble() throws(RDBError) -> Double {
        let n = try byte()
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            guard position + Int(n) <= bytes.count,
                  let d = Double(String(decoding: bytes[position..<position + Int(n)], as: UTF8.self)) else { throw fail("Bad score") }
            position += Int(n)
            return d
        }
    }

    mutating func length() throws(RDBError) -> Int {
        let (n, encoded) = try lengthOrEncoding()
        if encoded { throw fail("Unexpected string encoding where a length belongs") }
        return n
    }

    mutating func lengthOrEncoding() throws(RDBError) -> (Int, Bool) {
        let first = try byte()
        switch first >> 6 {
        case 0: return (Int(first & 0x3f), false)
        case 1: return (Int(first & 0x3f) << 8 | Int(try byte()), false)
        case 2:
            let width = first == 0x80 ? 4 : (first == 0x81 ? 8 : 0)
            guard width > 0, position + width <= bytes.count else { throw fail("Bad length") }
            var n: UInt64 = 0
            for _ in 0..<width { n = n << 8 | UInt64(try byte()) }
            guard n <= UInt64(Int32.max) * 4 else { throw fail("Length too large") }
            return (Int(n), false)
        default: return (Int(first & 0x3f), true)
        }
    }

    /// A string: plain, an integer in 1, 2 or 4 bytes, or LZF-compressed.
    public mutating func string() throws(RDBError) -> [UInt8] {
        let (n, encoded) = try lengthOrEncoding()
        guard encoded else {
            guard position + n <= bytes.count else { throw fail("Unexpected end of file") }
            defer { position += n }
            return Array(bytes[position..<position + n])
        }
        switch n {
        case 0: return Array(String(Int8(truncatingIfNeeded: try littleEndian(1))).utf8)
        case 1: return Array(String(Int16(truncatingIfNeeded: try littleEndian(2))).utf8)
        case 2: return Array(String(Int32(truncatingIfNeeded: try littleEndian(4))).utf8)
        case 3:
            let compressed = try length()
            let original = try length()
            guard position + compressed <= bytes.count,
                  let out = LZF.decompress(bytes[position..<position + compressed], expectedLength: original) else {
                throw fail("Bad LZF-compressed string")
            }
            position += compressed
            return out
        default:
            throw fail("Unknown string encoding \(n)")
        }
    }
}
