/// The effects stream: what the commands of one lock acquisition changed, encoded by `feed`
/// as Redis propagates it (MULTI/EXEC units, SELECT, absolute expiries), handed as the lock is
/// released to the append-only file and to the replication backlog and attached replicas.
///
/// `feed` exists only while something takes its bytes; with neither the append-only file nor
/// a backlog, commands record nothing (the dispatcher tests one optional per write).
import AtollRESP
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ServerCore {
    /// Hands the feed's bytes to the append-only file and the replication stream.
    public func flushEffects() {
        guard feed != nil else { return }
        feed!.commit()
        flushCommittedEffects()
    }

    /// Hands over what whole commands recorded, leaving the unit in progress (an EXEC's or a
    /// script's effects so far) to end whole: for a command that reads the offset mid-unit.
    public func flushCommittedEffects() {
        guard feed != nil else { return }
        let bytes = feed!.take()
        aof?.append(bytes)
        // A replica's stream is its master's, passed on as received (`forwardMasterStream`).
        if streamsOwnEffects && !bytes.isEmpty { propagate(bytes) }
    }

    /// Whether this server's own effects make its replication stream: a primary's, once it
    /// has a backlog. A replica's stream is its master's.
    var streamsOwnEffects: Bool { replication.backlog != nil && replication.master == nil }

    /// Creates or drops the feed as its consumers come and go. A newly attached file needs a
    /// SELECT of its own before its first command.
    func followEffectConsumers(aofAttached: Bool) {
        feedEpoch &+= 1
        if aof == nil && !streamsOwnEffects {
            feed = nil
        } else if feed == nil {
            feed = AppendOnlyFeed()
        } else if aofAttached {
            feed!.reselect()
        }
    }

    /// Sends a command to the replicas only (PING, REPLCONF GETACK), after what the feed holds;
    /// it counts in the offset and the backlog, as in Redis.
    public func propagateToReplicasOnly(_ args: [[UInt8]]) {
        guard streamsOwnEffects else { return }
        flushEffects()
        propagate(AppendOnlyFeed.encoded(args))
    }

    /// Appends stream bytes to the backlog and every attached replica's output.
    func propagate(_ bytes: [UInt8]) {
        replication.backlog!.append(bytes)
        replication.offset = replication.backlog!.endOffset
        guard !replication.replicas.isEmpty else { return }
        let now = clock.nowMillis()
        for peer in replication.replicas {
            pushToOutbox(bytes.count, of: peer.client, as: .replica, now: now) { $0.writeBytes(bytes) }
        }
    }

    /// Creates the backlog for the first replica, with a new replication ID, as Redis does;
    /// from now on every command's effects are recorded.
    public func createBacklog() {
        guard replication.backlog == nil else { return }
        replication.replid = randomHex40()
        replication.replid2 = ReplicationState.noID
        replication.secondOffset = -1
        startBacklog()
    }

    /// A new, empty backlog that continues the stream at the current offset under the
    /// current replication ID: a replica's (which keeps one whether or not replicas of its own
    /// attach, to serve them and its siblings after a promotion), or a restarted primary's.
    public func startBacklog() {
        replication.backlog = ReplicationBacklog(size: replicationBacklogSize, endOffset: replication.offset)
        followEffectConsumers(aofAttached: false)
    }

    /// A replica passes on its master's stream byte for byte once applied, as Redis's
    /// `replicationFeedStreamFromMasterStream` does: to its backlog (so its offset stays the
    /// master's) and to its own replicas.
    public func forwardMasterStream(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        guard replication.backlog != nil else { return replication.offset += Int64(bytes.count) }
        propagate(bytes)
    }

    /// Closes every replica's link, as Redis's `disconnectSlaves`: after a change of
    /// replication ID or dataset they must ask again (partially where they can). Those still
    /// waiting for a snapshot go too: it would be of the old dataset.
    public func disconnectReplicas() {
        for peer in replication.awaitingSnapshot { peer.client.connection?.close() }
        replication.awaitingSnapshot.removeAll()
        guard !replication.replicas.isEmpty else { return }
        for peer in replication.replicas {
            peer.attached = false
            peer.client.connection?.close()
        }
        replication.replicas.removeAll()
        let now = clock.nowMillis()
        replication.noReplicasSinceMillis = now
        refreshGoodReplicas(now: now)
    }

    /// `repl-backlog-size` (checked by CONFIG, at least 16 kB).
    public var replicationBacklogSize: Int {
        config.storedParameters["repl-backlog-size"].flatMap { Int($0) } ?? 1 << 20
    }

    /// CONFIG SET repl-backlog-size: a new, empty backlog of that size, as Redis resizes it.
    public func followBacklogSize() {
        guard let backlog = replication.backlog, backlog.size != replicationBacklogSize else { return }
        startBacklog()
    }

    /// Starts sending the stream to `client` (after its snapshot or backlog part, which the
    /// caller wrote first). Its replies are dropped from now on. `stage`: where its full sync
    /// stands; until it is online the stream is held in its outbox.
    public func attachReplica(_ client: ClientSession, now: Int64, stage: ReplicaPeer.SyncStage = .online) {
        let peer = client.peer
        peer.attached = true
        peer.ackMillis = now
        peer.stage = stage
        // The PINGs' period counts from the first replica, not from an idle past (Redis
        // counts it from the start; none goes out at once either way).
        if replication.lastPingMillis == 0 { replication.lastPingMillis = now }
        replication.replicas.append(peer)
        if client.outbox == nil { client.outbox = ClientOutbox() }
        if stage != .online { client.outbox!.hold() }
        refreshGoodReplicas(now: now)
    }

    /// A replica has its snapshot (and, after a diskless one, has loaded it): the stream
    /// held since the snapshot's point goes out.
    public func replicaOnline(_ peer: ReplicaPeer) {
        peer.stage = .online
        // Its acknowledgements count from now: loading the snapshot took what it took.
        peer.ackMillis = clock.nowMillis()
        logHandler?(2, "Synchronization with replica \(peer.name) succeeded")
        if peer.client.outbox?.release() == true { peer.client.connection?.outboxReady() }
    }

    /// A replica's connection went away.
    func replicaGone(_ client: ClientSession) {
        let now = clock.nowMillis()
        // A diskless transfer's replica: its socket is shut for the child too, and a child
        // with no replica left is stopped (the cron reaps it).
        if let transfer = replication.socketTransfer, let peer = client.replicaPeer,
           transfer.peers.contains(where: { $0 === peer }) {
            peer.attached = false
            if transfer.dropped(peer), let child = persistence.child, child.toSockets {
                kill(child.pid, SIGUSR1)
            }
        }
        replication.awaitingSnapshot.removeAll { $0.client === client }
        let attached = replication.replicas.count
        replication.replicas.removeAll { $0.client === client }
        client.replicaPeer?.attached = false
        if attached != 0 && replication.replicas.isEmpty { replication.noReplicasSinceMillis = now }
        refreshGoodReplicas(now: now)
    }

    // MARK: - WAIT

    /// How many attached replicas acknowledged `offset` or more.
    public func replicasAcknowledging(_ offset: Int64) -> Int {
        replication.replicas.reduce(0) { $0 + ($1.stage == .online && $1.ackOffset >= offset ? 1 : 0) }
    }

    /// The offset WAIT waits for: the end of the stream after the client's last write.
    public func waitOffset(for client: ClientSession) -> Int64 {
        if client.wroteSinceWait {
            flushEffects()
            client.waitOffset = replication.offset
            client.wroteSinceWait = false
        }
        return client.waitOffset
    }

    /// Parks a WAIT until `count` replicas acknowledged the client's offset or the deadline
    /// passes, and asks the replicas for their offsets.
    public func parkWaiter(_ ctx: inout CommandContext, deadline: Int64) {
        ctx.block(on: [], waitsFor: .replicaAcks, deadline: deadline)
        replication.waiters.append(ctx.client)
        propagateToReplicasOnly([Array("REPLCONF".utf8), Array("GETACK".utf8), Array("*".utf8)])
    }

    /// A replica acknowledged `offset`: records it and releases the WAITs it satisfies.
    public func replicaAcknowledged(_ peer: ReplicaPeer, offset: Int64, now: Int64) {
        if offset > peer.ackOffset { peer.ackOffset = offset }
        peer.ackMillis = now
        if replication.failover.state == .waitingForSync { updateFailoverStatus(now: now) }
        guard !replication.waiters.isEmpty else { return }
        for client in replication.waiters {
            guard client.blocked?.waitsFor == .replicaAcks,
                  replicasAcknowledging(client.waitOffset) >= client.waitReplicas else { continue }
            releaseBlocked(client, error: nil)
        }
    }

    /// WAIT's reply when it is released: the replicas that acknowledged its offset.
    func waiterReleased(_ client: ClientSession, into out: inout ReplyWriter) {
        replication.waiters.removeAll { $0 === client }
        out.integer(replicasAcknowledging(client.waitOffset))
    }

    /// A parked WAIT whose client went away.
    func waiterGone(_ client: ClientSession) {
        if !replication.waiters.isEmpty { replication.waiters.removeAll { $0 === client } }
    }
}
