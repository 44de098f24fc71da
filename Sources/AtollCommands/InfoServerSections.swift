/// INFO's `# Server`, `# Clients` and `# CPU` sections: Redis 7.0.15's fields in its order, with
/// Atoll's values (`redis_version` is the Redis version Atoll matches; `atoll_version`, ours,
/// comes last). Where Redis describes its build (git SHA, compiler) Atoll gives what Redis
/// shows when it does not know: zeros.
import AtollCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension InfoSections {
    static func serverSection(_ server: ServerCore, now: Int64) -> [String] {
        let uptime = (now - server.startTime) / 1000
        #if os(Linux)
        let multiplexing = "epoll"
        #else
        let multiplexing = "kqueue"
        #endif
        return ["# Server",
                "redis_version:\(redisCompatibleVersion)",
                "redis_git_sha1:00000000",
                "redis_git_dirty:0",
                "redis_build_id:\(buildID)",
                "redis_mode:standalone",
                "os:\(operatingSystem())",
                "arch_bits:\(MemoryLayout<Int>.size * 8)",
                "monotonic_clock:POSIX clock_gettime",
                "multiplexing_api:\(multiplexing)",
                "atomicvar_api:c11-builtin",
                // Built by swiftc, not gcc: Redis's answer for other compilers.
                "gcc_version:0.0.0",
                "process_id:\(getpid())",
                "process_supervised:no",
                "run_id:\(server.runID)",
                "tcp_port:\(server.config.port)",
                "server_time_usec:\(currentTimeMicros())",
                "uptime_in_seconds:\(uptime)",
                "uptime_in_days:\(uptime / 86400)",
                "hz:\(server.config.hz)",
                "configured_hz:\(server.config.hz)",
                // Redis's LRU clock: seconds, in 24 bits.
                "lru_clock:\(server.lruClock & 0xFF_FFFF)",
                "executable:\(server.executable)",
                "config_file:\(server.config.configFile ?? "")",
                "io_threads_active:0",
                "atoll_version:\(atollVersion)"]
    }

    /// A build fingerprint in Redis's shape (hex): FNV-1a of Atoll's name and version.
    static let buildID: String = {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "atoll \(atollVersion)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }()

    static func clientsSection(_ server: ServerCore) -> [String] {
        ["# Clients",
         "connected_clients:\(server.clients.count)",
         "cluster_connections:0",
         "maxclients:\(server.config.maxClients)",
         "client_recent_max_input_buffer:\(server.clientBufferPeaks.recentMaxInput)",
         "client_recent_max_output_buffer:\(server.clientBufferPeaks.recentMaxOutput)",
         "blocked_clients:\(server.blocking.blockedClients + server.pausedClientCount)",
         "tracking_clients:\(server.tracking.clients)",
         "clients_in_timeout_table:\(server.blocking.clientsWithTimeout)"]
    }

    /// The process's CPU time; "main thread" is the thread answering (an event loop, or the
    /// script thread), Atoll having no single main thread.
    static func cpuSection() -> [String] {
        func usage(_ who: Int32) -> rusage {
            var usage = rusage()
            getrusage(__rusage_who_t(who), &usage)
            return usage
        }
        func seconds(_ t: timeval) -> String { "\(t.tv_sec).\(String(t.tv_usec).leftPadded(6))" }
        let process = usage(RUSAGE_SELF.rawValue), children = usage(RUSAGE_CHILDREN.rawValue)
        let thread = usage(1)  // RUSAGE_THREAD (Linux), which Glibc does not import
        return ["# CPU",
                "used_cpu_sys:\(seconds(process.ru_stime))",
                "used_cpu_user:\(seconds(process.ru_utime))",
                "used_cpu_sys_children:\(seconds(children.ru_stime))",
                "used_cpu_user_children:\(seconds(children.ru_utime))",
                "used_cpu_sys_main_thread:\(seconds(thread.ru_stime))",
                "used_cpu_user_main_thread:\(seconds(thread.ru_utime))"]
    }
}
