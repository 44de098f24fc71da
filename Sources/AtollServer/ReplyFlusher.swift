/// `ReplyFlusher`: flushes the replies of an event loop's read burst from one task that runs
/// after the loop has served every ready connection, as Redis writes replies only before it
/// sleeps. The socket writes then come in one burst: a client woken by the first is still
/// awake for the rest (waking a sleeping client costs the writer an interrupt to the client's
/// core; flushing each connection as it was served made EVALSHA at -P 16 spend twice Redis's
/// kernel time). With `appendfsync always` the task syncs first, so one sync covers every
/// connection (Redis's group commit). One task per loop tick, not one per connection: a task
/// costs its allocation, the loop's task queue lock and its run.
import AtollCore
import NIOCore

final class ReplyFlusher: @unchecked Sendable {
    // Unchecked: used only on its own event loop, and the task it schedules runs there too.
    private let eventLoop: any EventLoop
    private let aofSync: AOFSyncGate
    /// Connections with replies written since the last flush.
    private var waiting: [ChannelHandlerContext] = []
    /// The list being flushed: swapped with `waiting`, so a connection that asks again while
    /// they flush (a write that makes it writable and reads on) waits for the next task.
    private var flushing: [ChannelHandlerContext] = []

    init(eventLoop: any EventLoop, aofSync: AOFSyncGate) {
        self.eventLoop = eventLoop
        self.aofSync = aofSync
    }

    /// Flushes `context` once the loop has served the connections ready now.
    func flushLater(_ context: ChannelHandlerContext) {
        waiting.append(context)
        if waiting.count == 1 { eventLoop.execute { self.flushWaiting() } }
    }

    private func flushWaiting() {
        aofSync.syncPending()
        swap(&waiting, &flushing)
        for context in flushing { context.flush() }
        flushing.removeAll(keepingCapacity: true)
    }
}
