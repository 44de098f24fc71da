/// `ServerConfiguration`: the settings the executable reads from redis.conf-style files and
/// `--name value` flags, that an embedding program fills in directly, and that CONFIG GET/SET
/// reads and changes. `ConfigParameter.all` is the single list of parameter names, parsers
/// and printers used by all three.
import AtollBytes
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AtollKeyspace
import AtollRESP

public struct ServerConfiguration: Sendable {
    public var port = 6379
    /// Addresses to listen on; loopback only unless configured otherwise.
    public var bind = ["127.0.0.1"]
    public var requirePass = ""
    /// `user <name> <rules...>` directives: each user's name, then its rules (selectors
    /// joined), created at start (see AclFile.swift).
    public var aclUsers: [[[UInt8]]] = []
    public var databases = 16
    public var maxClients = 10000
    /// Seconds of inactivity before a client is closed; 0 disables.
    public var timeout = 0
    public var protoMaxBulkLen = 512 * 1024 * 1024
    /// The configuration file the server was started with (an absolute path), which CONFIG
    /// REWRITE rewrites; nil without one.
    public var configFile: String?
    /// The Redis parameters Atoll accepts without acting on them (`ConfigParameter.redisParameters`),
    /// by canonical name, as the text CONFIG GET prints; a missing name has its default.
    public var storedParameters: [String: String] = [:]
    /// Past this size a sparse HyperLogLog is converted to the dense form.
    public var hllSparseMaxBytes = 3000
    public var clientQueryBufferLimit = 1024 * 1024 * 1024
    /// Background task frequency (active expiry, timeouts), per second.
    public var hz = 10
    public var slowlogLogSlowerThan = 10000
    public var slowlogMaxLen = 128
    /// Milliseconds from which the latency monitor records an event; 0 turns it off.
    public var latencyMonitorThreshold = 0
    public var logLevel = "notice"
    /// Empty means standard output.
    public var logFile = ""
    public var tcpBacklog = 511
    /// Event loop threads for network I/O; 0 means one per core but one (at least one), leaving
    /// a core to the kernel's network stack — on two cores, one loop measured faster than two.
    public var ioThreads = 0
    public var activeExpireEnabled = true
    /// Where snapshots (`dbfilename`) and the append-only directory (`appenddirname`) live.
    public var dir = currentDirectory()
    public var dbFilename = "dump.rdb"
    /// `save <seconds> <changes>` rules: a background save starts when one is met. None by
    /// default (Atoll stays in memory unless persistence is switched on).
    public var saveRules: [SaveRule] = []
    /// The append-only file (Redis 7's multi-part layout in `dir`/`appenddirname`).
    public var appendOnly = false
    public var appendFsync = AppendOnlyLog.FsyncPolicy.everysec
    public var appendDirName = "appendonlydir"
    public var appendFilename = "appendonly.aof"
    /// Refuse writes while the last background save failed (and `save` rules are set).
    public var stopWritesOnBgsaveError = true
    /// Load an append-only file whose last command was cut short (dropping that command).
    public var aofLoadTruncated = true
    /// Rewrite automatically once the file grew by this percentage over its size after the
    /// last rewrite (0 disables), and is at least `autoAofRewriteMinSize` bytes.
    public var autoAofRewritePercentage = 100
    public var autoAofRewriteMinSize = 64 * 1024 * 1024
    /// Milliseconds after which a running script makes other clients get BUSY.
    public var busyReplyThreshold = 5000
    /// Who may change the protected parameters (`dir`, `dbfilename`) with CONFIG SET, and who
    /// may run DEBUG (see `ProtectedGate`). Nobody by default, as in Redis 7: a client that could move `dir` and
    /// `dbfilename` could make SAVE write a file of its choosing anywhere the server may write.
    public var enableProtectedConfigs = ProtectedAccess.no
    public var enableDebugCommand = ProtectedAccess.no
    /// Who may run MODULE LOAD, LOADEX and UNLOAD (Atoll loads no modules: they fail anyway).
    public var enableModuleCommand = ProtectedAccess.no
    /// Thresholds for the compact encodings OBJECT ENCODING reports.
    public var encodingLimits = EncodingLimits()
    /// How much unread output each class of client may leave before it is closed.
    public var outputBufferLimits = OutputBufferLimits()
    /// Most keys the client-side caching table remembers (0: no limit); past it, keys are
    /// forgotten at random with an invalidation to their readers.
    public var trackingTableMaxKeys = 1_000_000
    /// `notify-keyspace-events`: which keyspace notifications are published (none by default).
    public var keyspaceEvents = KeyspaceEventSettings()
    /// `rename-command` directives, in order (see `CommandRenames.swift`); file and flags only.
    public var commandRenames: [CommandRename] = []
    /// `maxmemory`: used memory (less what Redis does not count, see MaxMemory.swift) past which
    /// keys are evicted by `maxMemoryPolicy`, or writes refused; 0 sets no limit.
    public var maxMemory: UInt64 = 0
    public var maxMemoryPolicy = EvictionPolicy.noeviction
    /// Keys sampled per database for each eviction, and how long one command may spend
    /// evicting (0–100, Redis's `maxmemory-eviction-tenacity`).
    public var maxMemorySamples = 5
    public var maxMemoryEvictionTenacity = 10
    /// The LFU counter's growth and decay (see `AccessClock`).
    public var lfuLogFactor = 10
    public var lfuDecayTime = 1

