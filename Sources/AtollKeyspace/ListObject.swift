/// The list type: a double-ended queue, O(1) at both ends and by index.
import AtollBytes
import DequeModule

public final class ListObject: @unchecked Sendable {
    public var items = Deque<Bytes>()

    public init() {}

    public var count: Int { items.count }

    public func copy() -> ListObject {
        let other = ListObject()
        other.items = items
        return other
    }
}
