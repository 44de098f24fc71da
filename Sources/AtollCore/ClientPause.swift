/// CLIENT PAUSE and CLIENT UNPAUSE (Redis 7.0's `pauseClients`, `unpauseClients` and the
/// postponing in `processCommand`): the pause's mode and deadline, the clients it holds, and
/// the test the dispatcher makes before a command runs or is queued.
///
/// A pause has a mode (`write` or `all`) and a deadline. A later pause never lowers either:
/// the mode becomes the stronger of the two and the deadline the later one, as in Redis.
/// While a pause lasts, a command it covers is not run: the client is postponed (its
/// connection parks as for a blocking command, with no timeout of its own) and the command,
/// with everything after it, runs once the pause ends, by CLIENT UNPAUSE or at its deadline
/// (the server's cron checks it, and so does every command that meets the pause).
///
/// `all` covers every command that gets past the checks before it (unknown command, arity,
/// authentication, MISCONF, `no-multi` inside MULTI): CLIENT UNPAUSE too, so only the deadline
/// ends it, as in Redis. `write` covers commands flagged `write` or `may_replicate` (a
/// behaviour in Atoll's bindings: COMMAND INFO does not show it), EXEC with
/// such a command queued, and scripts by the flags they declare (Redis's `getCommandFlags`).
/// While any pause lasts keys do not expire: reads find an expired key missing, but nothing
/// deletes it (Redis keeps the data set constant for a failover).
import AtollBytes
import AtollKeyspace

/// What a pause holds back; ordered from weakest to strongest.
public enum PauseMode: Int, Comparable, Sendable {
    case off = 0, write, all
    public static func < (a: PauseMode, b: PauseMode) -> Bool { a.rawValue < b.rawValue }
}

extension ServerCore {
    // MARK: - Pausing

    /// CLIENT PAUSE: pauses `mode` until `deadline` (Unix ms), or longer or stronger if a
    /// pause already says so. A deadline already past (a timeout of 0, or one that wrapped
    /// around) ends the pause at the next check unless an earlier pause holds it.
    public func pauseClients(_ mode: PauseMode, until deadline: Int64) {
        if mode > clientPauseMode { clientPauseMode = mode }
        if deadline > pauseDeadline { pauseDeadline = deadline }
        followPause()
    }

    /// CLIENT UNPAUSE, or the deadline came: every postponed client runs again, in the order
    /// they were postponed (a write a FAILOVER still holds is postponed again).
    public func unpauseClients() {
        clientPauseMode = .off
        pauseDeadline = 0
        followPause()
        releasePausedClients()
    }

    /// A FAILOVER holds writes from its start to its end, whatever CLIENT PAUSE and UNPAUSE
    /// do meanwhile (Redis's pause purposes).
    func holdWritesForFailover(_ hold: Bool) {
        failoverPause = hold
        followPause()
        if !hold { releasePausedClients() }
    }

    /// The pause in force: the stronger of CLIENT PAUSE's and a FAILOVER's.
    private func followPause() {
        pauseMode = max(clientPauseMode, failoverPause ? .write : .off)
        keyspace.expiryPaused = pauseMode != .off
    }

    private func releasePausedClients() {
        let released = pausedClients
        pausedClients.removeAll()
        for client in released where client.paused {
            client.paused = false
            client.connection?.unblocked(reply: [])
        }
    }

    /// Ends CLIENT PAUSE if its deadline has passed (Redis's `checkClientPauseTimeoutAndReturnIfPaused`).
    /// Returns whether clients are still paused.
    @discardableResult
    public func checkPauseDeadline(now: Int64) -> Bool {
        if pauseMode == .off { return false }
        if clientPauseMode != .off && pauseDeadline < now { unpauseClients() }
        return pauseMode != .off
    }

    /// Called by the dispatcher while a pause lasts, for a command that passed the checks
    /// before it: postpones the client if the pause covers `spec`. True if postponed (the
    /// command did not run and writes no reply; it runs again once the client is released).
    func postponeIfPaused(_ spec: CommandSpec, _ ctx: inout CommandContext) -> Bool {
        guard checkPauseDeadline(now: ctx.now) else { return false }
        let client = ctx.client
        // The master's stream is applied whole: a pause never holds it back half way.
        if client.isScriptClient || client.isMaster { return false }
        if pauseMode == .write && !mayWrite(spec, ctx.args, client) { return false }
        client.paused = true
        client.lastCommandSpec = spec
        pausedClients.append(client)
        ctx.postponed = true
        // No reply now, so CLIENT REPLY SKIP still applies to the command when it runs.
        ctx.blockRequested = true
        stats.totalCommands -= 1
        return true
    }

    /// Whether a WRITE pause holds `spec` back: flagged `write` or `may_replicate`, a script
    /// that does not declare `no-writes`, or EXEC with such a command queued.
    private func mayWrite(_ spec: CommandSpec, _ args: [[UInt8]], _ client: ClientSession) -> Bool {
        declares([.write, .mayReplicate], spec, args, client)
    }

    /// Whether a command has any of `flags` by `commandFlags`; for EXEC, whether a queued
    /// command has (Redis's `mstate.cmd_flags`).
    func declares(_ flags: CommandFlags, _ spec: CommandSpec, _ args: [[UInt8]], _ client: ClientSession) -> Bool {
        if spec.behaviour.contains(.runsTransaction), let queued = client.queued {
            return queued.contains { !commandFlags($0.spec, $0.args).isDisjoint(with: flags) }
        }
        return !commandFlags(spec, args).isDisjoint(with: flags)
    }

    /// A command's flags as Redis's `getCommandFlags` gives them: a script's are those it
    /// declares (its binding's `FlagsResolver`), others the table's.
    func commandFlags(_ spec: CommandSpec, _ args: [[UInt8]]) -> CommandFlags {
        var flags = spec.flags
        if spec.behaviour.contains(.mayReplicate) { flags.insert(.mayReplicate) }
        if let resolver = spec.flagsResolver, let declared = resolver(self, flags, args) { return declared }
        return flags
    }

    /// Whether CLIENT LIST shows the client as blocked and INFO counts it in `blocked_clients`.
    public var pausedClientCount: Int { pausedClients.count }
}

/// Redis's `scriptFlagsToCmdFlags`: a script that declares its flags has `write` unless it
/// declares `no-writes`, `denyoom` unless it declares `no-writes` or `allow-oom`, `stale` only
/// if it declares `allow-stale`, and never `may_replicate` (what it does is then known).
public func scriptCommandFlags(_ tableFlags: CommandFlags, declaringNoWrites noWrites: Bool, allowingOOM allowOOM: Bool,
                               allowingStale allowStale: Bool) -> CommandFlags {
    var flags = tableFlags.subtracting([.write, .denyoom, .mayReplicate, .stale])
    if !noWrites { flags.insert(.write) }
    if !noWrites && !allowOOM { flags.insert(.denyoom) }
    if allowStale { flags.insert(.stale) }
    return flags
}
