/// Byte strings packed one after another into a single `[UInt8]`, each behind its length as
/// an LEB128 varint: the compact (listpack-like) form small hashes and sorted sets keep, one
/// heap buffer instead of an array of `Bytes` per collection.
import AtollBytes

@usableFromInline enum PackedBytes {
    /// Appends `bytes` with its length prefix.
    @inlinable static func append(_ bytes: Bytes, to buffer: inout [UInt8]) {
        appendLength(bytes.count, to: &buffer)
        bytes.withUnsafeBytes { buffer.append(contentsOf: $0) }
    }

    /// Makes room for `extra` more bytes, growing by a quarter rather than doubling: a small
    /// collection's buffer stays close to its exact size (as a listpack's realloc keeps it)
    /// while appending stays amortised O(1).
    @inlinable static func reserve(_ extra: Int, in buffer: inout [UInt8]) {
        let needed = buffer.count + extra
        if needed > buffer.capacity { buffer.reserveCapacity(max(needed, buffer.count + buffer.count / 4)) }
    }

    /// The bytes `append` writes for a string of `length` bytes (with `prefix` in place of
    /// the length, the bytes of that varint plus `length`).
    @inlinable static func encodedSize(_ length: Int, prefix: Int? = nil) -> Int {
        var size = 1
        var n = UInt(prefix ?? length) >> 7
        while n > 0 {
            size += 1
            n >>= 7
        }
        return size + length
    }

    @inlinable static func appendLength(_ length: Int, to buffer: inout [UInt8]) {
        var n = UInt(length)
        while n >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        buffer.append(UInt8(n))
    }

    /// Writes `bytes` with its length prefix at the start of `destination`, which must be
    /// `encodedSize(bytes.count)` bytes long.
    @inlinable static func write(_ bytes: Bytes, to destination: UnsafeMutableRawBufferPointer) {
        let start = writeLength(bytes.count, to: destination)
        bytes.withUnsafeBytes {
            if $0.count > 0 { (destination.baseAddress! + start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
    }

    /// `write` for bytes in place.
    @inlinable static func write(_ bytes: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer) {
        let start = writeLength(bytes.count, to: destination)
        if bytes.count > 0 { (destination.baseAddress! + start).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
    }

    /// Writes a length prefix at the start of `destination`; returns the bytes it took.
    @inlinable static func writeLength(_ length: Int, to destination: UnsafeMutableRawBufferPointer) -> Int {
        var n = UInt(length)
        var i = 0
        while n >= 0x80 {
            destination[i] = UInt8(truncatingIfNeeded: n) | 0x80
            n >>= 7
            i += 1
        }
        destination[i] = UInt8(n)
        return i + 1
    }

    /// The string whose length prefix starts at `offset`, as a range of `buffer`; its end is
    /// where the next item starts.
    @inlinable static func item(in buffer: UnsafeRawBufferPointer, at offset: Int) -> Range<Int> {
        var i = offset
        let length = readVarint(buffer, at: &i)
        return i..<(i + length)
    }

    /// The LEB128 varint at `offset`, moving `offset` past it.
    @inlinable static func readVarint(_ buffer: UnsafeRawBufferPointer, at offset: inout Int) -> Int {
        var value = 0
        var shift = 0
        while true {
            let byte = buffer[offset]
            offset += 1
            value |= Int(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// Whether the string at `range` of `buffer` equals `bytes`.
    /// (A plain loop: the strings are short, and most differ early, so it beats a memcmp call.)
    @inlinable static func equals(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard range.count == bytes.count else { return false }
        var i = 0
        var j = range.lowerBound
        while i < bytes.count {
            if buffer[j] != bytes[i] { return false }
            i += 1
            j += 1
        }
        return true
    }

    @inlinable static func bytes(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bytes {
        Bytes(UnsafeRawBufferPointer(rebasing: buffer[range]))
    }
}
