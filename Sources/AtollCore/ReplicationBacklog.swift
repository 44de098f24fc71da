/// `ReplicationBacklog`: the last `size` bytes of the replication stream, kept in a ring so a
/// replica that lost its link can continue from where it stopped (PSYNC's `+CONTINUE`).
///
/// Offsets are Redis's: the stream's first byte is offset 1, `endOffset` is the offset of the
/// last byte written (`master_repl_offset`), and the bytes kept run from `firstByteOffset`
/// (`repl_backlog_first_byte_offset`) for `histlen` bytes.
public struct ReplicationBacklog: Sendable {
    /// `repl-backlog-size`: how many bytes are kept at most.
    public let size: Int
    /// The bytes kept; grows up to `size`, then wraps around at `next`.
    private var ring: [UInt8] = []
    /// Where the next byte goes once the ring is full (its oldest byte).
    private var next = 0
    /// How many bytes the ring holds (`repl_backlog_histlen`).
    public private(set) var histlen = 0
    /// The offset of the last byte written.
    public private(set) var endOffset: Int64

    /// An empty backlog whose next byte will have offset `endOffset + 1`.
    public init(size: Int, endOffset: Int64) {
        self.size = max(size, 1)
        self.endOffset = endOffset
    }

    /// The offset of the oldest byte kept (`endOffset + 1` while empty).
    public var firstByteOffset: Int64 { endOffset - Int64(histlen) + 1 }

    /// Adds the stream's next bytes, dropping the oldest beyond `size`.
    public mutating func append(_ bytes: [UInt8]) {
        endOffset += Int64(bytes.count)
        var rest = bytes.count > size ? bytes[(bytes.count - size)...] : bytes[...]
        if ring.count < size {
            let taken = min(size - ring.count, rest.count)
            ring.append(contentsOf: rest.prefix(taken))
            rest = rest.dropFirst(taken)
        }
        while !rest.isEmpty {
            let taken = min(size - next, rest.count)
            ring.replaceSubrange(next..<(next + taken), with: rest.prefix(taken))
            next = (next + taken) % size
            rest = rest.dropFirst(taken)
        }
        histlen = ring.count
    }

    /// The bytes from `offset` to the end, or nil when `offset` is not kept (older than the
    /// oldest byte, or past the end + 1, which would be a stream we never wrote).
    public func bytes(from offset: Int64) -> [UInt8]? {
        guard offset >= firstByteOffset, offset <= endOffset + 1 else { return nil }
        let skip = Int(offset - firstByteOffset)
        let count = histlen - skip
        guard count > 0 else { return [] }
        let oldest = ring.count < size ? 0 : next
        let start = (oldest + skip) % ring.count
        if start + count <= ring.count { return Array(ring[start..<(start + count)]) }
        return Array(ring[start...]) + ring[..<(count - (ring.count - start))]
    }
}
