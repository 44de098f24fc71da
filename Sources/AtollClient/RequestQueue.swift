/// The state one connection's callers and its channel handler share, under one lock: the bytes
/// of requests not yet written, and the requests still waiting for replies, in the order they
/// were written. A caller encodes its command straight into the pending bytes and parks its
/// continuation in the same critical section, so the byte order on the wire and the order of
/// the waiting list always agree; the event loop takes the pending bytes once per pass and
/// writes them in one go (concurrent requests share a write: automatic pipelining). Replies are
/// read and matched under the same lock, one read at a time (`deliver`): a typed batch's
/// replies are decoded by its `ReplySink` straight from the read buffer, since what a reply
/// becomes depends on whose it is.
///
/// Invariants: each waiting entry expects `remaining` more replies and gets exactly the next
/// ones; an entry whose caller stopped waiting (a cancelled task) keeps its place and its
/// replies are dropped as they come; once the connection fails, every waiting continuation is
/// resumed with the failure exactly once and later requests fail at once.
import AtollBytes
import AtollRESP
import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Outcomes a request's continuation is resumed with.
enum Completion: Sendable {
    case single(UnsafeContinuation<RESPValue, any Error>, Result<RESPValue, any Error>)
    case batch(UnsafeContinuation<[Result<RESPValue, RedisError>], any Error>,
               Result<[Result<RESPValue, RedisError>], any Error>)
    /// A typed batch: its replies are in its sink.
    case typed(UnsafeContinuation<Void, any Error>, Result<Void, any Error>)

    func resume() {
        switch self {
        case .single(let continuation, let result): continuation.resume(with: result)
        case .batch(let continuation, let result): continuation.resume(with: result)
        case .typed(let continuation, let result): continuation.resume(with: result)
        }
    }
}

/// The continuations one read resumes, once the queue's lock is let go. Almost every read
/// completes one request (a reply, or a batch's last), so the first is kept apart: the array is
/// touched only by reads that complete more, and emptying it (a generic `replaceSubrange`, some
/// 200 instructions) is skipped when it stayed empty. Kept by the channel handler between reads.
struct Completions {
    private var first: Completion?
    private var more: [Completion] = []

    mutating func append(_ completion: Completion) {
        if first == nil {
            first = completion
        } else {
            more.append(completion)
        }
    }

    /// Resumes every continuation, in the order appended, and empties the list.
    mutating func resumeAll() {
        guard let first else { return }
        self.first = nil
        first.resume()
        guard !more.isEmpty else { return }
        for completion in more { completion.resume() }
        more.removeAll(keepingCapacity: true)
    }
}

/// Where a typed batch's replies go as they are read: `read` decodes up to a number of replies
/// from the front of the input into the caller's type and keeps them, stopping early at an
/// incomplete frame or at a push or attribute (which the queue routes itself), and returns how
/// many it took; `take` keeps a reply the queue already decoded (a RESP3 push that answers a
/// command). Both are closures made in the caller's module by inlinable code (see
/// `TypedBatch.replies`), so they are compiled for the caller's reply type: generic code that
/// is not specialized looks up type metadata at run time, several hundred instructions per
/// reply. Called only under the queue's lock, until the batch's continuation is resumed.
@usableFromInline
final class ReplySink: @unchecked Sendable {
    let read: (inout ByteBuffer, Int) throws(RESPValue.DecodeError) -> Int
    let take: (RESPValue) -> Void

    @usableFromInline
    init(read: @escaping (inout ByteBuffer, Int) throws(RESPValue.DecodeError) -> Int,
         take: @escaping (RESPValue) -> Void) {
        self.read = read
        self.take = take
    }
}

final class RequestQueue: Sendable {
    /// Who waits for a request's replies.
    private enum Waiter {
        case single(UnsafeContinuation<RESPValue, any Error>)
        case batch(UnsafeContinuation<[Result<RESPValue, RedisError>], any Error>)
        case typed(ReplySink, UnsafeContinuation<Void, any Error>)
        /// The caller was cancelled: the replies are read and dropped.
        case abandoned
    }

    private struct Waiting {
        let id: UInt64
        var waiter: Waiter
        var remaining: Int
        /// A batch's replies so far.
        var collected: [Result<RESPValue, RedisError>]
        let deadline: NIODeadline?

