/// One client connection on its event loop: decode every whole command the read brought,
/// run them all in one acquisition of the keyspace lock, write the replies as one buffer,
/// and flush once when the read burst completes. Protocol errors reply `-ERR Protocol error`
/// after the commands before them ran, then close, as Redis does.
import AtollBytes
import AtollCore
import AtollRESP
import NIOCore
import Synchronization

final class ConnectionHandler: ChannelInboundHandler {
    // Unchecked (`@exclusivity`): a handler's state is touched only on its own event loop (the
    // script thread gets copies), and no access re-enters; the checks cost on every read.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shared: SharedState
    /// Where this loop's batches go to the script thread.
    private let scriptQueue: ScriptQueue
    /// Flushes this loop's connections once per tick.
    private let replyFlusher: ReplyFlusher
    /// Registration, parking, the script thread, closing, reading: every decision about them.
    @exclusivity(unchecked) private var state = ConnectionStateMachine()
    @exclusivity(unchecked) private var decoder: RequestDecoder
    @exclusivity(unchecked) private var pending: ByteBuffer?
    @exclusivity(unchecked) private var commands = CommandBatch()
    /// The context batches run in, kept from batch to batch with its reply buffer and argument
    /// list (making and copying one per read cost more than the GET it ran). Nil before the
    /// first batch and while a batch is on the script thread, which holds it.
    @exclusivity(unchecked) private var batchContext: CommandContext?
    @exclusivity(unchecked) private var connection: ChannelConnection?
    /// What CLIENT LIST shows of this connection's buffers (see `ConnectionFigures`).
    private let figures = ConnectionFigures()
    /// A parked client's timeout, armed when the state machine says so.
    private var timeoutTask: Scheduled<Void>?
    /// Bytes read and not yet counted in the input statistics.
    @exclusivity(unchecked) private var received = 0
    /// Socket reads not yet counted in the statistics.
    @exclusivity(unchecked) private var reads = 0
    /// A connection's reply buffer starts at this capacity, and goes back to it after a reply
    /// that grew it past `replyBufferKept` (a big reply's buffer is not kept for the next batch).
    private static let replyBufferStart = 1024
    private static let replyBufferKept = 64 * 1024
    /// The client closed its side while its batch was on the script thread.
    @exclusivity(unchecked) private var inputEnded = false
    /// Input decoded into `commands` (wire bytes), until the batch is done with.
    @exclusivity(unchecked) private var decodedBytes = 0
    /// The last command name `nextRunsLua` looked up, and its answer.
    @exclusivity(unchecked) private var lastLookedUp: (name: [UInt8], runsLua: Bool) = ([], false)

    /// The connection is on the TLS port: its socket carries TLS records, not replies.
    private let overTLS: Bool

    init(shared: SharedState, loopServices: LoopServices, overTLS: Bool) {
        self.shared = shared
        self.overTLS = overTLS
        self.scriptQueue = loopServices.scriptQueue
        self.replyFlusher = loopServices.replyFlusher
        self.decoder = RequestDecoder(maxBulkLength: shared.core.config.protoMaxBulkLen)
        // Until the server has registered the client, it is read as an unauthenticated one.
        decoder.unauthenticated = true
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        connection = ChannelConnection(channel: channel, handler: self, context: context, figures: figures, overTLS: overTLS)
        register(context: context)
        context.fireChannelActive()
    }

