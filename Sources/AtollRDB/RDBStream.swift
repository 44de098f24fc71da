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
            for (k, id) in group.pending.ids.enumerated() {
                let entry = group.pending.values[k]
                out.append(contentsOf: idBytes(id))
                appendMillis(entry.deliveryTime, to: &out)
                appendLength(entry.deliveryCount, to: &out)
            }
            RDBWriter.appendLength(group.consumers.count, to: &out)
            for consumer in group.consumers {
                RDBWriter.appendString(consumer.name.array, to: &out)
                appendMillis(consumer.seenTime, to: &out)
                RDBWriter.appendLength(consumer.pending.count, to: &out)
                for id in consumer.pending.ids { out.append(contentsOf: idBytes(id)) }
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
