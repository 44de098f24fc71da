/// Redis's listpack, the byte layout a stream keeps its entries in (and the RDB payload
/// writes unchanged): a 6-byte header (total bytes, element count, both little-endian), the
/// elements, and 0xFF. An element is an integer in the smallest of Redis's integer encodings
/// or a string with a 1, 2 or 5 byte length, followed by its own size written backwards.
/// Strings that are canonical 64-bit integers are stored as integers, as Redis does.

import AtollBytes

/// One element read from a listpack: an integer, or the byte range of a string.
public enum ListpackElement: Sendable {
    case int(Int64)
    case string(Range<Int>)
}

public enum ListpackCoding {
    /// The bytes of an empty listpack.
    public static var empty: [UInt8] { [7, 0, 0, 0, 0, 0, 0xFF] }

    /// How many bytes an element of `length` bytes (encoding and data) writes its size in.
    @inlinable public static func backLengthSize(_ length: Int) -> Int {
        length <= 127 ? 1 : length < 16383 ? 2 : length < 2_097_151 ? 3 : length < 268_435_455 ? 4 : 5
    }

    /// The element's size in the listpack, its back length included.
    @inlinable public static func encodedSize(_ n: Int64) -> Int {
        let body: Int
        switch n {
        case 0...127: body = 1
        case -4096...4095: body = 2
        case -32768...32767: body = 3
        case -8_388_608...8_388_607: body = 4
        case Int64(Int32.min)...Int64(Int32.max): body = 5
        default: body = 9
        }
        return body + 1
    }

    /// Appends `n` (and its back length) to `out`.
    @inlinable public static func appendInteger(_ n: Int64, to out: inout [UInt8]) {
        let start = out.count
        switch n {
        case 0...127:
            out.append(UInt8(n))
        case -4096...4095:
            let v = UInt64(bitPattern: n) & 0x1fff
            out.append(0xC0 | UInt8(v >> 8))
            out.append(UInt8(v & 0xff))
        case -32768...32767: appendTagged(0xF1, n, width: 2, to: &out)
        case -8_388_608...8_388_607: appendTagged(0xF2, n, width: 3, to: &out)
        case Int64(Int32.min)...Int64(Int32.max): appendTagged(0xF3, n, width: 4, to: &out)
        default: appendTagged(0xF4, n, width: 8, to: &out)
        }
        appendBackLength(out.count - start, to: &out)
    }

    @inlinable static func appendTagged(_ tag: UInt8, _ n: Int64, width: Int, to out: inout [UInt8]) {
        out.append(tag)
        let raw = UInt64(bitPattern: n)
        for k in 0..<width { out.append(UInt8(truncatingIfNeeded: raw >> UInt64(8 * k))) }
    }

