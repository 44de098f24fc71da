/// The primary side of replication, in Redis 7.0's protocol: SYNC and PSYNC (a full resync from
/// a snapshot, or a partial one from the backlog), REPLCONF, ROLE and WAIT. The stream itself
/// is the effects feed (see AtollCore's EffectStream.swift).
import AtollBytes
import AtollCore
import AtollPersistence
import AtollRESP
import NIOCore

enum ReplicationCommands {
    static let commands: [CommandBinding] = [
        .init("sync", sync),
        .init("psync", psync),
        .init("replconf", replconf),
        .init("role", role),
        .init("wait", wait),
        .init("replicaof", replicaof),
        .init("slaveof", replicaof),
        .init("failover", failover),
    ]

    /// REPLICAOF host port: follow that master (the link starts in the background);
    /// REPLICAOF NO ONE: be a primary again.
    static func replicaof(_ c: inout CommandContext) {
        if c.server.replication.failover.state != .none {
            return c.out.error("ERR REPLICAOF not allowed while failing over.")
        }
        if c.argIs(1, "no") && c.argIs(2, "one") {
            if c.server.replication.master != nil { c.server.becomePrimary() }
            return c.out.ok()
        }
        if c.client.isReplica { return c.out.error("ERR Command is not valid when client is a replica.") }
        guard let port = c.rangedArgument(2, 0, 65535, message: "Invalid master port") else { return }
        let host = String(decoding: c.args[1], as: UTF8.self)
        guard c.server.becomeReplica(of: host, port: Int(port), now: c.now) else {
            c.server.logHandler?(2, "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
            return c.out.status("OK Already connected to specified master")
        }
        // The blocked clients' errors are sent while REPLICAOF runs: they count against it, as in Redis.
        c.out.errorCodes += c.server.unblockForRoleChange()
        c.server.logHandler?(2, "REPLICAOF \(host):\(port) enabled (user request from '\(c.client.address)')")
        c.out.ok()
    }

    /// SYNC: the old full resync, the snapshot without a `+FULLRESYNC` line.
    static func sync(_ c: inout CommandContext) {
        if c.client.isReplica { return }
        if refusedWithPendingOutput(&c) || refusedOnReplica(&c) { return }
        c.server.logHandler?(2, "Replica \(c.client.peer.name) asks for synchronization")
        c.server.replication.syncFull += 1
        fullResync(&c, announce: false)
        c.client.peer.preSync = true
    }

    /// PSYNC replid offset: `+CONTINUE` and the backlog from `offset` when this server's stream
    /// (or the one before, up to `second_repl_offset`) has it, else a full resync.
    static func psync(_ c: inout CommandContext) {
        if c.client.isReplica { return }
        // PSYNC replid offset FAILOVER: the primary failing over hands this replica its role.
        if c.args.count > 3 && c.argIs(3, "failover") {
            guard c.args[1] == Array(c.server.replication.replid.utf8) else {
                return c.out.error("ERR PSYNC FAILOVER replid must match my replid.")
            }
            c.server.becomePrimary(reason: "failover request from '\(c.client.address)'")
        }
        if refusedWithPendingOutput(&c) || refusedOnReplica(&c) { return }
        let name = c.client.peer.name
        c.server.logHandler?(2, "Replica \(name) asks for synchronization")
        // An offset that is not a number is an error, not a full resync, as in Redis.
        guard let offset = parseStrictInt64(c.args[2]) else {
            c.server.logHandler?(3, "Replica \(name) asks for synchronization but with a wrong offset")
            return c.notInteger()
        }
        let replication = c.server.replication
        let wantedID = String(decoding: c.args[1], as: UTF8.self)
        if wantedID != "?", replication.backlog != nil,
           wantedID == replication.replid || (wantedID == replication.replid2 && offset <= replication.secondOffset) {
            c.server.flushEffects()
            if let missing = replication.backlog!.bytes(from: offset) {
                replication.syncPartialOK += 1
                if c.client.peer.psync2 {
                    c.out.status(text: "CONTINUE \(replication.replid)")
                } else {
                    c.out.status("CONTINUE")
                }
                c.out.buffer.writeBytes(missing)
                c.server.attachReplica(c.client, now: c.now)
                c.client.replyMode = .offAfterThis
                c.server.logHandler?(2, "Partial resynchronization request from \(c.client.address) accepted. Sending \(missing.count) bytes of backlog starting from offset \(offset).")
                return
            }
        }
        if wantedID != "?" { replication.syncPartialErr += 1 }
        replication.syncFull += 1
        fullResync(&c, announce: true)
    }

    /// Replies still to be written (a pipelined command before it) would land in the stream.
    private static func refusedWithPendingOutput(_ c: inout CommandContext) -> Bool {
        guard c.out.buffer.readableBytes > 0 else { return false }
        c.out.error("ERR SYNC and PSYNC are invalid with pending output")
        return true
    }

    /// A replica serves replicas of its own (chained replication) only while its link to its
    /// master is up, as in Redis.
    private static func refusedOnReplica(_ c: inout CommandContext) -> Bool {
        if c.server.replication.failover.state != .none {
            c.out.error("NOMASTERLINK Can't SYNC while failing over")
            return true
        }
        guard let master = c.server.replication.master, master.phase != .connected else { return false }
        c.out.error("NOMASTERLINK Can't SYNC while not connected with my master")
        return true
    }

    /// The replica waits for a snapshot taken by a forked child (see AtollPersistence's
    /// FullSync.swift); the stream from the snapshot's point follows it.
    private static func fullResync(_ c: inout CommandContext, announce: Bool) {
        c.server.logHandler?(2, "Full resync requested by replica \(c.client.peer.name)")
        c.server.requestFullSync(for: c.client, announce: announce, now: c.now)
        c.client.replyMode = .offAfterThis
    }

    /// REPLCONF option value ...: what a replica says about itself before PSYNC, and ACK.
    static func replconf(_ c: inout CommandContext) {
        guard c.args.count % 2 == 1 else { return c.syntaxError() }
        var index = 1
        while index < c.args.count {
            let value = c.args[index + 1]
            if c.argIs(index, "listening-port") {
                guard let port = c.integerArgument(index + 1) else { return }
                c.client.peer.listeningPort = Int(port)
            } else if c.argIs(index, "ip-address") {
                guard value.count < 256 else {
                    return c.out.error("ERR REPLCONF ip-address provided by replica instance is too long: \(value.count) bytes")
                }
                c.client.peer.announcedIP = String(decoding: value, as: UTF8.self)
            } else if c.argIs(index, "capa") {
                if asciiCaseInsensitiveEquals(value, "psync2") { c.client.peer.psync2 = true }
                if asciiCaseInsensitiveEquals(value, "eof") { c.client.peer.eofCapable = true }
            } else if c.argIs(index, "ack") {
                // No reply: the replica reads none on its link.
                guard c.client.isReplica, let offset = parseStrictInt64(value) else { return }
                // After a diskless snapshot, the first ACK says it is loaded: the stream may follow.
                let peer = c.client.peer
                if peer.stage == .waitingForFirstAck {
                    c.server.replicaOnline(peer)
                }
                c.server.replicaAcknowledged(peer, offset: offset, now: c.now)
                return
            } else if c.argIs(index, "getack") {
                // Answered by replicas only (with an ACK on their master link).
                return
            } else {
                return c.out.error("ERR Unrecognized REPLCONF option: " + String(decoding: c.args[index], as: UTF8.self))
            }
            index += 2
        }
        c.out.ok()
    }

    /// ROLE as a primary: its offset and each attached replica's address, port and offset;
    /// as a replica: its master, the link's state and the offset applied.
    static func role(_ c: inout CommandContext) {
        let replication = c.server.replication
        if let master = replication.master {
            c.out.arrayHeader(5)
            c.out.bulk("slave")
            c.out.bulk(master.host)
            c.out.integer(master.port)
            c.out.bulk(master.phase.rawValue)
            c.out.integer(master.client == nil ? -1 : master.appliedOffset)
            return
        }
        c.out.arrayHeader(3)
        c.out.bulk("master")
        c.out.integer(replication.offset)
        c.out.arrayHeader(replication.replicas.count)
        for peer in replication.replicas {
            c.out.arrayHeader(3)
            c.out.bulk(peer.ip)
            c.out.bulk(String(peer.listeningPort))
            c.out.bulk(String(peer.ackOffset))
        }
    }

    /// WAIT numreplicas timeout: the number of replicas that acknowledged the client's writes,
    /// once `numreplicas` did or `timeout` milliseconds passed (0: no limit).
    static func wait(_ c: inout CommandContext) {
        if c.server.replication.master != nil {
            return c.out.error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
        }
        guard let wanted = c.integerArgument(1) else { return }
        guard let timeout = parseStrictInt64(c.args[2]) else {
            return c.out.error("ERR timeout is not an integer or out of range")
        }
        guard timeout >= 0 else { return c.out.error("ERR timeout is negative") }
        // Inside EXEC or a script the unit is not whole yet: the offset of the writes before it.
        let offset = c.mayBlock ? c.server.waitOffset(for: c.client) : c.client.waitOffset
        let acknowledged = c.server.replicasAcknowledging(offset)
        if acknowledged >= wanted || !c.mayBlock { return c.out.integer(acknowledged) }
        c.client.waitReplicas = Int(clamping: wanted)
        let (deadline, overflow) = c.now.addingReportingOverflow(timeout)
        c.server.parkWaiter(&c, deadline: timeout == 0 ? 0 : (overflow ? Int64.max : deadline))
    }

    /// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT: starts a coordinated
    /// failover (see AtollCore's Failover.swift), with Redis's checks in its order.
    static func failover(_ c: inout CommandContext) {
        let server = c.server
        if c.args.count == 2 && c.argIs(1, "abort") {
            guard server.replication.failover.state != .none else { return c.out.error("ERR No failover in progress.") }
            server.abortFailover("Failover manually aborted")
            return c.out.ok()
        }
        var timeout: Int64 = 0
        var force = false
        var target: (host: String, port: Int)?
        var index = 1
        while index < c.args.count {
            if c.argIs(index, "timeout") && index + 1 < c.args.count && timeout == 0 {
                guard let value = c.integerArgument(index + 1) else { return }
                guard value > 0 else { return c.out.error("ERR FAILOVER timeout must be greater than 0") }
                timeout = value
                index += 2
            } else if c.argIs(index, "to") && index + 2 < c.args.count && target == nil {
                guard let port = c.integerArgument(index + 2) else { return }
                // A port out of range names no replica (Redis compares it as a long).
                target = (String(decoding: c.args[index + 1], as: UTF8.self), Int(clamping: port))
                index += 3
            } else if c.argIs(index, "force") && !force {
                force = true
                index += 1
            } else {
                return c.syntaxError()
            }
        }
        if server.replication.failover.state != .none { return c.out.error("ERR FAILOVER already in progress.") }
        if server.replication.master != nil { return c.out.error("ERR FAILOVER is not valid when server is a replica.") }
        if server.replication.replicas.isEmpty { return c.out.error("ERR FAILOVER requires connected replicas.") }
        if force && (timeout == 0 || target == nil) {
            return c.out.error("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
        }
        if let target, server.findReplica(host: target.host, port: target.port) == nil {
            return c.out.error("ERR FAILOVER target HOST and PORT is not a replica.")
        }
        server.startFailover(to: target, timeoutMillis: timeout, force: force, now: c.now)
        c.out.ok()
    }
}
