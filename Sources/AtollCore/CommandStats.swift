/// What INFO commandstats and LATENCY HISTOGRAM report of one command (or subcommand):
/// calls, their total time, the calls refused before running (`rejected_calls`) and those
/// that replied an error (`failed_calls`), and the latency histogram. Updated by the
/// dispatcher under the keyspace lock, without allocating (but for the histogram's first
/// sample); CONFIG RESETSTAT zeroes it.
public final class CommandStats: @unchecked Sendable {
    // Unchecked (`@exclusivity`): touched on every command, only by the holder of the keyspace lock.
    @exclusivity(unchecked) public internal(set) var calls = 0
    @exclusivity(unchecked) public internal(set) var micros = 0
    @exclusivity(unchecked) public internal(set) var rejectedCalls = 0
    @exclusivity(unchecked) public internal(set) var failedCalls = 0
    @exclusivity(unchecked) public internal(set) var histogram = LatencyHistogram()

    init() {}

    /// Whether INFO commandstats lists the command (it was called, refused or failed).
    public var isEmpty: Bool { calls == 0 && rejectedCalls == 0 && failedCalls == 0 }

    /// A call that took `elapsed` microseconds; with `tracking` (`latency-tracking yes`) it
    /// also goes into the histogram.
    @inline(__always) func record(elapsed: Int, tracking: Bool) {
        calls &+= 1
        micros &+= elapsed
        if tracking { histogram.record(micros: elapsed) }
    }

    func noteFailed() { failedCalls &+= 1 }
    func noteRejected() { rejectedCalls &+= 1 }

    func reset() {
        calls = 0
        micros = 0
        rejectedCalls = 0
        failedCalls = 0
        histogram = LatencyHistogram()
    }
}
