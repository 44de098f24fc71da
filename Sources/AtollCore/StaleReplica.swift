/// `replica-serve-stale-data no`: while its link to the master is not up, a replica answers
/// `-MASTERDOWN` to every command without Redis's `stale` flag (a script's by the flags it
/// declares; EXEC when a queued command lacks it), as Redis's `processCommand` refuses them.
/// Scripts without a shebang are refused as they start, and a script that declares
/// `allow-stale` may only call commands flagged `stale`.
extension ServerCore {
    /// MASTERDOWN's message (after the code).
    public static let masterDownMessage = "Link with MASTER is down and replica-serve-stale-data is set to 'no'."

    /// Whether stale data is refused now: a replica with the setting at `no` whose link is
    /// not up (Redis's `running_stale`).
    public var servesNoStaleData: Bool {
        refusesStaleData && replication.master?.phase != .connected
    }

    /// The dispatcher's MASTERDOWN test (Redis's `is_denystale_command`).
    func refusedAsStale(_ spec: CommandSpec, _ args: [[UInt8]], _ client: ClientSession) -> Bool {
        guard servesNoStaleData else { return false }
        if !commandFlags(spec, args).contains(.stale) { return true }
        guard spec.behaviour.contains(.runsTransaction), let queued = client.queued else { return false }
        return queued.contains { !commandFlags($0.spec, $0.args).contains(.stale) }
    }
}
