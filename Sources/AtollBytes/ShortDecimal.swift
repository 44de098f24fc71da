/// Short decimal text read as a `Double` without `strtod`: the scores a sorted set's listpack
/// holds as text are mostly like `2.5`.
///
/// With at most 15 digits in all, the digits are an exact double and so is the power of ten
/// that scales them (at most 10^15); IEEE division rounds their quotient correctly, so the
/// result is the one `strtod` gives (Clinger's fast path).

private let powersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

/// The value of `[-]digits[.digits]` with 1 to 15 digits, or nil for any other text (which the
/// caller reads the long way).
public func shortDecimal(_ text: UnsafeRawBufferPointer) -> Double? {
    let negative = text.first == UInt8(ascii: "-")
    var mantissa: Int64 = 0
    var digits = 0
    var fractionDigits = 0
    var seenPoint = false
    for c in text.dropFirst(negative ? 1 : 0) {
        if c == UInt8(ascii: ".") {
            guard !seenPoint else { return nil }
            seenPoint = true
        } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
            digits += 1
            guard digits <= 15 else { return nil }
            mantissa = mantissa * 10 + Int64(c - UInt8(ascii: "0"))
            if seenPoint { fractionDigits += 1 }
        } else {
            return nil
        }
    }
    guard digits > 0 else { return nil }
    let magnitude = Double(mantissa) / powersOfTen[fractionDigits]
    return negative ? -magnitude : magnitude
}
