/// DEBUG: Redis 7.0's testing and introspection subcommands that make sense for Atoll, with
/// Redis's replies and errors. Protected: only clients `enable-debug-command` allows run it.
/// RELOAD and LOADAOF are persistence's; OBJECT, LISTPACK and QUICKLIST are in
/// `DebugObject`, PROTOCOL in `DebugProtocol`, DIGEST's algorithm in `DatasetDigest`.
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
import AtollPersistence
import AtollRESP

enum DebugCommands {
    package static let commands: [CommandBinding] = [
        .init("debug", [], gatedBy: .debugCommand, debug),
    ]

    /// A subcommand: its handler and the argument counts it takes (the command name and the
    /// subcommand included).
    private struct Subcommand: Sendable {
        let arity: ClosedRange<Int>
        let run: @Sendable (inout CommandContext) -> Void
    }

    private static let subcommands: [String: Subcommand] = [
        "help": Subcommand(arity: 2...2, run: help),
        "reload": Subcommand(arity: 2...Int.max, run: PersistenceCommands.debugReload),
        "loadaof": Subcommand(arity: 2...2, run: PersistenceCommands.debugLoadAOF),
        "object": Subcommand(arity: 3...3, run: DebugObject.object),
        "listpack": Subcommand(arity: 3...3, run: DebugObject.listpack),
        "quicklist": Subcommand(arity: 3...4, run: DebugObject.quicklist),
        "digest": Subcommand(arity: 2...2, run: digest),
        "digest-value": Subcommand(arity: 2...Int.max, run: digestValue),
        "protocol": Subcommand(arity: 3...3, run: DebugProtocol.reply),
        "sleep": Subcommand(arity: 3...3, run: sleep),
        "set-active-expire": Subcommand(arity: 3...3) { c in
            c.server.config.activeExpireEnabled = cAtoi(c.args[2]) != 0
            c.out.ok()
        },
        "pause-cron": Subcommand(arity: 3...3) { c in
            c.server.cronPaused = cAtoi(c.args[2]) != 0
            c.out.ok()
        },
        "quicklist-packed-threshold": Subcommand(arity: 3...3, run: quicklistPackedThreshold),
        "stringmatch-test": Subcommand(arity: 2...2, run: stringmatchTest),
        "replybuffer": Subcommand(arity: 4...4, run: replyBuffer),
        "populate": Subcommand(arity: 3...5, run: populate),
        "change-repl-id": Subcommand(arity: 2...2) { c in
            c.server.replication.replid = randomHex40()
            c.server.replication.replid2 = ReplicationState.noID
            c.server.replication.secondOffset = -1
            c.server.logHandler?(3, "Changing replication IDs after receiving DEBUG change-repl-id")
            c.out.ok()
        },
        "log": Subcommand(arity: 3...3) { c in
            c.server.logHandler?(3, "DEBUG LOG: " + String(decoding: c.args[2], as: UTF8.self))
            c.out.ok()
        },
        "error": Subcommand(arity: 3...3) { c in c.out.error(bytes: c.args[2]) },
        "client-eviction": Subcommand(arity: 2...2) { c in c.out.error("ERR maxmemory-clients is disabled.") },
        // Accepted with no effect: Atoll has no replicas to send to, no AOF flush delay to
        // add, no cluster bus, and always checks RDB and DUMP checksums.
        "replicate": Subcommand(arity: 3...3) { c in c.out.ok() },
        "aof-flush-sleep": Subcommand(arity: 3...3) { c in c.out.ok() },
        "set-skip-checksum-validation": Subcommand(arity: 3...3) { c in c.out.ok() },
        "drop-cluster-packet-filter": Subcommand(arity: 3...3) { c in c.out.ok() },
    ]

    static func debug(_ c: inout CommandContext) {
        let name = String(decoding: c.args[1], as: UTF8.self).lowercased()
        guard let subcommand = subcommands[name], subcommand.arity.contains(c.args.count) else {
            return c.out.error("ERR unknown subcommand or wrong number of arguments for '\(cText(c.args[1], max: 128))'. Try DEBUG HELP.")
        }
        subcommand.run(&c)
    }

    /// Redis's help text, for the subcommands Atoll has.
    private static func help(_ c: inout CommandContext) {
        replyHelp(&c, "DEBUG", [
            "AOF-FLUSH-SLEEP <microsec>",
            "    Server will sleep before flushing the AOF, this is used for testing.",
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "LOADAOF",
            "    Flush the AOF buffers on disk and reload the AOF in memory.",
            "REPLICATE <string>",
            "    Replicates the provided string to replicas, allowing data divergence.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "DROP-CLUSTER-PACKET-FILTER <packet-type>",
            "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "RELOAD",
            "    Save the RDB on disk and reload it back to memory.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
            "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "STRINGMATCH-TEST",
            "    Run a fuzz tester against the stringmatchlen() function.",
            "LISTPACK <key>",
            "    Show low level info about the listpack encoding of <key>.",
            "QUICKLIST <key> [<0|1>]",
            "    Show low level info about the quicklist encoding of <key>.",
            "    The optional argument (0 by default) sets the level of detail",
            "CLIENT-EVICTION",
            "    Show low level client eviction pools info (maxmemory-clients).",
            "PAUSE-CRON <0|1>",
            "    Stop periodic cron job processing.",
            "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
            "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
            "    In case NEVER is provided the last observed peak will never be reset",
            "    In case RESET is provided the peak reset time will be restored to the default value",
            "REPLYBUFFER RESIZING <0|1>",
            "    Enable or disable the reply buffer resize cron job",
        ])
    }

