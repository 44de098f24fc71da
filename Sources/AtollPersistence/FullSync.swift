/// A primary's full syncs as Redis 7.0 runs them: the replica waits for a snapshot taken by a
/// forked child, so the server keeps serving while it is written, and the stream from the
/// snapshot's point on is held in the replica's outbox until the snapshot is through.
///
/// - On disk (`repl-diskless-sync no`, or a replica that cannot take `$EOF:` framing, or a
///   connection over TLS): a background save writes `dbfilename`, and the file is sent as
///   `$<length>` and its bytes when the child is done. Replicas wait with newlines meanwhile.
/// - Diskless: after `repl-diskless-sync-delay` seconds (or once
///   `repl-diskless-sync-max-replicas` replicas wait), a child writes the snapshot straight
///   into every waiting replica's socket, framed by `$EOF:<40 bytes>`. Each replica goes online
///   at its first acknowledgement (it has loaded the snapshot), as in Redis: a replica finds
///   the end of such a snapshot by its last 40 bytes, so nothing may follow them before.
import AtollBytes
import AtollCore
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension ServerCore {
    /// PSYNC or SYNC that needs a full resync: the replica waits for a snapshot, which starts
    /// now if it can, else from the cron. `announce`: it is told `+FULLRESYNC` (PSYNC).
    package func requestFullSync(for client: ClientSession, announce: Bool, now: Int64) {
        let peer = client.peer
        peer.stage = .waitingForSnapshot
        peer.announceFullSync = announce
        peer.syncRequestedMillis = now
        replication.awaitingSnapshot.append(peer)
        startFullSyncIfDue(now: now)
    }

    /// Starts the snapshot the waiting replicas need, when no child runs and a diskless sync's
    /// delay is over. With the lock held (PSYNC, the cron).
    func startFullSyncIfDue(now: Int64) {
        let waiting = replication.awaitingSnapshot
        guard !waiting.isEmpty, persistence.child == nil else { return }
        let diskless = config.storedParameters["repl-diskless-sync"] != "no"
            && waiting.allSatisfy { $0.eofCapable && $0.client.connection?.plainSocketDescriptor != nil }
        if diskless {
            let delay = Int64(replicationSetting("repl-diskless-sync-delay", default: 5)) * 1000
            let enough = replicationSetting("repl-diskless-sync-max-replicas", default: 0)
            let oldest = waiting.map(\.syncRequestedMillis).min()!
            guard now - oldest >= delay || (enough > 0 && waiting.count >= enough) else { return }
        }
        // The stream's point: a primary's own stream starts anew in database 0 (the next unit
        // says which one it is for); a replica's goes on as its master sends it.
        if replication.master == nil {
            createBacklog()
            flushEffects()
            feed?.reselect()
        } else if replication.backlog == nil {
            startBacklog()
        }
        replication.awaitingSnapshot.removeAll()
        let fullResync = Array("+FULLRESYNC \(replication.replid) \(replication.offset)\r\n".utf8)
        if diskless {
            startSocketTransfer(to: waiting, fullResync: fullResync, now: now)
        } else {
            startDiskSync(for: waiting, fullResync: fullResync, now: now)
        }
    }

    private func startDiskSync(for peers: [ReplicaPeer], fullResync: [UInt8], now: Int64) {
        logHandler?(2, "Starting BGSAVE for SYNC with target: disk")
        if let error = startBackgroundSave(now: now) {
            logHandler?(3, "BGSAVE for replication failed: \(error)")
            for peer in peers { peer.client.connection?.close() }
            return
        }
        for peer in peers {
            if peer.announceFullSync { peer.client.connection?.send(fullResync) }
            attachReplica(peer.client, now: now, stage: .receivingSnapshot(toSocket: false))
        }
    }

    private func startSocketTransfer(to peers: [ReplicaPeer], fullResync: [UInt8], now: Int64) {
        logHandler?(2, "Starting BGSAVE for SYNC with target: replicas sockets")
        let sockets = peers.map { $0.client.connection?.plainSocketDescriptor ?? -1 }
        let identities = sockets.map { SocketTransfer.identity(of: $0) }
        guard let transfer = SocketTransfer(peers: peers, sockets: sockets) else {
            logHandler?(3, "Can't map the page a diskless sync reports in: \(String(cString: strerror(errno)))")
            for peer in peers { peer.client.connection?.close() }
            return
        }
        let history = replicationSaveInfo()
        let timeout = replicationTimeoutMillis
        let parent = getpid()
        let pid = forkChild(keeping: Set(sockets)) {
            // Only the connections the parent meant (see `SocketTransfer.identity`).
            let checked = sockets.indices.map {
                identities[$0] != nil && SocketTransfer.identity(of: sockets[$0]) == identities[$0] ? sockets[$0] : -1
            }
            var broadcast = SocketBroadcast(sockets: checked, timeoutMillis: timeout, parent: parent)
            let mark = Array(randomHex40().utf8)
            // The header goes at once, so the replica sees the sync begin; the snapshot follows
            // 64 kB at a time as it is made.
            let header = Array("$EOF:".utf8) + mark + [13, 10]
            broadcast.send(peers.map { ($0.announceFullSync ? fullResync : []) + header })
            _ = PersistenceCommands.snapshot(self, now: now, history: history) { broadcast.send($0) }
            broadcast.send(mark)
            for index in broadcast.finished { transfer.markSent(index) }
            return true
        }
        guard pid > 0 else {
            logHandler?(3, "Can't save in background: fork: \(String(cString: strerror(errno)))")
            for peer in peers { peer.client.connection?.close() }
            return
        }
        logHandler?(2, "Background RDB transfer started by pid \(pid)")
        persistence.child = .init(pid: pid, job: .snapshot, startedAt: now, dirtyAtFork: dirty, temporary: "", toSockets: true)
        replication.socketTransfer = transfer
        for peer in peers { attachReplica(peer.client, now: now, stage: .receivingSnapshot(toSocket: true)) }
    }

    /// The disk save the replicas waited for ended: each is sent the file, then what its
    /// outbox held; without a good file their links close (they ask again).
    func finishDiskSync(ok: Bool) {
        let peers = replication.replicas.filter { $0.stage == .receivingSnapshot(toSocket: false) }
        guard !peers.isEmpty else { return }
        let file = ok ? try? AppendOnlyFile.readFile(config.dir + "/" + config.dbFilename) : nil
        guard let file else {
            logHandler?(3, "SYNC failed. BGSAVE child returned an error")
            for peer in peers { peer.client.connection?.close() }
            return
        }
        // One buffer for every replica: NIO shares its storage, so a replica that reads slowly
        // does not hold a copy of its own.
        var payload = ByteBufferAllocator().buffer(capacity: file.count + 24)
        payload.writeString("$\(file.count)\r\n")
        payload.writeBytes(file)
        let now = clock.nowMillis()
        for peer in peers {
            peer.stage = .online
            // Its acknowledgements count from now, not from the save's start.
            peer.ackMillis = now
            if let connection = peer.client.connection, let outbox = peer.client.outbox {
                connection.send(payload, thenRelease: outbox)
            }
            logHandler?(2, "Synchronization with replica \(peer.name) succeeded")
        }
    }

    /// The diskless transfer's child ended: a replica it wrote the whole snapshot to waits for
    /// its first ACK (unless that came already); the others' links close.
    func finishSocketTransfer(ok: Bool) {
        guard let transfer = replication.socketTransfer else { return }
        replication.socketTransfer = nil
        logHandler?(ok ? 2 : 3, ok ? "Background RDB transfer terminated with success" : "Background transfer error")
        for (index, peer) in transfer.peers.enumerated() where peer.attached && peer.stage == .receivingSnapshot(toSocket: true) {
            if ok && transfer.wasSent(index) {
                peer.stage = .waitingForFirstAck
                logHandler?(2, "Streamed RDB transfer with replica \(peer.name) succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming")
            } else {
                peer.client.connection?.close()
            }
        }
    }

    /// A killed snapshot child: the replicas waiting for it lose their links.
    func abandonFullSyncs() {
        replication.socketTransfer = nil
        for peer in replication.replicas {
            if case .receivingSnapshot = peer.stage { peer.client.connection?.close() }
        }
    }
}

