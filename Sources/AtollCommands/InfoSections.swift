/// The text of each INFO section, with the field names clients and monitoring tools read.
/// `redis_version` is the Redis version whose behaviour Atoll matches; `atoll_version` is ours.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollLua
import AtollScripting
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum InfoSections {
    /// Every section in Redis's order, with the other names that select it.
    static let order: [(String, Set<String>)] = [
        ("server", []), ("clients", []), ("memory", []), ("persistence", []), ("stats", []),
        ("replication", []), ("cpu", []), ("modules", ["module_list"]), ("commandstats", []),
        ("errorstats", []), ("latencystats", []), ("cluster", []), ("keyspace", []),
    ]

    /// What INFO without arguments (or with `default`) shows.
    static let defaults: Set<String> = ["server", "clients", "memory", "persistence", "stats", "replication",
                                        "cpu", "module_list", "errorstats", "cluster", "keyspace"]

    static func render(_ name: String, _ c: inout CommandContext) -> String {
        let server = c.server
        var lines: [String]
        switch name {
        case "server": lines = serverSection(server, now: c.now)
        case "clients": lines = clientsSection(server)
        case "memory": lines = memorySection(server)
        case "persistence": lines = persistenceSection(server, now: c.now)
        case "stats": lines = statsSection(server, c.keyspace.stats)
        case "replication": lines = replicationSection(server, now: c.now)
        case "cpu": lines = cpuSection()
        case "modules":
            lines = ["# Modules"]
        case "commandstats":
            lines = ["# Commandstats"] + CommandStatistics.commandstatsLines(server)
        case "errorstats":
            lines = ["# Errorstats"] + CommandStatistics.errorstatsLines(server)
        case "latencystats":
            lines = ["# Latencystats"] + CommandStatistics.latencystatsLines(server)
        case "cluster":
            lines = ["# Cluster", "cluster_enabled:0"]
        case "keyspace":
            lines = ["# Keyspace"]
            for (i, db) in c.keyspace.databases.enumerated() where db.count > 0 {
                lines.append("db\(i):keys=\(db.count),expires=\(db.expiresCount),avg_ttl=\(c.keyspace.averageTTL(i))")
            }
        default:
            lines = []
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func operatingSystem() -> String {
        var u = utsname()
        uname(&u)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))"
    }

    /// Resident set size from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0, resident = 0
        guard fscanfTwo(file, &size, &resident) else { return 0 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    private static func fscanfTwo(_ file: UnsafeMutablePointer<FILE>, _ a: inout Int, _ b: inout Int) -> Bool {
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, 256, file) != nil else { return false }
        let parts = String(cString: line).split(separator: " ")
        guard parts.count >= 2, let x = Int(parts[0]), let y = Int(parts[1]) else { return false }
        a = x
        b = y
        return true
    }

    static func humanBytes(_ n: Int) -> String {
        let d = Double(n)
        if d < 1024 { return "\(n)B" }
        if d < 1024 * 1024 { return format2(d / 1024) + "K" }
        if d < 1024 * 1024 * 1024 { return format2(d / 1024 / 1024) + "M" }
        return format2(d / 1024 / 1024 / 1024) + "G"
    }

    static func format2(_ d: Double) -> String {
        let hundredths = Int((d * 100).rounded())
        return "\(hundredths / 100).\(String(hundredths % 100).leftPadded(2))"
    }
}
