/// Per-command and per-error statistics as Redis 7.0 keeps them (INFO commandstats,
/// errorstats and latencystats, LATENCY HISTOGRAM): the dispatcher calls `account` after each
/// command ran, `noteRejected` when it refused one, and `takeErrors` for error replies written
/// outside a command (an unknown command). A command `failed` when it wrote an error reply
/// while it ran; each error reply counts once in `total_error_replies` and under its code.
import AtollRESP

extension ServerCore {
    /// Whether commands' latencies go into their histograms (`latency-tracking`).
    @inlinable public var latencyTracking: Bool { storedLatencyTracking }

    /// After `spec` ran for `elapsed` microseconds: a call, unless it parked the client (it is
    /// counted when it is served or times out, as in Redis), and a failure if it wrote an error.
    @inline(__always)
    func account(_ spec: CommandSpec, _ ctx: inout CommandContext, elapsed: Int) {
        if ctx.out.hasErrors {
            spec.stats.noteFailed()
            takeErrors(&ctx.out)
        }
        if !ctx.blockRequested { spec.stats.record(elapsed: elapsed, tracking: storedLatencyTracking) }
        if latencyMonitorOn { noteLatency(spec.flags.contains(.fast) ? "fast-command" : "command", millis: elapsed / 1000) }
    }

    /// A command refused before it ran (arity, NOAUTH, MISCONF, a script's refusal ...).
    public func noteRejected(_ spec: CommandSpec) { spec.stats.noteRejected() }

    /// A parked command released by its timeout or CLIENT UNBLOCK: one call (and a failure with
    /// an error), as Redis counts it then.
    func accountUnblocked(_ spec: CommandSpec, failed: Bool) {
        spec.stats.record(elapsed: 0, tracking: storedLatencyTracking)
        if failed { spec.stats.noteFailed() }
    }

    /// Counts the error replies `out` recorded and forgets them.
    public func takeErrors(_ out: inout ReplyWriter) {
        stats.totalErrorReplies += out.errorCodes.count
        for code in out.errorCodes { errorCounts[code, default: 0] += 1 }
        out.errorCodes.removeAll()
        out.uncountedErrors = 0
    }

    /// Counts one error reply written without a `ReplyWriter` (the whole line, `-CODE ...`).
    public func countErrorLine<Line: Collection<UInt8>>(_ line: Line) {
        stats.totalErrorReplies += 1
        errorCounts[ReplyWriter.errorCode(line, dashed: true), default: 0] += 1
    }

    /// CONFIG RESETSTAT: every command's counters and histogram, and the error counts.
    public func resetCommandStatistics() {
        for spec in table.all {
            spec.stats.reset()
            for sub in spec.subcommands { sub.stats.reset() }
        }
        errorCounts = [:]
    }
}

extension ServerConfiguration {
    /// `latency-tracking`: whether commands' latency histograms are kept.
    public var latencyTracking: Bool { storedParameters["latency-tracking"] != "no" }

    /// `latency-tracking-info-percentiles`: the percentiles INFO latencystats prints.
    public var latencyTrackingPercentiles: [Double] {
        (storedParameters["latency-tracking-info-percentiles"] ?? "50 99 99.9").split(separator: " ").compactMap { Double($0) }
    }
}
