/// A stream entry ID: milliseconds and a sequence number, both unsigned 64-bit, ordered by
/// milliseconds then sequence, written `ms-seq`.

public struct StreamID: Comparable, Hashable, Sendable {
    // CSearch's searches read arrays of IDs as pairs of 64-bit words: keep these two stored
    // properties, in this order.
    public var ms: UInt64
    public var seq: UInt64

    @inlinable public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    public static let zero = StreamID(ms: 0, seq: 0)
    public static let max = StreamID(ms: .max, seq: .max)

    @inlinable public static func < (a: StreamID, b: StreamID) -> Bool {
        a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq
    }

    /// The next ID up, or nil after `max`.
    @inlinable public var successor: StreamID? {
        if seq != .max { return StreamID(ms: ms, seq: seq + 1) }
        if ms != .max { return StreamID(ms: ms + 1, seq: 0) }
        return nil
    }

    /// The next ID down, or nil before `zero`.
    @inlinable public var predecessor: StreamID? {
        if seq != 0 { return StreamID(ms: ms, seq: seq - 1) }
        if ms != 0 { return StreamID(ms: ms - 1, seq: .max) }
        return nil
    }

    /// `ms-seq` as bytes.
    public var text: [UInt8] {
        var out = Array(String(ms).utf8)
        out.append(UInt8(ascii: "-"))
        out.append(contentsOf: String(seq).utf8)
        return out
    }
}
