/// The replication history a snapshot keeps, as Redis 7.0 keeps it: what `rdbPopulateSaveInfo`
/// writes into an RDB (the stream's database, replication ID and offset) and what
/// `loadDataFromDisk` does with it at start, so that a primary restarted from its own
/// snapshot lets its replicas continue partially, and a restarted replica asks its master to.
import AtollKeyspace

extension ServerCore {
    /// What a snapshot taken now records of the stream, or nil when there is nothing to
    /// continue: a primary without a backlog (no replica ever asked), a replica that has not
    /// synced yet. A primary's effects of whole commands not yet streamed (the commands read
    /// with this one) are streamed first, so the offset covers them; a unit in progress (the
    /// EXEC or script this runs in) is streamed whole after it, as Redis streams it.
    public func replicationSaveInfo() -> ReplicationSaveInfo? {
        if let master = replication.master {
            guard master.masterReplid != "?", master.appliedOffset >= 0 else { return nil }
            return .init(streamDB: master.client?.db ?? master.streamDB, replid: replication.replid, offset: replication.offset)
        }
        guard replication.backlog != nil else { return nil }
        flushCommittedEffects()
        // Without a SELECT streamed yet, the next write streams one: database 0 is as good.
        return .init(streamDB: max(feed?.selectedDB ?? 0, 0), replid: replication.replid, offset: replication.offset)
    }

    /// Takes up the history of the snapshot loaded at start. A server that starts as a replica
    /// continues that stream with its master; a primary keeps it as its previous ID up to that
    /// offset, with a new ID and an empty backlog from there (Redis keeps the backlog only when
    /// the offset is not 0).
    /// `expired`: the keys the load dropped as expired; a primary streams their DELs after the
    /// restored offset (Redis feeds them to its backlog while loading), so that its replicas,
    /// which still hold them, drop them too.
    public func restoreReplication(_ info: ReplicationSaveInfo, asReplica: Bool, expired: [(db: Int, key: [UInt8])] = []) {
        guard info.replid.utf8.count == 40, info.offset >= 0, info.offset <= Int64.max / 2,
              info.streamDB >= 0, info.streamDB < keyspace.databases.count else { return }
        replication.offset = info.offset
        if asReplica {
            replication.replid = info.replid
            replication.restoredStreamDB = info.streamDB
            return
        }
        replication.replid2 = info.replid
        replication.secondOffset = info.offset + 1
        replication.noReplicasSinceMillis = clock.nowMillis()
        guard info.offset != 0 || !expired.isEmpty else { return }
        startBacklog()
        for (db, key) in expired {
            feed!.add(db: db, [AppendOnlyFeed.del, key])
            feed!.commit()
        }
        flushEffects()
    }
}
