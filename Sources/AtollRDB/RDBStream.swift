/// Streams in RDB type 19 (`RDB_TYPE_STREAM_LISTPACKS_2`, Redis 7.0), for snapshots and
/// DUMP payloads:
///
///     node count, then per node: its master ID (16 bytes big-endian, as a string) and its
///       listpack (as a string)
///     length, last ID (ms, seq), first ID, max deleted ID, entries added (lengths)
///     group count, then per group: name, last ID, entries read,
///       its PEL: count, then per entry: ID (16 raw bytes), delivery time (8 bytes LE ms), delivery count
///       its consumers: count, then per consumer: name, seen time (8 bytes LE ms),
///         its PEL: count, then IDs (16 raw bytes each)
import AtollBytes
import AtollKeyspace

enum RDBStream {
    static let type: UInt8 = 19

    /// The value after its type byte.
    static func append(_ stream: StreamObject, to out: inout [UInt8]) {
        RDBWriter.appendLength(stream.nodes.count, to: &out)
        for node in stream.nodes {
            RDBWriter.appendString(idBytes(node.master), to: &out)
            RDBObjectWriter.appendString(node.lp, to: &out)
        }
        appendLength(UInt64(stream.length), to: &out)
        appendID(stream.lastID, to: &out)
        appendID(stream.firstID, to: &out)
        appendID(stream.maxDeletedID, to: &out)
        appendLength(stream.entriesAdded, to: &out)
        RDBWriter.appendLength(stream.groups.count, to: &out)
        for group in stream.groups {
            RDBWriter.appendString(group.name.array, to: &out)
            appendID(group.lastID, to: &out)
            appendLength(UInt64(bitPattern: group.entriesRead), to: &out)
            RDBWriter.appendLength(group.pending.count, to: &out)
            group.pending.forEach { id, entry in
                out.append(contentsOf: idBytes(id))
                appendMillis(entry.deliveryTime, to: &out)
                appendLength(entry.deliveryCount, to: &out)
                return true
            }
            RDBWriter.appendLength(group.consumers.count, to: &out)
            for consumer in group.consumers {
                RDBWriter.appendString(consumer.name.array, to: &out)
                appendMillis(consumer.seenTime, to: &out)
                RDBWriter.appendLength(consumer.pending.count, to: &out)
                consumer.pending.forEach { id, _ in
                    out.append(contentsOf: idBytes(id))
                    return true
                }
            }
        }
    }

    static func idBytes(_ id: StreamID) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for part in [id.ms, id.seq] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: part >> UInt64(shift))) }
        }
        return out
    }

    private static func appendID(_ id: StreamID, to out: inout [UInt8]) {
        appendLength(id.ms, to: &out)
        appendLength(id.seq, to: &out)
    }

    private static func appendMillis(_ ms: Int64, to out: inout [UInt8]) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: ms >> Int64(8 * i))) }
    }

    /// RDB's length encoding for any 64-bit value.
    private static func appendLength(_ n: UInt64, to out: inout [UInt8]) {
        if n <= UInt64(UInt32.max) { return RDBWriter.appendLength(Int(n), to: &out) }
        out.append(0x81)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> UInt64(shift))) }
    }
}

extension RDBReader {
    /// A type-19 stream, every node and cross-reference checked: nodes in ascending order with
    /// valid listpacks whose counts add up to the length, groups and consumers unique, and
    /// each consumer's pending IDs in its group's PEL.
    mutating func stream() throws(RDBError) -> Value? {
        var nodes: [StreamObject.Node] = []
        var live = 0
        for _ in 0..<(try length()) {
            let key = try string()
            guard key.count == 16 else { throw fail("Stream node key entry is not the size of a stream ID") }
            let master = Self.id(key)
            let lp = try string()
            guard let count = StreamObject.validatedNode(lp) else { throw fail("Stream listpack integrity check failed") }
            if let previous = nodes.last, previous.master >= master { throw fail("Stream nodes out of order") }
            nodes.append(StreamObject.Node(master: master, lp: lp))
            live += count
        }
        let loaded = StreamObject(nodes: nodes, length: live)
        guard try length64() == UInt64(live) else { throw fail("Stream length does not match its entries") }
        loaded.lastID = try streamID()
        loaded.firstID = try streamID()
        loaded.maxDeletedID = try streamID()
        loaded.entriesAdded = try length64()
        for _ in 0..<(try length()) {
            let name = Bytes(try string())
            let lastID = try streamID()
            let entriesRead = Int64(bitPattern: try length64())
            guard let group = loaded.addGroup(name, lastID: lastID, entriesRead: entriesRead) else {
                throw fail("Duplicated consumer group name")
            }
            var unowned: [StreamID: (Int64, UInt64)] = [:]
            for _ in 0..<(try length()) {
                let id = Self.id(try rawBytes(16))
                let time = try millis()
                let deliveries = try length64()
                guard unowned.updateValue((time, deliveries), forKey: id) == nil else { throw fail("Duplicated global PEL entry") }
            }
            for _ in 0..<(try length()) {
                guard let consumer = group.addConsumer(Bytes(try string()), seenTime: try millis()) else {
                    throw fail("Duplicated consumer name")
                }
                for _ in 0..<(try length()) {
                    let id = Self.id(try rawBytes(16))
                    guard let (time, deliveries) = unowned.removeValue(forKey: id) else {
                        throw fail("Consumer PEL entry not found in group PEL")
                    }
                    let entry = PendingEntry(deliveryTime: time, deliveryCount: deliveries, consumer: consumer)
                    consumer.pending.insert(id, entry)
                    group.pending.insert(id, entry)
                }
            }
            guard unowned.isEmpty else { throw fail("Group PEL entry without a consumer") }
        }
        return .stream(loaded)
    }

    private static func id(_ raw: [UInt8]) -> StreamID {
        var ms: UInt64 = 0, seq: UInt64 = 0
        for k in 0..<8 { ms = ms << 8 | UInt64(raw[k]) }
        for k in 8..<16 { seq = seq << 8 | UInt64(raw[k]) }
        return StreamID(ms: ms, seq: seq)
    }

    private mutating func streamID() throws(RDBError) -> StreamID {
        StreamID(ms: try length64(), seq: try length64())
    }

    private mutating func rawBytes(_ n: Int) throws(RDBError) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<n { out.append(try byte()) }
        return out
    }

    private mutating func millis() throws(RDBError) -> Int64 {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(try byte()) << UInt64(8 * k) }
        return Int64(bitPattern: v)
    }

    /// RDB's length encoding, all 64 bits (stream IDs and counters use them).
    private mutating func length64() throws(RDBError) -> UInt64 {
        let first = try byte()
        switch first >> 6 {
        case 0: return UInt64(first & 0x3f)
        case 1: return UInt64(first & 0x3f) << 8 | UInt64(try byte())
        default:
            guard first == 0x80 || first == 0x81 else { throw fail("Bad length") }
            var n: UInt64 = 0
            for _ in 0..<(first == 0x80 ? 4 : 8) { n = n << 8 | UInt64(try byte()) }
            return n
        }
    }
}