    /// Adds the client to the server. While a busy script holds the lock this is retried a
    /// little later; input meanwhile waits, or is answered BUSY.
    private func register(context: ChannelHandlerContext) {
        guard case .registering(let provisional) = state.state, let connection else { return }
        guard shared.lockUnlessBusy() else {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(10)) { bound.value.register(context: boundContext.value) }
            if pending != nil { answerBusy(context: context) }
            return
        }
        let session = provisional ?? makeSession(context: context, connection: connection)
        if shared.core.refusedByProtectedMode(session) {
            shared.lock.unlock()
            return refuse(ProtectedMode.deniedReply, context: context)
        }
        let registered = shared.core.register(session)
        shared.lock.unlock()
        guard registered else { return refuse("-ERR max number of clients reached\r\n", context: context) }
        state.registered(session)
        decoder.unauthenticated = !session.authenticated
        if pending != nil || !commands.isEmpty {
            processInput(context: context)
            shared.core.aofSync.syncPending()
            context.flush()
        }
        updateReading(context)
    }

    /// Sends `reply` to a connection that is not served, then closes it.
    private func refuse(_ reply: StaticString, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: reply.utf8CodeUnitCount)
        buffer.writeStaticString(reply)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
        state.closeStarted()
    }

    /// A new session for this connection (see `ServerCore.makeSession`: under the lock, or
    /// while a script is busy).
    private func makeSession(context: ChannelHandlerContext, connection: ChannelConnection) -> ClientSession {
        let channel = context.channel
        return shared.core.makeSession(address: Self.describe(channel.remoteAddress),
                                       localAddress: Self.describe(channel.localAddress),
                                       now: shared.core.clock.nowMillis(), connection: connection)
    }

    /// The client closed its side. What it sent has run; its replies may still wait for the
    /// deferred flush (see `channelReadComplete`), so the connection closes once they are out,
    /// as Redis answers what it read before it sees the end of input.
    /// While the batch is on the script thread its replies are there too: the close then waits
    /// until the batch is back and its replies are written (see `resumeInput`).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else {
            return context.fireUserInboundEventTriggered(event)
        }
        if case .offloaded = state.state {
            inputEnded = true
            return
        }
        closeOnceWritten(context)
    }

    /// Closes the connection once what was written to it has gone out.
    private func closeOnceWritten(_ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// The pipeline is gone: the connection object goes too. It holds this handler's context,
    /// which holds this handler: kept, the three would keep each other (and the channel) alive,
    /// some 4–6 KB for every connection ever closed.
    func handlerRemoved(context: ChannelHandlerContext) {
        connection = nil
        batchContext = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        timeoutTask = nil
        connection?.detach()
        if let session = state.channelClosed() { Self.disconnect(session, shared: shared, eventLoop: context.eventLoop) }
        context.fireChannelInactive()
    }

    /// Removes a client from the server, later if a busy script holds the lock.
    private static func disconnect(_ session: ClientSession, shared: SharedState, eventLoop: any EventLoop) {
        if shared.lockUnlessBusy() {
            shared.core.disconnect(session)
            shared.lock.unlock()
        } else {
            eventLoop.scheduleTask(in: .milliseconds(10)) { disconnect(session, shared: shared, eventLoop: eventLoop) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action = state.inputArrived()
        if action == .discard { return }
        var incoming = unwrapInboundIn(data)
        received += incoming.readableBytes
        reads += 1
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        noteInput()
        switch action {
        case .run:
            processInput(context: context)
        case .answerBusy:
            answerBusy(context: context)
            updateReading(context)
        case .wait:
            // Parked, or the batch is on the script thread: what was read waits (reading may
            // pause).
            updateReading(context)
        case .discard:
            break
        }
    }

    /// Decodes what is buffered and runs it, until the input is used up, the client is
    /// parked by a blocking command or its batch went to the script thread, or the
    /// connection is closing.
    private func processInput(context: ChannelHandlerContext) {
        guard case .serving(let session) = state.state else { return }
        while state.isServing {
            if commands.isEmpty && state.protocolError == nil {
                guard decodePending(context: context) else { return }
                if commands.isEmpty && state.protocolError == nil { break }
            }
            runCommands(context: context, session: session)
        }
    }

    /// Decodes buffered input into `commands`; false if the connection was closed for it.
    private func decodePending(context: ChannelHandlerContext) -> Bool {
        guard pending != nil else { return true }
        let before = pending!.readableBytes
        do {
            try decoder.decode(&pending!, into: &commands)
        } catch {
            state.protocolErrorMet(error)
        }
        decodedBytes += before - pending!.readableBytes
        defer { noteInput() }
        if pending!.readableBytes == 0 {
            pending = nil
        } else if pending!.readerIndex > 64 * 1024 {
            pending!.discardReadBytes()
        }
        let buffered = (pending?.readableBytes ?? 0) + decoder.pendingArgumentBytes
        if buffered > shared.core.config.clientQueryBufferLimit {
            closeForQueryBuffer(context)
            return false
        }
        return true
    }

    /// Publishes the input held for CLIENT LIST: the batch's commands, a command read in part
    /// (as the decoder holds it) and undecoded bytes, and the room left in their buffer.
    private func noteInput() {
        let held = decodedBytes + decoder.pendingArgumentBytes + (pending?.readableBytes ?? 0)
        figures.noteInput(held: held, free: pending.map { $0.capacity - $0.writerIndex } ?? 0)
    }

    /// Runs the decoded commands from `state.nextCommand` in one acquisition of the lock and
    /// writes their replies.
    private func runCommands(context: ChannelHandlerContext, session: ClientSession) {
        // A batch that starts with Lua code goes to the script thread at once: taking the lock
        // here first would wait while the script thread runs earlier batches, to run nothing.
        if nextRunsLua(session) {
            readyContext(session, context)
            return offload(batchContext.take()!, ran: 0, context: context)
        }
        guard shared.lockUnlessBusy() else { return answerBusy(context: context) }
        readyContext(session, context)
        batchContext!.onEventLoop = true
        let bytes = received
        received = 0
        shared.core.stats.netInputBytes += bytes
        shared.core.stats.readsProcessed += reads
        reads = 0
        let (ran, parkedNow) = Self.execute(&batchContext!, &commands, from: state.nextCommand,
                                            failure: state.protocolError, shared: shared)
        shared.lock.unlock()
        if batchContext!.offloadRequested { return offload(batchContext.take()!, ran: ran, context: context) }
        finishBatch(ran: ran, parked: parkedNow, context: context, session: session)
    }

    /// Readies `batchContext` for a batch: made on first use, then its reply buffer emptied
    /// (without allocating once the socket write of the last replies completed, as NIO then
    /// no longer holds the buffer).
    private func readyContext(_ session: ClientSession, _ context: ChannelHandlerContext) {
        if batchContext == nil || batchContext!.client !== session {
            batchContext = CommandContext(out: ReplyWriter(buffer: context.channel.allocator.buffer(capacity: Self.replyBufferStart),
                                                           resp3: session.resp3),
                                          client: session, server: shared.core)
        }
        batchContext!.out.buffer.clear()
        batchContext!.out.clearOverflow()
        batchContext!.out.resp3 = session.resp3
        figures.noteReplyBuffer(capacity: batchContext!.out.buffer.capacity, used: 0)
    }

    /// Whether the next command is a script (EVAL, EVALSHA, FCALL and their *_RO forms),
    /// outside MULTI. The table is immutable, so it is read without the lock; the last name
    /// looked up is remembered, as a copy (holding the batch's own array would keep the batch
    /// from refilling it).
    private func nextRunsLua(_ session: ClientSession) -> Bool {
        let next = state.nextCommand
        guard !session.inTransaction, next < commands.count,
              let same = commands.name(of: next, equals: lastLookedUp.name) else { return false }
        if same { return lastLookedUp.runsLua }
        let name = commands[next].first!.withUnsafeBufferPointer { Array($0) }
        let runsLua = shared.core.table.lookup(name)?.runsLua ?? false
        lastLookedUp = (name, runsLua)
        return runsLua
    }

    /// The part of a batch that runs with the lock held, on a loop or on the script thread.
    static func execute(_ ctx: inout CommandContext, _ commands: inout CommandBatch, from start: Int,
                                failure: ProtocolError?, shared: SharedState) -> (ran: Int, parked: Bool) {
        let core = shared.core
        let ran = core.executeBatch(&ctx, &commands, from: start)
        let session = ctx.client
        if !ctx.offloadRequested && session.blocked == nil && !session.paused && !session.closeAfterReply,
           start + ran == commands.count,
           let failure {
            ctx.out.error("ERR " + failure.message)
        }
        core.stats.netOutputBytes += ctx.out.buffer.readableBytes
        if ctx.out.buffer.readableBytes > 0 { core.stats.writesProcessed += 1 }
        // Read under the lock: once it is released another loop may serve the client at once.
        // A client CLIENT PAUSE postponed waits as a parked one does (its command runs again).
        return (ran, (session.blocked != nil || session.paused) && !session.closeAfterReply)
    }

    /// After `ran` commands of a batch ran in `batchContext` (up to a parking command, or to
    /// its end): write the replies and do what the state machine says (go on, wait parked,
    /// close). The caller goes on with the input.
    private func finishBatch(ran: Int, parked: Bool, context: ChannelHandlerContext, session: ClientSession) {
        let action = state.batchEnded(ran: ran, parked: parked, closeAfterReply: session.closeAfterReply,
                                      overflowed: batchContext!.out.overflowed)
        // A batch run to its end gives the last command's arrays back to the batch for its next
        // commands' arguments (a big one is dropped there). Otherwise they go: a big value is not
        // kept until the next batch.
        if case .write = action {
            commands.removeAll(reclaiming: &batchContext!.args)
        } else {
            batchContext!.args.removeAllKeepingCapacity()
        }
        decoder.unauthenticated = !session.authenticated
        let replies = batchContext!.out.buffer.readableBytes
        figures.noteReplyBuffer(capacity: batchContext!.out.buffer.capacity, used: replies)
        switch action {
        case .write:
            decodedBytes = 0
            noteInput()
        case .writeAndWait:
            break
        case .writeAndArm(let deadline):
            armTimeout(deadline, context: context)
        case .writeAndResume:
            break
        case .writeAndClose:
            shared.core.aofSync.syncPending()
            context.writeAndFlush(wrapOutboundOut(batchContext!.out.buffer)).whenComplete { _ in context.close(promise: nil) }
            return
        case .close:
            // The replies passed the writer's cap: they are dropped, not sent cut short.
            shared.log.warning("Client id=\(session.id) addr=\(session.address) laddr=\(session.localAddress) scheduled to be closed ASAP for overcoming of output buffer limits.")
            context.close(promise: nil)
            return
        }
        if replies > 0 { context.write(wrapOutboundOut(batchContext!.out.buffer), promise: nil) }
        if batchContext!.out.buffer.capacity > Self.replyBufferKept {
            batchContext!.out.buffer = context.channel.allocator.buffer(capacity: Self.replyBufferStart)
        }
        if case .writeAndResume(let reply) = action { writeReleased(reply, context: context) }
        if session.outbox != nil { deliverOutbox(context: context) }
    }

    /// Goes on with the input after the client waited (on its release, its batch on the script
    /// thread, or its registration), and sends what that wrote.
    private func resumeInput(context: ChannelHandlerContext) {
        processInput(context: context)
        shared.core.aofSync.syncPending()
        context.flush()
        updateReading(context)
        if inputEnded {
            // The client's input ended while a batch was on the script thread: close once the
            // rest has run (unless it went there again) and every reply is out.
            if case .offloaded = state.state { return }
            inputEnded = false
            closeOnceWritten(context)
        }
    }

    // MARK: - Scripts (the script thread, BUSY)

    /// Hands the rest of the batch, after the `ran` commands that ran here, to the script
    /// thread; input waits until it is done.
    private func offload(_ ctx: CommandContext, ran: Int, context: ChannelHandlerContext) {
        let start = state.offloaded(after: ran)
        var ctx = ctx
        ctx.onEventLoop = false
        ctx.offloadRequested = false
        scriptQueue.add(OffloadedBatch(ctx: ctx, commands: commands, start: start, failure: state.protocolError),
                        handler: self, context: context)
    }

    /// The batch came back from the script thread (see `ScriptQueue`). On the loop.
    func offloadFinished(_ result: OffloadedResult, context: ChannelHandlerContext) {
        guard case .offloaded(let session, _) = state.state else { return }
        batchContext = result.ctx
        finishBatch(ran: result.ran, parked: result.parked, context: context, session: session)
        resumeInput(context: context)
    }

    /// The batch waited on the script thread behind a busy script and was taken back before it
    /// started (see `ScriptQueue`): what ran before it on the loop keeps its replies, and its
    /// commands from the first that needed the script thread are answered as while busy. On
    /// the loop.
    func offloadAnsweredBusy(_ batch: OffloadedBatch, context: ChannelHandlerContext) {
        guard case .offloaded(let session, _) = state.state else { return }
        batchContext = batch.ctx
        shared.core.replyWhileBusy(batch.commands, from: batch.start, client: session, out: &batchContext!.out.buffer)
        if let failure = batch.failure, !session.closeAfterReply { batchContext!.out.error("ERR " + failure.message) }
        finishBatch(ran: batch.commands.count - batch.start, parked: false, context: context, session: session)
        resumeInput(context: context)
    }

    /// While a script is busy: every buffered command is answered without the keyspace lock,
    /// with the checks every command meets first (see `ServerCore.replyWhileBusy`).
    private func answerBusy(context: ChannelHandlerContext) {
        let core = shared.core
        guard core.scriptMonitor.isBusy(now: monotonicMicros()), let connection else { return }
        // A connection not yet registered gets its session now (safe while a script is busy).
        guard let client = state.busyClient(makeSession: { makeSession(context: context, connection: connection) }) else {
            return
        }
        decoder.unauthenticated = !client.authenticated
        var out = context.channel.allocator.buffer(capacity: 128)
        var closeAfter = false
        while true {
            if commands.isEmpty && state.protocolError == nil {
                guard decodePending(context: context) else { return }
                if commands.isEmpty && state.protocolError == nil { break }
            }
            core.replyWhileBusy(commands, from: state.nextCommand, client: client, out: &out)
            commands.removeAll()
            decodedBytes = 0
            // An AUTH that ran lifts the limits for what is read next.
            decoder.unauthenticated = !client.authenticated
            // A protocol error, or QUIT: the replies go out, then the connection closes.
            if case .closeAfter(let failure) = state.answeredBusy(closeAfterReply: client.closeAfterReply) {
                if let failure { out.writeString("-ERR \(failure.message)\r\n") }
                closeAfter = true
                break
            }
        }
        // Replies written before the script started may still await their sync.
        core.aofSync.syncPending()
        if closeAfter {
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }

    // MARK: - Messages (Pub/Sub)

    /// Writes what waits in the client's outbox (see `ClientOutbox`), without the keyspace
    /// lock. Not while its batch is on the script thread: the bytes then go with that batch's
    /// replies or after them. On the loop.
    func deliverOutbox(context: ChannelHandlerContext) {
        let session: ClientSession
        switch state.state {
        case .serving(let s), .parked(let s): session = s
        case .offloaded, .registering, .closing, .closed: return
        }
        guard let outbox = session.outbox, let bytes = outbox.take() else { return }
        let count = bytes.readableBytes
        // A keyspace event or a message may tell of a write: with `appendfsync always` it
        // leaves only once that write is on disk, as every reply does.
        shared.core.aofSync.syncPending()
        // Counted as unsent output until the socket took them, for the output limits.
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in outbox.sent(count) }
    }

    /// Writes what another client's command made for this one (a MONITOR line), once the
    /// write it may show is synced (`appendfsync always`), as every reply waits. On the loop.
    func sendFromOtherClient(_ bytes: [UInt8], context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        sendFromOtherClient(buffer, context: context)
    }

    func sendFromOtherClient(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        shared.core.aofSync.syncPending()
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    // MARK: - Parking (blocking commands)

    /// The server parked the client until `deadline`; the state machine says whether to arm
    /// the timeout now (parked here), later (parked on the script thread: once the batch is
    /// back) or not at all (released meanwhile, or closing). On the channel's loop.
    func parkedUntil(_ deadline: Int64, context: ChannelHandlerContext) {
        guard state.parkedUntil(deadline) else { return }
        armTimeout(deadline, context: context)
    }

    /// Stops reading and arms the parked client's timeout. The timer runs on the monotonic
    /// clock and deadlines are wall-clock times, so a check that comes early parks the client
    /// again until the deadline left.
    private func armTimeout(_ deadline: Int64, context: ChannelHandlerContext) {
        updateReading(context)
        timeoutTask?.cancel()
        timeoutTask = nil
        guard deadline != 0, case .parked(let session) = state.state else { return }
        // Capped so the conversion to nanoseconds cannot overflow (a far deadline re-arms).
        let delay = min(max(deadline - shared.core.clock.nowMillis(), 0) + 1, Int64.max / 1_000_000)
        let shared = self.shared
        let connection = self.connection
        let eventLoop = context.eventLoop
        timeoutTask = eventLoop.scheduleTask(in: .milliseconds(delay)) {
            Self.timeOut(session, shared: shared, connection: connection, eventLoop: eventLoop)
        }
    }

    /// A parked client's deadline came: release it with the timeout reply, or re-arm if the
    /// wall clock says it is early. Tried again a little later while a busy script holds the
    /// lock (the client is then released once the script ends, as in Redis).
    private static func timeOut(_ session: ClientSession, shared: SharedState, connection: ChannelConnection?,
                                eventLoop: any EventLoop) {
        guard shared.lockUnlessBusy() else {
            eventLoop.scheduleTask(in: .milliseconds(10)) {
                timeOut(session, shared: shared, connection: connection, eventLoop: eventLoop)
            }
            return
        }
        let pending = shared.core.blockTimedOut(session, now: shared.core.clock.nowMillis())
        shared.lock.unlock()
        if let pending { connection?.blocked(until: pending) }
    }

    /// The client was released with `reply`: send it, then go on with its input. On the loop.
    func released(reply: [UInt8], context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        timeoutTask = nil
        guard state.released(reply: reply) == .resume else { return }
        writeReleased(reply, context: context)
        resumeInput(context: context)
    }

    /// Writes the reply a parked client was released with.
    private func writeReleased(_ reply: [UInt8], context: ChannelHandlerContext) {
        // A client a pause postponed is released with no reply: its command runs now.
        if reply.isEmpty { return }
        var buffer = context.channel.allocator.buffer(capacity: reply.count)
        buffer.writeBytes(reply)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    /// The replies of the read burst go out once the loop has served every ready connection
    /// (see `ReplyFlusher`).
    func channelReadComplete(context: ChannelHandlerContext) {
        replyFlusher.flushLater(context)
    }

    /// Back-pressure: a client that does not read its replies stops being read from, so its
    /// pending output cannot grow without bound; reading resumes once the socket drains.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        updateReading(context)
        context.fireChannelWritabilityChanged()
    }

    /// Sets the channel's autoRead option to what the state machine wants, when that changed
    /// (see `ConnectionStateMachine.readingChange`).
    private func updateReading(_ context: ChannelHandlerContext) {
        guard let wanted = state.readingChange(bufferedInput: pending?.readableBytes ?? 0,
                                               writable: context.channel.isWritable) else { return }
        context.channel.setOption(ChannelOptions.autoRead, value: wanted).whenFailure { _ in }
        if wanted { context.read() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func closeForQueryBuffer(_ context: ChannelHandlerContext) {
        shared.log.warning("Closing client that reached max query buffer length")
        state.closeStarted()
        context.close(promise: nil)
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?:0" }
        switch address {
        case .v4, .v6: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .unixDomainSocket: return "unix:\(address.pathname ?? "")"
        }
    }
}

/// The handle commands use to reach a connection from any thread.
///
/// Both operations are called with the keyspace lock held, so they never act on the spot:
/// closing on the caller's own event loop would run `channelInactive` at once, which takes
/// that same lock (a self-deadlock). They are queued on the connection's loop instead.
final class ChannelConnection: ClientConnection, @unchecked Sendable {
    let channel: any Channel
    // Only read and cleared on the channel's event loop.
    private var handler: ConnectionHandler?
    private let context: ChannelHandlerContext

    /// The buffers' figures, which the handler notes.
    private let figures: ConnectionFigures
    /// The socket's descriptor, once found (-2: not looked for yet).
    private let descriptor = Atomic<Int32>(-2)

    private let overTLS: Bool

    init(channel: any Channel, handler: ConnectionHandler, context: ChannelHandlerContext, figures: ConnectionFigures,
         overTLS: Bool) {
        self.channel = channel
        self.figures = figures
        self.handler = handler
        self.context = context
        self.overTLS = overTLS
    }

    var buffers: ConnectionBuffers {
        var buffers = ConnectionBuffers()
        figures.read(into: &buffers)
        var fd = descriptor.load(ordering: .relaxed)
        if fd == -2 {
            fd = SocketDescriptors.find(local: channel.localAddress, remote: channel.remoteAddress)
            descriptor.store(fd, ordering: .relaxed)
        }
        buffers.descriptor = fd
        return buffers
    }

    var plainSocketDescriptor: Int32? {
        guard !overTLS, channel.isActive else { return nil }
        // Looked up afresh (checked against the channel's addresses), not the figure cached for
        // CLIENT LIST: a closed connection's number may already name another socket.
        let fd = SocketDescriptors.find(local: channel.localAddress, remote: channel.remoteAddress)
        return fd >= 0 ? fd : nil
    }

    func send(_ bytes: ByteBuffer, thenRelease outbox: ClientOutbox) {
        channel.eventLoop.execute { [self] in
            guard let handler else { return }
            handler.sendFromOtherClient(bytes, context: context)
            if outbox.release() { handler.deliverOutbox(context: context) }
        }
    }

    /// Breaks the handler ↔ connection cycle when the channel goes away. On the loop.
    func detach() { handler = nil }

    func close() {
        let channel = self.channel
        channel.eventLoop.execute { channel.close(promise: nil) }
    }

    func send(_ bytes: [UInt8]) {
        channel.eventLoop.execute { [self] in
            handler?.sendFromOtherClient(bytes, context: context)
        }
    }

    func blocked(until deadline: Int64) {
        channel.eventLoop.execute { [self] in
            handler?.parkedUntil(deadline, context: context)
        }
    }

    func unblocked(reply: [UInt8]) {
        channel.eventLoop.execute { [self] in
            handler?.released(reply: reply, context: context)
        }
    }

    func outboxReady() {
        channel.eventLoop.execute { [self] in
            handler?.deliverOutbox(context: context)
        }
    }
}

extension Channel {
    /// Writes and flushes `bytes` from any thread, on the channel's loop.
    func sendFromAnyThread(_ bytes: [UInt8]) {
        eventLoop.execute { [self] in
            var buffer = allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            writeAndFlush(buffer, promise: nil)
        }
    }
}
