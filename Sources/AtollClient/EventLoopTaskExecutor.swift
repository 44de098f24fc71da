/// Running callers on the event loops their connections live on. A task that prefers an
/// `EventLoopTaskExecutor` (`Task(executorPreference:)`, `TaskGroup.addTask(executorPreference:)`,
/// `withTaskExecutorPreference`) runs on that loop's thread, as the channel handlers do. Its
/// requests then cross no thread: `RedisClient` sends them on a shared connection of the same
/// loop, the write is scheduled on the loop without waking it, and the reply resumes the task
/// on the loop that read it, with no worker thread of the global executor to wake. Each round
/// trip saves the two cross-thread wake-ups, which are kernel time: the client's CPU per
/// request fell to about redis-benchmark's, though the task's executor preference costs some
/// user-space instructions (docs/BENCHMARKS.md, fifth pass). This is how an application built
/// on SwiftNIO (a server whose handlers call Redis) would run anyway; plain tasks work as
/// before.
import NIOCore
import NIOPosix

/// A `TaskExecutor` that runs jobs on one SwiftNIO event loop.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    /// The loop the jobs run on.
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// One executor per loop of `group` (by default the one clients use by default), in the
    /// group's order.
    public static func executors(for group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        -> [EventLoopTaskExecutor] {
        group.makeIterator().map { EventLoopTaskExecutor($0) }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
