/// The primary's once-a-second replication duties, as Redis's `replicationCron` has them: the
/// good-replica count, the PINGs every `repl-ping-replica-period`, dropping the replicas whose
/// acknowledgements stopped for `repl-timeout` seconds, and freeing the backlog after
/// `repl-backlog-ttl` seconds without replicas.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ServerCore {
    /// Called once a second by the server's background task, with the lock held.
    public func replicationCron(now: Int64) {
        refreshGoodReplicas(now: now)
        updateFailoverStatus(now: now)
        sendNewlinesToWaitingReplicas()
        guard !replication.replicas.isEmpty else { return freeIdleBacklog(now: now) }
        let period = Int64(replicationSetting("repl-ping-replica-period", default: 10)) * 1000
        // No PING while a failover with a timeout waits: the offset must stand still (Redis).
        let failoverWaits = replication.failover.endMillis != 0 && pauseMode != .off
        if now - replication.lastPingMillis >= period && !failoverWaits {
            replication.lastPingMillis = now
            propagateToReplicasOnly([Array("PING".utf8)])
        }
        dropTimedOutReplicas(now: now)
    }

    /// Closes the link of every replica that acknowledged nothing for more than `repl-timeout`
    /// seconds (whole seconds, as Redis compares them). Those attached by SYNC send no ACKs and
    /// are kept, as in Redis.
    private func dropTimedOutReplicas(now: Int64) {
        let timeout = replicationTimeoutMillis / 1000
        for peer in replication.replicas where (peer.stage == .online || peer.stage == .waitingForFirstAck) && !peer.preSync && now / 1000 - peer.ackMillis / 1000 > timeout {
            logHandler?(3, "Disconnecting timedout replica (streaming sync): \(peer.name)")
            peer.client.connection?.close()
        }
    }

    /// A newline to each replica waiting for its snapshot to start or, on disk, to be saved,
    /// as Redis sends them: it keeps the replica's link from timing out, and the replica skips
    /// it. Written to the socket at once where it can be (so a child forked after this writes
    /// after it); not while a child writes into the socket.
    private func sendNewlinesToWaitingReplicas() {
        let waiting = replication.awaitingSnapshot + replication.replicas.filter { $0.stage == .receivingSnapshot(toSocket: false) }
        for peer in waiting {
            guard let connection = peer.client.connection else { continue }
            if let fd = connection.plainSocketDescriptor {
                sendNewline(to: fd)
            } else {
                connection.send([10])
            }
        }
    }

    /// A primary without replicas for more than `repl-backlog-ttl` seconds (0: never) frees its
    /// backlog and, as Redis does, starts a new replication ID with no previous one: its offset
    /// no longer grows, so the old ID at a later offset would name a stream it never sent.
    private func freeIdleBacklog(now: Int64) {
        let ttl = Int64(replicationSetting("repl-backlog-ttl", default: 3600))
        guard ttl != 0, replication.backlog != nil, replication.master == nil,
              now / 1000 - replication.noReplicasSinceMillis / 1000 > ttl else { return }
        replication.replid = randomHex40()
        replication.replid2 = ReplicationState.noID
        replication.secondOffset = -1
        replication.backlog = nil
        followEffectConsumers(aofAttached: false)
        logHandler?(2, "Replication backlog freed after \(ttl) seconds without connected replicas.")
    }

    /// `repl-timeout` in milliseconds: how long either side of a link waits on a silent peer.
    public var replicationTimeoutMillis: Int64 { Int64(replicationSetting("repl-timeout", default: 60)) * 1000 }
}

/// One newline, written without waiting (a full socket buffer skips it, as it is only a sign
/// of life).
private func sendNewline(to fd: Int32) {
    var newline: UInt8 = 10
    _ = send(fd, &newline, 1, Int32(MSG_NOSIGNAL))
}
