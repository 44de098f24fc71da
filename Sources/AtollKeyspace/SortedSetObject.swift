/// The sorted set type: member → score, ordered by (score, member bytes).
import AtollBytes

public final class SortedSetObject: @unchecked Sendable {
    public var scores = SlotMap<Double>()
    /// Whether Redis would still hold this set as a listpack (OBJECT ENCODING).
    public var compact = true

    public init() {}

    public var count: Int { scores.count }

    public func copy() -> SortedSetObject {
        let other = SortedSetObject()
        other.scores = scores
        other.compact = compact
        return other
    }
}
