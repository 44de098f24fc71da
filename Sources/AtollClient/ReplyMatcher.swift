/// The channel handler under every connection: writes requests as they come, flushes once per
/// event-loop pass (so concurrent requests share a write: automatic pipelining), and matches
/// replies to requests in order. Invariants: replies arrive in request order, so the oldest
/// waiting promise gets the next reply; RESP3 pushes and attributes are not replies and are
/// skipped; once the connection closes, fails or times out, every waiting promise is failed
/// exactly once and later writes fail at once, so no request can hang.
import AtollRESP
import DequeModule
import NIOCore

/// One write: the encoded commands and a promise for each command's reply.
struct OutgoingRequest: Sendable {
    var bytes: ByteBuffer
    var promises: [EventLoopPromise<RESPValue>]
    /// How long the last reply may take from now; nil waits forever.
    var timeout: TimeAmount?
}

final class ReplyMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutgoingRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        let id: UInt64
        let promise: EventLoopPromise<RESPValue>
        var timer: Scheduled<Void>?
    }

    private var waiting = Deque<Waiting>()
    private var nextID: UInt64 = 0
    private var input = ByteBuffer()
    private var flushScheduled = false
    /// Set once the connection is unusable; later writes fail with it.
    private var failure: RedisClientError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promises.forEach { $0.fail(failure) }
            promise?.fail(failure)
            return
        }
        for p in request.promises {
            nextID += 1
            waiting.append(Waiting(id: nextID, promise: p, timer: nil))
        }
        if let timeout = request.timeout, !request.promises.isEmpty {
            let id = nextID
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            waiting[waiting.count - 1].timer = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = bound.value
                handler.timedOut(through: id, context: context)
            }
        }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
        if !flushScheduled {
            flushScheduled = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (handler, context) = bound.value
                handler.flushScheduled = false
                context.flush()
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if input.readableBytes == 0 {
            input = incoming
        } else {
            input.writeBuffer(&incoming)
        }
        while true {
            let value: RESPValue
            do {
                guard let decoded = try RESPValue.decode(&input) else { break }
                value = decoded
            } catch {
                fail(context: context, all: .protocolError(error.message))
                return
            }
            switch value {
            case .push, .attribute: continue
            default: break
            }
            guard let next = waiting.popFirst() else {
                fail(context: context, all: .protocolError("a reply nobody asked for"))
                return
            }
            next.timer?.cancel()
            next.promise.succeed(value)
        }
        if input.readerIndex > 64 * 1024 { input.discardReadBytes() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failWaiting(with: .connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, all: .connectionClosed)
    }

    /// The reply to request `id` is late: that request and every one before it fail with a
    /// timeout, the rest as closed, and the connection closes (a late reply must not be taken
    /// as another request's).
    private func timedOut(through id: UInt64, context: ChannelHandlerContext) {
        guard let first = waiting.first, first.id <= id else { return }
        failure = .connectionClosed
        let late = waiting
        waiting.removeAll()
        // Closed first, so that whoever sees the timeout also sees the connection closed.
        context.close(promise: nil)
        for entry in late {
            entry.timer?.cancel()
            entry.promise.fail(entry.id <= id ? RedisClientError.commandTimeout : .connectionClosed)
        }
    }

    private func fail(context: ChannelHandlerContext, all error: RedisClientError) {
        if failure == nil { failure = error }
        let pending = waiting
        waiting.removeAll()
        context.close(promise: nil)
        for entry in pending {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }

    private func failWaiting(with error: RedisClientError) {
        if failure == nil { failure = error }
        while let entry = waiting.popFirst() {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }
}

extension ByteBuffer {
    /// Writes one command as a RESP array of bulk strings.
    mutating func writeCommand(_ arguments: [[UInt8]]) {
        writeInteger(UInt8(ascii: "*"))
        writeDecimal(arguments.count)
        for argument in arguments {
            writeInteger(UInt8(ascii: "$"))
            writeDecimal(argument.count)
            writeBytes(argument)
            writeStaticString("\r\n")
        }
    }

    private mutating func writeDecimal(_ n: Int) {
        if n < 10 {
            writeInteger(UInt8(ascii: "0") + UInt8(n))
        } else {
            writeString(String(n))
        }
        writeStaticString("\r\n")
    }
}
