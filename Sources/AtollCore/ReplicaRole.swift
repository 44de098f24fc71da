/// Becoming a replica (REPLICAOF host port) and a primary again (REPLICAOF NO ONE), as Redis
/// 7.0 switches: the master's link is started by the server (`masterLinkStarter`); a replica
/// drops its own replicas and backlog (chained replication is not served yet) and, with
/// `replica-read-only`, refuses normal clients' writes.
extension ServerCore {
    /// Follows `host:port` from now on; false when it already does.
    public func becomeReplica(of host: String, port: Int, now: Int64) -> Bool {
        if let master = replication.master, master.host == host, master.port == port { return false }
        dropMasterLink()
        for peer in replication.replicas { peer.client.connection?.close() }
        replication.backlog = nil
        followEffectConsumers(aofAttached: false)
        replication.masterGeneration += 1
        let link = MasterLinkState(host: host, port: port, now: now, generation: replication.masterGeneration)
        replication.master = link
        storedConfig.storedParameters["replicaof"] = "\(host) \(port)"  // CONFIG GET and REWRITE show it
        followReplicaSettings()
        logHandler?(2, "Connecting to MASTER \(host):\(port)")
        masterLinkStarter?(link)
        return true
    }

    /// Stops following the master: the stream so far stays this server's history under its
    /// previous ID (`master_replid2`), and a new ID starts, as Redis shifts them.
    public func becomePrimary() {
        guard replication.master != nil else { return }
        dropMasterLink()
        // The backlog's time to live counts from the promotion, not from the start.
        replication.noReplicasSinceMillis = clock.nowMillis()
        replication.masterGeneration += 1
        replication.replid2 = replication.replid
        replication.secondOffset = replication.offset + 1
        replication.replid = randomHex40()
        storedConfig.storedParameters["replicaof"] = ""
        followReplicaSettings()
        logHandler?(2, "MASTER MODE enabled (user request from REPLICAOF NO ONE)")
    }

    /// Redis's `disconnectAllBlockedClients`, as this server turns replica: every client
    /// parked on keys or in WAIT is answered `-UNBLOCKED ...` and closed after that reply (what
    /// it waits for would no longer come from this server's own writes). Clients held by CLIENT
    /// PAUSE are left: their command starts afresh when the pause ends. Returns the errors'
    /// codes, which count against the command that changed the role.
    public func unblockForRoleChange() -> [[UInt8]] {
        var errors: [[UInt8]] = []
        for client in clients.values where client.blocked != nil {
            // Redis does not count the blocked command as failed here (only the error).
            errors += releaseBlocked(client, error: "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
                                     failsTheCall: false)
            disconnect(client)
            client.killed = true
            client.connection?.close()
        }
        return errors
    }

    private func dropMasterLink() {
        guard let master = replication.master else { return }
        master.client?.connection?.close()
        master.client = nil
        replication.master = nil
    }

    /// `replica-read-only` and `replica-serve-stale-data` apply while this server is a replica.
    public func followReplicaSettings() {
        readOnlyReplica = replication.master != nil && config.storedParameters["replica-read-only"] != "no"
        refusesStaleData = replication.master != nil && config.storedParameters["replica-serve-stale-data"] == "no"
    }
}
