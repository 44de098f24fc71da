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
    /// The reply buffer, reused from read to read: once the socket write has completed, NIO
    /// no longer holds it, so clearing it does not allocate.
    private var replyBuffer: ByteBuffer?

    init(shared: SharedState) {
        self.shared = shared
        self.decoder = RequestDecoder(maxBulkLength: shared.core.config.protoMaxBulkLen)
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let connection = ChannelConnection(channel: channel)
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
        if let session {
            shared.lock.withLock { shared.core.disconnect(session) }
        }
        session = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, let session else { return }
        var incoming = unwrapInboundIn(data)
        let received = incoming.readableBytes
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        var failure: ProtocolError?
        do {
            try decoder.decode(&pending!, into: &commands)
        } catch {
            failure = error
        }
        if pending!.readableBytes == 0 {
            pending = nil
        } else if pending!.readerIndex > 64 * 1024 {
            pending!.discardReadBytes()
        }
        let buffered = (pending?.readableBytes ?? 0) + decoder.pendingArgumentBytes
        let limit = shared.core.config.clientQueryBufferLimit
        if failure == nil && commands.isEmpty {
            if buffered > limit { closeForQueryBuffer(context) }
            shared.lock.withLock { shared.core.stats.netInputBytes += received }
            return
        }
        // The writer takes the reused buffer by move, so the first write does not copy it.
        var ctx = CommandContext(out: ReplyWriter(buffer: replyBuffer.take() ?? context.channel.allocator.buffer(capacity: 1024),
                                                  resp3: session.resp3),
                                 client: session, server: shared.core)
        ctx.args = argumentScratch
        argumentScratch = []
        ctx.out.buffer.clear()
        var closeAfter = failure != nil
        shared.lock.withLock {
            let core = shared.core
            core.stats.netInputBytes += received
            core.executeBatch(&ctx, commands)
            if session.closeAfterReply { closeAfter = true }
            if let failure, !session.closeAfterReply { ctx.out.error("ERR " + failure.message) }
            core.stats.netOutputBytes += ctx.out.buffer.readableBytes
        }
        let output = ctx.out.buffer
        commands.removeAll()
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
        if buffered > limit { closeForQueryBuffer(context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Back-pressure: a client that does not read its replies stops being read from, so its
    /// pending output cannot grow without bound; reading resumes once the socket drains.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
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
final class ChannelConnection: ClientConnection {
    let channel: any Channel
    init(channel: any Channel) { self.channel = channel }

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
}
