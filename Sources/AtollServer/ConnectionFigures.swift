/// `ConnectionFigures`: what CLIENT LIST shows of a connection's buffers, written by its handler
/// on the event loop and read by commands on any thread. An object of its own, which the handler
/// holds by a `let`: noted through the handler's optional `connection` (a `var`), each figure
/// cost a retain and a release, three times an unpipelined request.
import AtollCore
import Synchronization

final class ConnectionFigures: Sendable {
    private let queryBytes = Atomic<Int>(0)
    private let queryFree = Atomic<Int>(0)
    private let replyBufferSize = Atomic<Int>(0)
    private let replyBufferPeak = Atomic<Int>(0)

    /// Notes the input held (see `ConnectionBuffers.queryBytes`). On the loop.
    func noteInput(held: Int, free: Int) {
        queryBytes.store(held, ordering: .relaxed)
        queryFree.store(free, ordering: .relaxed)
    }

    /// Notes the reply buffer's capacity and what one batch wrote into it. On the loop.
    func noteReplyBuffer(capacity: Int, used: Int) {
        replyBufferSize.store(capacity, ordering: .relaxed)
        if used > replyBufferPeak.load(ordering: .relaxed) { replyBufferPeak.store(used, ordering: .relaxed) }
    }

    /// Copies the figures into `buffers`.
    func read(into buffers: inout ConnectionBuffers) {
        buffers.queryBytes = queryBytes.load(ordering: .relaxed)
        buffers.queryFree = queryFree.load(ordering: .relaxed)
        buffers.replyBufferSize = replyBufferSize.load(ordering: .relaxed)
        buffers.replyBufferPeak = replyBufferPeak.load(ordering: .relaxed)
    }
}
