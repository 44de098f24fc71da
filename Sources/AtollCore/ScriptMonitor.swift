/// What connections may learn about the running script WITHOUT the keyspace lock (which the
/// script holds): since when it runs, whether it is an EVAL or a function, whether it has
/// written, and a kill request. Event loops read it to answer BUSY once a script runs past
/// `busy-reply-threshold`, and to take SCRIPT KILL, FUNCTION KILL and SHUTDOWN NOSAVE.
import Synchronization

public final class ScriptMonitor: Sendable {
    /// Monotonic microseconds at which the running script started; 0 when none runs.
    private let startedAt = Atomic<Int>(0)
    /// The threshold in microseconds, saturated (a threshold of 2^63-1 ms is accepted).
    private let thresholdMicros = Atomic<Int>(5_000_000)
    private let isFunction = Atomic<Bool>(false)
    private let wrote = Atomic<Bool>(false)
    private let kill = Atomic<Bool>(false)
    /// Set for good once the server is stopping: every script from then on is killed.
    private let stopping = Atomic<Bool>(false)

    public init() {}

    package func scriptStarted(now: Int, thresholdMillis: Int, isFunction: Bool) {
        wrote.store(false, ordering: .relaxed)
        kill.store(stopping.load(ordering: .relaxed), ordering: .relaxed)
        self.isFunction.store(isFunction, ordering: .relaxed)
        let (micros, overflow) = max(thresholdMillis, 0).multipliedReportingOverflow(by: 1000)
        thresholdMicros.store(overflow ? Int.max : micros, ordering: .relaxed)
        startedAt.store(now, ordering: .releasing)
    }

    package func scriptEnded() { startedAt.store(0, ordering: .releasing) }

    package func scriptWrote() { wrote.store(true, ordering: .relaxed) }

    /// True while a script has run longer than the threshold: other clients get BUSY.
    public func isBusy(now: Int) -> Bool {
        let started = startedAt.load(ordering: .acquiring)
        guard started != 0 else { return false }
        let (elapsed, overflow) = now.subtractingReportingOverflow(started)
        return !overflow && elapsed >= thresholdMicros.load(ordering: .relaxed)
    }

    /// The BUSY error for the running script (Redis names the command that can stop it).
    public var busyError: StaticString {
        isFunction.load(ordering: .relaxed)
            ? "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
            : "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    }

    /// SCRIPT KILL (`byFunctionKill` false) or FUNCTION KILL while a script runs: refused once
    /// it has written, and when it is the other kind of script, as in Redis. Returns the reply.
    public func requestKill(byFunctionKill: Bool) -> StaticString {
        guard startedAt.load(ordering: .acquiring) != 0 else { return "-NOTBUSY No scripts in execution right now.\r\n" }
        if wrote.load(ordering: .relaxed) {
            return "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n"
        }
        if isFunction.load(ordering: .relaxed) != byFunctionKill { return busyError }
        kill.store(true, ordering: .releasing)
        return "+OK\r\n"
    }

    /// Set by SHUTDOWN NOSAVE while a script is busy: the shutdown that follows saves nothing
    /// (what a killed script wrote half-way must not reach a snapshot the user did not ask for).
    private let noSave = Atomic<Bool>(false)

    /// Stops the running script even if it wrote, and every script after it (the server is
    /// going away).
    public func abortForShutdown() {
        stopping.store(true, ordering: .relaxed)
        kill.store(true, ordering: .releasing)
    }

    /// SHUTDOWN NOSAVE while a script is busy: as `abortForShutdown`, without a final save.
    func abortForShutdownWithoutSave() {
        noSave.store(true, ordering: .relaxed)
        abortForShutdown()
    }

    /// Whether the shutdown under way was asked not to save.
    public var shutdownWithoutSave: Bool { noSave.load(ordering: .relaxed) }

    /// The shutdown did not happen (its final save failed): scripts run again.
    public func shutdownAbandoned() { stopping.store(false, ordering: .relaxed) }

    /// Read by the script's instruction hook.
    package func takeKillRequest() -> Bool { kill.exchange(false, ordering: .acquiringAndReleasing) }
}
