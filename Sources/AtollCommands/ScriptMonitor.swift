/// What connections may learn about the running script WITHOUT the keyspace lock (which the
/// script holds): since when it runs, whether it has written, and a SCRIPT KILL request.
/// Event loops read it to answer BUSY once a script runs past `busy-reply-threshold`.
import Synchronization

public final class ScriptMonitor: Sendable {
    /// Monotonic microseconds at which the running script started; 0 when none runs.
    private let startedAt = Atomic<Int>(0)
    private let thresholdMillis = Atomic<Int>(5000)
    private let wrote = Atomic<Bool>(false)
    private let kill = Atomic<Bool>(false)

    public init() {}

    func scriptStarted(now: Int, thresholdMillis: Int) {
        wrote.store(false, ordering: .relaxed)
        kill.store(false, ordering: .relaxed)
        self.thresholdMillis.store(thresholdMillis, ordering: .relaxed)
        startedAt.store(now, ordering: .releasing)
    }

    func scriptEnded() { startedAt.store(0, ordering: .releasing) }

    func scriptWrote() { wrote.store(true, ordering: .relaxed) }

    /// True while a script has run longer than the threshold: other clients get BUSY.
    public func isBusy(now: Int) -> Bool {
        let started = startedAt.load(ordering: .acquiring)
        return started != 0 && now - started >= thresholdMillis.load(ordering: .relaxed) * 1000
    }

    public enum KillOutcome { case killed, notBusy, unkillable }

    /// SCRIPT KILL while the script runs: refused once it has written, as in Redis.
    public func requestKill() -> KillOutcome {
        guard startedAt.load(ordering: .acquiring) != 0 else { return .notBusy }
        if wrote.load(ordering: .relaxed) { return .unkillable }
        kill.store(true, ordering: .releasing)
        return .killed
    }

    /// Stops the running script even if it wrote (the server is going away).
    public func abortForShutdown() { kill.store(true, ordering: .releasing) }

    /// Read by the script's instruction hook.
    func takeKillRequest() -> Bool { kill.exchange(false, ordering: .acquiringAndReleasing) }
}
