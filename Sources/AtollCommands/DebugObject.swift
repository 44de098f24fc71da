/// DEBUG OBJECT, LISTPACK and QUICKLIST: the low-level view of one key's value, in Redis
/// 7.0's words. The encoding, refcount, serialized length and quicklist figures are Redis's
/// (lists are described as the quicklist Redis would hold after the same appends); the
/// address is Atoll's own.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRDB
import AtollRESP

enum DebugObject {
    /// `DEBUG OBJECT <key>`.
    static func object(_ c: inout CommandContext) {
        guard let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[2]), now: c.now) else {
            return c.out.error("ERR no such key")
        }
        let serialized = RDBObjectWriter.serialize(entry.value).count - 1
        let idle = c.server.accessClock.idleSeconds(entry.lastAccess)
        // Redis's LRU clock is seconds in 24 bits.
        var line = "Value at:\(address(of: entry.value, key: c.args[2])) refcount:\(refcount(entry)) encoding:\(encodingName(entry))"
            + " serializedlength:\(serialized) lru:\(entry.lastAccess & 0xFF_FFFF) lru_seconds_idle:\(idle)"
        if case .list(let list) = entry.value {
            let nodes = RDBObjectWriter.quicklistNodes(list)
            // Nodes as Redis splits them under its defaults (8 kB listpacks, no compression):
            // list-max-listpack-size and list-compress-depth have no effect in Atoll.
            let average = nodes.isEmpty ? 0 : Double(list.count) / Double(nodes.count)
            line += " ql_nodes:\(nodes.count) ql_avg_node:\(formatFixed(average, places: 2)) ql_listpack_max:-2"
                + " ql_compressed:0 ql_uncompressed_size:\(nodes.reduce(0) { $0 + $1.bytes.count })"
        }
        c.out.status(text: line)
    }

    /// `DEBUG LISTPACK <key>`: Redis prints the listpack on its standard output; Atoll writes
    /// a summary to the log.
    static func listpack(_ c: inout CommandContext) {
        guard let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[2]), now: c.now) else {
            return c.out.error("ERR no such key")
        }
        guard encodingName(entry) == "listpack" else { return c.out.error("ERR Not a listpack encoded object.") }
        let bytes = RDBObjectWriter.serialize(entry.value).count - 1
        c.server.logHandler?(2, "DEBUG LISTPACK: \(entry.value.typeName) of \(count(entry.value)) elements, \(bytes) bytes serialized")
        c.out.status("Listpack structure printed on stdout")
    }

    /// `DEBUG QUICKLIST <key> [<0|1>]`: as LISTPACK, for lists (the detail level is not read).
    static func quicklist(_ c: inout CommandContext) {
        guard let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[2]), now: c.now) else {
            return c.out.error("ERR no such key")
        }
        guard case .list(let list) = entry.value else { return c.out.error("ERR Not a quicklist encoded object.") }
        let sizes = RDBObjectWriter.quicklistNodes(list).map { String($0.bytes.count) }
        c.server.logHandler?(2, "DEBUG QUICKLIST: \(list.count) elements in \(sizes.count) nodes of \(sizes.joined(separator: ", ")) bytes")
        c.out.status("Quicklist structure printed on stdout")
    }

    /// What OBJECT ENCODING reports.
    static func encodingName(_ entry: Entry) -> String {
        switch entry.value {
        case .int: return "int"
        case .string(let bytes): return !entry.rawEncoding && bytes.count <= 44 ? "embstr" : "raw"
        case .hash(let h): return h.compact ? "listpack" : "hashtable"
        case .list: return "quicklist"
        case .set(let s): return s.compact ? "intset" : "hashtable"
        case .zset(let z): return z.compact ? "listpack" : "skiplist"
        case .stream: return "stream"
        }
    }

    /// Redis shares the objects for the integers 0...9999, which report INT_MAX.
    static func refcount(_ entry: Entry) -> Int {
        if case .int(let n) = entry.value, n >= 0 && n < 10000 { return Int(Int32.max) }
        return 1
    }

    private static func count(_ value: Value) -> Int {
        switch value {
        case .string, .int: return 1
        case .hash(let h): return h.count
        case .list(let l): return l.count
        case .set(let s): return s.count
        case .zset(let z): return z.count
        case .stream(let x): return x.length
        }
    }

    /// The collection's object address; a string has none of its own, so its key's hash
    /// stands in.
    private static func address(of value: Value, key: [UInt8]) -> String {
        let id: UInt
        switch value {
        case .hash(let h): id = UInt(bitPattern: ObjectIdentifier(h).hashValue)
        case .list(let l): id = UInt(bitPattern: ObjectIdentifier(l).hashValue)
        case .set(let s): id = UInt(bitPattern: ObjectIdentifier(s).hashValue)
        case .zset(let z): id = UInt(bitPattern: ObjectIdentifier(z).hashValue)
        case .stream(let x): id = UInt(bitPattern: ObjectIdentifier(x).hashValue)
        case .string, .int: id = UInt(bitPattern: key.hashValue) & 0x7fff_ffff_fff0
        }
        return "0x" + String(id, radix: 16)
    }
}
