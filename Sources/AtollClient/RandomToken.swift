/// Unguessable tokens: lock owners, rate-limiter entries, temporary key names.

/// 128 random bits as 32 lowercase hex digits, from the system's secure generator.
func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    let high = generator.next() as UInt64, low = generator.next() as UInt64
    let hex = String(high, radix: 16), hexLow = String(low, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex + String(repeating: "0", count: 16 - hexLow.count) + hexLow
}
