/// Scripting: EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH / KILL / HELP.
///
/// Scripts run in the server's one `LuaEngine` while the keyspace guard is held, so nothing
/// interleaves with them. Commands a script calls go through `ScriptRun.runCommand`, which
/// applies Redis's script rules (unknown command, arity, `noscript`, writes from read-only
/// scripts) and runs them as the server's script client, whose database starts as the
/// caller's.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollLua
import AtollRESP
import NIOCore

package enum ScriptingCommands {
    package static let commands: [CommandBinding] = [
        .init("eval", [.script, .mayReplicate], flags: bodyFlags, eval),
        .init("evalsha", [.script, .mayReplicate], flags: cachedFlags, evalsha),
        .init("eval_ro", .script, flags: bodyFlags, evalRo),
        .init("evalsha_ro", .script, flags: cachedFlags, evalshaRo),
        .init("script|exists", scriptExists),
        .init("script|debug", scriptDebug),
        .init("script|help", scriptHelp),
        .init("script|flush", scriptFlush),
        .init("script|kill", scriptKill),
        .init("script|load", scriptLoad),
    ]

    static func eval(_ c: inout CommandContext) { evalGeneric(&c, bySHA: false, readOnly: false) }
    static func evalsha(_ c: inout CommandContext) { evalGeneric(&c, bySHA: true, readOnly: false) }
    static func evalRo(_ c: inout CommandContext) { evalGeneric(&c, bySHA: false, readOnly: true) }
    static func evalshaRo(_ c: inout CommandContext) { evalGeneric(&c, bySHA: true, readOnly: true) }

    /// The flags a script given by its body runs with: those its shebang declares, or the
    /// command's when it has none (or a shebang EVAL will refuse).
    static let bodyFlags: FlagsResolver = { _, tableFlags, args in
        guard case .success(let flags) = ScriptFlags.parse(args[1]), flags.hasShebang else { return nil }
        return scriptCommandFlags(tableFlags, declaringNoWrites: flags.noWrites, allowingOOM: flags.allowOOM,
                                  allowingStale: flags.allowStale)
    }

    /// The same for a script given by its SHA, when the cache has it.
    static let cachedFlags: FlagsResolver = { server, tableFlags, args in
        let found = server.scripting.remembered(args[1])
        guard found.script != nil, found.flags.hasShebang else { return nil }
        return scriptCommandFlags(tableFlags, declaringNoWrites: found.flags.noWrites, allowingOOM: found.flags.allowOOM,
                                  allowingStale: found.flags.allowStale)
    }

    private static func evalGeneric(_ c: inout CommandContext, bySHA: Bool, readOnly: Bool) {
        // A SHA of the wrong length cannot match: Redis says so before looking at numkeys.
        if bySHA && c.args[1].count != 40 { return c.out.staticError("-NOSCRIPT No matching script. Please use EVAL.\r\n") }
        guard let numkeys = parseStrictInt64(c.args[2]) else { return c.notInteger() }
        if numkeys > Int64(c.args.count - 3) { return c.out.error("ERR Number of keys can't be greater than number of args") }
        if numkeys < 0 { return c.out.error("ERR Number of keys can't be negative") }
        let scripting = c.server.scripting
        let engine = scripting.engine
        let sha: Bytes
        let script: CachedScript
        let flags: ScriptFlags
        if bySHA {
            let found = scripting.remembered(c.args[1])
            guard let cached = found.script else {
                return c.out.staticError("-NOSCRIPT No matching script. Please use EVAL.\r\n")
            }
            (sha, script, flags) = (found.sha, cached, found.flags)
        } else {
            switch ScriptFlags.parse(c.args[1]) {
            case .failure(let error): return c.out.error(error.message)
            case .success(let parsed): flags = parsed
            }
            let bodySHA = scripting.sha(ofBody: c.args[1])
            let isNew = c.logsWrites && !engine.contains(bodySHA)
            switch engine.load(c.args[1], sha: bodySHA) {
            case .failure(let error): return c.out.error(error.message)
            case .success(let loaded): sha = loaded
            }
            script = engine.scripts[sha]!
            if isNew { logScriptLoad(&c, c.args[1]) }
        }
        // A script with a shebang declares whether it writes; *_RO runs only those that don't.
        if readOnly && flags.hasShebang && !flags.noWrites {
            return c.out.error("ERR Can not execute a script with write flag using *_ro command.")
        }
        // A script that declares no flags may not run on a stale replica (Redis's compatible mode).
        if !flags.hasShebang && c.server.servesNoStaleData {
            return c.out.error("MASTERDOWN \(ServerCore.masterDownMessage)")
        }
        let keyEnd = 3 + Int(numkeys)
        let args = c.args
        scripting.run(&c, isFunction: false, readOnly: readOnly || flags.noWrites, allowOOM: flags.allowOOM) { run, out in
            engine.run(sha, script, keys: args[3..<keyEnd], argv: args[keyEnd...], host: run, out: &out)
        }
    }

    // MARK: - SCRIPT

    static func scriptLoad(_ c: inout CommandContext) {
        switch ScriptFlags.parse(c.args[2]) {
        case .failure(let error): return c.out.error(error.message)
        case .success: break
        }
        let scripting = c.server.scripting
        let sha = scripting.sha(ofBody: c.args[2])
        let isNew = c.logsWrites && !scripting.engine.contains(sha)
        switch scripting.engine.load(c.args[2], sha: sha) {
        case .failure(let error): c.out.error(error.message)
        case .success(let sha):
            if isNew { logScriptLoad(&c, c.args[2]) }
            c.out.bulk(sha.array)
        }
    }

    /// Beyond Redis: the append-only file records each script the cache gains, so EVALSHA
    /// finds it after a restart. Redis replays the line as an ordinary SCRIPT LOAD.
    private static func logScriptLoad(_ c: inout CommandContext, _ body: [UInt8]) {
        c.server.feed?.addOutsideUnit([Array("SCRIPT".utf8), Array("LOAD".utf8), body])
    }

    static func scriptExists(_ c: inout CommandContext) {
        let engine = c.server.scripting.engine
        c.out.arrayHeader(c.args.count - 2)
        for i in 2..<c.args.count {
            let sha = Bytes(lowercasedASCII(c.args[i]))
            c.out.integer(engine.contains(sha) ? 1 : 0)
        }
    }

    static func scriptFlush(_ c: inout CommandContext) {
        if c.args.count > 3 || (c.args.count == 3 && !c.argIs(2, "sync") && !c.argIs(2, "async")) {
            return c.out.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
        }
        c.server.scripting.flushScripts()
        c.server.feed?.addOutsideUnit([Array("SCRIPT".utf8), Array("FLUSH".utf8)])
        c.out.ok()
    }

    /// Only reachable when no script runs: while one does, the connection layer answers
    /// SCRIPT KILL itself (see `ScriptingState.requestKill`).
    static func scriptKill(_ c: inout CommandContext) {
        c.out.staticError("-NOTBUSY No scripts in execution right now.\r\n")
    }

    /// Only NO (debugging off, which it always is) is accepted: Atoll has no Lua debugger.
    static func scriptDebug(_ c: inout CommandContext) {
        if c.client.executingTransaction { return c.out.error("ERR SCRIPT DEBUG must be called outside a pipeline") }
        if c.argIs(2, "no") { return c.out.ok() }
        if c.argIs(2, "yes") || c.argIs(2, "sync") { return c.out.error("ERR SCRIPT DEBUG is not supported by Atoll") }
        c.out.error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
    }

    static func scriptHelp(_ c: inout CommandContext) {
        replyHelp(&c, "SCRIPT", [
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ])
    }
}

