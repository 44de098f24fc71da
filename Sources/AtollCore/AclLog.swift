/// ACL LOG: the recent refusals (commands, keys, channels, failed authentications), newest
/// first. A refusal like one among the ten newest (same reason, context, object and user, within
/// a minute of it) counts into that entry and moves it to the front, as in Redis.
public struct AclLog: Sendable {
    /// Where a refusal happened: ACL LOG's `context`.
    public enum Context: String, Sendable {
        case toplevel, multi, lua
    }

    public struct Entry: Sendable {
        public var count: Int
        public let reason: AclDenialReason
        public let context: Context
        public let object: [UInt8]
        public let username: [UInt8]
        /// Unix milliseconds of the latest refusal counted here.
        public var lastMillis: Int64
        /// CLIENT LIST's line for the latest client refused.
        public var clientInfo: String
    }

    /// Newest first.
    public private(set) var entries: [Entry] = []

    /// Refusals this far apart (ms) are logged apart.
    private static let groupingWindow: Int64 = 60_000
    /// How many of the newest entries a refusal is compared with.
    private static let entriesCompared = 10

    public init() {}

    mutating func add(_ entry: Entry, maxLength: Int) {
        for i in entries.indices.prefix(Self.entriesCompared) {
            let old = entries[i]
            if old.reason == entry.reason && old.context == entry.context && abs(old.lastMillis - entry.lastMillis) <= Self.groupingWindow
                && old.object == entry.object && old.username == entry.username {
                var merged = entries.remove(at: i)
                merged.count += 1
                merged.lastMillis = entry.lastMillis
                merged.clientInfo = entry.clientInfo
                entries.insert(merged, at: 0)
                return
            }
        }
        entries.insert(entry, at: 0)
        if entries.count > maxLength { entries.removeLast(entries.count - maxLength) }
    }

    public mutating func reset() { entries = [] }
}
