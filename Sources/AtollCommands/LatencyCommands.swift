/// LATENCY LATEST, HISTORY, RESET, GRAPH and DOCTOR over the latency monitor
/// (`ServerCore.latencyMonitor`); HISTOGRAM is the command statistics' (CommandStatistics).
import AtollBytes
import AtollCore
import AtollRESP

extension ServerCommands {
    /// An event's name as Redis reads it: the argument up to a NUL byte.
    private static func eventName(_ c: CommandContext, _ index: Int) -> String {
        String(decoding: c.args[index].prefix { $0 != 0 }, as: UTF8.self)
    }

    static func latencyLatest(_ c: inout CommandContext) {
        let events = c.server.latencyMonitor.events
        c.out.arrayHeader(events.count)
        for (name, series) in events {
            let latest = series.latest
            c.out.arrayHeader(4)
            c.out.bulk(name)
            c.out.integer(latest.time)
            c.out.integer(latest.millis)
            c.out.integer(series.highest)
        }
    }

    static func latencyHistory(_ c: inout CommandContext) {
        let samples = c.server.latencyMonitor.series(eventName(c, 2))?.samples ?? []
        c.out.arrayHeader(samples.count)
        for sample in samples {
            c.out.arrayHeader(2)
            c.out.integer(sample.time)
            c.out.integer(sample.millis)
        }
    }

    static func latencyReset(_ c: inout CommandContext) {
        guard c.args.count > 2 else { return c.out.integer(c.server.latencyMonitor.reset(nil)) }
        var resets = 0
        for index in 2..<c.args.count { resets += c.server.latencyMonitor.reset(eventName(c, index)) }
        c.out.integer(resets)
    }

    static func latencyGraph(_ c: inout CommandContext) {
        let event = eventName(c, 2)
        guard let series = c.server.latencyMonitor.series(event) else {
            return c.out.error("ERR No samples available for event '\(event)'")
        }
        let now = Int(c.now / 1000)
        let samples = series.samples
        var graph = Sparkline()
        for sample in samples {
            graph.append(Double(sample.millis), label: ago(now - sample.time))
        }
        let values = samples.map(\.millis)
        var text = Array("\(event) - high \(values.max() ?? 0) ms, low \(values.min() ?? 0) ms (all time high \(series.highest) ms)\n".utf8)
        text += [UInt8](repeating: UInt8(ascii: "-"), count: graphColumns) + [UInt8(ascii: "\n")]
        text += graph.render(columns: graphColumns, rows: 4)
        c.out.verbatim(String(decoding: text, as: UTF8.self))
    }

    private static let graphColumns = 80

    /// How long ago, as a graph label: seconds, minutes, hours or days.
    private static func ago(_ seconds: Int) -> String {
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86400: return "\(seconds / 3600)h"
        default: return "\(seconds / 86400)d"
        }
    }

    static func latencyDoctor(_ c: inout CommandContext) {
        c.out.verbatim(LatencyReport(c.server.latencyMonitor, threshold: c.server.config.latencyMonitorThreshold,
                                     now: Int(c.now / 1000)).text)
    }
}

/// LATENCY DOCTOR's report: each event's figures as Redis states them (spikes, average, mean
/// deviation, period, worst), then Atoll's own advice for the kinds of event seen.
struct LatencyReport {
    let text: String

    init(_ monitor: LatencyMonitor, threshold: Int, now: Int) {
        if monitor.events.isEmpty {
            text = threshold == 0
                ? "Latency monitoring is disabled. Turn it on with CONFIG SET latency-monitor-threshold <milliseconds>: events that take at least that long are then recorded.\n"
                : "No latency spike has been recorded since monitoring began.\n"
            return
        }
        var lines = ["Latency spikes were recorded:", ""]
        var advice: [String] = []
        for (number, event) in monitor.events.enumerated() {
            let figures = Figures(event.series.samples, now: now)
            lines.append("\(number + 1). \(event.name): \(figures.count) latency spikes (average \(figures.average)ms, mean deviation \(figures.deviation)ms, period \(formatFixed(Double(figures.period) / Double(figures.count), places: 2)) sec). Worst all time event \(event.series.highest)ms.")
            if let hint = Self.advice[event.name], !advice.contains(hint) { advice.append(hint) }
        }
        if !advice.isEmpty {
            lines += ["", "Advice:", ""] + advice.map { "- " + $0 }
        }
        text = lines.joined(separator: "\n") + "\n"
    }

    private static let advice: [String: String] = [
        "command": "Slow commands: SLOWLOG GET names them. Commands on large values (SORT, SUNION, ZUNIONSTORE, DEL of a big collection, KEYS) take time proportional to their size.",
        "fast-command": "Commands that should take microseconds took milliseconds: the machine itself (scheduling, swapping, a noisy neighbour) is the likely cause.",
        "expire-cycle": "Expiring keys took long: large values expiring together, or many keys expiring at once.",
        "eviction-del": "Evicting a key took long: large values are costly to delete.",
        "eviction-cycle": "Eviction took long: a sudden drop in maxmemory, or a large write, made many keys go at once.",
        "fork": "Forking for a background save or rewrite took long: the larger the dataset, the longer the fork.",
    ]

    /// Redis's analysis of a series: how many samples, their average and mean absolute
    /// deviation (both whole milliseconds), and the seconds since the oldest (at least 1).
    private struct Figures {
        var count = 0, average = 0, deviation = 0, period = 0

        init(_ samples: [LatencyMonitor.Sample], now: Int) {
            guard !samples.isEmpty else { return }
            count = samples.count
            average = samples.reduce(0) { $0 + $1.millis } / count
            deviation = samples.reduce(0) { $0 + abs(average - $1.millis) } / count
            period = max(now - (samples.map(\.time).min() ?? now), 1)
        }
    }
}
