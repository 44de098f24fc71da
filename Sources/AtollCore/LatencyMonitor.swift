/// The latency monitor (Redis's `latency.c`, LATENCY LATEST / HISTORY / RESET / GRAPH /
/// DOCTOR): with `latency-monitor-threshold` above 0, every event that took at least that many
/// milliseconds (a command, the active expiry cycle, an eviction, a fork, an fsync) is kept
/// as a sample of its event's time series: the last 160 seconds that had one, at most one
/// sample per second (the highest), and the highest ever seen.
public struct LatencyMonitor {
    /// One second's worst latency of an event.
    public struct Sample: Equatable {
        /// Unix seconds.
        public var time: Int
        public var millis: Int
    }

    /// An event's history: a ring of `capacity` samples, oldest first from `next`.
    public struct Series {
        public static let capacity = 160
        fileprivate var ring = [Sample?](repeating: nil, count: Series.capacity)
        fileprivate var next = 0
        /// The highest latency recorded since the series began.
        public fileprivate(set) var highest = 0

        /// The samples, oldest first.
        public var samples: [Sample] {
            (0..<Self.capacity).compactMap { ring[(next + $0) % Self.capacity] }
        }

        /// The most recent sample (Redis answers the slot before `next` even when empty).
        public var latest: Sample {
            ring[(next + Self.capacity - 1) % Self.capacity] ?? Sample(time: 0, millis: 0)
        }

        fileprivate mutating func add(millis: Int, now: Int) {
            highest = max(highest, millis)
            let previous = (next + Self.capacity - 1) % Self.capacity
            if let last = ring[previous], last.time == now {
                ring[previous]!.millis = max(last.millis, millis)
                return
            }
            ring[next] = Sample(time: now, millis: millis)
            next = (next + 1) % Self.capacity
        }
    }

    /// Events in the order they were first recorded.
    public private(set) var events: [(name: String, series: Series)] = []

    public init() {}

    /// Records that `event` took `millis` milliseconds at Unix second `now` (the caller has
    /// compared it with the threshold).
    public mutating func add(_ event: String, millis: Int, now: Int) {
        if let index = events.firstIndex(where: { $0.name == event }) {
            events[index].series.add(millis: millis, now: now)
        } else {
            var series = Series()
            series.add(millis: millis, now: now)
            events.append((event, series))
        }
    }

    /// The series of `event`, named exactly (LATENCY HISTORY and GRAPH look it up that way).
    public func series(_ event: String) -> Series? {
        events.first { $0.name == event }?.series
    }

    /// Forgets `event` (compared without case, as LATENCY RESET does), or every event when
    /// nil; how many were forgotten.
    public mutating func reset(_ event: String?) -> Int {
        let before = events.count
        if let event {
            let lowered = event.lowercased()
            events.removeAll { $0.name.lowercased() == lowered }
        } else {
            events.removeAll()
        }
        return before - events.count
    }
}

extension ServerCore {
    /// Records `event` in the latency monitor if it took at least `latency-monitor-threshold`
    /// milliseconds (Redis's `latencyAddSampleIfNeeded`).
    public func noteLatency(_ event: String, millis: Int) {
        let threshold = config.latencyMonitorThreshold
        guard threshold > 0 && millis >= threshold else { return }
        latencyMonitor.add(event, millis: millis, now: Int(clock.nowMillis() / 1000))
    }

    /// Whether the monitor is on, so that events worth timing only for it are timed.
    @inlinable public var latencyMonitorOn: Bool { config.latencyMonitorThreshold > 0 }
}
