/// Emptying an array that is reused (argument lists, batches) without giving up its storage.
extension Array {
    /// Removes every element and keeps the capacity, by a loop the compiler specializes for
    /// the element type. `removeAll(keepingCapacity: true)` goes through the generic
    /// `replaceSubrange` and the runtime's `swift_arrayDestroy`: some 400 instructions for a
    /// two-argument command, more than decoding it.
    @inlinable public mutating func removeAllKeepingCapacity() {
        while !isEmpty { removeLast() }
    }
}
