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

/// Whether `array`'s storage is referenced only by `array`, so that it may be emptied and
/// refilled without a copy being anyone's concern. A native array is one reference to its
/// storage object (Linux has no bridged arrays); the check reads that object's reference
/// count and changes nothing. The reference is read as a native class's (`StorageReference`,
/// never instantiated): read as `AnyObject`, Swift 6's unoptimized code counts a copy of it.
@inlinable public func isOnlyReference(_ array: inout [UInt8]) -> Bool {
    withUnsafeMutablePointer(to: &array) { pointer in
        UnsafeMutableRawPointer(pointer).withMemoryRebound(to: StorageReference.self, capacity: 1) {
            isKnownUniquelyReferenced(&$0.pointee)
        }
    }
}

/// Stands for an array's storage object in `isOnlyReference`.
public final class StorageReference {
    private init() {}
}
