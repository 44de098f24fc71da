/// A command's latency distribution, laid out as Redis keeps it: an HdrHistogram of
/// nanoseconds from 1 ns to 1 s with two significant digits (256 sub-buckets, the upper 128 of
/// each power of two), so that INFO latencystats' percentiles and LATENCY HISTOGRAM's buckets
/// come out as Redis prints them. Durations are whole microseconds, recorded as µs × 1000.
/// The counts (3,072 of them) are allocated on the first sample, as Redis creates a command's
/// histogram on its first call; recording then allocates nothing.
public struct LatencyHistogram: Sendable {
    /// Samples per sub-bucket; empty until the first sample.
    private var counts: [UInt32] = []
    /// Samples recorded.
    public private(set) var total = 0

    /// The range Redis tracks, in nanoseconds; values outside are clamped to it.
    static let lowest = 1
    static let highest = 1_000_000_000
    /// Sub-buckets for values up to `highest` (Redis's `counts_len`).
    static let countsLength = 3072

    public init() {}

    /// True until a sample is recorded (Redis has no histogram for the command then).
    @inlinable public var isEmpty: Bool { total == 0 }

    /// Records a command that took `micros` microseconds.
    public mutating func record(micros: Int) {
        if counts.isEmpty { counts = Array(repeating: 0, count: Self.countsLength) }
        let nanos = min(max(micros &* 1000, Self.lowest), Self.highest)
        counts[Self.index(of: nanos)] &+= 1
        total += 1
    }

    /// The sub-bucket holding `value` (Redis's `counts_index_for`).
    static func index(of value: Int) -> Int {
        let bucket = bucketIndex(value)
        return ((bucket + 1) << 7) + ((value >> bucket) - 128)
    }

    private static func bucketIndex(_ value: Int) -> Int {
        56 - (value | 255).leadingZeroBitCount
    }

    /// The lowest value of sub-bucket `index`.
    static func value(at index: Int) -> Int {
        var bucket = (index >> 7) - 1
        var sub = (index & 127) + 128
        if bucket < 0 {
            sub -= 128
            bucket = 0
        }
        return sub << bucket
    }

    /// The highest value counted as equal to `value` (the top of its sub-bucket).
    static func highestEquivalent(_ value: Int) -> Int {
        let bucket = bucketIndex(value)
        return ((value >> bucket) << bucket) + (1 << bucket) - 1
    }

    /// The value below which `percentile` percent of the samples fall, in nanoseconds: the top
    /// of the sub-bucket that reaches that count (the bottom for the 0th percentile).
    public func value(atPercentile percentile: Double) -> Int {
        let requested = min(percentile, 100)
        let wanted = max(Int((requested / 100) * Double(total) + 0.5), 1)
        var seen = 0
        for (i, count) in counts.enumerated() where count > 0 {
            seen += Int(count)
            if seen >= wanted {
                let v = Self.value(at: i)
                return percentile == 0 ? v : Self.highestEquivalent(v)
            }
        }
        return 0
    }

    /// LATENCY HISTOGRAM's buckets: for each power of two from 1024 ns on (while the histogram
    /// reaches it), the samples up to it, cumulatively, keyed by that bucket's top in whole
    /// microseconds; buckets that add no samples are left out.
    public func cumulativeBuckets() -> [(micros: Int, count: Int)] {
        var out: [(micros: Int, count: Int)] = []
        var level = 1024
        var seen = 0
        var next = 0
        var previous = 0
        while true {
            let limit = Self.index(of: level)
            guard limit < counts.count else { break }
            while next <= limit {
                seen += Int(counts[next])
                next += 1
            }
            if seen > previous { out.append((Self.highestEquivalent(level) / 1000, seen)) }
            previous = seen
            if seen >= total { break }
            level *= 2
        }
        return out
    }
}
