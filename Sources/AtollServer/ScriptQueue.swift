/// The batches one event loop hands to the script thread. Every batch that reaches Lua code
/// (a script, FUNCTION LOAD) runs there, never on an event loop, so that the loops always stay
/// free to answer BUSY. A trip to the script thread costs two thread wake-ups; to pay them
/// once per pass of the event loop rather than once per connection, the batches of one pass
/// are collected and go over together when the loop has served every ready connection (the
/// same deferral as the replies' flush), run in one acquisition of the keyspace lock, and
/// come back together.
import AtollCommands
import AtollRESP
import NIOCore

final class ScriptQueue {
    private let shared: SharedState
    private let eventLoop: any EventLoop
    /// Collected during the current pass; only touched on `eventLoop`.
    private var waiting: [ScriptJob] = []

    init(shared: SharedState, eventLoop: any EventLoop) {
        self.shared = shared
        self.eventLoop = eventLoop
    }

    /// Queues a connection's batch; `handler` gets `offloadFinished` on this loop once it ran.
    /// On the loop.
    func add(_ batch: OffloadedBatch, handler: ConnectionHandler, context: ChannelHandlerContext) {
        waiting.append(ScriptJob(batch: batch, handler: handler, context: context))
        guard waiting.count == 1 else { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.submit() }
    }

    private func submit() {
        let jobs = UncheckedSendable(waiting)
        waiting = []
        let shared = self.shared
        let eventLoop = self.eventLoop
        shared.scriptThread.submit { _ in
            var results: [OffloadedResult] = []
            results.reserveCapacity(jobs.value.count)
            shared.lock.lock()
            for job in jobs.value {
                var batch = job.batch
                let (ran, parked) = ConnectionHandler.execute(&batch.ctx, batch.commands, from: batch.start,
                                                              failure: batch.failure, shared: shared)
                results.append(OffloadedResult(ctx: batch.ctx, ran: ran, parked: parked))
            }
            shared.lock.unlock()
            let done = UncheckedSendable(results)
            eventLoop.execute {
                for (job, result) in zip(jobs.value, done.value) {
                    job.handler.offloadFinished(result, context: job.context)
                }
            }
        }
    }
}

/// A connection's batch on its way to the script thread, with what it needs back on its loop.
/// Only `batch` is touched off the loop.
struct ScriptJob {
    let batch: OffloadedBatch
    let handler: ConnectionHandler
    let context: ChannelHandlerContext
}

/// The part of a batch that runs on the script thread, and what comes back.
struct OffloadedBatch {
    var ctx: CommandContext
    let commands: CommandBatch
    let start: Int
    let failure: ProtocolError?
}

struct OffloadedResult {
    let ctx: CommandContext
    let ran: Int
    let parked: Bool
}

/// Carries values across threads where the hand-off itself orders every access: the script
/// thread reads the jobs only after the loop queued them, and the loop reads the results only
/// after the script thread is done with them.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
