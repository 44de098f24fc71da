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
        case "server":
            let uptime = (c.now - server.startTime) / 1000
            lines = ["# Server",
                     "redis_version:\(redisCompatibleVersion)",
                     "atoll_version:\(atollVersion)",
                     "redis_mode:standalone",
                     "os:\(operatingSystem())",
                     "arch_bits:64",
                     "process_id:\(getpid())",
                     "run_id:\(server.runID)",
                     "tcp_port:\(server.config.port)",
                     "server_time_usec:\(currentTimeMicros())",
                     "uptime_in_seconds:\(uptime)",
                     "uptime_in_days:\(uptime / 86400)",
                     "hz:\(server.config.hz)",
                     "configured_hz:\(server.config.hz)",
                     "executable:atoll-server",
                     "io_threads_active:0"]
        case "clients":
            lines = ["# Clients",
                     "connected_clients:\(server.clients.count)",
                     "maxclients:\(server.config.maxClients)",
                     "blocked_clients:\(server.blocking.blockedClients + server.pausedClientCount)",
                     "tracking_clients:\(server.tracking.clients)",
                     "watching_clients:\(server.watches.clientCount)",
                     "total_watched_keys:\(server.watches.keyCount)",
                     "clients_in_timeout_table:\(server.blocking.clientsWithTimeout)"]
        case "memory":
            let used = allocatedBytes()
            let rss = residentBytes()
            lines = ["# Memory",
                     "used_memory:\(used)",
                     "used_memory_human:\(humanBytes(used))",
                     "used_memory_rss:\(rss)",
                     "used_memory_rss_human:\(humanBytes(rss))",
                     "used_memory_lua:\(server.scripting.engine.memoryUsed)",
                     "used_memory_lua_human:\(humanBytes(server.scripting.engine.memoryUsed))",
                     "number_of_cached_scripts:\(server.scripting.engine.scripts.count)",
                     "maxmemory:0",
                     "maxmemory_human:0B",
                     "maxmemory_policy:noeviction",
                     "mem_fragmentation_ratio:\(used > 0 ? String(format2(Double(rss) / Double(used))) : "0.00")",
                     "mem_allocator:libc"]
        case "persistence":
            lines = persistenceSection(server, now: c.now)
        case "stats":
            lines = ["# Stats",
                     "total_connections_received:\(server.stats.totalConnections)",
                     "total_commands_processed:\(server.stats.totalCommands)",
                     "total_net_input_bytes:\(server.stats.netInputBytes)",
                     "total_net_output_bytes:\(server.stats.netOutputBytes)",
                     "rejected_connections:\(server.stats.rejectedConnections)",
                     "expired_keys:\(c.keyspace.stats.expiredKeys)",
                     "evicted_keys:0",
                     "keyspace_hits:\(c.keyspace.stats.keyspaceHits)",
                     "keyspace_misses:\(c.keyspace.stats.keyspaceMisses)",
                     "pubsub_channels:\(server.pubsub.channels.count)",
                     "pubsub_patterns:\(server.pubsub.patterns.count)",
                     "pubsubshard_channels:\(server.pubsub.shardChannels.count)",
                     "migrate_cached_sockets:\(server.migrateSockets.count)",
                     "tracking_total_keys:\(server.tracking.keyCount)",
                     "tracking_total_items:\(server.tracking.items)",
                     "tracking_total_prefixes:\(server.tracking.prefixCount)",
                     // Errors in replies to a master or an AOF being loaded: none here.
                     "unexpected_error_replies:0",
                     "total_error_replies:\(server.stats.totalErrorReplies)",
                     // Atoll's own: how often optimistic transactions commit or give way.
                     "atoll_transactions_executed:\(server.stats.transactions)",
                     "atoll_transactions_aborted_by_watch:\(server.stats.watchAborts)",
                     "atoll_transactions_execabort:\(server.stats.execAborts)"]
        case "replication":
            lines = ["# Replication", "role:master", "connected_slaves:0", "master_failover_state:no-failover",
                     "master_replid:\(server.replicationID)", "master_replid2:" + String(repeating: "0", count: 40),
                     "master_repl_offset:0", "second_repl_offset:-1", "repl_backlog_active:0",
                     "repl_backlog_size:1048576", "repl_backlog_first_byte_offset:0", "repl_backlog_histlen:0"]
        case "cpu":
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            func seconds(_ t: timeval) -> String { "\(t.tv_sec).\(String(t.tv_usec).leftPadded(6))" }
            var children = rusage()
            getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &children)
            lines = ["# CPU", "used_cpu_sys:\(seconds(usage.ru_stime))", "used_cpu_user:\(seconds(usage.ru_utime))",
                     "used_cpu_sys_children:\(seconds(children.ru_stime))",
                     "used_cpu_user_children:\(seconds(children.ru_utime))"]
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
                lines.append("db\(i):keys=\(db.count),expires=\(db.expiresCount),avg_ttl=0")
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

    /// Bytes handed out by malloc (glibc's own count).
    static func allocatedBytes() -> Int {
        // glibc's mallinfo2 is not in the Swift overlay; resident memory is the honest figure we have.
        residentBytes()
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