    /// Appends a string element, as an integer when it is a canonical one.
    @inlinable public static func appendString(_ s: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if s.count <= 20, let n = parseStrictInt64(s) { return appendInteger(n, to: &out) }
        let start = out.count
        let length = s.count
        if length < 64 {
            out.append(0x80 | UInt8(length))
        } else if length < 4096 {
            out.append(0xE0 | UInt8(length >> 8))
            out.append(UInt8(length & 0xff))
        } else {
            out.append(0xF0)
            for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: length >> (8 * k))) }
        }
        out.append(contentsOf: s)
        appendBackLength(out.count - start, to: &out)
    }

    @inlinable public static func appendString(_ s: [UInt8], to out: inout [UInt8]) {
        s.withUnsafeBytes { appendString($0, to: &out) }
    }

    /// The size, most significant 7 bits first, every byte but the first flagged 0x80.
    @inlinable static func appendBackLength(_ length: Int, to out: inout [UInt8]) {
        let size = backLengthSize(length)
        for k in stride(from: size - 1, through: 0, by: -1) {
            let group = UInt8((length >> (7 * k)) & 0x7f)
            out.append(k == size - 1 ? group : group | 0x80)
        }
    }

    /// The element at `offset` and the offset of the next one. The bytes must be a valid
    /// listpack (the stream builds its own, the RDB reader validates loaded ones).
    @inlinable public static func read(_ lp: UnsafeRawBufferPointer, at offset: Int) -> (ListpackElement, next: Int) {
        let b = lp[offset]
        let element: ListpackElement
        let size: Int
        if b & 0x80 == 0 {
            element = .int(Int64(b))
            size = 1
        } else if b & 0xC0 == 0x80 {
            let n = Int(b & 0x3f)
            element = .string((offset + 1)..<(offset + 1 + n))
            size = 1 + n
        } else if b & 0xE0 == 0xC0 {
            let raw = UInt64(b & 0x1f) << 8 | UInt64(lp[offset + 1])
            element = .int(Int64(bitPattern: raw << 51) >> 51)
            size = 2
        } else if b & 0xF0 == 0xE0 {
            let n = Int(b & 0x0f) << 8 | Int(lp[offset + 1])
            element = .string((offset + 2)..<(offset + 2 + n))
            size = 2 + n
        } else if b == 0xF0 {
            let n = Int(littleEndian(lp, offset + 1, 4))
            element = .string((offset + 5)..<(offset + 5 + n))
            size = 5 + n
        } else {
            let width = b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8
            let shift = UInt64(64 - 8 * width)
            element = .int(Int64(bitPattern: littleEndian(lp, offset + 1, width) << shift) >> Int64(shift))
            size = 1 + width
        }
        return (element, offset + size + backLengthSize(size))
    }

    /// The integer at `offset` (stream bookkeeping elements are always integers).
    @inlinable public static func integer(_ lp: UnsafeRawBufferPointer, at offset: Int) -> (Int64, next: Int) {
        let (element, next) = read(lp, at: offset)
        if case .int(let n) = element { return (n, next) }
        return (0, next)
    }

    /// The offset just past the element at `offset`.
    @inlinable public static func skip(_ lp: UnsafeRawBufferPointer, at offset: Int) -> Int { read(lp, at: offset).next }

    @inlinable static func littleEndian(_ lp: UnsafeRawBufferPointer, _ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<width { v |= UInt64(lp[at + k]) << UInt64(8 * k) }
        return v
    }

    /// Every element of an untrusted listpack (a loaded snapshot, a RESTORE payload), or nil
    /// when any size, encoding or bound is wrong (`validatedCount`).
    public static func validatedElements(_ lp: [UInt8]) -> [ListpackElement]? {
        lp.withUnsafeBytes { raw in
            guard let count = validatedCount(raw) else { return nil }
            var elements: [ListpackElement] = []
            elements.reserveCapacity(count)
            var at = 6
            while at < raw.count - 1 {
                let (element, next) = read(raw, at: at)
                elements.append(element)
                at = next
            }
            return elements
        }
    }

    /// How many elements an untrusted listpack holds, or nil when its total size, any element's
    /// encoding or bounds, its terminator or its count (unless "too many to count") is wrong;
    /// `read` is safe on it afterwards, from offset 6 to the terminator.
    public static func validatedCount(_ lp: UnsafeRawBufferPointer) -> Int? {
        guard lp.count >= 7, lp[lp.count - 1] == 0xFF else { return nil }
        let total = Int(lp[0]) | Int(lp[1]) << 8 | Int(lp[2]) << 16 | Int(lp[3]) << 24
        guard total == lp.count else { return nil }
        var count = 0
        var i = 6
        while i < lp.count - 1 {
            let b = lp[i]
            let header: Int, body: Int
            if b & 0x80 == 0 { (header, body) = (1, 0) }
            else if b & 0xC0 == 0x80 { (header, body) = (1, Int(b & 0x3f)) }
            else if b & 0xE0 == 0xC0 { (header, body) = (2, 0) }
            else if b & 0xF0 == 0xE0 {
                guard i + 1 < lp.count else { return nil }
                (header, body) = (2, Int(b & 0x0f) << 8 | Int(lp[i + 1]))
            } else if b == 0xF0 {
                guard i + 4 < lp.count else { return nil }
                (header, body) = (5, Int(lp[i + 1]) | Int(lp[i + 2]) << 8 | Int(lp[i + 3]) << 16 | Int(lp[i + 4]) << 24)
            } else if b >= 0xF1 && b <= 0xF4 {
                (header, body) = (1, b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8)
            } else {
                return nil
            }
            let size = header + body
            // The element and its length written backwards end before the terminator.
            let end = i + size + backLengthSize(size)
            guard end < lp.count else { return nil }
            count += 1
            i = end
        }
        let counted = Int(lp[4]) | Int(lp[5]) << 8
        guard counted == 65535 || counted == count else { return nil }
        return count
    }

    // MARK: - Editing a whole listpack

    /// Writes the header's total size and element count (Redis stops counting at 65535).
    @inlinable public static func setHeader(_ lp: inout [UInt8], elements: Int) {
        let total = lp.count
        for k in 0..<4 { lp[k] = UInt8(truncatingIfNeeded: total >> (8 * k)) }
        let count = min(elements, 65535)
        lp[4] = UInt8(count & 0xff)
        lp[5] = UInt8(count >> 8)
    }

    /// The header's element count (65535: too many to count).
    @inlinable public static func headerCount(_ lp: [UInt8]) -> Int { Int(lp[4]) | Int(lp[5]) << 8 }

    /// Replaces the integer element at `offset` with `n`, moving what follows if its size
    /// changes, and fixes the header's total size.
    @inlinable public static func replaceInteger(_ lp: inout [UInt8], at offset: Int, with n: Int64) {
        let old = lp.withUnsafeBytes { skip($0, at: offset) } - offset
        if old == 2 && n >= 0 && n <= 127 {
            // The common case (a node's counts stay under 128): one byte and its back length.
            lp[offset] = UInt8(n)
            lp[offset + 1] = 1
            return
        }
        var encoded: [UInt8] = []
        appendInteger(n, to: &encoded)
        if encoded.count == old {
            for k in 0..<old { lp[offset + k] = encoded[k] }
        } else {
            lp.replaceSubrange(offset..<(offset + old), with: encoded)
            let total = lp.count
            for k in 0..<4 { lp[k] = UInt8(truncatingIfNeeded: total >> (8 * k)) }
        }
    }
}