    public init() {}
}

/// `enable-protected-configs`, `enable-debug-command` and `enable-module-command`: nobody, everyone, or only clients
/// on a loopback address (or a Unix socket), as Redis's `islocalClient` decides.
public enum ProtectedAccess: String, Sendable {
    case no, yes, local

    /// A nil client (a connection not registered yet) is allowed only by `yes`.
    public func allows(_ client: ClientSession?) -> Bool {
        switch self {
        case .no: return false
        case .yes: return true
        case .local: return client.map { Self.isLocal(address: $0.address) } ?? false
        }
    }

    /// `address` is `ip:port` or `unix:path`; Redis compares the IP with 127.0.0.1 and ::1 only.
    static func isLocal(address: String) -> Bool {
        if address.hasPrefix("unix:") { return true }
        guard let colon = address.lastIndex(of: ":") else { return false }
        let ip = address[..<colon]
        return ip == "127.0.0.1" || ip == "::1"
    }
}

/// One configuration parameter: how to print it and how to parse a new value.
public struct ConfigParameter: Sendable {
    public let name: String
    public let alias: String?
    /// False for parameters that only a file or flag can set (CONFIG SET refuses them).
    public let mutable: Bool
    /// CONFIG SET changes it only for clients `enable-protected-configs` allows.
    public var isProtected = false
    /// How CONFIG REWRITE writes the value (see `ConfigRewriteStyle`).
    public var rewriteStyle = ConfigRewriteStyle.plain
    /// Left out of CONFIG GET's patterns, as Redis's hidden settings: asked by name only.
    public private(set) var isHidden = false
    let get: @Sendable (ServerConfiguration) -> String
    /// Returns an error reason, or nil on success.
    let set: @Sendable (inout ServerConfiguration, [String]) -> String?

    public static func named(_ name: String) -> ConfigParameter? {
        let lowered = name.lowercased()
        return all.first { $0.name == lowered || $0.alias == lowered }
    }

    public func value(in config: ServerConfiguration) -> String { get(config) }

    /// The same parameter, hidden from CONFIG GET's patterns.
    func hidden() -> ConfigParameter {
        var parameter = self
        parameter.isHidden = true
        return parameter
    }

    /// Applies `values` (one argument normally; `bind` and `save` take several).
    public func apply(_ values: [String], to config: inout ServerConfiguration) -> String? { set(&config, values) }

