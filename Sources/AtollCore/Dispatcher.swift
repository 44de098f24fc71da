/// The dispatcher (Redis's `processCommand`): `execute` and `executeBatch` run commands against
/// a `ServerCore` — lookup, unknown-command and arity errors, authentication, ACL permissions,
/// MISCONF, MULTI queueing, then the handler, the append-only feed, the slow log and the MONITOR
/// feed — and re-run the commands of blocked clients once their keys can serve them.
import AtollBytes
import AtollKeyspace
import AtollRESP
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ServerCore {
    // MARK: - Dispatch

    /// Runs `ctx.args` as one command, writing its reply into `ctx.out`.
    public func execute(_ ctx: inout CommandContext) {
        ctx.now = loading ? 0 : clock.nowMillis()
        var clock: Int?
        let client = ctx.client
        run(&ctx, client: client, clock: &clock)
        // Replayed pushes wait: clients are served from the loaded data, with their pops logged.
        if blocking.hasReady && !loading { serveBlockedClients(now: ctx.now) }
        broadcastInvalidations()
    }

    /// Runs the commands one read delivered, in order, stopping after one that closes the
    /// connection or parks the client. The wall clock is read once for the batch. Returns
    /// how many commands ran; the caller keeps the rest until the client is released.
    @discardableResult
    public func executeBatch(_ ctx: inout CommandContext, _ commands: inout CommandBatch, from start: Int = 0) -> Int {
        if ctx.client.killed { return commands.count - start }
        if ctx.client.unwatchPending {
            watches.unwatchAll(ctx.client)
            ctx.client.unwatchPending = false
        }
        ctx.now = clock.nowMillis()
        ctx.deferral = .none
        // Prefetching pays only when several commands' keys can be fetched at once; for one
        // command, even passing the database (a copy of its struct) costs more than it saves.
        if commands.count - start > 1 {
            keyPrefetch.run(commands, from: start, table: table, database: &keyspace.databases[ctx.client.db])
        } else {
            keyPrefetch.clearHints()
        }
        var clock: Int?
        // Read once for the batch: `run` borrows it, where reading it from the context per
        // command cost a retain and a release.
        let client = ctx.client
        var i = start
        while i < commands.count {
            // Moved, not copied: the batch does not need a command's arguments once it runs.
            commands.moveArguments(of: i, into: &ctx.args)
            ctx.keyHint = keyPrefetch.hint(for: i)
            run(&ctx, client: client, clock: &clock)
            if ctx.deferral != .none {
                // Not run here (the script thread or the end of a pause runs it from the
                // batch): its arguments go back.
                commands.moveArguments(of: i, into: &ctx.args)
                break
            }
            i += 1
            if blocking.hasReady {
                serveBlockedClients(now: ctx.now)
                clock = nil  // the next command's time must not include serving them
            }
            // A batch whose replies passed the cap closes the client: the rest is not run.
            if client.closeAfterReply || client.blocked != nil || ctx.out.overflowed { break }
        }
        // BCAST invalidations go out once per batch, as Redis sends them before it sleeps.
        if tracking.hasPendingBroadcasts { broadcastInvalidations() }
        return i - start
    }

    // MARK: - Blocked clients

    /// Re-runs the commands of clients parked on the keys signalled since the last call, oldest
    /// waiter first, while each key can serve them; each re-run takes from that key only. A
    /// served command may signal more keys (BLMOVE pushes), which are served in the same call.
    public func serveBlockedClients(now: Int64) {
        while blocking.hasReady {
            for key in blocking.takeReady() {
                for client in blocking.waiters(key) {
                    guard let state = client.blocked else { continue }
                    // A stream reader is re-run even when its key is gone (XREADGROUP then fails).
                    let entry = keyspace.databases[key.db].peek(key.key, now: now)
                    if entry == nil && state.waitsFor != .stream { break }
                    switch (entry?.value, state.waitsFor) {
                    case (.list?, .list), (.zset?, .zset), (_, .stream): break
                    default: continue
                    }
                    var ctx = CommandContext(out: ReplyWriter(buffer: ByteBuffer(), resp3: client.resp3),
                                             client: client, server: self)
                    ctx.args = state.args
                    ctx.command = state.spec
                    ctx.now = now
                    ctx.servedKey = key.key
                    invoke(state.spec, &ctx)
                    feed?.commit()
                    if ctx.blockRequested { continue }
                    blocking.release(client)
                    applyReplyMode(client, &ctx.out, from: 0)
                    client.connection?.unblocked(reply: Array(ctx.out.buffer.readableBytesView))
                }
            }
        }
    }

    /// Called by the connection when a parked client's deadline should have come. Returns the
    /// deadline still ahead (the timer fired early by the wall clock), or nil when the client
    /// is no longer parked with a deadline (released now or before).
    public func blockTimedOut(_ client: ClientSession, now: Int64) -> Int64? {
        guard let state = client.blocked, state.deadline != 0 else { return nil }
        if now < state.deadline { return state.deadline }
        releaseBlocked(client, error: nil)
        return nil
    }

    /// Releases a parked client with the timeout reply (the null array, for every command that
    /// blocks on keys in Redis 7.0), or with `error` (CLIENT UNBLOCK ERROR). Returns the codes
    /// of the error replies sent, for the releasing command to count as its own (Redis counts
    /// CLIENT UNBLOCK ERROR as failed). `byClientUnblock`: released by CLIENT UNBLOCK, which
    /// Redis 7.0 counts as a failed call of the parked command, with TIMEOUT too.
    /// `failsTheCall`: whether an `error` counts the parked command as failed (not when a
    /// role change releases it, as in Redis).
    @discardableResult
    public func releaseBlocked(_ client: ClientSession, error: String?, byClientUnblock: Bool = false,
                               failsTheCall: Bool = true) -> [[UInt8]] {
        guard let state = client.blocked else { return [] }
        blocking.release(client)
        var out = ReplyWriter(buffer: ByteBuffer(), resp3: client.resp3)
        if let error {
            if state.waitsFor == .replicaAcks { waiterGone(client) }
            out.error(error)
        } else if state.waitsFor == .replicaAcks {
            waiterReleased(client, into: &out)
        } else {
            out.nullArray()
        }
        accountUnblocked(state.spec, failed: (error != nil && failsTheCall) || byClientUnblock)
        applyReplyMode(client, &out, from: 0)
        client.connection?.unblocked(reply: Array(out.buffer.readableBytesView))
        return out.errorCodes
    }

    // MARK: - Append-only file

    /// Why writes (and PING, so clients notice) are refused after a failed save or AOF write,
    /// as Redis refuses them: acknowledging writes that cannot reach the disk would lose them.
    package var diskErrorRefusal: String? {
        if loading { return nil }
        if !persistence.lastBgsaveOK && config.stopWritesOnBgsaveError && !config.saveRules.isEmpty {
            return "Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
        }
        if let error = aof?.writeError { return "Errors writing to the AOF file: \(error)" }
        if let error = aofSync.syncError { return "Errors writing to the AOF file: \(error)" }
        return nil
    }

    /// What MISCONF refuses: writes, EXEC with queued writes, and PING (so clients notice).
    private func refusedOnDiskError(_ spec: CommandSpec, _ client: ClientSession) -> Bool {
        writes(spec, client) || spec.behaviour.contains(.refusedOnDiskError)
    }

    /// A write, or EXEC with queued writes.
    private func writes(_ spec: CommandSpec, _ client: ClientSession) -> Bool {
        spec.flags.contains(.write)
            || (spec.behaviour.contains(.runsTransaction) && client.queued?.contains { $0.spec.flags.contains(.write) } == true)
    }

    /// Runs a command inside another (EXEC's queue, a script's `redis.call`) or a parked one
    /// again: `perform`, timed and counted in the command's statistics.
    /// `slowLogged`: recorded in the slow log when slow, as a command EXEC runs is (a script's
    /// `redis.call` is not, as in Redis).
    package func invoke(_ spec: CommandSpec, _ ctx: inout CommandContext, slowLogged: Bool = false) {
        let started = monotonicMicros()
        perform(spec, &ctx)
        let elapsed = monotonicMicros() - started
        account(spec, &ctx, elapsed: elapsed)
        if slowLogged { recordIfSlow(spec, ctx.args, elapsed: elapsed, client: ctx.client, now: ctx.now) }
    }

    /// Runs a command's handler and, while the effects are recorded (the append-only file or
    /// the replication stream is on), records what it changed:
    /// the form it chose (`CommandContext.logAs`), else its own arguments if it wrote.
    /// EXEC and scripts record nothing themselves: the commands they ran did.
    private func perform(_ spec: CommandSpec, _ ctx: inout CommandContext) {
        // A script's reads are remembered by its own command's keys (top-level or in EXEC).
        if spec.runsScript && trackingCaller != nil { trackingCommand = (spec, ctx.args) }
        defer {
            // A tracking client's reads are remembered after they ran (Redis's `call`).
            if tracking.isActive && spec.flags.contains(.readonly) { rememberReads(spec, ctx.args, client: ctx.client) }
            if !ctx.ownEventsAfterReply.isEmpty {
                ctx.out.buffer.writeBytes(ctx.ownEventsAfterReply)
                ctx.ownEventsAfterReply.removeAll()
            }
        }
        // A replayed file (DEBUG LOADAOF) is not recorded again, nor sent to the replicas.
        guard feed != nil && !loading else {
            spec.handler?(&ctx)
            return
        }
        let before = dirty
        let epoch = feedEpoch
        ctx.loggedAs = nil
        ctx.forceLogged = false
        spec.handler?(&ctx)
        // `dirty` only grows with changes (SAVE resetting it to 0 is not one).
        guard dirty > before || ctx.forceLogged, !spec.behaviour.contains(.loggedThroughItsCommands),
              feedEpoch == epoch else {
            ctx.loggedAs = nil
            return
        }
        if let logged = ctx.loggedAs {
            for args in logged { feed!.add(db: ctx.client.db, args) }
            ctx.loggedAs = nil
        } else {
            feed!.add(db: ctx.client.db, ctx.args)
        }
        ctx.client.wroteSinceWait = true
    }

    /// Called as the keyspace lock is released: hands what the commands of this acquisition
    /// recorded to the append-only file and the replication stream, before any of their
    /// replies can leave (with `appendfsync always` those wait for `aofSync` too).
    public func writeAppendOnlyFile() {
        if feed != nil { flushEffects() }
    }

    /// Dispatches one command. Every command is timed, as Redis times every call (for its
    /// statistics, latency histogram and the slow log): `clock` carries the monotonic time at
    /// which the previous command ended, so that back-to-back commands of a batch need one
    /// clock read each; anything untimed in between resets it to nil. `client` is `ctx.client`.
    private func run(_ ctx: inout CommandContext, client: ClientSession, clock: inout Int?) {
        let previousEnd = clock
        clock = nil
        ctx.blockRequested = false
        if tracking.isActive {
            trackingCaller = client
            limitTrackingTable()
        }
        defer {
            if trackingCaller != nil {
                trackingCaller = nil
                trackingCommand = nil
            }
        }
        // After the final save and sync nothing more may be acknowledged: close instead.
        if shutdownPrepared {
            client.closeAfterReply = true
            return
        }
        client.lastInteraction = ctx.now
        stats.totalCommands += 1
        let replyMark = ctx.out.buffer.writerIndex
        // Error replies written outside a command (unknown command, refusals) count here.
        defer { if ctx.out.hasErrors { takeErrors(&ctx.out) } }
        // A parked command's reply comes when it is released; CLIENT REPLY applies to it then.
        defer { if !ctx.blockRequested { applyReplyMode(client, &ctx.out, from: replyMark) } }
        // Messages published to the client go before the reply (see `ClientOutbox`), and
        // invalidations its own command caused after it (see Tracking.swift).
        defer {
            // A replica's outbox is its stream, which its connection's loop writes; its own
            // commands' replies are dropped (`offAfterThis`), the stream must not go with them.
            if client.outbox != nil && !client.isReplica { spliceOutbox(client, into: &ctx.out, at: replyMark) }
            if !client.pendingAfterReply.isEmpty {
                ctx.out.buffer.writeBytes(client.pendingAfterReply)
                client.pendingAfterReply.removeAll()
            }
        }
        // A recent command whose every check in `admit` passes without a look at it (no gate,
        // an authenticated client whose user may run anything) is admitted here, without
        // building and destroying an `Admission`, and borrowed: the table keeps it (a local
        // reference to it cost a retain and a release per command).
        if let recent = recentCommand.cached(ctx.args) {
            let admitted = recent._withUnsafeGuaranteedRef { spec in
                guard spec.arityMatches(ctx.args.count), spec.gate == nil, client.authenticated,
                      client.user.unrestricted else { return false }
                runAdmitted(spec, &ctx, client: client, previousEnd: previousEnd, clock: &clock)
                return true
            }
            if admitted { return }
        }
        let spec: CommandSpec
        switch admit(recentCommand.resolve(ctx.args, in: table), ctx.args, authenticated: client.authenticated, client: client) {
        case .admitted(let s):
            spec = s
        case .unknown(let error):
            // Refused before running: not counted in total_commands_processed, as in Redis.
            stats.totalCommands -= 1
            // CLIENT LIST's `cmd` shows NULL after an unknown command or subcommand, as Redis's.
            client.lastCommandSpec = nil
            if client.inTransaction { client.transactionFailed = true }
            ctx.out.error(error)
            return
        case .refused(let s, let code, let message):
            client.lastCommandSpec = s
            return reject(&ctx, s, code, message)
        case .denied(let s, let denial):
            // Redis has made it the client's last command by now: the log's client info shows it.
            client.lastCommandSpec = s
            logAclDenial(denial, s, ctx.args, client: client, context: client.inTransaction ? .multi : .toplevel, now: ctx.now)
            return reject(&ctx, s, "NOPERM", denial.message(s))
        }
        runAdmitted(spec, &ctx, client: client, previousEnd: previousEnd, clock: &clock)
    }

    /// `run`'s part after the command was found and admitted: the refusals that depend on the
    /// server's state, MULTI queueing, then the command, timed from `previousEnd` when set.
    @inline(__always)
    private func runAdmitted(_ spec: CommandSpec, _ ctx: inout CommandContext, client: ClientSession,
                             previousEnd: Int?, clock: inout Int?) {
        // The client's last command from its lookup on, as Redis's `lastcmd`: refused, queued
        // in MULTI or run (CLIENT LIST's `cmd`).
        client.lastCommandSpec = spec
        // Redis's maxmemory step comes before MISCONF; one test while no limit is set.
        if maxMemory != 0 && refusedForMemory(spec, ctx.args, client: client, now: ctx.now) { return reject(&ctx, spec, "OOM", outOfMemoryMessage) }
        // The cheap tests first: the refusal text is only built when some disk error is set.
        if !persistence.lastBgsaveOK || aof?.writeError != nil || aofSync.syncError != nil, refusedOnDiskError(spec, client),
           let refusal = diskErrorRefusal {
            return reject(&ctx, spec, "MISCONF", refusal)
        }
        if minGoodReplicas != 0 && refusedForTooFewReplicas(spec, ctx.args, client) {
            return reject(&ctx, spec, "NOREPLICAS", Self.noReplicasMessage)
        }
        // A read-only replica takes writes from its master only (a script's by what it declares).
        if readOnlyReplica && !client.isMaster && declares(.write, spec, ctx.args, client) {
            return reject(&ctx, spec, "READONLY", "You can't write against a read only replica.")
        }
        if client.subscriptions != nil && !client.resp3 && !spec.behaviour.contains(.allowedWhileSubscribed) {
            return reject(&ctx, spec, "ERR", "Can't execute '\(spec.name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        }
        if refusesStaleData && refusedAsStale(spec, ctx.args, client) {
            return reject(&ctx, spec, "MASTERDOWN", Self.masterDownMessage)
        }
        // A pause holds commands back after these checks and before MULTI queues them, as in
        // Redis: one test of `pauseMode` per command when no pause is on.
        if client.inTransaction {
            if spec.flags.contains(.noMulti) {
                return reject(&ctx, spec, "ERR", "Command not allowed inside a transaction")
            }
            if pauseMode != .off && postponeIfPaused(spec, &ctx) { return }
            if !spec.behaviour.contains(.actsInsideMulti) {
                if !client.transactionFailed { client.queued!.append((spec, Array(ctx.args))) }
                ctx.out.status("QUEUED")
                return
            }
        } else if pauseMode != .off && postponeIfPaused(spec, &ctx) {
            return
        }
        guard spec.handler != nil else { return }
        if ctx.onEventLoop && mustLeaveEventLoop(spec, client) {
            ctx.offloadRequested = true
            stats.totalCommands -= 1
            return
        }
        ctx.command = spec
        // CLIENT CACHING's choice holds for the next command (a whole transaction), as in Redis.
        defer {
            if client.tracking?.caching != nil && !client.inTransaction && !spec.behaviour.contains(.keepsCachingChoice) {
                client.tracking?.caching = nil
            }
        }
        // One top-level command's effects (a whole EXEC, a whole script) go in as one unit.
        defer { feed?.commit() }
        // Monitors see the command after it ran (so SELECT shows the new database), as in Redis.
        defer {
            if !monitors.isEmpty && !spec.flags.contains(.skipMonitor) && !spec.flags.contains(.admin) {
                feedMonitors(spec.redaction?.apply(ctx.args) ?? ctx.args, client: client, micros: currentTimeMicros())
            }
        }
        let started = previousEnd ?? monotonicMicros()
        if spec.runsScript { ctx.scriptStartedMicros = started }
        perform(spec, &ctx)
        let finished = spec.runsScript && ctx.scriptEndedMicros != 0 ? ctx.scriptEndedMicros : monotonicMicros()
        ctx.scriptStartedMicros = 0
        ctx.scriptEndedMicros = 0
        if monitors.isEmpty { clock = finished }
        let elapsed = finished - started
        account(spec, &ctx, elapsed: elapsed)
        recordIfSlow(spec, ctx.args, elapsed: elapsed, client: client, now: ctx.now)
    }

    /// The slow log's rule, for a top-level command and for each command EXEC runs (Redis's
    /// `call` logs both; EXEC itself is `skip_slowlog`).
    @inline(__always)
    private func recordIfSlow(_ spec: CommandSpec, _ args: [[UInt8]], elapsed: Int, client: ClientSession, now: Int64) {
        if elapsed >= config.slowlogLogSlowerThan && config.slowlogLogSlowerThan >= 0 && !spec.flags.contains(.skipSlowlog) {
            slowlog.record(args: spec.redaction?.apply(args) ?? args, durationMicros: elapsed, client: client, now: now, maxLength: config.slowlogMaxLen)
        }
    }

    /// Lua code (a script, a library being loaded, or an EXEC that would run either) runs on
    /// the script thread, so that the event loops stay free to answer BUSY, SCRIPT KILL and
    /// SHUTDOWN NOSAVE while it runs, whatever it does. (Given the client, not the context: a
    /// context passed by value is copied, 224 bytes, for every command.)
    private func mustLeaveEventLoop(_ spec: CommandSpec, _ client: ClientSession) -> Bool {
        if spec.runsLua { return true }
        if spec.behaviour.contains(.runsTransaction), let queued = client.queued {
            return queued.contains { $0.spec.runsLua }
        }
        return false
    }

    /// Refuses a command before it runs. Inside MULTI this dooms the transaction; a refused
    /// EXEC ends it at once with `EXECABORT ... because of: <reason>`, as Redis does.
    private func reject(_ ctx: inout CommandContext, _ spec: CommandSpec, _ code: String, _ message: String) {
        let client = ctx.client
        noteRejected(spec)
        stats.totalCommands -= 1
        if client.inTransaction { client.transactionFailed = true }
        if spec.behaviour.contains(.runsTransaction) {
            endTransaction(client)
            let reason = code == "ERR" ? message : "\(code) \(message)"
            ctx.out.error("EXECABORT Transaction discarded because of: \(reason)")
        } else {
            ctx.out.error("\(code) \(message)")
        }
    }

    /// CLIENT REPLY OFF / SKIP: drop what the command wrote.
    private func applyReplyMode(_ client: ClientSession, _ out: inout ReplyWriter, from mark: Int) {
        switch client.replyMode {
        case .on: return
        case .off: out.buffer.moveWriterIndex(to: mark)
        case .skipNext:
            out.buffer.moveWriterIndex(to: mark)
            client.replyMode = .skipThis
        case .skipThis:
            out.buffer.moveWriterIndex(to: mark)
            client.replyMode = .on
        case .offAfterThis:
            client.replyMode = .off
        }
    }

    private func feedMonitors(_ args: [[UInt8]], client: ClientSession, micros: Int64) {
        var line = Array("+\(micros / 1_000_000).\(String(micros % 1_000_000).leftPadded(6)) [\(client.db) \(client.address)]".utf8)
        for arg in args {
            line.append(32)
            line += quotedRepresentation(arg)
        }
        line += [13, 10]
        for monitor in monitors { monitor.connection?.send(line) }
    }

    /// The outcome of the checks every command meets first, busy script or not.
    enum Admission {
        case admitted(CommandSpec)
        /// An unknown command or subcommand: the error text.
        case unknown(String)
        /// A known command refused with an error code and message.
        case refused(CommandSpec, code: String, message: String)
        /// A known command the client's ACL user may not run with these arguments (`NOPERM`).
        case denied(CommandSpec, AclDenial)
    }

    /// The checks every command meets first, in Redis's order: the command (and subcommand)
    /// exists, its arity, whether `client` may run a protected command (`ProtectedGate`),
    /// authentication, and the client's ACL user's permissions (one flag test for a user
    /// allowed everything). A no-multi command inside MULTI is left to MULTI's refusal, which
    /// Redis makes first. The same checks run while a script is busy (`client` is nil for a
    /// connection not registered yet).
    func admit(_ resolution: CommandTable.Resolution, _ args: [[UInt8]], authenticated: Bool, client: ClientSession?) -> Admission {
        switch resolution {
        case .unknownCommand:
            return .unknown("ERR unknown command '\(cText(args[0], max: 128))', with args beginning with: \(argsPreview(args))")
        case .unknownSubcommand(let parent):
            return .unknown("ERR unknown subcommand '\(cText(args[1], max: 128))'. Try \(parent.name.uppercased()) HELP.")
        case .found(let spec):
            guard spec.arityMatches(args.count) else {
                return .refused(spec, code: "ERR", message: "wrong number of arguments for '\(spec.name)' command")
            }
            if let gate = spec.gate, !gate.access(in: config).allows(client) {
                return .refused(spec, code: "ERR", message: gate.refusal)
            }
            if !authenticated && !spec.flags.contains(.noAuth) && acl.authenticationRequired {
                return .refused(spec, code: "NOAUTH", message: "Authentication required.")
            }
            if let client, !client.user.unrestricted, !(client.inTransaction && spec.flags.contains(.noMulti)),
               let denial = client.user.check(spec, args) {
                return .denied(spec, denial)
            }
            return .admitted(spec)
        }
    }

    // MARK: - Transactions

    /// Leaves MULTI and drops every WATCH (after EXEC, DISCARD, RESET).
    package func endTransaction(_ client: ClientSession) {
        client.queued = nil
        client.transactionFailed = false
        watches.unwatchAll(client)
    }

    /// `'a' 'b' ` — the start of the arguments, for the unknown-command error.
    private func argsPreview(_ args: [[UInt8]]) -> String {
        var text = ""
        var i = 1
        while i < args.count && text.utf8.count < 128 {
            text += "'\(cText(args[i], max: 128 - text.utf8.count))' "
            i += 1
        }
        return text
    }
}

/// Bytes as C's `%.*s` would print them: stops at a NUL, at most `max` bytes.
package func cText(_ bytes: [UInt8], max: Int) -> String {
    var end = min(bytes.count, max)
    if let nul = bytes.prefix(end).firstIndex(of: 0) { end = nul }
    return String(decoding: bytes[0..<end], as: UTF8.self)
}

/// Redis's `sdscatrepr`: a double-quoted string with `\n`, `\"`, `\xHH` escapes.
public func quotedRepresentation(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [UInt8(ascii: "\"")]
    let hex = Array("0123456789abcdef".utf8)
    for c in bytes {
        switch c {
        case UInt8(ascii: "\\"), UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), c]
        case 10: out += Array("\\n".utf8)
        case 13: out += Array("\\r".utf8)
        case 9: out += Array("\\t".utf8)
        case 7: out += Array("\\a".utf8)
        case 8: out += Array("\\b".utf8)
        case 32...126: out.append(c)
        default: out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(c >> 4)], hex[Int(c & 15)]]
        }
    }
    out.append(UInt8(ascii: "\""))
    return out
}
