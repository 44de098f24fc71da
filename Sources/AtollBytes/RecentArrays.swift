/// `RecentArrays`: the last few distinct byte strings a caller met, as arrays. Command names
/// repeat (in a script's `redis.call`s), so an equal string reuses its array: no allocation.
public struct RecentArrays: Sendable {
    private var arrays: [[UInt8]] = []
    private var next = 0
    private let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    /// The remembered array equal to `bytes`, or a new one, remembered in place of the oldest
    /// once the list is full. The empty string is not remembered.
    public mutating func array(for bytes: UnsafeRawBufferPointer) -> [UInt8] {
        for array in arrays where sameBytes(array, bytes) { return array }
        let array = [UInt8](bytes)
        if bytes.isEmpty { return array }
        if arrays.count < capacity {
            arrays.append(array)
        } else {
            arrays[next] = array
            next = (next + 1) % capacity
        }
        return array
    }
}
