/// `PackedObject`: the base of the collection objects (hashes, sorted sets) whose small form is
/// a run of packed bytes (`PackedBytes`), kept in the object's own allocation.
///
/// A small collection is then one heap block, as a Redis listpack is: the object header, a
/// few counters and the bytes, with no separate array buffer. Commands hold the object by
/// reference and change it in place, so the object cannot be reallocated when the bytes
/// outgrow it; they move instead to a bigger `PackedObject` that this one refers to from its
/// tail (`moved`). A collection that converts to its large form keeps that form in the tail
/// the same way (`converted`). The tail is therefore always at least one reference wide.
///
/// Subclasses are created with `make(capacity:)` and must not add stored properties (the
/// rule for `ManagedBuffer`).
import AtollBytes
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct PackedHeader {
    @inlinable init(used: UInt32, count: UInt32, mode: PackedMode) {
        self.used = used
        self.count = count
        self.mode = mode
    }

    /// Bytes of packed entries at the start of the tail (`inline` mode).
    @usableFromInline var used: UInt32
    /// Entries in those bytes.
    @usableFromInline var count: UInt32
    @usableFromInline var mode: PackedMode
}

@usableFromInline enum PackedMode: UInt8 {
    /// The tail holds the packed bytes.
    case inline
    /// The packed bytes are in the `PackedObject` the tail refers to.
    case moved
    /// The collection is in its large form, an object the tail refers to.
    case converted
}

public class PackedObject: ManagedBuffer<PackedHeader, UInt8> {
    /// An empty object with room for at least `capacity` packed bytes.
    @inlinable static func make(capacity: Int) -> Self {
        let made = create(minimumCapacity: max(capacity, MemoryLayout<UInt>.size)) { _ in
            PackedHeader(used: 0, count: 0, mode: .inline)
        }
        return unsafeDowncast(made, to: self)
    }

    deinit {
        if header.mode != .inline { Unmanaged<AnyObject>.fromOpaque(tailPointer).release() }
    }

    // MARK: - The tail reference

    /// The object the tail refers to (mode `moved` or `converted`).
    @inlinable final var tailPointer: UnsafeRawPointer {
        withUnsafeMutablePointerToElements {
            UnsafeRawPointer(bitPattern: UnsafeRawPointer($0).loadUnaligned(as: UInt.self)).unsafelyUnwrapped
        }
    }

    @inlinable final var tailObject: AnyObject {
        Unmanaged<AnyObject>.fromOpaque(tailPointer).takeUnretainedValue()
    }

    /// Makes the tail refer to `object` (dropping the packed bytes, or the object it referred to).
    @usableFromInline final func setTail(_ object: AnyObject, mode: PackedMode) {
        let old: Unmanaged<AnyObject>? = header.mode == .inline ? nil : Unmanaged.fromOpaque(tailPointer)
        let new = Unmanaged.passRetained(object).toOpaque()
        withUnsafeMutablePointerToElements {
            UnsafeMutableRawPointer($0).storeBytes(of: UInt(bitPattern: new), as: UInt.self)
        }
        header.mode = mode
        header.used = 0
        header.count = 0
        old?.release()
    }

    /// The header, read through its pointer: `ManagedBuffer.header` is a class stored property,
    /// so reading it makes a runtime exclusivity check, on every packed hash field access.
    /// Objects are only touched under the keyspace lock, so there is nothing to check.
    @inlinable final var headerValue: PackedHeader { withUnsafeMutablePointerToHeader { $0.pointee } }

    @inlinable final var isConverted: Bool { headerValue.mode == .converted }

    /// The object holding the packed bytes: this one, or the one they moved to.
    @inlinable final var holder: PackedObject {
        headerValue.mode == .moved ? unsafeDowncast(tailObject, to: PackedObject.self) : self
    }

    // MARK: - The packed bytes (not converted)

