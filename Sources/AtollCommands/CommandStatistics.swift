/// What Redis 7.0 reports of its per-command and per-error statistics (see `CommandStats` and
/// `ServerCore.account`): INFO's `# Commandstats`, `# Errorstats` and `# Latencystats`
/// sections, and LATENCY HISTOGRAM.
import AtollBytes
import AtollCore
import AtollRESP

enum CommandStatistics {
    /// Every command and subcommand, in the table's order (Redis lists them in its hash order).
    private static func everyCommand(_ server: ServerCore) -> [CommandSpec] {
        server.table.all.flatMap { [$0] + $0.subcommands }
    }

    /// `cmdstat_<name>:calls=...` for each command called, refused or failed since the last reset.
    static func commandstatsLines(_ server: ServerCore) -> [String] {
        everyCommand(server).filter { !$0.stats.isEmpty }.map { spec in
            let s = spec.stats
            // Redis divides in single precision.
            let perCall = s.calls == 0 ? 0 : Double(Float(s.micros) / Float(s.calls))
            return "cmdstat_\(spec.name):calls=\(s.calls),usec=\(s.micros),usec_per_call=\(formatFixed(perCall, places: 2)),"
                + "rejected_calls=\(s.rejectedCalls),failed_calls=\(s.failedCalls)"
        }
    }

    /// `errorstat_<CODE>:count=N`, in byte order of the codes, as Redis's radix tree lists them.
    static func errorstatsLines(_ server: ServerCore) -> [String] {
        server.errorCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { code, count in
            "errorstat_\(safeInfoText(code)):count=\(count)"
        }
    }

    /// `latency_percentiles_usec_<name>:p50=...` for each command with samples, while
    /// `latency-tracking` is on.
    static func latencystatsLines(_ server: ServerCore) -> [String] {
        guard server.latencyTracking else { return [] }
        let percentiles = server.config.latencyTrackingPercentiles
        return everyCommand(server).filter { !$0.stats.histogram.isEmpty }.map { spec in
            let histogram = spec.stats.histogram
            let values = percentiles.map { p in
                "p\(trimmedFixed(p))=\(formatFixed(Double(histogram.value(atPercentile: p)) / 1000, places: 3))"
            }
            return "latency_percentiles_usec_\(spec.name):" + values.joined(separator: ",")
        }
    }

    /// `printf("%f")` without its trailing zeros (and point): how Redis names a percentile.
    private static func trimmedFixed(_ value: Double) -> String {
        var text = formatFixed(value, places: 6)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// Redis's `getSafeInfoString`: `#`, `:`, CR and LF become `_` in a name INFO prints.
    private static func safeInfoText(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 == 35 || $0 == 58 || $0 == 13 || $0 == 10 ? 95 : $0 }, as: UTF8.self)
    }

    // MARK: - LATENCY HISTOGRAM

    /// LATENCY HISTOGRAM [command ...]: for each command with samples (every one, or those
    /// named, a container standing for its subcommands; unknown names are skipped), its
    /// sample count and cumulative power-of-two buckets.
    static func latencyHistogram(_ c: inout CommandContext) {
        var chosen: [CommandSpec] = []
        if c.args.count == 2 {
            chosen = everyCommand(c.server).filter { !$0.stats.histogram.isEmpty }
        } else {
            for name in c.args[2...] {
                guard let spec = ServerCommands.lookupFullName(c.server.table, name) else { continue }
                chosen += ([spec] + spec.subcommands).filter { !$0.stats.histogram.isEmpty }
            }
        }
        c.out.mapHeader(chosen.count)
        for spec in chosen {
            let histogram = spec.stats.histogram
            let buckets = histogram.cumulativeBuckets()
            c.out.bulk(spec.name)
            c.out.mapHeader(2)
            c.out.bulk("calls")
            c.out.integer(histogram.total)
            c.out.bulk("histogram_usec")
            c.out.mapHeader(buckets.count)
            for bucket in buckets {
                c.out.integer(bucket.micros)
                c.out.integer(bucket.count)
            }
        }
    }
}
