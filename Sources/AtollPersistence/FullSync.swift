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
        guard let transfer = SocketTransfer(peers: peers) else {
            logHandler?(3, "Can't map the page a diskless sync reports in: \(String(cString: strerror(errno)))")
            for peer in peers { peer.client.connection?.close() }
            return
        }
        let history = replicationSaveInfo()
        let prefixes = peers.map { $0.announceFullSync ? fullResync : [] }
        let timeout = Int32(clamping: replicationTimeoutMillis)
        let pid = forkChild(keeping: Set(sockets)) {
            // Only the connections the parent meant (see `SocketTransfer.identity`).
            let sockets = sockets.indices.map { identities[$0] != nil && SocketTransfer.identity(of: sockets[$0]) == identities[$0] ? sockets[$0] : -1 }
            let mark = Array(randomHex40().utf8)
            var framed = Array("$EOF:".utf8) + mark + [13, 10]
            framed += PersistenceCommands.snapshot(self, now: now, history: history)
            framed += mark
            writeSnapshot(framed, after: prefixes, to: sockets, timeoutMillis: timeout) { transfer.markSent($0) }
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
        let file = ok ? readWholeFile(config.dir + "/" + config.dbFilename) : nil
        guard let file else {
            logHandler?(3, "SYNC failed. BGSAVE child returned an error")
            for peer in peers { peer.client.connection?.close() }
            return
        }
        let payload = Array("$\(file.count)\r\n".utf8) + file
        for peer in peers {
            peer.stage = .online
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

/// The whole of a file, or nil.
private func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return nil }
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
    var done = 0
    while done < bytes.count {
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { return nil }
        done += count
    }
    return bytes
}

/// In the diskless child: writes each socket's prefix and then `snapshot`, all sockets at
/// once as each takes bytes (they are non-blocking: the parent's event loops own them). A
/// socket that fails, or takes nothing for `timeoutMillis`, is given up; `sent` is called
/// with the index of each socket that got everything.
private func writeSnapshot(_ snapshot: [UInt8], after prefixes: [[UInt8]], to sockets: [Int32],
                           timeoutMillis: Int32, sent: (Int) -> Void) {
    var written = [Int](repeating: 0, count: sockets.count)
    var open = Set(sockets.indices.filter { sockets[$0] >= 0 })
    while !open.isEmpty {
        let order = open.sorted()
        var polls = order.map { pollfd(fd: sockets[$0], events: Int16(POLLOUT), revents: 0) }
        let ready = poll(&polls, nfds_t(polls.count), timeoutMillis)
        if ready < 0 && errno == EINTR { continue }
        guard ready > 0 else { return }
        for (slot, index) in order.enumerated() where polls[slot].revents != 0 {
            guard polls[slot].revents & Int16(POLLOUT) != 0 else {
                open.remove(index)
                continue
            }
            let prefix = prefixes[index]
            let total = prefix.count + snapshot.count
            let at = written[index]
            let count: Int = at < prefix.count
                ? prefix.withUnsafeBytes { send(sockets[index], $0.baseAddress! + at, prefix.count - at, Int32(MSG_NOSIGNAL)) }
                : snapshot.withUnsafeBytes {
                    send(sockets[index], $0.baseAddress! + (at - prefix.count), min(total - at, 1 << 20), Int32(MSG_NOSIGNAL))
                }
            if count < 0 {
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { open.remove(index) }
                continue
            }
            written[index] += count
            if written[index] == total {
                sent(index)
                open.remove(index)
            }
        }
    }
}