/// The `#!lua flags=...` line a script may start with. The line is split into words as
/// Redis splits it (quotes and escapes as in `sdssplitargs`); flags are comma-separated.
struct ScriptFlags {
    /// Whether the script starts with a shebang (Redis's scripts without one run in the
    /// "compatible" mode that *_RO commands accept whatever they do).
    var hasShebang = false
    var noWrites = false
    var allowOOM = false
    var allowStale = false
    var noCluster = false
    var allowCrossSlotKeys = false

    static func parse(_ body: [UInt8]) -> Result<ScriptFlags, ScriptError> {
        var flags = ScriptFlags()
        guard body.starts(with: [35, 33]) else { return .success(flags) }
        guard let lineEnd = body.firstIndex(of: 10) else { return .failure(ScriptError("ERR Invalid script shebang")) }
        guard let words = body[..<lineEnd].withUnsafeBytes(splitArguments), let engine = words.first else {
            return .failure(ScriptError("ERR Invalid engine in script shebang"))
        }
        guard engine == Array("#!lua".utf8) else {
            return .failure(ScriptError("ERR Unexpected engine in script shebang: \(text(engine))"))
        }
        flags.hasShebang = true
        for word in words.dropFirst() {
            guard word.starts(with: Array("flags=".utf8)) else {
                return .failure(ScriptError("ERR Unknown lua shebang option: \(text(word))"))
            }
            let list = word.dropFirst(6)
            if list.isEmpty { continue }
            for flag in list.split(separator: 44, omittingEmptySubsequences: false) {
                switch text(flag) {
                case "no-writes": flags.noWrites = true
                case "allow-oom": flags.allowOOM = true
                case "allow-stale": flags.allowStale = true
                case "no-cluster": flags.noCluster = true
                case "allow-cross-slot-keys": flags.allowCrossSlotKeys = true
                case let other: return .failure(ScriptError("ERR Unexpected flag in script shebang: \(other)"))
                }
            }
        }
        return .success(flags)
    }

