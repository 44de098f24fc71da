/// The hash type: field → value, with stable slots for HSCAN and random fields.
import AtollBytes

public final class HashObject: @unchecked Sendable {
    public var fields = SlotMap<Bytes>()
    /// Whether Redis would still hold this hash as a listpack (OBJECT ENCODING).
    public var compact = true

    public init() {}

    public var count: Int { fields.count }

    public func copy() -> HashObject {
        let other = HashObject()
        other.fields = fields
        other.compact = compact
        return other
    }
}
