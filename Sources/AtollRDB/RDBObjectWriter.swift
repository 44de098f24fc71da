/// One value as Redis 7.0 serializes it for DUMP: its RDB type byte, then the value in the
/// encoding Redis would hold it in (so the bytes are redis-server's wherever Atoll's encoding
/// is Redis's): strings integer-encoded or LZF-compressed as `rdbSaveRawString` does, lists as
/// a quicklist of listpacks split where Redis's pushes split them, small hashes and sorted sets
/// as listpacks, integer sets as intsets, and the rest as plain RDB sequences (sorted sets from
/// the highest score down, as Redis writes its skiplist).
///
/// Where the bytes cannot match: hash-table-encoded sets and hashes list members in Atoll's
/// order, not Redis's dict order; a list built other than by appends may be split into
/// different nodes in Redis; an intset keeps the widest integer width it ever needed in Redis
/// (Atoll writes the narrowest that fits).
import AtollBytes
import AtollKeyspace
import DequeModule

public enum RDBObjectWriter {
    typealias ValueType = RDBWriter.ValueType

    /// The type byte and the serialized value.
    public static func serialize(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        // Room for a short string and DUMP's 10-byte footer, so that neither grows the array.
        out.reserveCapacity(48)
        switch value {
        case .string(let bytes):
            out.append(ValueType.string)
            if bytes.count > shortStringLimit {
                appendString(bytes.array, to: &out)
            } else {
                bytes.withUnsafeBytes { appendShortString($0, to: &out) }
            }
        case .int(let n):
            out.append(ValueType.string)
            // At most 20 digits: never compressed, and a String that short needs no array.
            var digits = String(n)
            digits.withUTF8 { appendShortString(UnsafeRawBufferPointer($0), to: &out) }
        case .list(let list):
            out.append(ValueType.quicklist2)
            appendQuicklist(list, to: &out)
        case .set(let set):
            if set.compact {
                out.append(ValueType.intset)
                var members: [Int64] = []
                members.reserveCapacity(set.count)
                set.forEach { members.append($0.strictInt64 ?? 0) }
                appendString(intset(members), to: &out)
            } else {
                out.append(ValueType.set)
                RDBWriter.appendLength(set.count, to: &out)
                set.forEach { appendString($0.array, to: &out) }
            }
        case .hash(let hash):
            if hash.compact {
                var pairs: [([UInt8], [UInt8])] = []
                hash.forEach { field, value in pairs.append((field.array, value.array)) }
                appendListpack(ValueType.hashListpack, pairs, to: &out)
            } else {
                out.append(ValueType.hash)
                RDBWriter.appendLength(hash.count, to: &out)
                hash.forEach { field, value in
                    appendString(field.array, to: &out)
                    appendString(value.array, to: &out)
                }
            }
        case .zset(let zset):
            if zset.compact {
                var pairs: [([UInt8], [UInt8])] = []
                zset.forEach { member, score in
                    pairs.append((member.array, Array(SortedSetObject.listpackScoreText(score).utf8)))
                }
                appendListpack(ValueType.zsetListpack, pairs, to: &out)
            } else {
                out.append(ValueType.zset2)
                RDBWriter.appendLength(zset.count, to: &out)
                for entry in zset.sortedEntries.reversed() {
                    appendString(entry.member.array, to: &out)
                    let bits = entry.score.bitPattern
                    for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * i))) }
                }
            }
        case .stream(let stream):
            out.append(RDBStream.type)
            RDBStream.append(stream, to: &out)
        }
        return out
    }

    /// `type`, then the pairs as one listpack (field, value, ... or member, score, ...).
    private static func appendListpack(_ type: UInt8, _ pairs: [([UInt8], [UInt8])], to out: inout [UInt8]) {
        out.append(type)
        var pack = Listpack()
        for (first, second) in pairs {
            pack.append(first)
            pack.append(second)
        }
        appendString(pack.finish(), to: &out)
    }

    // MARK: - Strings

    /// A string as `rdbSaveRawString` writes it: a canonical 32-bit integer in 1, 2 or 4 bytes,
    /// else LZF-compressed when longer than 20 bytes and at least 4 bytes shorter compressed,
    /// else plain.
    public static func appendString(_ string: [UInt8], to out: inout [UInt8]) {
        guard string.count > shortStringLimit else {
            return string.withUnsafeBytes { appendShortString($0, to: &out) }
        }
        if let compressed = LZF.compress(string, limit: string.count - 4) {
            out.append(0xC3)
            RDBWriter.appendLength(compressed.count, to: &out)
            RDBWriter.appendLength(string.count, to: &out)
            out.append(contentsOf: compressed)
            return
        }
        RDBWriter.appendString(string, to: &out)
    }

    /// The longest string `appendString` never compresses.
    static let shortStringLimit = 20

    /// `appendString` for a string of at most `shortStringLimit` bytes, read in place (DUMP of
    /// a short string made an array of it first).
    static func appendShortString(_ string: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if string.count <= 11, let n = parseStrictInt64(string) {
            if let small = Int8(exactly: n) {
                out.append(0xC0)
                out.append(UInt8(bitPattern: small))
                return
            }
            if let small = Int16(exactly: n) {
                out.append(0xC1)
                appendLittleEndian(UInt64(UInt16(bitPattern: small)), width: 2, to: &out)
                return
            }
            if let small = Int32(exactly: n) {
                out.append(0xC2)
                appendLittleEndian(UInt64(UInt32(bitPattern: small)), width: 4, to: &out)
                return
            }
        }
        RDBWriter.appendLength(string.count, to: &out)
        out.append(contentsOf: string)
    }

    /// The low `width` bytes of `value`, least significant first, in one append.
    static func appendLittleEndian(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<width])) }
    }

    // MARK: - Intsets and quicklists

    /// An intset: the width in bytes (2, 4 or 8, the narrowest that holds every member), the
    /// count, then the members ascending, all little-endian.
    static func intset(_ sorted: [Int64]) -> [UInt8] {
        var width = 2
        for n in sorted {
            if Int32(exactly: n) == nil { width = 8; break }
            if Int16(exactly: n) == nil { width = 4 }
        }
        var out: [UInt8] = []
        out.reserveCapacity(8 + width * sorted.count)
        appendLittleEndian(UInt64(width), width: 4, to: &out)
        appendLittleEndian(UInt64(sorted.count), width: 4, to: &out)
        for n in sorted { appendLittleEndian(UInt64(bitPattern: n), width: width, to: &out) }
        return out
    }

    /// list-max-listpack-size -2: a quicklist node's listpack stays within 8 KiB.
    static let nodeBytesLimit = 8192
    /// Elements this long get a node of their own, unpacked (Redis's `packed_threshold`).
    static let plainThreshold = 1 << 30

    /// The list as Redis's quicklist holds it after the same elements were appended one by one:
    /// the node count, then each node as its container (2 packed, 1 plain) and its listpack.
    static func appendQuicklist(_ list: ListObject, to out: inout [UInt8]) {
        let nodes = quicklistNodes(list)
        RDBWriter.appendLength(nodes.count, to: &out)
        for node in nodes {
            RDBWriter.appendLength(node.container, to: &out)
            appendString(node.bytes, to: &out)
        }
    }

    /// The nodes of the quicklist Redis would hold after the same elements were appended one
    /// by one: each node's container (2 packed, 1 plain) and its listpack (or lone element).
    public static func quicklistNodes(_ list: ListObject) -> [(container: Int, bytes: [UInt8])] {
        var nodes: [(container: Int, bytes: [UInt8])] = []
        var pack: Listpack?
        for item in list.items {
            let length = item.count
            if length >= plainThreshold {
                if let open = pack { nodes.append((2, open.finish())) }
                pack = nil
                nodes.append((1, item.array))
                continue
            }
            // `_quicklistNodeAllowInsert`: the node's size plus the element plus 8 bytes (Redis's
            // overestimate of an entry's overhead) must stay within the limit.
            if let open = pack, open.byteCount + length + 8 > nodeBytesLimit {
                nodes.append((2, open.finish()))
                pack = nil
            }
            if pack == nil { pack = Listpack() }
            pack!.append(item.array)
        }
        if let open = pack { nodes.append((2, open.finish())) }
        return nodes
    }
}

/// A listpack as Redis 7.0 builds one by appending (elements encoded by `ListpackCoding`): a 6-byte header (total bytes, element
/// count), each element (canonical integers in the smallest integer encoding, other strings
/// with a 1, 2 or 5 byte length) followed by its own length backwards, and 0xFF.
struct Listpack {
    private var entries: [UInt8] = []
    private var count = 0

    /// The listpack's size in bytes so far, header and terminator included.
    var byteCount: Int { 6 + entries.count + 1 }

    mutating func append(_ element: [UInt8]) {
        ListpackCoding.appendString(element, to: &entries)
        count += 1
    }

    func finish() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount)
        RDBObjectWriter.appendLittleEndian(UInt64(byteCount), width: 4, to: &out)
        RDBObjectWriter.appendLittleEndian(UInt64(min(count, 65535)), width: 2, to: &out)
        out.append(contentsOf: entries)
        out.append(0xFF)
        return out
    }
}