        /// Takes `reply`, the next one this request expects; returns how to resume its caller
        /// once it has them all.
        mutating func take(_ reply: RESPValue) -> Completion? {
            remaining -= 1
            switch waiter {
            case .single(let continuation):
                return .single(continuation, reply.checkedResult)
            case .batch(let continuation):
                if case .error(let text) = reply {
                    collected.append(.failure(RedisError(reply: text)))
                } else {
                    collected.append(.success(reply))
                }
                guard remaining == 0 else { return nil }
                var done: [Result<RESPValue, RedisError>] = []
                swap(&done, &collected)
                return .batch(continuation, .success(done))
            case .typed(let sink, let continuation):
                sink.take(reply)
                return remaining == 0 ? .typed(continuation, .success(())) : nil
            case .abandoned:
                return nil
            }
        }
    }

    private struct State {
        var pending: ByteBuffer
        var waiting = Deque<Waiting>()
        var flushScheduled = false
        /// The event-loop task that writes the pending bytes, made once by `attach`, so
        /// scheduling a write allocates nothing. It holds the queue: `failAll` lets go of it
        /// when the connection ends.
        var flush: (@Sendable () -> Void)?
        var timerArmed = false
        /// Set once the connection is unusable; later requests fail with it.
        var failure: RedisClientError?
    }

    private let state: NIOLockedValueBox<State>
    private let timeout: TimeAmount?
    /// Request ids, handed out before a request is queued so its cancellation handler knows it.
    private let ids = Atomic<UInt64>(0)

    init(allocator: ByteBufferAllocator, timeout: TimeAmount?) {
        state = NIOLockedValueBox(State(pending: allocator.buffer(capacity: 1024)))
        self.timeout = timeout
    }

    /// The buffer written last, emptied, for the next requests to be encoded into (nil while it
    /// is being written). Only `flush` touches it, on the channel's event loop, so it needs no
    /// lock.
    private final class SpareBuffer: @unchecked Sendable {
        var buffer: ByteBuffer?
    }

    /// Binds the queue to the channel its requests are written to, before the first request.
    func attach(to channel: any Channel) {
        let spare = SpareBuffer()
        let flush: @Sendable () -> Void = { [self] in self.flush(channel, spare: spare) }
        state.withLockedValue { $0.flush = flush }
    }

    // MARK: - Callers