    private static func digest(_ c: inout CommandContext) {
        c.out.status(text: DatasetDigest.of(c.keyspace, now: c.now).hex)
    }

    /// One digest per key, all zeros for a missing one; keys are not touched.
    private static func digestValue(_ c: inout CommandContext) {
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            let entry = c.keyspace.databases[c.client.db].peek(Bytes(c.args[i]), now: c.now)
            c.out.status(text: entry.map { DatasetDigest.of($0).hex } ?? String(repeating: "0", count: 40))
        }
    }

    /// Blocks the whole server, as Redis does; the seconds are read as `strtod` reads them
    /// (anything unreadable is 0) and capped at a day. Redis converts the microseconds to a
    /// long long, so infinity and anything past 2^63 µs (x86's LLONG_MIN) do not sleep at all.
    private static func sleep(_ c: inout CommandContext) {
        let seconds = cStrtod(c.args[2])
        guard seconds > 0, seconds * 1_000_000 < 0x1p63 else { return c.out.ok() }
        var remaining = timespec()
        let total = min(seconds, 86_400)
        remaining.tv_sec = Int(total)
        remaining.tv_nsec = Int((total - total.rounded(.down)) * 1_000_000_000)
        var left = timespec()
        while nanosleep(&remaining, &left) == -1 && errno == EINTR { remaining = left }
        c.out.ok()
    }

    private static func quicklistPackedThreshold(_ c: inout CommandContext) {
        guard let size = parseMemoryUnsigned(String(decoding: c.args[2], as: UTF8.self)), size <= (1 << 32) - (1 << 20) else {
            return c.out.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
        }
        c.server.quicklistPackedThreshold = size == 0 ? 1 << 30 : size
        c.out.ok()
    }

    /// Runs Atoll's glob matcher on random patterns and strings: it must simply return.
    private static func stringmatchTest(_ c: inout CommandContext) {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("*?[]^-\\abc".utf8)
        for _ in 0..<10_000 {
            let pattern = (0..<Int.random(in: 0...16, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let string = (0..<Int.random(in: 0...16, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            _ = globMatch(pattern, string, noCase: Bool.random(using: &rng))
        }
        c.out.status("Apparently Redis did not crash: test passed")
    }

    /// `REPLYBUFFER PEAK-RESET-TIME <never|reset|ms>` and `REPLYBUFFER RESIZING <0|1>`: Atoll's
    /// reply buffers are sized per reply, so these are checked and accepted only.
    private static func replyBuffer(_ c: inout CommandContext) {
        if c.argIs(2, "peak-reset-time") {
            if c.argIs(3, "never") || c.argIs(3, "reset") { return c.out.ok() }
            guard c.integerArgument(3) != nil else { return }
            return c.out.ok()
        }
        if c.argIs(2, "resizing") { return c.out.ok() }
        c.out.error("ERR unknown subcommand or wrong number of arguments for '\(cText(c.args[1], max: 128))'. Try DEBUG HELP.")
    }

    /// `POPULATE <count> [<prefix>] [<size>]`: keys `prefix:N` holding `value:N`, cut or padded
    /// with zero bytes to `size`; existing keys are left alone. Sizes are capped at
    /// `proto-max-bulk-len` (Redis takes any, and runs out of memory).
    private static func populate(_ c: inout CommandContext) {
        let message = "value is out of range, must be positive"
        guard let count = c.nonNegativeArgument(2, message: message) else { return }
        let prefix = c.args.count > 3 ? c.args[3] : Array("key".utf8)
        var size = 0
        if c.args.count > 4 {
            guard let n = c.rangedArgument(4, 0, Int64(c.server.config.protoMaxBulkLen), message: message) else { return }
            size = Int(n)
        }
        let db = c.client.db
        for j in 0..<count {
            let key = Bytes(prefix + Array(":\(j)".utf8))
            if c.keyspace.databases[db].peek(key, now: c.now) != nil { continue }
            var value = Array("value:\(j)".utf8)
            if size > 0 {
                value = Array(value.prefix(size))
                value += [UInt8](repeating: 0, count: size - value.count)
            }
            c.keyspace.databases[db].store(key, Entry(value: size > 0 ? .string(Bytes(value)) : Value.encodedString(value),
                                                      lastAccess: c.server.accessClock.newEntry))
        }
        c.out.ok()
    }

    /// C's `atoi`: optional white space and sign, then digits as far as they go; 0 if none.
    static func cAtoi(_ bytes: [UInt8]) -> Int {
        var i = 0
        while i < bytes.count, bytes[i] == 32 || (bytes[i] >= 9 && bytes[i] <= 13) { i += 1 }
        var negative = false
        if i < bytes.count, bytes[i] == 43 || bytes[i] == 45 {
            negative = bytes[i] == 45
            i += 1
        }
        var n = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            n = n &* 10 &+ Int(bytes[i] - 48)
            i += 1
        }
        return negative ? -n : n
    }

    /// C's `strtod` on the argument: its longest readable prefix, 0 if none.
    static func cStrtod(_ bytes: [UInt8]) -> Double {
        let text = bytes.prefix { $0 != 0 }.map { CChar(bitPattern: $0) } + [0]
        return text.withUnsafeBufferPointer { strtod($0.baseAddress!, nil) }
    }
}
