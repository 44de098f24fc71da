/// The size limits under which Redis keeps a small collection in a compact encoding
/// (listpack, intset). Atoll's own layout does not change with them; they decide what OBJECT
/// ENCODING reports, and, as in Redis, a collection that outgrows them never goes back.
public struct EncodingLimits: Sendable {
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    public var setMaxIntsetEntries = 512
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    /// A stream node (listpack) is closed once it would reach this size or hold this many
    /// entries; these do change Atoll's layout, as Redis's.
    public var streamNodeMaxBytes = 4096
    public var streamNodeMaxEntries = 100
    public init() {}
}
