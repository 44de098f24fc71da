/// INFO's instantaneous rates (`instantaneous_ops_per_sec`, `instantaneous_input_kbps`,
/// `instantaneous_output_kbps`), measured as Redis measures them: every 100 ms the background
/// task records each counter's rate per second since the previous sample, and a rate is the
/// mean of the last 16 samples (integer arithmetic, as Redis's).

/// The last samples of the rates of the commands processed and the bytes read and written.
public struct InstantaneousMetrics: Sendable {
    /// One counter's recent rates.
    public struct Series: Sendable {
        static let size = 16
        var samples = [Int](repeating: 0, count: Series.size)
        var next = 0
        var lastValue = 0
        var lastMillis: Int64 = 0

        mutating func record(_ value: Int, nowMillis: Int64) {
            let elapsed = nowMillis - lastMillis
            let delta = value - lastValue
            samples[next] = elapsed > 0 ? Int(Int64(delta) * 1000 / elapsed) : 0
            next = (next + 1) % Series.size
            lastValue = value
            lastMillis = nowMillis
        }

        /// The mean of the recent per-second rates.
        public var rate: Int { samples.reduce(0, +) / Series.size }
    }

    public private(set) var commands = Series()
    public private(set) var inputBytes = Series()
    public private(set) var outputBytes = Series()
    private var lastSample: Int64 = 0

    public init() {}

    /// Records a sample when 100 ms have passed since the last one (the background task calls
    /// it at every tick). The first sample measures from the epoch, so it counts as nothing.
    public mutating func sample(_ stats: ServerStats, nowMillis: Int64) {
        guard nowMillis - lastSample >= 100 else { return }
        lastSample = nowMillis
        commands.record(stats.totalCommands, nowMillis: nowMillis)
        inputBytes.record(stats.netInputBytes, nowMillis: nowMillis)
        outputBytes.record(stats.netOutputBytes, nowMillis: nowMillis)
    }
}
