/// Long double text, as Redis's `string2ld` and `ld2string(LD_STR_HUMAN)` read and write it
/// (INCRBYFLOAT, HINCRBYFLOAT, blocking commands' timeouts).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `strtold` over the whole argument: no leading space, nothing left over, no NaN, no overflow.
public func parseLongDouble(_ bytes: [UInt8]) -> Float80? {
    guard !bytes.isEmpty, bytes.count < 5 * 1024 else { return nil }
    let first = bytes[0]
    if first == 32 || (first >= 9 && first <= 13) { return nil }
    var text = bytes
    text.append(0)
    return text.withUnsafeBufferPointer { buf -> Float80? in
        let start = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
        var end: UnsafeMutablePointer<CChar>?
        errno = 0
        let value = strtold(start, &end)
        guard let end, end - UnsafeMutablePointer(mutating: start) == bytes.count else { return nil }
        if value.isNaN || errno == EINVAL { return nil }
        if errno == ERANGE && (value.isInfinite || value == 0) { return nil }
        return value
    }
}

/// `%.17Lf` with trailing zeros (and a trailing '.') removed; "-0" becomes "0".
public func formatLongDouble(_ value: Float80) -> [UInt8] {
    if value.isInfinite { return Array((value > 0 ? "inf" : "-inf").utf8) }
    var buffer = [CChar](repeating: 0, count: 5 * 1024 + 32)
    let n = withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.17Lf", $0) }
    var bytes = buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }
    if bytes.contains(UInt8(ascii: ".")) {
        while bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
    }
    if bytes == Array("-0".utf8) { bytes = [UInt8(ascii: "0")] }
    return bytes
}
