/// LZF decompression, for strings Redis stores compressed in RDB files and DUMP payloads.
///
/// The format: a control byte below 32 starts a run of (control + 1) literal bytes; otherwise
/// its top three bits are a length (7 means "add the next byte"), and with its low five bits
/// and the next byte it gives a back-reference distance; the match copies length + 2 bytes.
public enum LZF {
    /// The decompressed bytes, or nil if `input` is not valid LZF for `expectedLength` bytes.
    public static func decompress(_ input: ArraySlice<UInt8>, expectedLength: Int) -> [UInt8]? {
        var out: [UInt8] = []
        // The claimed length comes from the input: reserve no more than the input can expand
        // to (a two-byte back-reference yields at most 264 bytes).
        out.reserveCapacity(min(expectedLength, input.count * 132 + 32))
        var i = input.startIndex
        while i < input.endIndex {
            let control = Int(input[i])
            i += 1
            if control < 32 {
                let run = control + 1
                guard i + run <= input.endIndex, out.count + run <= expectedLength else { return nil }
                out.append(contentsOf: input[i..<i + run])
                i += run
            } else {
                var length = control >> 5
                if length == 7 {
                    guard i < input.endIndex else { return nil }
                    length += Int(input[i])
                    i += 1
                }
                guard i < input.endIndex else { return nil }
                let distance = ((control & 0x1f) << 8) + Int(input[i]) + 1
                i += 1
                let start = out.count - distance
                guard start >= 0, out.count + length + 2 <= expectedLength else { return nil }
                // Byte by byte: a match may overlap the bytes it is producing.
                for k in 0..<(length + 2) { out.append(out[start + k]) }
            }
        }
        return out.count == expectedLength ? out : nil
    }
}