/// In the diskless child: the same bytes into every replica's socket, each chunk taken whole
/// by every socket still open before the next is made (the sockets are non-blocking: the
/// parent's event loops own them). A socket that fails, or one that takes nothing for the
/// replication timeout, is given up; so is everything once the parent is gone.
private struct SocketBroadcast {
    private var sockets: [Int32]
    private let timeoutMillis: Int64
    private let parent: pid_t

    init(sockets: [Int32], timeoutMillis: Int64, parent: pid_t) {
        self.sockets = sockets
        self.timeoutMillis = timeoutMillis
        self.parent = parent
    }

    /// The sockets that took everything sent.
    var finished: [Int] { sockets.indices.filter { sockets[$0] >= 0 } }

    /// The same chunk to every socket.
    mutating func send(_ chunk: [UInt8]) { send(Array(repeating: chunk, count: sockets.count)) }

    /// `parts[i]` to socket `i`.
    mutating func send(_ parts: [[UInt8]]) {
        var written = [Int](repeating: 0, count: sockets.count)
        var idleMillis: Int64 = 0
        while true {
            let pending = sockets.indices.filter { sockets[$0] >= 0 && written[$0] < parts[$0].count }
            guard !pending.isEmpty else { return }
            guard getppid() == parent, idleMillis < timeoutMillis else {
                for index in pending { sockets[index] = -1 }
                return
            }
            var polls = pending.map { pollfd(fd: sockets[$0], events: Int16(POLLOUT), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), 1000)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else {
                idleMillis += 1000
                continue
            }
            idleMillis = 0
            for (slot, index) in pending.enumerated() where polls[slot].revents != 0 {
                guard polls[slot].revents & Int16(POLLOUT) != 0 else {
                    sockets[index] = -1
                    continue
                }
                let at = written[index]
                let count = parts[index].withUnsafeBytes { socketSend(sockets[index], $0.baseAddress! + at, $0.count - at) }
                if count > 0 {
                    written[index] += count
                } else if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    sockets[index] = -1
                }
            }
        }
    }
}

/// `send(2)` without SIGPIPE (a replica gone is an error return, not a signal).
private func socketSend(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    send(fd, bytes, count, Int32(MSG_NOSIGNAL))
}
