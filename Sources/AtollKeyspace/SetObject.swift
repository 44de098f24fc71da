/// The set type: members with stable slots for SSCAN, SPOP and SRANDMEMBER.
import AtollBytes

public final class SetObject: @unchecked Sendable {
    public var members = SlotMap<Void>()
    /// Whether Redis would still hold this set as an intset (OBJECT ENCODING).
    public var compact = true

    public init() {}

    public var count: Int { members.count }

    public func copy() -> SetObject {
        let other = SetObject()
        other.members = members
        other.compact = compact
        return other
    }
}
