/// `MasterLink`: this server's connection to the master REPLICAOF named, on one event loop —
/// Redis 7.0's handshake (PING, AUTH with `masteruser`/`masterauth`, REPLCONF listening-port
/// and ip-address as `replica-announce-port`/`-ip` say, REPLCONF capa eof capa psync2, PSYNC),
/// the snapshot of a full sync (`$<len>` or diskless `$EOF:<40 bytes>` framing) loaded in place
/// of the dataset, then the master's commands applied under the keyspace lock as the master
/// client's (no replies), with the offset counted by the bytes received and
/// `REPLCONF ACK <offset>` sent every second and on `REPLCONF GETACK`. A master that sends
/// nothing (not even PINGs) for `repl-timeout` seconds is dropped, as Redis drops it; a dropped
/// link is tried again a second later while the same REPLICAOF holds. Like a client
/// connection, the link never waits on a busy script: it takes the lock with `lockUnlessBusy`
/// and tries again shortly.
import AtollBytes
import AtollCore
import AtollPersistence
import AtollRESP
import NIOCore
import NIOPosix

final class MasterLink: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the link waits for next.
    private enum Step {
        case pong, auth, listeningPort, ipAddress, capabilities, psync
        /// The `$<len>` or `$EOF:<mark>` line of the snapshot.
        case snapshotHeader(replid: String, offset: Int64)
        case snapshot(replid: String, offset: Int64, length: Int)
        case disklessSnapshot(replid: String, offset: Int64, mark: [UInt8])
        case streaming
    }

    private let shared: SharedState
    private let state: MasterLinkState
    private let listeningPort: Int
    private var step = Step.pong
    private var input: ByteBuffer?
    private var snapshot: [UInt8] = []
    /// Reads the stream one command at a time, so that each one's bytes are known.
    private var decoder: RequestDecoder = {
        var decoder = RequestDecoder()
        decoder.oneCommandPerCall = true
        return decoder
    }()
    /// The stream's bytes read since the last whole unit applied (a command read in part,
    /// blank lines, a MULTI and the commands it queued so far): they count in the offset, and
    /// are passed on to the backlog and this server's replicas, once the unit is applied.
    private var unappliedBytes: [UInt8] = []
    private var session: ClientSession?
    /// The master client's handle on the link (its `connection` is weak: kept here).
    private var handle: MasterClientConnection?
    /// The offset of the last byte of the master's stream applied (kept here for the ACKs).
    private var offset: Int64 = 0
    /// The once-a-second check of the link (see `cron`).
    private var cronTask: RepeatedTask?
    /// When the master last sent anything (Unix ms), for `repl-timeout`.
    private var lastReadMillis: Int64 = 0
    /// A retry of `process` is on its way (a busy script held the lock).
    private var retryScheduled = false

    private init(shared: SharedState, state: MasterLinkState, listeningPort: Int) {
        self.shared = shared
        self.state = state
        self.listeningPort = listeningPort
    }

    /// Connects to `state`'s master; on failure, and when the link drops, tries again a
    /// second later while `state` is still the master REPLICAOF named.
    static func start(_ state: MasterLinkState, shared: SharedState, group: any EventLoopGroup, listeningPort: Int) {
        let link = MasterLink(shared: shared, state: state, listeningPort: listeningPort)
        let loop = group.next()
        ClientBootstrap(group: loop)
            .channelInitializer { channel in channel.pipeline.addHandler(link) }
            .connect(host: state.host, port: state.port)
            .whenFailure { error in
                shared.log.warning("Error condition on socket for SYNC: \(error)")
                retry(state, shared: shared, loop: loop, group: group, listeningPort: listeningPort)
            }
    }

    /// Connects again a second later, while `state` is still the master REPLICAOF named.
    private static func retry(_ state: MasterLinkState, shared: SharedState, loop: any EventLoop, group: any EventLoopGroup,
                              listeningPort: Int) {
        loop.scheduleTask(in: .seconds(1)) {
            switch isCurrent(state, shared: shared) {
            case true?: start(state, shared: shared, group: group, listeningPort: listeningPort)
            case false?: return
            case nil: retry(state, shared: shared, loop: loop, group: group, listeningPort: listeningPort)
            }
        }
    }

    /// Whether `state` is still the master this server follows; nil while a busy script holds
    /// the lock.
    private static func isCurrent(_ state: MasterLinkState, shared: SharedState) -> Bool? {
        guard shared.lockUnlessBusy() else { return nil }
        defer { shared.lock.unlock() }
        return shared.core.replication.master === state
    }

    // MARK: - Channel events

    func channelActive(context: ChannelHandlerContext) {
        shared.log.notice("MASTER <-> REPLICA sync started")
        lastReadMillis = shared.core.clock.nowMillis()
        send(["PING"], context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        cronTask = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let (link, context) = bound.value
            link.cron(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cronTask?.cancel()
        cronTask = nil
        Self.linkLost(state, session: session, shared: shared, loop: context.eventLoop, listeningPort: listeningPort)
        session = nil
    }

    /// The connection closed: the master client goes, and the link is tried again if current.
    private static func linkLost(_ state: MasterLinkState, session: ClientSession?, shared: SharedState, loop: any EventLoop,
                                 listeningPort: Int) {
        guard shared.lockUnlessBusy() else {
            loop.scheduleTask(in: .milliseconds(10)) {
                linkLost(state, session: session, shared: shared, loop: loop, listeningPort: listeningPort)
            }
            return
        }
        if let session { shared.core.disconnect(session) }
        let current = shared.core.replication.master === state
        if let session, current { state.streamDB = session.db }
        if current {
            state.phase = .connect
            state.client = nil
            state.downSinceMillis = shared.core.clock.nowMillis()
        }
        shared.lock.unlock()
        guard current else { return }
        shared.log.warning("Connection with master lost.")
        retry(state, shared: shared, loop: loop, group: loop, listeningPort: listeningPort)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        lastReadMillis = shared.core.clock.nowMillis()
        if input == nil { input = bytes } else { input!.writeBuffer(&bytes) }
        process(context: context)
    }

    /// Goes through what arrived with the keyspace lock held; while a busy script holds it,
    /// tries again 10 ms later (input waits meanwhile).
    private func process(context: ChannelHandlerContext) {
        guard shared.lockUnlessBusy() else {
            guard !retryScheduled else { return }
            retryScheduled = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(10)) {
                let (link, context) = bound.value
                link.retryScheduled = false
                link.process(context: context)
            }
            return
        }
        let current = shared.core.replication.master === state
        if current {
            if state.phase == .connect { state.phase = .connecting }
            state.lastIOMillis = shared.core.clock.nowMillis()
        }
        let keep = current && advance(context: context)
        shared.lock.unlock()
        guard keep else { return context.close(promise: nil) }
        if input?.readableBytes == 0 { input = nil }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: - The handshake and the snapshot

    /// Goes through what arrived as far as it allows; false when the link must close. With the
    /// lock held.
    private func advance(context: ChannelHandlerContext) -> Bool {
        guard input != nil else { return true }
        while true {
            switch step {
            case .streaming:
                return applyStream(context: context)
            case .snapshot(let replid, let offset, let length):
                let taken = min(length - snapshot.count, input!.readableBytes)
                snapshot += input!.readBytes(length: taken)!
                guard snapshot.count == length else { return true }
                guard loadSnapshot(replid: replid, offset: offset, context: context) else { return false }
            case .disklessSnapshot(let replid, let offset, let mark):
                snapshot += input!.readBytes(length: input!.readableBytes)!
                guard snapshot.count >= mark.count, snapshot.suffix(mark.count).elementsEqual(mark) else { return true }
                snapshot.removeLast(mark.count)
                guard loadSnapshot(replid: replid, offset: offset, context: context) else { return false }
            case .snapshotHeader(let replid, let offset):
                // The master sends newlines while it prepares the snapshot.
                while input!.readableBytes > 0, input!.getInteger(at: input!.readerIndex, as: UInt8.self) == 10 {
                    input!.moveReaderIndex(forwardBy: 1)
                }
                guard let line = readLine() else { return !lineTooLong() }
                guard line.hasPrefix("$") else { return fail("Bad protocol from MASTER, the first byte is not '$' (we received '\(line)'), are you sure the host and port are right?") }
                if line.hasPrefix("$EOF:") {
                    let mark = Array(line.utf8.dropFirst(5))
                    guard mark.count == 40 else { return fail("Bad EOF mark from MASTER") }
                    step = .disklessSnapshot(replid: replid, offset: offset, mark: mark)
                } else {
                    guard let length = Int(line.dropFirst()), length >= 0 else { return fail("Bad snapshot length from MASTER: \(line)") }
                    step = .snapshot(replid: replid, offset: offset, length: length)
                }
                state.phase = .sync
                snapshot = []
                if input!.readableBytes == 0 { return true }
            default:
                guard let line = readLine() else { return !lineTooLong() }
                guard handshakeReply(line, context: context) else { return false }
            }
        }
    }

    /// The master's reply to the handshake step we are at; sends the next step.
    private func handshakeReply(_ line: String, context: ChannelHandlerContext) -> Bool {
        let config = shared.core.config
        switch step {
        case .pong:
            guard !line.hasPrefix("-") || line.hasPrefix("-NOAUTH") || line.hasPrefix("-NOPERM") || line.hasPrefix("-ERR operation not permitted") else {
                return fail("Error reply to PING from master: '\(line)'")
            }
            let password = config.storedParameters["masterauth"] ?? ""
            if !password.isEmpty {
                let user = config.storedParameters["masteruser"] ?? ""
                send(user.isEmpty ? ["AUTH", password] : ["AUTH", user, password], context: context)
                step = .auth
            } else {
                sendListeningPort(context: context)
            }
        case .auth:
            guard !line.hasPrefix("-") else { return fail("Unable to AUTH to MASTER: \(line)") }
            sendListeningPort(context: context)
        case .listeningPort:
            if line.hasPrefix("-") { shared.log.notice("(Non critical) Master does not understand REPLCONF listening-port: \(line)") }
            let announcedIP = config.storedParameters["replica-announce-ip"] ?? ""
            if announcedIP.isEmpty {
                sendCapabilities(context: context)
            } else {
                send(["REPLCONF", "ip-address", announcedIP], context: context)
                step = .ipAddress
            }
        case .ipAddress:
            if line.hasPrefix("-") { shared.log.notice("(Non critical) Master does not understand REPLCONF ip-address: \(line)") }
            sendCapabilities(context: context)
        case .capabilities:
            if line.hasPrefix("-") { shared.log.notice("(Non critical) Master does not understand REPLCONF capa: \(line)") }
            let (replid, applied) = (state.masterReplid, state.appliedOffset)
            // A primary failing over asks its target to take over.
            let failover = shared.core.replication.failover.state == .inProgress ? ["FAILOVER"] : []
            if replid != "?" && applied >= 0 {
                send(["PSYNC", replid, String(applied + 1)] + failover, context: context)
                shared.log.notice("Trying a partial resynchronization (request \(replid):\(applied + 1)).")
            } else {
                send(["PSYNC", "?", "-1"] + failover, context: context)
                shared.log.notice("Partial resynchronization not possible (no cached master)")
            }
            step = .psync
        case .psync:
            // A master that delays the snapshot (diskless sync) sends newlines until it replies.
            if line.isEmpty { return true }
            let words = line.split(separator: " ")
            let accepted = words.first == "+FULLRESYNC" || words.first == "+CONTINUE"
            if shared.core.replication.failover.state == .inProgress {
                guard accepted else {
                    shared.core.abortFailover("Failover target rejected psync request")
                    return fail("Unexpected reply to PSYNC from master: \(line)")
                }
                shared.core.clearFailoverState()
            }
            // An offset is a byte count: one near Int64.max (no stream is that long) would
            // overflow as the stream is counted, so it is refused as malformed.
            if words.first == "+FULLRESYNC", words.count == 3, let offset = Int64(words[2]), offset >= 0,
               offset <= Int64.max / 2 {
                shared.log.notice("Full resync from master: \(words[1]):\(offset)")
                step = .snapshotHeader(replid: String(words[1]), offset: offset)
            } else if words.first == "+CONTINUE" {
                shared.log.notice("Successful partial resynchronization with master.")
                let replid = words.count > 1 ? String(words[1]) : nil
                continued(replid: replid, context: context)
            } else {
                return fail("Unexpected reply to PSYNC from master: \(line)")
            }
        default:
            break
        }
        return true
    }

    /// The port the master lists this replica with: `replica-announce-port` if set, else the
    /// one it listens on. With the lock held.
    private func sendListeningPort(context: ChannelHandlerContext) {
        let announced = shared.core.config.storedParameters["replica-announce-port"].flatMap { Int($0) } ?? 0
        send(["REPLCONF", "listening-port", String(announced != 0 ? announced : listeningPort)], context: context)
        step = .listeningPort
    }

    private func sendCapabilities(context: ChannelHandlerContext) {
        send(["REPLCONF", "capa", "eof", "capa", "psync2"], context: context)
        step = .capabilities
    }

    /// The full sync's snapshot arrived: it replaces the dataset, and the stream follows.
    private func loadSnapshot(replid: String, offset: Int64, context: ChannelHandlerContext) -> Bool {
        shared.log.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        let core = shared.core
        defer { snapshot = [] }
        // A new dataset: this server's replicas must sync again, and its backlog is another
        // stream's (Redis's `replicationAttachToNewMaster`).
        core.disconnectReplicas()
        core.replication.backlog = nil
        let streamDB: Int
        do {
            streamDB = try PersistenceCommands.loadReplicationSnapshot(snapshot, into: core, now: core.clock.nowMillis())
        } catch {
            shared.log.warning("Failed trying to load the MASTER synchronization DB from socket: \(error)")
            return false
        }
        core.replication.replid = replid
        core.replication.replid2 = ReplicationState.noID
        core.replication.secondOffset = -1
        state.masterReplid = replid
        // A snapshot from a replica is taken mid-stream: the stream goes on in its database.
        state.streamDB = streamDB
        connect(offset: offset, context: context)
        shared.log.notice("MASTER <-> REPLICA sync: Finished with success")
        sendAck(context: context)
        return true
    }

    /// PSYNC continued: the stream goes on from our offset (under the master's new ID, if any).
    private func continued(replid: String?, context: ChannelHandlerContext) {
        if let replid, replid != state.masterReplid {
            shared.log.warning("Master replication ID changed to \(replid)")
            let replication = shared.core.replication
            replication.replid2 = state.masterReplid
            replication.secondOffset = state.appliedOffset + 1
            replication.replid = replid
            state.masterReplid = replid
            // This server's replicas learn the new ID by asking again.
            shared.core.disconnectReplicas()
        }
        connect(offset: state.appliedOffset, context: context)
        sendAck(context: context)
    }

    /// Registers the master client and starts applying the stream from `offset`.
    private func connect(offset: Int64, context: ChannelHandlerContext) {
        let core = shared.core
        let handle = MasterClientConnection(channel: context.channel)
        self.handle = handle
        let client = core.makeSession(address: "\(state.host):\(state.port)",
                                      localAddress: context.channel.localAddress.map { "\($0.ipAddress ?? ""):\($0.port ?? 0)" } ?? "",
                                      now: core.clock.nowMillis(), connection: handle)
        client.isMaster = true
        client.db = state.streamDB
        client.authenticated = true
        client.user = .superuser
        _ = core.register(client)
        session = client
        state.client = client
        state.phase = .connected
        state.appliedOffset = offset
        state.lastIOMillis = core.clock.nowMillis()
        // A long snapshot load is not the master's silence: repl-timeout counts from here.
        lastReadMillis = state.lastIOMillis
        core.replication.offset = offset
        // A replica keeps a backlog of its master's stream, with or without replicas of its own.
        if core.replication.backlog?.endOffset != offset { core.startBacklog() }
        self.offset = offset
        step = .streaming
    }

    /// Once a second: a link REPLICAOF replaced closes, a master silent for `repl-timeout`
    /// is dropped (with Redis's log line for the step the link is at), and once the stream
    /// flows the ACK goes out. Skipped while a busy script holds the lock.
    private func cron(context: ChannelHandlerContext) {
        guard shared.lockUnlessBusy() else { return }
        let current = shared.core.replication.master === state
        let timeout = shared.core.replicationTimeoutMillis
        shared.lock.unlock()
        guard current else { return context.close(promise: nil) }
        if shared.core.clock.nowMillis() - lastReadMillis > timeout {
            shared.log.warning(timeoutMessage)
            return context.close(promise: nil)
        }
        if case .streaming = step { sendAck(context: context) }
    }

    /// Redis's words for a master that went silent, by how far the link got.
    private var timeoutMessage: String {
        switch step {
        case .streaming:
            return "MASTER timeout: no data nor PING received..."
        case .snapshotHeader, .snapshot, .disklessSnapshot:
            return "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
        default:
            return "Timeout connecting to the MASTER..."
        }
    }

    private func sendAck(context: ChannelHandlerContext) {
        send(["REPLCONF", "ACK", String(offset)], context: context)
    }

    // MARK: - The stream

    /// Applies every whole command that arrived as the master client's. The offset grows by
    /// the bytes each unit took as received (blank lines and empty multibulks before it
    /// included), as Redis's replicas count it, once the unit is applied: a command, or a
    /// MULTI with its commands at EXEC (a link lost inside one resumes before its MULTI).
    /// What was applied is passed on, as received, to the backlog and this server's replicas.
    private func applyStream(context: ChannelHandlerContext) -> Bool {
        guard input != nil, let session else { return true }
        let core = shared.core
        var ctx = CommandContext(out: ReplyWriter(buffer: ByteBuffer(), resp3: false), client: session, server: core)
        var applied: [UInt8] = []
        defer { core.forwardMasterStream(applied) }
        while input!.readableBytes > 0 {
            if inlineCommandAhead() { return refuseInlineCommand() }
            var decoded: [[[UInt8]]] = []
            // The same storage (decoding only moves the reader index): what it consumed is read here.
            let unread = input!
            do {
                try decoder.decode(&input!, into: &decoded)
            } catch {
                return fail("Protocol error from MASTER: \(error.message)")
            }
            unappliedBytes += unread.readableBytesView.prefix(input!.readerIndex - unread.readerIndex)
            guard let command = decoded.first else { break }
            if Self.isGetAck(command) {
                sendAck(context: context)
            } else if runsScript(command) {
                // Redis 7 masters (and Atoll) send a script's effects, never the script: one
                // that came would run Lua on this event loop, where nothing could stop it.
                shared.log.warning("Ignored a script run sent by the master (scripts are replicated as their effects)")
                if session.inTransaction { session.transactionFailed = true }
            } else {
                ctx.args = command
                core.execute(&ctx)
                ctx.out.buffer.clear()
            }
            if session.inTransaction { continue }
            offset += Int64(unappliedBytes.count)
            applied += unappliedBytes
            unappliedBytes.removeAll(keepingCapacity: true)
            state.appliedOffset = offset
        }
        return true
    }

    /// Whether the stream's next command is an inline one (a line not starting with `*`; blank
    /// lines are not commands), read only between commands. Masters never send those.
    private func inlineCommandAhead() -> Bool {
        guard decoder.isBetweenCommands, let view = input?.readableBytesView else { return false }
        var index = view.startIndex
        while index < view.endIndex {
            switch view[index] {
            case UInt8(ascii: "*"): return false
            case 10: index += 1
            case 13:
                // A blank line if the newline follows (not here yet: decide when it is).
                guard index + 1 < view.endIndex else { return false }
                guard view[index + 1] == 10 else { return true }
                index += 2
            default: return true
            }
        }
        return false
    }

    /// An inline command from the master means the stream is out of step, as Redis's replicas
    /// take it: the link drops and the next sync is a full one (no partial resync from here).
    private func refuseInlineCommand() -> Bool {
        shared.log.warning("WARNING: Receiving inline protocol from master, master stream corruption? Closing the master connection and discarding the cached master.")
        state.masterReplid = "?"
        state.appliedOffset = -1
        return fail("Protocol error (Master using the inline protocol. Desync?) from the master \(state.host):\(state.port)")
    }

    /// Whether `command` would run a script (EVAL, EVALSHA, FCALL and their read-only forms).
    /// Inside MULTI it is not queued either, and the transaction fails, so no EXEC runs one.
    private func runsScript(_ command: [[UInt8]]) -> Bool {
        guard case .found(let spec) = shared.core.table.resolve(command) else { return false }
        return spec.runsScript
    }

    private static func isGetAck(_ command: [[UInt8]]) -> Bool {
        command.count >= 2 && asciiCaseInsensitiveEquals(command[0], "replconf") && asciiCaseInsensitiveEquals(command[1], "getack")
    }

    // MARK: - Helpers

    /// The next line of the master's handshake replies, or nil until it is whole.
    private func readLine() -> String? {
        guard let input, let view = input.readableBytesView.firstIndex(of: 10) else { return nil }
        let length = view - input.readerIndex + 1
        var bytes = self.input!.readBytes(length: length)!
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A handshake reply line longer than any a master sends: the link is dropped (as Redis
    /// drops it), rather than the line buffered without end and searched again on every read.
    /// The input is dropped too, so that reads arriving before the link has closed neither
    /// grow it nor make the search longer.
    private func lineTooLong() -> Bool {
        guard let input, input.readableBytes > Self.maxLineBytes else { return false }
        self.input = nil
        return fail("Master sent a reply line longer than \(Self.maxLineBytes) bytes")
    }

    private static let maxLineBytes = 64 * 1024

    private func fail(_ message: String) -> Bool {
        shared.log.warning(message)
        return false
    }

    private func send(_ args: [String], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString("*\(args.count)\r\n")
        for arg in args {
            buffer.writeString("$\(arg.utf8.count)\r\n\(arg)\r\n")
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}

/// The master client's connection as commands see it: CLIENT KILL TYPE master and REPLICAOF
/// close the link through it. The master's commands never park, so the rest does nothing.
final class MasterClientConnection: ClientConnection {
    private let channel: any Channel

    init(channel: any Channel) { self.channel = channel }

    func close() {
        let channel = self.channel
        channel.eventLoop.execute { channel.close(promise: nil) }
    }

    func send(_ bytes: [UInt8]) { channel.sendFromAnyThread(bytes) }

    func blocked(until deadline: Int64) {}
    func unblocked(reply: [UInt8]) {}
    func outboxReady() {}
}
