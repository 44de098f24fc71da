/// LZF, for strings Redis stores compressed in RDB files and DUMP payloads: decompression, and
/// compression that gives the bytes Redis's liblzf gives (so DUMP payloads match Redis's).
///
/// The format: a control byte below 32 starts a run of (control + 1) literal bytes; otherwise
/// its top three bits are a length (7 means "add the next byte"), and with its low five bits
/// and the next byte it gives a back-reference distance; the match copies length + 2 bytes.
public enum LZF {
    /// The decompressed bytes, or nil if `input` is not valid LZF for `expectedLength` bytes.
    public static func decompress(_ input: ArraySlice<UInt8>, expectedLength: Int) -> [UInt8]? {
        // The claimed length comes from the input: it cannot be more than the input expands to
        // (a three-byte back-reference yields at most 264 bytes), so no more is allocated.
        guard expectedLength >= 0, expectedLength <= input.count * 132 + 32 else { return nil }
        var complete = false
        let out = [UInt8](unsafeUninitializedCapacity: expectedLength) { out, initialized in
            input.withUnsafeBufferPointer { source in
                let end = source.count
                var i = 0
                var o = 0
                defer { initialized = o }
                while i < end {
                    let control = Int(source[i])
                    i += 1
                    if control < 32 {
                        let run = control + 1
                        guard i + run <= end, o + run <= expectedLength else { return }
                        (out.baseAddress! + o).initialize(from: source.baseAddress! + i, count: run)
                        i += run
                        o += run
                    } else {
                        var length = control >> 5
                        if length == 7 {
                            guard i < end else { return }
                            length += Int(source[i])
                            i += 1
                        }
                        guard i < end else { return }
                        let distance = ((control & 0x1f) << 8) + Int(source[i]) + 1
                        i += 1
                        let start = o - distance
                        guard start >= 0, o + length + 2 <= expectedLength else { return }
                        // Byte by byte: a match may overlap the bytes it is producing.
                        for k in 0..<(length + 2) { (out.baseAddress! + o + k).initialize(to: out[start + k]) }
                        o += length + 2
                    }
                }
                complete = o == expectedLength
            }
        }
        return complete ? out : nil
    }

    /// The compressed form of `input` in at most `limit` bytes, or nil when it does not fit (or
    /// `input` is empty), as liblzf 3.6's `lzf_compress` built the way Redis builds it (a
    /// 2^16-slot table of the last position of each 3-byte prefix, the "very fast" hash, matches
    /// of up to 264 bytes within 8 KiB, even at the input's very end, two table updates after a
    /// match). The same choices in the same order make the same bytes. liblzf never uses a match
    /// at offset 0 of the input.
    public static func compress(_ input: [UInt8], limit: Int) -> [UInt8]? {
        let end = input.count
        guard end > 0, limit > 0 else { return nil }
        let maxLiteral = 32, maxOffset = 1 << 13, maxReference = (1 << 8) + (1 << 3)
        var table = [Int](repeating: -1, count: 1 << 16)
        // Room for what the checks below allow past `limit`.
        var out = [UInt8](repeating: 0, count: limit + 8)
        func slot(_ h: UInt32) -> Int { Int(((h >> 8) &- h &* 5) & 0xffff) }
        var ip = 0, op = 1, literals = 0
        var h: UInt32 = end > 1 ? UInt32(input[0]) << 8 | UInt32(input[1]) : 0
        while ip < end - 2 {
            h = h << 8 | UInt32(input[ip + 2])
            let s = slot(h)
            let ref = table[s]
            table[s] = ip
            let offset = ip - ref - 1
            if ref > 0, offset >= 0, offset < maxOffset,
               input[ref] == input[ip], input[ref + 1] == input[ip + 1], input[ref + 2] == input[ip + 2] {
                var length = 2
                let maxLength = min(end - ip - length, maxReference)
                out[op - literals - 1] = UInt8(truncatingIfNeeded: literals - 1)  // close the literal run
                if literals == 0 { op -= 1 }
                if op + 4 >= limit { return nil }
                // liblzf first compares up to 16 bytes with no bound check (the input is long
                // enough), then byte by byte up to the bound: a match can end past `maxLength`.
                var mismatched = false
                if maxLength > 16 {
                    for _ in 0..<16 {
                        length += 1
                        if input[ref + length] != input[ip + length] { mismatched = true; break }
                    }
                }
                if !mismatched {
                    repeat { length += 1 } while length < maxLength && input[ref + length] == input[ip + length]
                }
                length -= 2
                ip += 1
                if length < 7 {
                    out[op] = UInt8(truncatingIfNeeded: (offset >> 8) + (length << 5))
                    op += 1
                } else {
                    out[op] = UInt8(truncatingIfNeeded: (offset >> 8) + (7 << 5))
                    out[op + 1] = UInt8(truncatingIfNeeded: length - 7)
                    op += 2
                }
                out[op] = UInt8(truncatingIfNeeded: offset)
                op += 2  // and a new literal run starts
                literals = 0
                ip += length + 1
                if ip >= end - 2 { break }
                ip -= 2
                h = UInt32(input[ip]) << 8 | UInt32(input[ip + 1])
                for _ in 0..<2 {
                    h = h << 8 | UInt32(input[ip + 2])
                    table[slot(h)] = ip
                    ip += 1
                }
            } else {
                if op >= limit { return nil }
                appendLiteral(input[ip], &out, &op, &literals, maxLiteral)
                ip += 1
            }
        }
        if op + 3 > limit { return nil }
        while ip < end {
            appendLiteral(input[ip], &out, &op, &literals, maxLiteral)
            ip += 1
        }
        out[op - literals - 1] = UInt8(truncatingIfNeeded: literals - 1)
        if literals == 0 { op -= 1 }
        return Array(out[0..<op])
    }

    private static func appendLiteral(_ byte: UInt8, _ out: inout [UInt8], _ op: inout Int, _ literals: inout Int,
                                      _ maxLiteral: Int) {
        literals += 1
        out[op] = byte
        op += 1
        if literals == maxLiteral {
            out[op - literals - 1] = UInt8(literals - 1)
            literals = 0
            op += 1
        }
    }
}
