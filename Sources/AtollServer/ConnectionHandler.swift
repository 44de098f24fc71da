/// One client connection on its event loop: decode every whole command the read brought,
/// run them all in one acquisition of the keyspace lock, write the replies as one buffer,
/// and flush once when the read burst completes. Protocol errors reply `-ERR Protocol error`
/// after the commands before them ran, then close, as Redis does.
import AtollCommands
import AtollRESP
import NIOCore

final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shared: SharedState
    private var decoder: RequestDecoder
    private var pending: ByteBuffer?
    private var commands = CommandBatch()
    /// Argument list reused from command to command (see `ServerCore.executeBatch`).
    private var argumentScratch: [[UInt8]] = []
    private var session: ClientSession?
    private var connection: ChannelConnection?
    private var closing = false
    /// Index in `commands` of the next command to run (non-zero while parked mid-batch).
    private var nextCommand = 0
    /// A protocol error met after the decoded commands: replied once they have all run.
    private var deferredFailure: ProtocolError?
    /// True while a blocking command has the client parked.
    private var parked = false
    private var timeoutTask: Scheduled<Void>?
    /// Bytes read and not yet counted in the input statistics.
    private var received = 0
    /// The reply buffer, reused from read to read: once the socket write has completed, NIO
    /// no longer holds it, so clearing it does not allocate.
    private var replyBuffer: ByteBuffer?

    init(shared: SharedState) {
        self.shared = shared
        self.decoder = RequestDecoder(maxBulkLength: shared.core.config.protoMaxBulkLen)
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let connection = ChannelConnection(channel: channel, handler: self, context: context)
        self.connection = connection
        let address = Self.describe(channel.remoteAddress)
        let local = Self.describe(channel.localAddress)
        let session = shared.lock.withLock {
            shared.core.connect(address: address, localAddress: local, now: currentTimeMillis(), connection: connection)
        }
        guard let session else {
            var buffer = context.channel.allocator.buffer(capacity: 64)
            buffer.writeStaticString("-ERR max number of clients reached\r\n")
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
            closing = true
            return
        }
        self.session = session
        decoder.unauthenticated = !session.authenticated
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        timeoutTask = nil
        connection?.detach()
        if let session {
            shared.lock.withLock { shared.core.disconnect(session) }
        }
        session = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, session != nil else { return }
        var incoming = unwrapInboundIn(data)
        received += incoming.readableBytes
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        // A parked client's input waits (reading is paused; this is what was already read).
        if parked { return }
        processInput(context: context)
    }

    /// Decodes what is buffered and runs it, until the input is used up, the client is
    /// parked by a blocking command, or the connection is closing.
    private func processInput(context: ChannelHandlerContext) {
        guard let session else { return }
        while !closing && !parked {
            if commands.isEmpty && deferredFailure == nil {
                guard pending != nil else { break }
                do {
                    try decoder.decode(&pending!, into: &commands)
                } catch {
                    deferredFailure = error
                }
                if pending!.readableBytes == 0 {
                    pending = nil
                } else if pending!.readerIndex > 64 * 1024 {
                    pending!.discardReadBytes()
                }
                let buffered = (pending?.readableBytes ?? 0) + decoder.pendingArgumentBytes
                if buffered > shared.core.config.clientQueryBufferLimit {
                    closeForQueryBuffer(context)
                    return
                }
                if commands.isEmpty && deferredFailure == nil {
                    if received > 0 {
                        let bytes = received
                        shared.lock.withLock { shared.core.stats.netInputBytes += bytes }
                        received = 0
                    }
                    break
                }
            }
            runCommands(context: context, session: session)
        }
    }

    /// Runs the decoded commands from `nextCommand` in one acquisition of the lock and writes
    /// their replies.
    private func runCommands(context: ChannelHandlerContext, session: ClientSession) {
        // The writer takes the reused buffer by move, so the first write does not copy it.
        var ctx = CommandContext(out: ReplyWriter(buffer: replyBuffer.take() ?? context.channel.allocator.buffer(capacity: 1024),
                                                  resp3: session.resp3),
                                 client: session, server: shared.core)
        ctx.args = argumentScratch
        argumentScratch = []
        ctx.out.buffer.clear()
        var closeAfter = false
        let failure = deferredFailure
        let bytes = received
        received = 0
        shared.lock.withLock {
            let core = shared.core
            core.stats.netInputBytes += bytes
            nextCommand += core.executeBatch(&ctx, commands, from: nextCommand)
            if session.closeAfterReply { closeAfter = true }
            if session.blocked != nil && !closeAfter {
                parked = true
            } else if let failure {
                closeAfter = true
                if !session.closeAfterReply { ctx.out.error("ERR " + failure.message) }
            }
            core.stats.netOutputBytes += ctx.out.buffer.readableBytes
        }
        let output = ctx.out.buffer
        if !parked {
            commands.removeAll()
            nextCommand = 0
            deferredFailure = nil
        }
        argumentScratch = ctx.args
        ctx.args = []
        argumentScratch.removeAll(keepingCapacity: true)
        decoder.unauthenticated = !session.authenticated
        if closeAfter {
            closing = true
            context.writeAndFlush(wrapOutboundOut(output)).whenComplete { _ in context.close(promise: nil) }
            return
        }
        if output.readableBytes > 0 { context.write(wrapOutboundOut(output), promise: nil) }
        if output.capacity <= 64 * 1024 { replyBuffer = output }
    }

    // MARK: - Parking (blocking commands)

    /// The client was parked: stop reading and arm its timeout. On the channel's loop.
    /// The timer runs on the monotonic clock and deadlines are wall-clock times, so a check
    /// that comes early parks the client again until the deadline left.
    func parkedUntil(_ deadline: Int64, context: ChannelHandlerContext) {
        // A re-arm can arrive after the client was released: reading must go on then.
        guard parked else { return }
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        timeoutTask?.cancel()
        timeoutTask = nil
        guard deadline != 0, let session else { return }
        // Capped so the conversion to nanoseconds cannot overflow (a far deadline re-arms).
        let delay = min(max(deadline - currentTimeMillis(), 0) + 1, Int64.max / 1_000_000)
        let shared = self.shared
        let connection = self.connection
        timeoutTask = context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
            let pending = shared.lock.withLock { shared.core.blockTimedOut(session, now: currentTimeMillis()) }
            if let pending { connection?.blocked(until: pending) }
        }
    }

    /// The client was released with `reply`: send it, then go on with its input. On the loop.
    func released(reply: [UInt8], context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        timeoutTask = nil
        guard parked, !closing else { return }
        parked = false
        var buffer = context.channel.allocator.buffer(capacity: reply.count)
        buffer.writeBytes(reply)
        context.write(wrapOutboundOut(buffer), promise: nil)
        processInput(context: context)
        context.flush()
        if !parked && context.channel.isWritable {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
            context.read()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Back-pressure: a client that does not read its replies stops being read from, so its
    /// pending output cannot grow without bound; reading resumes once the socket drains.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable && !parked
        context.channel.setOption(ChannelOptions.autoRead, value: writable).whenFailure { _ in }
        if writable { context.read() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func closeForQueryBuffer(_ context: ChannelHandlerContext) {
        shared.log.warning("Closing client that reached max query buffer length")
        closing = true
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

    init(channel: any Channel, handler: ConnectionHandler, context: ChannelHandlerContext) {
        self.channel = channel
        self.handler = handler
        self.context = context
    }

    /// Breaks the handler ↔ connection cycle when the channel goes away. On the loop.
    func detach() { handler = nil }

    func close() {
        let channel = self.channel
        channel.eventLoop.execute { channel.close(promise: nil) }
    }

    func send(_ bytes: [UInt8]) {
        let channel = self.channel
        channel.eventLoop.execute {
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.writeAndFlush(buffer, promise: nil)
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
}
