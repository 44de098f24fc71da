/// `CallArgumentPool`: the arrays `redis.call` arguments were last copied into, kept from call
/// to call. Scripts repeat their command names, keys and values, so a short string equal to
/// the one last seen in its place (for a command name: to one of the last few names) reuses
/// that array instead of allocating one; scripts that alternate commands (SET then GET) keep
/// their names and keys too.
import AtollBytes

struct CallArgumentPool {
    private var names = RecentArrays(capacity: 8)
    /// `values[i]` is the last array of argument `i + 1` (the one after the name).
    private var values: [[UInt8]] = []

    /// Longer strings are copied every time and never kept (a value may be 512 MB).
    static let maxLength = 64
    static let valueCount = 16

    /// An array holding `text`, argument `index` (0 for the command name) of a call.
    mutating func array(for text: UnsafeRawBufferPointer, at index: Int) -> [UInt8] {
        guard text.count <= Self.maxLength else { return [UInt8](text) }
        if index == 0 { return names.array(for: text) }
        let slot = index - 1
        if slot < values.count, sameBytes(values[slot], text) { return values[slot] }
        let value = [UInt8](text)
        if slot < values.count {
            values[slot] = value
        } else if slot == values.count && slot < Self.valueCount {
            values.append(value)
        }
        return value
    }
}
