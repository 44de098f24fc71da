/// The channel handler under every connection: collects what the server sends and has the
/// connection's `RequestQueue` decode it (`deliver`), telling replies from pushes. Replies go,
/// in order, to the requests waiting in the queue; Pub/Sub messages go to the connection's
/// message sink (a subscriber's), and other pushes (RESP3 `>` frames nobody asked for, such as
/// client-tracking invalidations) and attributes are dropped. Requests are written by the
/// queue, not through this handler.
///
/// Pushes are recognised in both protocols. In RESP3 a push is its own frame type; the
/// confirmations of (P)SUBSCRIBE and (P)UNSUBSCRIBE come as pushes too, and count as those
/// commands' replies. In RESP2 a subscribed connection gets messages as plain arrays, so on a
/// subscriber's connection (`PushRouting.resp2Subscriber`) an array whose first element is
/// `message`, `pmessage` or `smessage` is a message, not a reply.
import AtollRESP
import NIOCore

/// Where a connection's Pub/Sub messages go, and how to recognise them.
struct PushRouting: Sendable {
    /// Receives each message (`message`, `pmessage` or `smessage` frame's elements).
    var deliver: @Sendable ([RESPValue]) -> Void
    /// True on a RESP2 subscriber connection, where messages are plain arrays.
    var resp2Subscriber: Bool
}

final class ReplyMatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let queue: RequestQueue
    private let routing: PushRouting?
    private var input = ByteBuffer()
    /// A read's Pub/Sub messages and the continuations its replies resume, kept between reads
    /// so their storage is reused.
    private var messages: [[RESPValue]] = []
    private var completions = Completions()

    init(queue: RequestQueue, routing: PushRouting?) {
        self.queue = queue
        self.routing = routing
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if input.readableBytes == 0 {
            input = incoming
        } else {
            input.writeBuffer(&incoming)
        }
        let failure = queue.deliver(from: &input, routing: routing, messages: &messages, completions: &completions)
        if let failure {
            fail(context: context, with: failure)
            return
        }
        if input.readableBytes == 0 {
            // Let go of the read's buffer, so that NIO can read into it again.
            input = ByteBuffer()
        } else if input.readerIndex > 64 * 1024 {
            input.discardReadBytes()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, with: .connectionClosed)
    }

    private func fail(context: ChannelHandlerContext, with error: RedisClientError) {
        queue.failAll(error)
        context.close(promise: nil)
    }

    private static let messageKinds = Set(["message", "pmessage", "smessage"].map { Array($0.utf8) })
    private static let confirmationKinds = Set([
        "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
    ].map { Array($0.utf8) })

    private static func kind(_ elements: [RESPValue]) -> [UInt8]? {
        switch elements.first {
        case .bulkString(let bytes?), .simpleString(let bytes): return bytes
        default: return nil
        }
    }

    static func isMessage(_ elements: [RESPValue]) -> Bool {
        kind(elements).map(messageKinds.contains) ?? false
    }

    static func isConfirmation(_ elements: [RESPValue]) -> Bool {
        kind(elements).map(confirmationKinds.contains) ?? false
    }
}
