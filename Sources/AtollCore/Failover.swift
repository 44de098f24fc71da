/// FAILOVER, as Redis 7.0 coordinates it: the primary holds writes, waits until a replica (the
/// one named, or the first) acknowledged its whole stream, then turns replica of it and asks
/// it to take over with `PSYNC <replid> <offset> FAILOVER`; the failover ends when that PSYNC
/// is accepted (writes resume, refused now as a replica's), and is aborted (the server is a
/// primary again) when it is refused, on FAILOVER ABORT, or when the timeout passes without
/// FORCE. INFO shows the step as `master_failover_state`.
extension ServerCore {
    /// Starts a failover whose checks passed: writes are held from now on.
    public func startFailover(to target: (host: String, port: Int)?, timeoutMillis: Int64, force: Bool, now: Int64) {
        var plan = FailoverPlan()
        plan.state = .waitingForSync
        plan.target = target
        plan.endMillis = timeoutMillis <= 0 ? 0 : (timeoutMillis > Int64.max - now ? Int64.max : now + timeoutMillis)
        plan.force = force
        replication.failover = plan
        if let target {
            logHandler?(2, "FAILOVER requested to \(target.host):\(target.port).")
        } else {
            logHandler?(2, "FAILOVER requested to any replica.")
        }
        holdWritesForFailover(true)
    }

    /// The attached replica listed as `host:port`, as Redis's `findReplica` compares them.
    public func findReplica(host: String, port: Int) -> ReplicaPeer? {
        replication.replicas.first { $0.ip.lowercased() == host.lowercased() && $0.listeningPort == port }
    }

    /// Moves a failover waiting for its replica on (Redis's `updateFailoverStatus`): after an
    /// acknowledgement, and once a second for the timeout.
    public func updateFailoverStatus(now: Int64) {
        guard replication.failover.state == .waitingForSync else { return }
        let plan = replication.failover
        if plan.endMillis != 0 && plan.endMillis <= now {
            guard plan.force, let target = plan.target else { return abortFailover("Replica never caught up before timeout") }
            logHandler?(2, "FAILOVER to \(target.host):\(target.port) time out exceeded, failing over.")
            return failOver(to: target, now: now)
        }
        flushEffects()
        let caughtUp: ReplicaPeer?
        if let target = plan.target {
            caughtUp = findReplica(host: target.host, port: target.port).flatMap { $0.ackOffset == replication.offset ? $0 : nil }
        } else {
            caughtUp = replication.replicas.first { $0.ackOffset == replication.offset }
        }
        guard let peer = caughtUp else { return }
        let target = plan.target ?? (peer.ip, peer.listeningPort)
        replication.failover.target = target
        logHandler?(2, "Failover target \(target.host):\(target.port) is synced, failing over.")
        failOver(to: target, now: now)
    }

    /// Turns replica of the target, whose link then sends PSYNC ... FAILOVER.
    private func failOver(to target: (host: String, port: Int), now: Int64) {
        replication.failover.state = .inProgress
        _ = becomeReplica(of: target.host, port: target.port, now: now)
        _ = unblockForRoleChange()
    }

    /// Ends a failover that did not happen: a server already turned replica is a primary again.
    public func abortFailover(_ reason: String) {
        let plan = replication.failover
        guard plan.state != .none else { return }
        if let target = plan.target {
            logHandler?(2, "FAILOVER to \(target.host):\(target.port) aborted: \(reason)")
        } else {
            logHandler?(2, "FAILOVER to any replica aborted: \(reason)")
        }
        if plan.state == .inProgress { becomePrimary(reason: nil) }
        clearFailoverState()
    }

    /// The failover is over (done or aborted): writes resume.
    public func clearFailoverState() {
        replication.failover = FailoverPlan()
        holdWritesForFailover(false)
    }
}

/// A failover's step and what it was asked.
public struct FailoverPlan: Sendable {
    public enum State: String, Sendable {
        case none = "no-failover", waitingForSync = "waiting-for-sync", inProgress = "failover-in-progress"
    }

    public var state = State.none
    /// FAILOVER TO host port (or the replica found caught up first).
    public var target: (host: String, port: Int)?
    /// When the timeout passes (Unix ms; 0: none), and whether it fails over then anyway.
    public var endMillis: Int64 = 0
    public var force = false

    public init() {}
}
