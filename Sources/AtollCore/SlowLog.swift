/// The slow log: commands whose execution took at least `slowlog-log-slower-than` µs,
/// newest first, at most `slowlog-max-len` entries (Redis's format for SLOWLOG GET).
import AtollBytes
public struct SlowLog: Sendable {
    public struct Entry: Sendable {
        public let id: Int64
        public let timestamp: Int64
        public let durationMicros: Int
        public let args: [[UInt8]]
        public let clientAddress: String
        public let clientName: [UInt8]
    }

    public private(set) var entries: [Entry] = []   // newest last
    private var nextID: Int64 = 0

    public init() {}

    mutating func record(args: [[UInt8]], durationMicros: Int, client: ClientSession, now: Int64, maxLength: Int) {
        // As Redis: at most 32 arguments, the last one saying how many more; each at most 128 bytes.
        var kept: [[UInt8]] = []
        let limit = args.count > 32 ? 31 : args.count
        for arg in args.prefix(limit) {
            if arg.count > 128 {
                kept.append(Array(arg.prefix(128)) + Array("... (\(arg.count - 128) more bytes)".utf8))
            } else {
                kept.append(arg)
            }
        }
        if args.count > 32 { kept.append(Array("... (\(args.count - 31) more arguments)".utf8)) }
        entries.append(Entry(id: nextID, timestamp: now / 1000, durationMicros: durationMicros, args: kept,
                             clientAddress: client.address, clientName: client.name))
        nextID += 1
        if entries.count > maxLength { entries.removeFirst(entries.count - maxLength) }
    }

    public mutating func reset() { entries.removeAll() }
}
