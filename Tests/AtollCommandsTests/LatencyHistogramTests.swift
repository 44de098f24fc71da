import AtollCore
import Testing

/// The latency histogram reads back as redis-server 7.0.15 prints it: the percentiles in INFO
/// latencystats are the top of a two-significant-digit HdrHistogram sub-bucket (the values
/// below are the ones Redis printed for single calls of these durations), and LATENCY
/// HISTOGRAM's buckets are cumulative, keyed by the top of each power of two from 1024 ns.
@Suite struct LatencyHistogramTests {
    @Test(arguments: [(0, 1), (1, 1003), (6, 6015), (7, 7007), (10, 10047), (16, 16063), (28, 28031),
                      (30, 30079), (34, 34047), (49, 49151)])
    func singleSamplePercentilesAreTheTopOfItsSubBucket(micros: Int, nanos: Int) {
        var h = LatencyHistogram()
        h.record(micros: micros)
        #expect(h.value(atPercentile: 50) == nanos)
        #expect(h.value(atPercentile: 99.9) == nanos)
    }

    @Test func percentilesSplitTheSamples() {
        var h = LatencyHistogram()
        for _ in 0..<99 { h.record(micros: 1) }
        h.record(micros: 6)
        #expect(h.value(atPercentile: 50) == 1003)
        #expect(h.value(atPercentile: 99) == 1003)
        #expect(h.value(atPercentile: 99.9) == 6015)
        #expect(h.value(atPercentile: 0) == 1000)
        #expect(h.total == 100)
    }

    @Test func bucketsAreCumulativePowersOfTwo() {
        var h = LatencyHistogram()
        #expect(h.cumulativeBuckets().isEmpty)
        for micros in [0, 1, 1, 2, 3, 33, 34, 1000] { h.record(micros: micros) }
        let buckets = h.cumulativeBuckets()
        #expect(buckets.map(\.micros) == [1, 2, 4, 33, 66, 1056])
        #expect(buckets.map(\.count) == [3, 4, 5, 6, 7, 8])
    }

    @Test func durationsPastOneSecondAreClampedAndLeftOutOfTheBuckets() {
        var h = LatencyHistogram()
        h.record(micros: 5_000_000)
        #expect(h.total == 1)
        #expect(h.value(atPercentile: 50) == 1_002_438_655)
        #expect(h.cumulativeBuckets().isEmpty)
    }
}
