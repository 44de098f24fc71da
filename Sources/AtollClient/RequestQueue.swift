/// The state one connection's callers and its channel handler share, under one lock: the bytes
/// of requests not yet written, and the requests still waiting for replies, in the order they
/// were written. A caller encodes its command straight into the pending bytes and parks its
/// continuation in the same critical section, so the byte order on the wire and the order of
/// the waiting list always agree; the event loop takes the pending bytes once per pass and
/// writes them in one go (concurrent requests share a write: automatic pipelining).
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

    func resume() {
        switch self {
        case .single(let continuation, let result): continuation.resume(with: result)
        case .batch(let continuation, let result): continuation.resume(with: result)
        }
    }
}

final class RequestQueue: Sendable {
    /// Who waits for a request's replies.
    private enum Waiter {
        case single(UnsafeContinuation<RESPValue, any Error>)
        case batch(UnsafeContinuation<[Result<RESPValue, RedisError>], any Error>)
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

        /// Takes the replies this request still expects from `replies`, starting at `index`
        /// (which it moves past them); returns how to resume its caller once it has them all.
        mutating func take(_ replies: [RESPValue], from index: inout Int) -> Completion? {
            let count = min(remaining, replies.count - index)
            defer {
                remaining -= count
                index += count
            }
            switch waiter {
            case .single(let continuation):
                return .single(continuation, replies[index].checkedResult)
            case .batch(let continuation):
                for reply in replies[index..<(index + count)] {
                    if case .error(let text) = reply {
                        collected.append(.failure(RedisError(reply: text)))
                    } else {
                        collected.append(.success(reply))
                    }
                }
                guard count == remaining else { return nil }
                var done: [Result<RESPValue, RedisError>] = []
                swap(&done, &collected)
                return .batch(continuation, .success(done))
            case .abandoned:
                return nil
            }
        }
    }

    private struct State {
        var pending: ByteBuffer
        /// The buffer written last, emptied, for the next requests to be encoded into (nil
        /// while it is being written).
        var spare: ByteBuffer?
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

    /// Binds the queue to the channel its requests are written to, before the first request.
    func attach(to channel: any Channel) {
        let flush: @Sendable () -> Void = { [self] in self.flush(channel) }
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
    private func flush(_ channel: any Channel) {
        var bytes = ByteBuffer()
        let arm = self.state.withLockedValue { state -> NIODeadline? in
            state.flushScheduled = false
            swap(&bytes, &state.pending)
            state.pending = state.spare ?? channel.allocator.buffer(capacity: 1024)
            state.spare = nil
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
            self.state.withLockedValue { $0.spare = bytes }
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

    /// Hands the replies, in order, to the requests waiting for them, and empties `replies`.
    /// Returns false when a reply came that nobody asked for (the connection must then be
    /// failed). `completions` is scratch space, empty on entry and on return; the caller keeps
    /// it (and `replies`) between reads so their storage is allocated once.
    func deliver(_ replies: inout [RESPValue], completions: inout [Completion]) -> Bool {
        let matched = state.withLockedValue { state -> Bool in
            var index = 0
            while index < replies.count {
                guard !state.waiting.isEmpty else { return false }
                let first = state.waiting.startIndex
                if let completion = state.waiting[first].take(replies, from: &index) { completions.append(completion) }
                if state.waiting[first].remaining == 0 { state.waiting.removeFirst() }
            }
            return true
        }
        replies.removeAllKeepingCapacity()
        for completion in completions { completion.resume() }
        completions.removeAllKeepingCapacity()
        return matched
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