    private static func text<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// One running script: the `LuaHost` its `redis.*` calls reach.
/// One object serves every run (see `ScriptingState.run`), prepared afresh by `prepare`.
final class ScriptRun: LuaHost {
    // Unchecked (`@exclusivity`): used by every `redis.call`, under the keyspace lock on the one
    // script thread; a called command cannot call back into the script (no nesting).
    let server: ServerCore
    /// The script client commands run as.
    let client: ClientSession
    @exclusivity(unchecked) private(set) var readOnly = false
    /// The script declared `allow-oom`: its writes are not refused when memory is over the limit.
    @exclusivity(unchecked) private var allowOOM = false
    /// The script has run a write (Redis's SCRIPT_WRITE_DIRTY): it may not be stopped half-way
    /// for memory any more.
    @exclusivity(unchecked) private var wrote = false
    /// The calling command's time: every command the script calls sees the same clock.
    @exclusivity(unchecked) private(set) var now: Int64 = 0
    /// The client that runs the script: its ACL user is checked for every call, and its
    /// refusals are logged under it. Held for the run only (see `finish`).
    @exclusivity(unchecked) private var caller: ClientSession?

    init(server: ServerCore, client: ClientSession) {
        self.server = server
        self.client = client
        context = CommandContext(out: ReplyWriter(buffer: ByteBuffer()), client: client, server: server)
    }

    func prepare(caller: ClientSession, readOnly: Bool, allowOOM: Bool, now: Int64) {
        self.caller = caller
        // Commands that look at their user themselves (SORT's BY and GET) see the caller's.
        client.user = caller.user
        client.db = caller.db
        client.resp3 = false
        self.readOnly = readOnly
        self.allowOOM = allowOOM
        wrote = false
        self.now = now
    }