    /// An integer parameter; `clamp` narrows accepted values silently, as Redis does for `hz`.
    static func integer(_ name: String, alias: String? = nil, mutable: Bool = true, min: Int, max: Int, clamp: ClosedRange<Int>? = nil,
                        _ path: any WritableKeyPath<ServerConfiguration, Int> & Sendable) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, mutable: mutable, get: { String($0[keyPath: path]) }, set: { config, values in
            guard values.count == 1, let parsed = parseStrictInt64(Array(values[0].utf8)) else {
                return "argument couldn't be parsed into an integer"
            }
            let n = Int(parsed)
            guard n >= min && n <= max else { return "argument must be between \(min) and \(max) inclusive" }
            config[keyPath: path] = clamp.map { Swift.min(Swift.max(n, $0.lowerBound), $0.upperBound) } ?? n
            return nil
        })
    }

    static func memory(_ name: String, alias: String? = nil, min: Int, _ path: any WritableKeyPath<ServerConfiguration, Int> & Sendable) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, mutable: true, rewriteStyle: .memory, get: { String($0[keyPath: path]) }, set: { config, values in
            guard values.count == 1 else { return "argument must be a memory value" }
            switch checkMemory(values[0], min: UInt64(min), max: UInt64(Int.max)) {
            case .success(let n): config[keyPath: path] = Int(n)
            case .failure(let reason): return reason.text
            }
            return nil
        })
    }

    static func string(_ name: String, mutable: Bool = true, _ path: any WritableKeyPath<ServerConfiguration, String> & Sendable,
                       allowed: [String]? = nil) -> ConfigParameter {
        ConfigParameter(name: name, alias: nil, mutable: mutable, rewriteStyle: allowed == nil ? .quoted : .plain,
                        get: { $0[keyPath: path] }, set: { config, values in
            guard values.count == 1 else { return "wrong number of arguments" }
            if let allowed, !allowed.contains(values[0].lowercased()) { return "argument(s) must be one of the following: \(allowed.joined(separator: ", "))" }
            config[keyPath: path] = allowed == nil ? values[0] : values[0].lowercased()
            return nil
        })
    }

    static func yesNo(_ name: String, _ path: any WritableKeyPath<ServerConfiguration, Bool> & Sendable) -> ConfigParameter {
        ConfigParameter(name: name, alias: nil, mutable: true, get: { $0[keyPath: path] ? "yes" : "no" }, set: { config, values in
            guard values.count == 1 else { return "wrong number of arguments" }
            switch values[0].lowercased() {
            case "yes": config[keyPath: path] = true
            case "no": config[keyPath: path] = false
            default: return "argument must be 'yes' or 'no'"
            }
            return nil
        })
    }

    /// A file or directory name inside `dir`; like Redis, refuses one with a path separator,
    /// so that it cannot lead out of `dir`.
    static func baseName(_ name: String, mutable: Bool, isProtected: Bool = false, noun: String = "filename",
                         _ path: any WritableKeyPath<ServerConfiguration, String> & Sendable) -> ConfigParameter {
        ConfigParameter(name: name, alias: nil, mutable: mutable, isProtected: isProtected, rewriteStyle: .quoted,
                        get: { $0[keyPath: path] }, set: { config, values in
            guard values.count == 1 else { return "wrong number of arguments" }
            guard !values[0].contains(where: { $0 == "/" || $0 == "\\" }) else { return "\(name) can't be a path, just a \(noun)" }
            config[keyPath: path] = values[0]
            return nil
        })
    }

    /// `no`, `yes` or `local`; set in the file or flags only, as in Redis.
    static func protectedAccess(_ name: String, _ path: any WritableKeyPath<ServerConfiguration, ProtectedAccess> & Sendable) -> ConfigParameter {
        ConfigParameter(name: name, alias: nil, mutable: false, get: { $0[keyPath: path].rawValue }, set: { config, values in
            guard values.count == 1, let access = ProtectedAccess(rawValue: values[0].lowercased()) else {
                return "argument(s) must be one of the following: no, yes, local"
            }
            config[keyPath: path] = access
            return nil
        })
    }

    /// `maxmemory` and the eviction settings (see MaxMemory.swift).
    static let memoryLimitParameters = [
        ConfigParameter(name: "maxmemory", alias: nil, mutable: true, rewriteStyle: .memory, get: { String($0.maxMemory) }, set: { config, values in
            guard values.count == 1, let n = parseMemoryUnsigned(values[0]) else { return "argument must be a memory value" }
            config.maxMemory = n
            return nil
        }),
        ConfigParameter(name: "maxmemory-policy", alias: nil, mutable: true, get: { $0.maxMemoryPolicy.rawValue }, set: { config, values in
            guard values.count == 1, let policy = EvictionPolicy(rawValue: values[0].lowercased()) else {
                return "argument(s) must be one of the following: \(EvictionPolicy.allCases.map(\.rawValue).joined(separator: ", "))"
            }
            config.maxMemoryPolicy = policy
            return nil
        }),
        .integer("maxmemory-samples", min: 1, max: Int(Int32.max), \.maxMemorySamples),
        .integer("maxmemory-eviction-tenacity", min: 0, max: 100, \.maxMemoryEvictionTenacity),
        .integer("lfu-log-factor", min: 0, max: Int(Int32.max), \.lfuLogFactor),
        .integer("lfu-decay-time", min: 0, max: Int(Int32.max), \.lfuDecayTime),
    ]

    public static let all: [ConfigParameter] = [
        .integer("port", mutable: false, min: 0, max: 65535, \.port),
        ConfigParameter(name: "bind", alias: nil, mutable: false, get: { $0.bind.joined(separator: " ") }, set: { config, values in
            guard !values.isEmpty else { return "wrong number of arguments" }
            config.bind = values
            return nil
        }),
        .string("requirepass", \.requirePass),
        .integer("databases", mutable: false, min: 1, max: Int(Int32.max), \.databases),
        .integer("maxclients", min: 1, max: Int(UInt32.max), \.maxClients),
        .integer("timeout", min: 0, max: Int(Int32.max), \.timeout),
        .memory("proto-max-bulk-len", min: 1024 * 1024, \.protoMaxBulkLen),
        .memory("client-query-buffer-limit", min: 1024 * 1024, \.clientQueryBufferLimit),
        .integer("hz", min: 0, max: Int(Int32.max), clamp: 1...500, \.hz),
        .integer("slowlog-log-slower-than", min: -1, max: Int(Int64.max), \.slowlogLogSlowerThan),
        .integer("slowlog-max-len", min: 0, max: Int(Int64.max), \.slowlogMaxLen),
        .integer("latency-monitor-threshold", min: 0, max: Int(Int64.max), \.latencyMonitorThreshold),
        .string("loglevel", \.logLevel, allowed: ["debug", "verbose", "notice", "warning"]),
        .string("logfile", mutable: false, \.logFile),
        .integer("tcp-backlog", mutable: false, min: 0, max: Int(Int32.max), \.tcpBacklog),
        .integer("io-threads", mutable: false, min: 0, max: 128, \.ioThreads),
        .yesNo("active-expire-enabled", \.activeExpireEnabled),
        .integer("busy-reply-threshold", alias: "lua-time-limit", min: 0, max: Int(Int64.max), \.busyReplyThreshold),
        .integer("hash-max-listpack-entries", alias: "hash-max-ziplist-entries", min: 0, max: Int(Int64.max),
                 \.encodingLimits.hashMaxListpackEntries),
        .memory("hash-max-listpack-value", alias: "hash-max-ziplist-value", min: 0, \.encodingLimits.hashMaxListpackValue),
        .memory("hll-sparse-max-bytes", min: 0, \.hllSparseMaxBytes),
        .integer("set-max-intset-entries", min: 0, max: Int(Int64.max), \.encodingLimits.setMaxIntsetEntries),
        .integer("zset-max-listpack-entries", alias: "zset-max-ziplist-entries", min: 0, max: Int(Int64.max),
                 \.encodingLimits.zsetMaxListpackEntries),
        .memory("zset-max-listpack-value", alias: "zset-max-ziplist-value", min: 0, \.encodingLimits.zsetMaxListpackValue),
        .memory("stream-node-max-bytes", min: 0, \.encodingLimits.streamNodeMaxBytes),
        .integer("stream-node-max-entries", min: 0, max: Int(Int64.max), \.encodingLimits.streamNodeMaxEntries),
        ConfigParameter(name: "dir", alias: nil, mutable: true, isProtected: true, rewriteStyle: .quoted, get: { $0.dir }, set: { config, values in
            guard values.count == 1 else { return "wrong number of arguments" }
            return setDirectory(values[0], &config)
        }),
        .baseName("dbfilename", mutable: true, isProtected: true, \.dbFilename),
        ConfigParameter(name: "save", alias: nil, mutable: true, rewriteStyle: .saveRules, get: { config in
            config.saveRules.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
        }, set: { config, values in
            guard let rules = SaveRule.parse(values.joined(separator: " ")) else { return "Invalid save parameters" }
            config.saveRules = rules
            return nil
        }),
        .yesNo("stop-writes-on-bgsave-error", \.stopWritesOnBgsaveError),
        .yesNo("appendonly", \.appendOnly),
        ConfigParameter(name: "appendfsync", alias: nil, mutable: true, get: { $0.appendFsync.rawValue }, set: { config, values in
            guard values.count == 1, let policy = AppendOnlyLog.FsyncPolicy(rawValue: values[0].lowercased()) else {
                return "argument(s) must be one of the following: everysec, always, no"
            }
            config.appendFsync = policy
            return nil
        }),
        .baseName("appenddirname", mutable: false, noun: "dirname", \.appendDirName),
        .baseName("appendfilename", mutable: false, \.appendFilename),
        .yesNo("aof-load-truncated", \.aofLoadTruncated),
        .integer("auto-aof-rewrite-percentage", min: 0, max: Int(Int32.max), \.autoAofRewritePercentage),
        .memory("auto-aof-rewrite-min-size", min: 0, \.autoAofRewriteMinSize),
        .protectedAccess("enable-protected-configs", \.enableProtectedConfigs),
        .protectedAccess("enable-debug-command", \.enableDebugCommand),
        .protectedAccess("enable-module-command", \.enableModuleCommand),
        .clientOutputBufferLimit,
        .integer("tracking-table-max-keys", min: 0, max: Int.max, \.trackingTableMaxKeys),
        .notifyKeyspaceEvents,
    ] + memoryLimitParameters + redisParameters
}

