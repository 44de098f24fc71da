/// `min-replicas-to-write` and `min-replicas-max-lag`, Redis's "good replicas": while both are
/// set, a primary refuses writes with `-NOREPLICAS` unless at least `min-replicas-to-write`
/// replicas acknowledged within the last `min-replicas-max-lag` seconds. The count (INFO
/// `min_slaves_good_slaves`) is refreshed when Redis refreshes it: once a second, when a replica
/// attaches or goes, and when either setting changes.
extension ServerCore {
    /// NOREPLICAS's message (after the code).
    public static let noReplicasMessage = "Not enough good replicas to write."

    /// An integer replication setting as CONFIG stored it (range-checked there).
    package func replicationSetting(_ name: String, default value: Int) -> Int {
        config.storedParameters[name].flatMap { Int($0) } ?? value
    }

    /// Follows CONFIG SET of either setting: the quorum read per command, and a fresh count.
    @usableFromInline func followGoodReplicaSettings() {
        let wanted = replicationSetting("min-replicas-to-write", default: 0)
        let maxLag = replicationSetting("min-replicas-max-lag", default: 10)
        minGoodReplicas = maxLag == 0 ? 0 : wanted
        refreshGoodReplicas(now: clock.nowMillis())
    }

    /// Counts the attached replicas whose last acknowledgement is at most
    /// `min-replicas-max-lag` seconds old (whole seconds, as Redis compares them).
    public func refreshGoodReplicas(now: Int64) {
        guard minGoodReplicas != 0 else { return }
        let maxLag = Int64(replicationSetting("min-replicas-max-lag", default: 10))
        replication.goodReplicas = replication.replicas.reduce(0) { count, peer in
            count + (peer.stage == .online && now / 1000 - peer.ackMillis / 1000 <= maxLag ? 1 : 0)
        }
    }

    /// Whether writes are refused now: a primary with the settings on and too few good
    /// replicas (Redis's `checkGoodReplicasStatus` failing).
    public var tooFewGoodReplicas: Bool {
        minGoodReplicas != 0 && replication.master == nil && replication.goodReplicas < minGoodReplicas
    }

    /// The dispatcher's NOREPLICAS test: a write (by the table, or by what a script declares;
    /// EXEC with one queued) while there are too few good replicas.
    func refusedForTooFewReplicas(_ spec: CommandSpec, _ args: [[UInt8]], _ client: ClientSession) -> Bool {
        tooFewGoodReplicas && declares(.write, spec, args, client)
    }
}
