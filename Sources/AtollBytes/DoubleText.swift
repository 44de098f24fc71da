/// Doubles as Redis writes them in replies and in listpacks.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `printf("%.17g")`, with `inf`/`-inf`/`nan` spelled as Redis spells them.
public func formatDouble17g(_ value: Double) -> String {
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value.isNaN { return "nan" }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buf in
        let n = withVaList([value]) { vsnprintf(buf.baseAddress, 64, "%.17g", $0) }
        return String(decoding: UnsafeRawBufferPointer(start: buf.baseAddress, count: Int(n)), as: UTF8.self)
    }
}

/// `printf("%.<places>f")` (places from 0 to 9), as Redis prints INFO's figures.
public func formatFixed(_ value: Double, places: Int) -> String {
    let format = "%.\(min(max(places, 0), 9))f"
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 400) { buf in
        let n = withVaList([value]) { vsnprintf(buf.baseAddress, 400, format, $0) }
        return String(decoding: UnsafeRawBufferPointer(start: buf.baseAddress, count: Int(min(n, 399))), as: UTF8.self)
    }
}
