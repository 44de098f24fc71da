/// INFO's `client_recent_max_input_buffer` and `client_recent_max_output_buffer`: the largest
/// input and output buffer any client had in the last 8 seconds, kept as Redis keeps them, one
/// slot per second, filled by the background task.

/// The largest client buffers seen in each of the last 8 seconds.
public struct ClientBufferPeaks: Sendable {
    static let slots = 8
    private var input = [Int](repeating: 0, count: ClientBufferPeaks.slots)
    private var output = [Int](repeating: 0, count: ClientBufferPeaks.slots)
    private var lastSecond: Int64 = -1

    public init() {}

    /// Starts the slot of the second `nowMillis` falls in (and clears those of seconds passed
    /// without a tick); the background task calls it before noting the clients.
    public mutating func advance(nowMillis: Int64) {
        let second = nowMillis / 1000
        guard second != lastSecond else { return }
        let passed = lastSecond < 0 ? Int64(Self.slots) : min(second - lastSecond, Int64(Self.slots))
        for s in 0..<passed {
            let slot = Int((second - s) % Int64(Self.slots))
            input[slot] = 0
            output[slot] = 0
        }
        lastSecond = second
    }

    /// Notes one client's buffers in the current second's slot.
    public mutating func note(input inputBytes: Int, output outputBytes: Int) {
        let slot = Int(max(lastSecond, 0) % Int64(Self.slots))
        input[slot] = max(input[slot], inputBytes)
        output[slot] = max(output[slot], outputBytes)
    }

    /// The largest input buffer of the last 8 seconds.
    public var recentMaxInput: Int { input.max() ?? 0 }
    /// The largest output buffer of the last 8 seconds.
    public var recentMaxOutput: Int { output.max() ?? 0 }
}
