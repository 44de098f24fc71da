/// The batches one event loop hands to the script thread. Every batch that reaches Lua code
/// (a script, FUNCTION LOAD) runs there, never on an event loop, so that the loops always stay
/// free to answer BUSY. A trip to the script thread costs two thread wake-ups; to pay them
/// once per pass of the event loop rather than once per connection, the batches of one pass
/// are collected and go over together when the loop has served every ready connection (the
/// same deferral as the replies' flush), run in one acquisition of the keyspace lock, and
/// come back together.
///
/// A batch may wait on the script thread behind a script that turns busy. Redis would answer
/// its commands BUSY meanwhile, so while batches are in flight the loop looks every
/// `stallCheckMillis`: once a script is busy, every batch not yet started is taken back and
/// its commands are answered as while busy (`ConnectionHandler.offloadAnsweredBusy`); the
/// script thread skips it.
import AtollCore
import AtollRESP
import NIOCore
import NIOPosix
import Synchronization

final class ScriptQueue {
    private let shared: SharedState
    private let eventLoop: any EventLoop
    /// Collected during the current pass; only touched on `eventLoop`.
    private var waiting: [ScriptJob] = []
    /// Handed to the script thread and not yet back; only touched on `eventLoop`.
    private var inFlight: [ScriptJob] = []
    /// Whether a stall check is scheduled.
    private var watching = false
    static let stallCheckMillis: Int64 = 10

    init(shared: SharedState, eventLoop: any EventLoop) {
        self.shared = shared
        self.eventLoop = eventLoop
    }

    /// Queues a connection's batch; `handler` gets `offloadFinished` on this loop once it ran
    /// (or `offloadAnsweredBusy` if a busy script held it up). On the loop.
    func add(_ batch: OffloadedBatch, handler: ConnectionHandler, context: ChannelHandlerContext) {
        waiting.append(ScriptJob(batch: batch, handler: handler, context: context))
        guard waiting.count == 1 else { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.submit() }
    }

    private func submit() {
        let jobs = UncheckedSendable(waiting)
        waiting = []
        inFlight += jobs.value
        watchForStalls()
        let shared = self.shared
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let eventLoop = self.eventLoop
        shared.scriptThread.submit { _ in
            var results: [OffloadedResult?] = []
            results.reserveCapacity(jobs.value.count)
            shared.lock.lock()
            for job in jobs.value {
                // Taken back by the loop meanwhile: its commands were answered BUSY.
                guard job.start() else {
                    results.append(nil)
                    continue
                }
                var batch = job.batch
                let (ran, parked) = ConnectionHandler.execute(&batch.ctx, &batch.commands, from: batch.start,
                                                              failure: batch.failure, shared: shared)
                results.append(OffloadedResult(ctx: batch.ctx, ran: ran, parked: parked))
            }
            shared.lock.unlock()
            let done = UncheckedSendable(results)
            eventLoop.execute {
                bound.value.inFlight.removeAll { job in jobs.value.contains { $0 === job } }
                for (job, result) in zip(jobs.value, done.value) {
                    if let result { job.handler.offloadFinished(result, context: job.context) }
                }
            }
        }
    }

    private func watchForStalls() {
        guard !watching, !inFlight.isEmpty else { return }
        watching = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: .milliseconds(Self.stallCheckMillis)) { bound.value.checkForStalls() }
    }

    /// While a script is busy, takes back every batch that has not started.
    private func checkForStalls() {
        watching = false
        if shared.core.scriptMonitor.isBusy(now: monotonicMicros()) {
            for job in inFlight where job.takeBack() {
                job.handler.offloadAnsweredBusy(job.batch, context: job.context)
            }
            inFlight.removeAll { $0.isTakenBack }
        }
        watchForStalls()
    }
}

/// A connection's batch on its way to the script thread, with what it needs back on its loop.
/// Only `batch` and the state are touched off the loop; whichever of the script thread
/// (`start`) and the loop (`takeBack`) moves the state first decides who answers it.
final class ScriptJob: @unchecked Sendable {
    let batch: OffloadedBatch
    let handler: ConnectionHandler
    let context: ChannelHandlerContext
    private let state = Atomic<UInt8>(ScriptJob.waiting)
    private static let waiting: UInt8 = 0, running: UInt8 = 1, takenBack: UInt8 = 2

    init(batch: OffloadedBatch, handler: ConnectionHandler, context: ChannelHandlerContext) {
        self.batch = batch
        self.handler = handler
        self.context = context
    }

    /// On the script thread: true if the job is to run.
    func start() -> Bool {
        state.compareExchange(expected: Self.waiting, desired: Self.running, ordering: .acquiringAndReleasing).exchanged
    }

    /// On the loop: true if the job had not started and is now the loop's to answer.
    func takeBack() -> Bool {
        state.compareExchange(expected: Self.waiting, desired: Self.takenBack, ordering: .acquiringAndReleasing).exchanged
    }

    var isTakenBack: Bool { state.load(ordering: .acquiring) == Self.takenBack }
}

/// The part of a batch that runs on the script thread, and what comes back.
struct OffloadedBatch {
    var ctx: CommandContext
    var commands: CommandBatch
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