    func runCommand(_ args: [[UInt8]], resp3: Bool, reply: (UnsafeRawBufferPointer) -> Void) {
        let spec: CommandSpec
        switch recentCommand.resolve(args, in: server.table) {
        case .found(let s): spec = s
        case .unknownCommand, .unknownSubcommand:
            return refuse(nil, "-ERR Unknown Redis command called from script\r\n", reply)
        }
        guard spec.arityMatches(args.count) else {
            return refuse(spec, "-ERR Wrong number of args calling Redis command from script\r\n", reply)
        }
        if spec.flags.contains(.noscript) {
            return refuse(spec, "-ERR This Redis command is not allowed from script\r\n", reply)
        }
        if server.servesNoStaleData && !spec.flags.contains(.stale) {
            return refuse(spec, "-ERR Can not execute the command on a stale replica\r\n", reply)
        }
        if let caller, !caller.user.unrestricted, let denial = caller.user.check(spec, args) {
            server.logAclDenial(denial, spec, args, client: caller, context: .lua, now: now)
            return refuse(spec, error: denial.scriptMessage, reply)
        }
        if spec.flags.contains(.write) {
            if readOnly { return refuse(spec, "-ERR Write commands are not allowed from read-only scripts.\r\n", reply) }
            // Redis's `scriptVerifyWriteCommandAllow`: before the script's first write only.
            if !wrote && server.readOnlyReplica && caller?.isMaster != true {
                return refuse(spec, "-READONLY You can't write against a read only replica.\r\n", reply)
            }
            if let refusal = server.diskErrorRefusal { return refuse(spec, error: "MISCONF \(refusal)", reply) }
            if !wrote && server.tooFewGoodReplicas {
                return refuse(spec, error: "NOREPLICAS \(ServerCore.noReplicasMessage)", reply)
            }
        }
        // Redis's `scriptVerifyOOM`: over the limit when the script started, its first write refused.
        if server.maxMemory != 0 && !allowOOM && !wrote && server.eviction.outOfMemoryAtCommandStart
            && spec.flags.contains(.denyoom) {
            return refuse(spec, "-OOM command not allowed when used memory > 'maxmemory'.\r\n", reply)
        }
        if spec.flags.contains(.write) {
            wrote = true
            server.scripting.monitor.scriptWrote()
        }
        context.reset(args: args, command: spec, now: now, resp3: resp3)
        server.stats.totalCommands += 1
        server.invoke(spec, &context)
        // The caller reuses its argument list: no second reference may stay here.
        context.args = []
        if context.out.overflowed {
            // A reply past the writer's cap (SRANDMEMBER with -2^62) reaches the script as an error.
            Self.refuse("-ERR The reply of the command called from script is too large\r\n", reply)
        } else {
            context.out.buffer.withUnsafeReadableBytes(reply)
        }
        if context.out.buffer.capacity > Self.keptReplyCapacity { context.out.buffer = ByteBuffer() }
    }

    /// The context every called command runs in, kept from call to call (with its reply buffer).
    @exclusivity(unchecked) private var context: CommandContext
    /// A reply buffer grown past this (a huge reply) is not kept.
    private static let keptReplyCapacity = 1 << 20

    /// The last few commands scripts called (`redis.call` passes the same name arrays again,
    /// see `CallArgumentPool`).
    @exclusivity(unchecked) private var recentCommand = RecentCommand()

    /// A command the script may not run: refused (and counted, as Redis counts the error and,
    /// for a known command, a rejected call) before it runs.
    private func refuse(_ spec: CommandSpec?, _ line: StaticString, _ reply: (UnsafeRawBufferPointer) -> Void) {
        if let spec { server.noteRejected(spec) }
        server.countErrorLine(UnsafeBufferPointer(start: line.utf8Start, count: line.utf8CodeUnitCount))
        Self.refuse(line, reply)
    }

    /// The same for an error built at run time (`error` without the `-`).
    private func refuse(_ spec: CommandSpec, error: String, _ reply: (UnsafeRawBufferPointer) -> Void) {
        let line = Array("-\(error)\r\n".utf8)
        server.noteRejected(spec)
        server.countErrorLine(line)
        line.withUnsafeBytes(reply)
    }

    private static func refuse(_ line: StaticString, _ reply: (UnsafeRawBufferPointer) -> Void) {
        reply(UnsafeRawBufferPointer(start: line.utf8Start, count: line.utf8CodeUnitCount))
    }

    /// Ends a run: the caller is not kept past it.
    func finish() {
        caller = nil
        client.user = .superuser
    }

    func permits(_ args: [[UInt8]]) -> Bool? {
        guard case .found(let spec) = server.table.resolve(args) else { return nil }
        guard let user = caller?.user, !user.unrestricted else { return true }
        return user.check(spec, args) == nil
    }

    func log(level: Int, message: [UInt8]) {
        server.logHandler?(level, String(decoding: message, as: UTF8.self))
    }

    func scriptTick() -> [UInt8]? {
        server.scripting.tick()
    }
}