/// Sets `dir` as Redis's `chdir` would take it, without changing the process's directory:
/// an existing directory, kept as its absolute canonical path (what CONFIG GET dir shows in
/// Redis); otherwise the OS error's text, e.g. "No such file or directory".
func setDirectory(_ path: String, _ config: inout ServerConfiguration) -> String? {
    guard let resolved = realpath(path, nil) else { return String(cString: strerror(errno)) }
    defer { free(resolved) }
    var info = stat()
    guard stat(resolved, &info) == 0 else { return String(cString: strerror(errno)) }
    guard info.st_mode & S_IFMT == S_IFDIR else { return String(cString: strerror(ENOTDIR)) }
    guard access(resolved, X_OK) == 0 else { return String(cString: strerror(errno)) }
    config.dir = String(cString: resolved)
    return nil
}

/// One `save <seconds> <changes>` rule.
public struct SaveRule: Sendable, Equatable {
    public var seconds: Int
    public var changes: Int

    public init(seconds: Int, changes: Int) {
        self.seconds = seconds
        self.changes = changes
    }

    /// `"3600 1 300 100"` as rules; `""` as none; nil when malformed.
    static func parse(_ text: String) -> [SaveRule]? {
        let words = text.split(separator: " ")
        guard words.count % 2 == 0 else { return nil }
        var rules: [SaveRule] = []
        for i in stride(from: 0, to: words.count, by: 2) {
            guard let seconds = Int(words[i]), let changes = Int(words[i + 1]), seconds >= 1, changes >= 0 else { return nil }
            rules.append(SaveRule(seconds: seconds, changes: changes))
        }
        return rules
    }
}

/// The process's working directory (the default `dir`, as in Redis).
public func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Redis's `memtoull` (see `parseMemoryUnsigned`), nil past `Int.max` too.
public func parseMemory(_ text: String) -> Int? {
    parseMemoryUnsigned(text).flatMap { Int(exactly: $0) }
}

/// How CONFIG REWRITE writes a parameter's value, as Redis writes its kind of option.
public enum ConfigRewriteStyle: Sendable {
    /// As CONFIG GET shows it (numbers, yes/no, enumerations, `bind`'s addresses).
    case plain
    /// A string, always in double quotes with C escapes (`dir "/var/lib/atoll"`).
    case quoted
    /// Bytes, in gb, mb or kb when they divide exactly.
    case memory
    /// `save`: a line per rule, or `save ""` when there is none; always written.
    case saveRules
    /// `replicaof host port` while the server follows a master; none (the file's lines go)
    /// while it is a primary.
    case replicaOf
}