    @inlinable final var packedCount: Int { Int(holder.headerValue.count) }
    @inlinable final var packedByteCount: Int { Int(holder.headerValue.used) }

    /// Calls `body` with the packed bytes.
    @inlinable final func withPacked<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try holder.withUnsafeMutablePointers { header, elements in
            try body(UnsafeRawBufferPointer(start: elements, count: Int(header.pointee.used)))
        }
    }

    /// Replaces the packed bytes in `range` with `length` bytes that `fill` writes, and adds
    /// `countChange` to the entry count. Bytes that no longer fit move to a bigger object,
    /// with a quarter to spare so that growing one entry at a time stays amortised O(1).
    @usableFromInline final func replacePacked(_ range: Range<Int>, length: Int, countChange: Int,
                                               _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        var target = holder
        let used = Int(target.headerValue.used)
        let newUsed = used - range.count + length
        if newUsed > target.capacity {
            let bigger = PackedObject.make(capacity: max(newUsed, used + used / 4))
            target.withUnsafeMutablePointers { header, elements in
                bigger.withUnsafeMutablePointers { biggerHeader, biggerElements in
                    biggerElements.update(from: elements, count: used)
                    biggerHeader.pointee.used = header.pointee.used
                    biggerHeader.pointee.count = header.pointee.count
                }
            }
            setTail(bigger, mode: .moved)
            target = bigger
        }
        target.withUnsafeMutablePointers { header, elements in
            let tailLength = used - range.upperBound
            if tailLength > 0 && length != range.count {
                memmove(elements + range.lowerBound + length, elements + range.upperBound, tailLength)
            }
            fill(UnsafeMutableRawBufferPointer(start: elements + range.lowerBound, count: length))
            header.pointee.used = UInt32(newUsed)
            header.pointee.count = UInt32(Int(header.pointee.count) + countChange)
        }
    }

    /// Appends one entry of `length` bytes that `fill` writes, unless `isPresent` finds it in the
    /// packed bytes already (false: nothing added). For an object made with `reserved` bytes of
    /// room (`make(capacity:)`) whose bytes have not moved, an entry that fits is written without
    /// looking the room up (a `malloc_usable_size` call) or retaining the holder: the path of a
    /// collection being loaded.
    @usableFromInline final func appendUnlessPresent(length: Int, reserved: Int, isPresent: (UnsafeRawBufferPointer) -> Bool,
                                                     fill: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
        var appended: Bool?
        if headerValue.mode == .inline {
            appended = withUnsafeMutablePointers { header, elements -> Bool? in
                let used = Int(header.pointee.used)
                if isPresent(UnsafeRawBufferPointer(start: elements, count: used)) { return false }
                guard used + length <= reserved else { return nil }
                fill(UnsafeMutableRawBufferPointer(start: elements + used, count: length))
                header.pointee.used = UInt32(used + length)
                header.pointee.count += 1
                return true
            }
            // Nil: not present, but the room has to be looked up.
            if let appended { return appended }
        } else if withPacked(isPresent) {
            return false
        }
        let end = packedByteCount
        replacePacked(end..<end, length: length, countChange: 1, fill)
        return true
    }

    /// Appends already packed bytes holding `entries` entries.
    @usableFromInline final func appendPacked(_ bytes: UnsafeRawBufferPointer, entries: Int) {
        let end = packedByteCount
        replacePacked(end..<end, length: bytes.count, countChange: entries) {
            if bytes.count > 0 { $0.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        }
    }

    /// Removes the packed bytes in `range`, which held `entries` entries.
    @usableFromInline final func removePacked(_ range: Range<Int>, entries: Int) {
        replacePacked(range, length: 0, countChange: -entries) { _ in }
    }

    /// A new object of the same class holding a copy of these packed bytes, exactly sized.
    @usableFromInline final func copyPacked() -> Self {
        let other = Self.make(capacity: packedByteCount)
        withPacked { other.appendPacked($0, entries: packedCount) }
        return other
    }
}
