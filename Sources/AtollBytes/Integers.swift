/// Strict integer parsing as Redis's `string2ll` does it, shared by the decoder and the commands.

/// Parses a decimal Int64: optional leading '-', no '+', no spaces, no leading zeros (except "0").
@inlinable
public func parseStrictInt64(_ raw: UnsafeRawBufferPointer) -> Int64? {
    let count = raw.count
    if count == 0 || count > 20 { return nil }
    if count == 1 && raw[0] == UInt8(ascii: "0") { return 0 }
    var i = 0
    var negative = false
    if raw[0] == UInt8(ascii: "-") {
        negative = true
        i = 1
        if count == 1 { return nil }
    }
    let first = raw[i]
    guard first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") else { return nil }
    if count - i <= 18 {
        // Up to 18 digits cannot overflow: no checks per digit.
        var value = 0 as Int64
        while i < count {
            let d = raw[i] &- UInt8(ascii: "0")
            guard d <= 9 else { return nil }
            value = value &* 10 &+ Int64(d)
            i += 1
        }
        return negative ? -value : value
    }
    var magnitude: UInt64 = 0
    while i < count {
        let d = raw[i] &- UInt8(ascii: "0")
        guard d <= 9 else { return nil }
        let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(UInt64(d))
        if o1 || o2 { return nil }
        magnitude = s
        i += 1
    }
    if negative {
        if magnitude > UInt64(Int64.max) + 1 { return nil }
        return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
    }
    if magnitude > UInt64(Int64.max) { return nil }
    return Int64(magnitude)
}

@inlinable
public func parseStrictInt64(_ bytes: [UInt8]) -> Int64? {
    bytes.withUnsafeBytes { parseStrictInt64($0) }
}
