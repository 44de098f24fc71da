/// `ClientOutbox`: output for a client that none of its own commands wrote — Pub/Sub messages
/// and keyspace events published by other clients — waiting for the client's event loop.
///
/// Publishers append with the keyspace lock held. The bytes leave in one of two ways, so that
/// the client sees them in the order Redis would have written them into its buffer:
/// - when a command of the client runs (under the lock), they go before its reply: what came
///   before its batch, and what a script it called published to it (the dispatcher, through
///   `ServerCore.spliceOutbox`);
/// - otherwise the connection's loop, told by `ClientConnection.outboxReady()`, takes them
///   without the keyspace lock (the outbox has a mutex of its own) and writes them.
///
/// Bytes taken and still in the socket's send queue stay counted (`sent(_:)`), so the output
/// buffer limits (`client-output-buffer-limit`) see all the client has not read yet.
import NIOCore
import Synchronization

public final class ClientOutbox: @unchecked Sendable {
    private let mutex = PlainMutex()
    // Unchecked (`@exclusivity`): the mutex orders every access.
    /// Bytes not yet taken; only touched with `mutex` held.
    @exclusivity(unchecked) private var buffer: ByteBuffer?
    /// A loop task to take them is on its way; only touched with `mutex` held.
    @exclusivity(unchecked) private var drainScheduled = false
    /// How many bytes the last `take()` took (at most `sizeHintLimit`): the next buffer starts
    /// that big, so a subscriber fed a steady stream does not grow a buffer from 256 bytes by
    /// doubling (seven copies for 32 kB) between two drains. Only touched with `mutex` held.
    @exclusivity(unchecked) private var sizeHint = 256
    private static let sizeHintLimit = 64 * 1024
    /// Bytes waiting here plus bytes taken and not yet written to the socket.
    private let unsent = Atomic<Int>(0)
    /// Held while a replica's snapshot is on its way: the stream gathers here and is not
    /// taken until `release()`; only touched with `mutex` held.
    @exclusivity(unchecked) private var held = false
    /// Closed for exceeding its limit: further messages are dropped.
    // Unchecked (`@exclusivity`): both only touched by the keyspace lock's holder.
    @exclusivity(unchecked) public private(set) var closed = false
    /// Unix ms since which the output has been over the soft limit (0: it is not). Keyspace lock.
    @exclusivity(unchecked) var overSoftLimitSince: Int64 = 0

    public init() {}

    /// Bytes the client has been sent nothing of yet (here or in the socket's queue).
    public var pendingBytes: Int { unsent.load(ordering: .relaxed) }

    /// Appends `count` bytes that `write` writes; true when the caller must tell the
    /// connection (no drain is on its way).
    func append(_ count: Int, _ write: (inout ByteBuffer) -> Void) -> Bool {
        mutex.lock()
        defer { mutex.unlock() }
        if buffer == nil { buffer = ByteBufferAllocator().buffer(capacity: Swift.max(count, sizeHint)) }
        write(&buffer!)
        unsent.add(count, ordering: .relaxed)
        if drainScheduled || held { return false }
        drainScheduled = true
        return true
    }

    /// Takes every waiting byte (nil if none); a drain task may be scheduled anew after this.
    /// The bytes stay counted in `pendingBytes` until `sent(_:)`.
    public func take() -> ByteBuffer? {
        mutex.lock()
        defer { mutex.unlock() }
        if held { return nil }
        drainScheduled = false
        if let taken = buffer { sizeHint = Swift.min(Swift.max(taken.readableBytes, 256), Self.sizeHintLimit) }
        return buffer.take()
    }

    /// Keeps what arrives from now on until `release()` (a replica waiting for its
    /// snapshot: the stream after the snapshot's point must follow the snapshot).
    public func hold() {
        mutex.lock()
        defer { mutex.unlock() }
        held = true
    }

    /// Ends a hold. True when the caller must tell the connection (bytes wait and no drain
    /// is on its way).
    public func release() -> Bool {
        mutex.lock()
        defer { mutex.unlock() }
        held = false
        guard let buffer, buffer.readableBytes > 0, !drainScheduled else { return false }
        drainScheduled = true
        return true
    }

    /// `count` taken bytes reached the socket (or were dropped with the connection).
    public func sent(_ count: Int) {
        unsent.subtract(count, ordering: .relaxed)
    }

    /// Drops what waits and refuses more (the client is being closed for its limit).
    func close() {
        mutex.lock()
        defer { mutex.unlock() }
        closed = true
        if let dropped = buffer.take() { unsent.subtract(dropped.readableBytes, ordering: .relaxed) }
    }
}
