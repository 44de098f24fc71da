/// MEMORY USAGE STATS DOCTOR MALLOC-STATS PURGE HELP. USAGE estimates what a key takes in
/// Atoll's own layout (the table entry, the key, the value and, for collections, a sample of
/// their elements scaled to their count, as Redis samples); the figures are Atoll's, not
/// Redis's, since the layouts differ.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP
import CAllocator
import DequeModule

enum MemoryCommands {
    static let commands: [CommandBinding] = [
        .init("memory|usage", usage),
        .init("memory|stats", stats),
        .init("memory|doctor", doctor),
        .init("memory|malloc-stats", mallocStats),
        .init("memory|purge", purge),
        .init("memory|help", help),
    ]

    /// A key's slot in the table (its `Entry`, hash and chain link).
    static let entryBytes = 48
    /// A byte string's heap block: none up to `Bytes.inlineCapacity`, else an array's header
    /// and its bytes rounded to malloc's 16-byte granules.
    static func heapBytes(_ length: Int) -> Int {
        length <= Bytes.inlineCapacity ? 0 : 32 + (length + 15) / 16 * 16
    }

    static func usage(_ c: inout CommandContext) {
        var samples = 5
        var i = 3
        while i < c.args.count {
            guard c.argIs(i, "samples"), i + 1 < c.args.count else { return c.syntaxError() }
            guard let n = c.integerArgument(i + 1) else { return }
            guard n >= 0 else { return c.syntaxError() }
            samples = n == 0 ? Int.max : Int(min(n, Int64(Int.max)))
            i += 2
        }
        let key = Bytes(c.args[2])
        guard let entry = c.lookup(key) else { return c.out.null() }
        c.out.integer(entryBytes + heapBytes(key.count) + valueBytes(entry.value, samples: samples))
    }

    /// The value's estimated size: elements measured one by one up to `samples`, the rest
    /// counted at the sampled average.
    static func valueBytes(_ value: Value, samples: Int) -> Int {
        switch value {
        case .int: return 0
        case .string(let bytes): return heapBytes(bytes.count)
        case .list(let list):
            let stride = MemoryLayout<Bytes>.stride
            return 64 + scaled(list.count, samples) { visit in
                for item in list.items where !visit(stride + heapBytes(item.count)) { break }
            }
        case .hash(let hash):
            return 64 + scaled(hash.count, samples) { visit in
                hash.forEach { field, value in
                    _ = visit(hash.compact ? field.count + value.count + 4 : 2 * 32 + heapBytes(field.count) + heapBytes(value.count))
                }
            }
        case .set(let set):
            return 64 + scaled(set.count, samples) { visit in
                set.forEach { member in _ = visit(32 + heapBytes(member.count)) }
            }
        case .zset(let zset):
            return 64 + scaled(zset.count, samples) { visit in
                zset.forEach { member, _ in
                    _ = visit(zset.compact ? member.count + 10 : 64 + heapBytes(member.count))
                }
            }
        case .stream(let stream):
            // The nodes are measured whole (they are the entries' storage); groups are not counted.
            let nodeBytes = stream.nodes.reduce(0) { $0 + heapBytes($1.lp.count) }
            return 64 + stream.nodes.count * MemoryLayout<StreamObject.Node>.stride + nodeBytes
        }
    }

    /// Redis's sampling: the sizes of the first `samples` elements, scaled up to `count`.
    /// `walk` calls `visit` per element and stops (where it can) once it returns false.
    static func scaled(_ count: Int, _ samples: Int, _ walk: ((Int) -> Bool) -> Void) -> Int {
        guard count > 0 else { return 0 }
        var measured = 0, total = 0
        walk { size in
            guard measured < samples else { return false }
            measured += 1
            total += size
            return measured < samples
        }
        guard measured > 0 else { return 0 }
        return measured >= count ? total : total / measured * count
    }

    static func stats(_ c: inout CommandContext) {
        let resident = InfoSections.residentBytes()
        let keys = c.keyspace.databases.reduce(0) { $0 + $1.count }
        let overhead = keys * entryBytes
        let dataset = max(resident - overhead, 0)
        let databases = c.keyspace.databases.enumerated().filter { $0.element.count > 0 }
        c.out.mapHeader(27 + databases.count)
        func field(_ name: String, _ value: Int, _ out: inout ReplyWriter) {
            out.bulk(name)
            out.integer(value)
        }
        func ratio(_ name: String, _ value: Double, _ out: inout ReplyWriter) {
            out.bulk(name)
            out.double(value)
        }
        field("peak.allocated", resident, &c.out)
        field("total.allocated", resident, &c.out)
        field("startup.allocated", 0, &c.out)
        field("replication.backlog", 0, &c.out)
        field("clients.slaves", 0, &c.out)
        field("clients.normal", 0, &c.out)
        field("cluster.links", 0, &c.out)
        field("aof.buffer", 0, &c.out)
        field("lua.caches", 0, &c.out)
        field("functions.caches", 0, &c.out)
        for (index, database) in databases {
            c.out.bulk("db.\(index)")
            c.out.mapHeader(2)
            field("overhead.hashtable.main", database.count * entryBytes, &c.out)
            field("overhead.hashtable.expires", database.expiresCount * entryBytes, &c.out)
        }
        field("overhead.total", overhead, &c.out)
        field("keys.count", keys, &c.out)
        field("keys.bytes-per-key", keys > 0 ? resident / keys : 0, &c.out)
        field("dataset.bytes", dataset, &c.out)
        ratio("dataset.percentage", resident > 0 ? Double(dataset) * 100 / Double(resident) : 0, &c.out)
        ratio("peak.percentage", 100, &c.out)
        field("allocator.allocated", resident, &c.out)
        field("allocator.active", resident, &c.out)
        field("allocator.resident", resident, &c.out)
        ratio("allocator-fragmentation.ratio", 1, &c.out)
        field("allocator-fragmentation.bytes", 0, &c.out)
        ratio("allocator-rss.ratio", 1, &c.out)
        field("allocator-rss.bytes", 0, &c.out)
        ratio("rss-overhead.ratio", 1, &c.out)
        field("rss-overhead.bytes", 0, &c.out)
        ratio("fragmentation", 1, &c.out)
        field("fragmentation.bytes", 0, &c.out)
    }

    /// Redis's report: too little data below 5 MiB (the dataset is counted here at a table
    /// entry per key, a lower bound, since the process's own size says nothing of the data),
    /// otherwise no issue found (Atoll has none of the conditions Redis looks for).
    static func doctor(_ c: inout CommandContext) {
        let keys = c.keyspace.databases.reduce(0) { $0 + $1.count }
        if keys * entryBytes < 5 * 1024 * 1024 {
            return c.out.verbatim("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
        }
        c.out.verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
    }

    /// Redis's answer when its allocator is not jemalloc, which is Atoll's case (glibc malloc).
    static func mallocStats(_ c: inout CommandContext) {
        c.out.bulk("Stats not supported for the current allocator")
    }

    /// Returns the allocator's free heap pages to the system.
    static func purge(_ c: inout CommandContext) {
        _ = atoll_allocator_trim()
        c.out.ok()
    }

    static func help(_ c: inout CommandContext) {
        replyHelp(&c, "MEMORY", [
            "DOCTOR", "    Return memory problems reports.",
            "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
            "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS", "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ])
    }
}