    /// Encodes one command with `encode` and waits for its reply. A cancelled caller gets
    /// `CancellationError` at once; its reply is still read, and dropped. Inlined into its
    /// callers, as are they into theirs: every async call costs a frame from the task's
    /// allocator, some 150 instructions, and a request went through seven.
    @inline(__always)
    func send(on channel: any Channel, _ encode: (inout ByteBuffer) -> Void) async throws -> RESPValue {
        let id = ids.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RESPValue, any Error>) in
                enqueue(count: 1, waiter: .single(continuation), id: id, channel: channel, encode)
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// Encodes `count` commands with `encode` and waits for all their replies at once.
    @inline(__always)
    func sendBatch(count: Int, on channel: any Channel, _ encode: (inout ByteBuffer) -> Void)
        async throws -> [Result<RESPValue, RedisError>] {
        guard count > 0 else { return [] }
        let id = ids.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation {
                (continuation: UnsafeContinuation<[Result<RESPValue, RedisError>], any Error>) in
                enqueue(count: count, waiter: .batch(continuation), id: id, channel: channel, encode)
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// Writes a typed batch's `count` commands with `encode` and waits until `sink` has read
    /// all their replies.
    @inline(__always)
    func sendTyped(count: Int, into sink: ReplySink, on channel: any Channel, _ encode: (inout ByteBuffer) -> Void)
        async throws {
        guard count > 0 else { return }
        let id = ids.wrappingAdd(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                enqueue(count: count, waiter: .typed(sink, continuation), id: id, channel: channel, encode)
            }
        } onCancel: {
            cancel(id)
        }
    }

    private func enqueue(count: Int, waiter: Waiter, id: UInt64, channel: any Channel,
                         _ encode: (inout ByteBuffer) -> Void) {
        let deadline = timeout.map { NIODeadline.now() + $0 }
        var collected: [Result<RESPValue, RedisError>] = []
        if case .batch = waiter { collected.reserveCapacity(count) }
        let outcome: Enqueued = state.withLockedValue { state in
            if let failure = state.failure { return .failed(failure) }
            // Checked under the lock that `cancel` takes: a cancellation that came before this
            // found nothing to cancel, so it is seen here instead.
            if Task.isCancelled { return .failed(CancellationError()) }
            encode(&state.pending)
            state.waiting.append(Waiting(id: id, waiter: waiter, remaining: count, collected: collected,
                                         deadline: deadline))
            guard !state.flushScheduled, let flush = state.flush else { return .queued }
            state.flushScheduled = true
            return .flushNeeded(flush)
        }
        switch outcome {
        case .failed(let error): Self.failing(waiter, with: error)?.resume()
        case .flushNeeded(let flush): channel.eventLoop.execute(flush)
        case .queued: break
        }
    }

    /// What `enqueue` found under the lock. Not a `Result`: a closure passed through a generic
    /// type is re-wrapped on the way in and out, an allocation each way.
    private enum Enqueued {
        case failed(any Error)
        /// Queued; the write is to be scheduled with this task.
        case flushNeeded(@Sendable () -> Void)
        /// Queued behind a write already scheduled.
        case queued
    }

    /// Writes the pending bytes, with those of every request that came since the write was
    /// scheduled, on the event loop; arms the timeout check if none is armed.
    private func flush(_ channel: any Channel, spare: SpareBuffer) {
        // The next requests' buffer, swapped in for the pending bytes under the lock.
        var bytes = spare.buffer ?? channel.allocator.buffer(capacity: 1024)
        spare.buffer = nil
        let arm = self.state.withLockedValue { state -> NIODeadline? in
            state.flushScheduled = false
            swap(&bytes, &state.pending)
            var arm: NIODeadline?
            if !state.timerArmed, let first = state.waiting.first?.deadline {
                state.timerArmed = true
                arm = first
            }
            return arm
        }
        // Through the pipeline's synchronous operations (this runs on the event loop), with the
        // buffer wrapped here: `Channel.writeAndFlush` is generic over the value and finds out
        // at run time, by a dynamic cast, that it is a ByteBuffer.
        if bytes.readableBytes > 0 { channel.pipeline.syncOperations.writeAndFlush(NIOAny(bytes), promise: nil) }
        // Once the socket has taken the bytes, NIO lets go of the buffer and it is ours
        // alone again: emptied, it takes the next requests (a buffer NIO still holds is
        // replaced by `clear`, so one being written is never touched).
        if bytes.capacity <= 64 * 1024 {
            bytes.clear()
            spare.buffer = bytes
        }
        if let arm { self.scheduleTimeoutCheck(at: arm, channel: channel) }
    }

    private func cancel(_ id: UInt64) {
        let completion: Completion? = state.withLockedValue { state in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = state.waiting[index].waiter
            state.waiting[index].waiter = .abandoned
            return Self.failing(waiter, with: CancellationError())
        }
        completion?.resume()
    }

    // MARK: - The channel handler

    /// Reads every complete reply from the front of `input` and hands each, in order, to the
    /// request waiting for it, under one lock for the whole read. Pub/Sub messages are put in
    /// `messages` (`routing` tells them apart), pushes nobody asked for and attributes are
    /// dropped. Then resumes the requests that got all their replies. Returns the error the
    /// connection must be failed with: malformed input, or a reply nobody asked for.
    /// `messages` and `completions` are scratch space, empty on entry and on return; the caller
    /// keeps them between reads so their storage is allocated once.
    func deliver(from input: inout ByteBuffer, routing: PushRouting?, messages: inout [[RESPValue]],
                 completions: inout Completions) -> RedisClientError? {
        let failure = state.withLockedValue { state -> RedisClientError? in
            do throws(RESPValue.DecodeError) {
                return try Self.match(&input, to: &state.waiting, routing: routing, messages: &messages,
                                      completions: &completions)
            } catch {
                return .protocolError(error.message)
            }
        }
        if let routing {
            for message in messages { routing.deliver(message) }
            messages.removeAll(keepingCapacity: true)
        }
        completions.resumeAll()
        return failure
    }

    private static func match(_ input: inout ByteBuffer, to waiting: inout Deque<Waiting>, routing: PushRouting?,
                              messages: inout [[RESPValue]], completions: inout Completions)
        throws(RESPValue.DecodeError) -> RedisClientError? {
        let resp2Subscriber = routing?.resp2Subscriber == true
        while input.readableBytes > 0 {
            // The first request is taken out while it is served, and put back if it still
            // expects replies once the complete frames are read: one access to the Deque per
            // request and read, not several per reply.
            guard var head = waiting.popFirst() else {
                guard let value = try input.readReply() else { break }
                if isReply(value, resp2Subscriber: resp2Subscriber, messages: &messages) {
                    return .protocolError("a reply nobody asked for")
                }
                continue
            }
            do {
                try serve(&head, from: &input, resp2Subscriber: resp2Subscriber, messages: &messages,
                          completions: &completions)
            } catch {
                // Back in its place, so that failing the connection fails it too.
                waiting.prepend(head)
                throw error
            }
            if head.remaining > 0 {
                waiting.prepend(head)
                break
            }
        }
        return nil
    }

    /// Reads replies for `request` until it has all it expects or no complete frame is left.
    private static func serve(_ request: inout Waiting, from input: inout ByteBuffer, resp2Subscriber: Bool,
                              messages: inout [[RESPValue]], completions: inout Completions)
        throws(RESPValue.DecodeError) {
        while request.remaining > 0 {
            // A typed batch reads its replies itself, as many as are here; it stops early at a
            // push or an attribute, read below.
            if !resp2Subscriber, case .typed(let sink, let continuation) = request.waiter {
                request.remaining -= try sink.read(&input, request.remaining)
                if request.remaining == 0 {
                    completions.append(.typed(continuation, .success(())))
                    return
                }
            }
            guard let value = try input.readReply() else { return }
            if isReply(value, resp2Subscriber: resp2Subscriber, messages: &messages),
               let completion = request.take(value) {
                completions.append(completion)
            }
        }
    }

    /// True when `value` answers a request; else a Pub/Sub message (put in `messages`), a push
    /// nobody asked for or an attribute (dropped).
    private static func isReply(_ value: RESPValue, resp2Subscriber: Bool, messages: inout [[RESPValue]]) -> Bool {
        switch value {
        case .push(let elements):
            if ReplyMatcher.isConfirmation(elements) { return true }
            if ReplyMatcher.isMessage(elements) { messages.append(elements) }
            return false
        case .attribute:
            return false
        case .array(let elements?) where resp2Subscriber && ReplyMatcher.isMessage(elements):
            messages.append(elements)
            return false
        default:
            return true
        }
    }

    /// Fails every waiting request with `error` (the first failure sticks for later requests).
    func failAll(_ error: RedisClientError) {
        let waiting = state.withLockedValue { state -> Deque<Waiting> in
            if state.failure == nil { state.failure = error }
            state.flush = nil
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for entry in waiting { Self.failing(entry.waiter, with: error)?.resume() }
    }

    /// The timeout check: when the oldest request's reply is late, it and every request whose
    /// time has also passed fail with `commandTimeout`, the rest with `connectionClosed`, and
    /// the connection closes (a late reply must not be taken as another request's). Otherwise
    /// the check is armed again for the oldest request's deadline.
    private func scheduleTimeoutCheck(at deadline: NIODeadline, channel: any Channel) {
        channel.eventLoop.scheduleTask(deadline: deadline) {
            let now = NIODeadline.now()
            let (late, again) = self.state.withLockedValue { state -> (Deque<Waiting>, NIODeadline?) in
                guard let first = state.waiting.first, let due = first.deadline else {
                    state.timerArmed = false
                    return ([], nil)
                }
                guard due <= now else { return ([], due) }
                state.timerArmed = false
                state.failure = .connectionClosed
                defer { state.waiting.removeAll() }
                return (state.waiting, nil)
            }
            if let again {
                self.scheduleTimeoutCheck(at: again, channel: channel)
                return
            }
            guard !late.isEmpty else { return }
            // Closed first, so that whoever sees the timeout also sees the connection closed.
            channel.close(promise: nil)
            for entry in late {
                let error: RedisClientError = entry.deadline.map { $0 <= now } == true ? .commandTimeout : .connectionClosed
                Self.failing(entry.waiter, with: error)?.resume()
            }
        }
    }

    private static func failing(_ waiter: Waiter, with error: any Error) -> Completion? {
        switch waiter {
        case .single(let continuation): return .single(continuation, .failure(error))
        case .batch(let continuation): return .batch(continuation, .failure(error))
        case .typed(_, let continuation): return .typed(continuation, .failure(error))
        case .abandoned: return nil
        }
    }
}

extension RESPValue {
    /// The reply, or its error reply as a thrown `RedisError`.
    var checkedResult: Result<RESPValue, any Error> {
        if case .error(let text) = self { return .failure(RedisError(reply: text)) }
        return .success(self)
    }
}
