/// Becoming a replica (REPLICAOF host port) and a primary again (REPLICAOF NO ONE), as Redis
/// 7.0 switches: the master's link is started by the server (`masterLinkStarter`); with
/// `replica-read-only`, a replica refuses normal clients' writes. The replication history
/// survives both switches (PSYNC2): a replica keeps its backlog and its own replicas when it
/// changes master, asking the new one to continue its stream where it stands, and a promoted
/// replica keeps the stream as its previous ID, so its former siblings continue partially.
extension ServerCore {
    /// Follows `host:port` from now on; false when it already does. `fromConfig`: the
    /// `replicaof` setting at start, which asks for a partial resync only with the history a
    /// snapshot restored (Redis's replicas configured so start with no cached master).
    public func becomeReplica(of host: String, port: Int, now: Int64, fromConfig: Bool = false) -> Bool {
        if let master = replication.master, master.host == host, master.port == port { return false }
        let cached = cachedMaster(fromConfig: fromConfig)
        dropMasterLink()
        replication.masterGeneration += 1
        let link = MasterLinkState(host: host, port: port, now: now, generation: replication.masterGeneration)
        if let cached {
            link.masterReplid = cached.replid
            link.appliedOffset = cached.offset
            link.streamDB = cached.streamDB
        }
        replication.master = link
        storedConfig.storedParameters["replicaof"] = "\(host) \(port)"  // CONFIG GET and REWRITE show it
        // This server's own effects no longer make the stream: its master's will.
        followEffectConsumers(aofAttached: false)
        followReplicaSettings()
        logHandler?(2, "Connecting to MASTER \(host):\(port)")
        masterLinkStarter?(link)
        return true
    }

    /// The stream this server would continue with a new master: a replica's master's (once it
    /// synced), a primary's own (Redis's `replicationCacheMasterUsingMyself`), or none.
    private func cachedMaster(fromConfig: Bool) -> ReplicationSaveInfo? {
        if let master = replication.master {
            guard master.masterReplid != "?", master.appliedOffset >= 0 else { return nil }
            return .init(streamDB: master.client?.db ?? master.streamDB, replid: master.masterReplid, offset: master.appliedOffset)
        }
        defer { replication.restoredStreamDB = nil }
        guard !fromConfig || replication.restoredStreamDB != nil else { return nil }
        flushCommittedEffects()
        logHandler?(2, "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.")
        // The new master's stream starts with a SELECT of its own, unless it is this one's.
        return .init(streamDB: replication.restoredStreamDB ?? 0, replid: replication.replid, offset: replication.offset)
    }

    /// Stops following the master: the stream so far stays this server's history under its
    /// previous ID (`master_replid2`, up to `second_repl_offset`), a new ID starts and the
    /// backlog is kept, as Redis shifts them. Its own replicas are disconnected to learn the
    /// new ID; they continue partially.
    /// `reason`: the log line's (nil: none, as when a failover is aborted).
    public func becomePrimary(reason: String? = "user request from REPLICAOF NO ONE") {
        guard replication.master != nil else { return }
        dropMasterLink()
        // The backlog's time to live counts from the promotion, not from the start.
        replication.noReplicasSinceMillis = clock.nowMillis()
        replication.masterGeneration += 1
        replication.replid2 = replication.replid
        replication.secondOffset = replication.offset + 1
        replication.replid = randomHex40()
        storedConfig.storedParameters["replicaof"] = ""
        disconnectReplicas()
        followEffectConsumers(aofAttached: false)
        // The stream this server starts selects its database first.
        feed?.reselect()
        followReplicaSettings()
        if let reason { logHandler?(2, "MASTER MODE enabled (\(reason))") }
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
