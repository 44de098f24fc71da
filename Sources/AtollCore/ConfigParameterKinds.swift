/// The kinds of Redis 7.0 parameter that Atoll accepts and keeps in
/// `ServerConfiguration.storedParameters` (as the text CONFIG GET prints): yes/no, integers
/// and memory sizes in a range, enumerations and free strings, with Redis's parsing and error
/// texts. Parameters with rules of their own are in `ConfigParameterSpecials.swift`.
import AtollBytes

extension ConfigParameter {
    /// A parameter kept as its printed text under its canonical name; `check` parses a new
    /// value and returns the text to keep, or an error reason.
    static func stored(_ name: String, alias: String? = nil, mutable: Bool = true, rewriteStyle: ConfigRewriteStyle = .plain,
                       default defaultText: String, check: @escaping @Sendable (String) -> Result<String, ConfigReason>) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, mutable: mutable, rewriteStyle: rewriteStyle,
                        get: { $0.storedParameters[name] ?? defaultText }, set: { config, values in
            guard !values.isEmpty else { return "wrong number of arguments" }
            switch check(values.joined(separator: " ")) {
            case .success(let text): config.storedParameters[name] = text
            case .failure(let reason): return reason.text
            }
            return nil
        })
    }

    static func storedYesNo(_ name: String, alias: String? = nil, mutable: Bool = true, default value: Bool) -> ConfigParameter {
        stored(name, alias: alias, mutable: mutable, default: value ? "yes" : "no") { text in
            parseYesNo(text).map { .success($0 ? "yes" : "no") } ?? .failure(ConfigReason("argument must be 'yes' or 'no'"))
        }
    }

    static func storedInteger(_ name: String, alias: String? = nil, mutable: Bool = true, min: Int, max: Int,
                              default value: Int) -> ConfigParameter {
        stored(name, alias: alias, mutable: mutable, default: String(value)) { text in
            checkInteger(text, min: min, max: max).map { String($0) }
        }
    }

    /// A size in bytes with Redis's units; `max` nil means any unsigned 64-bit size.
    static func storedMemory(_ name: String, min: UInt64, max: UInt64? = UInt64(Int64.max), default value: UInt64) -> ConfigParameter {
        stored(name, rewriteStyle: .memory, default: String(value)) { text in
            checkMemory(text, min: min, max: max).map { String($0) }
        }
    }

    /// `synonyms` maps a choice to the one Redis prints for the same value (the first listed).
    static func storedEnum(_ name: String, mutable: Bool = true, _ choices: [String], synonyms: [String: String] = [:],
                           default value: String) -> ConfigParameter {
        stored(name, mutable: mutable, default: value) { text in
            let lowered = text.lowercased()
            return choices.contains(lowered) ? .success(synonyms[lowered] ?? lowered)
                : .failure(ConfigReason("argument(s) must be one of the following: \(choices.joined(separator: ", "))"))
        }
    }

    static func storedString(_ name: String, alias: String? = nil, mutable: Bool = true, default value: String = "") -> ConfigParameter {
        stored(name, alias: alias, mutable: mutable, rewriteStyle: .quoted, default: value) { .success($0) }
    }

    /// Redis's `yesnotoi`: `yes` or `no` in any case.
    static func parseYesNo(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }

    /// A strict decimal integer (Redis's `string2ll`) within `min...max`, with Redis's reasons.
    static func checkInteger(_ text: String, min: Int, max: Int) -> Result<Int, ConfigReason> {
        guard let parsed = parseStrictInt64(Array(text.utf8)) else {
            return .failure(ConfigReason("argument couldn't be parsed into an integer"))
        }
        let n = Int(parsed)
        guard n >= min && n <= max else { return .failure(ConfigReason("argument must be between \(min) and \(max) inclusive")) }
        return .success(n)
    }

    /// A memory value (Redis's `memtoull`) within `min...max` (nil: no upper bound).
    static func checkMemory(_ text: String, min: UInt64, max: UInt64?) -> Result<UInt64, ConfigReason> {
        guard let n = parseMemoryUnsigned(text) else { return .failure(ConfigReason("argument must be a memory value")) }
        let upper = max ?? UInt64.max
        guard n >= min && n <= upper else { return .failure(ConfigReason("argument must be between \(min) and \(upper) inclusive")) }
        return .success(n)
    }
}

/// Why a configuration value was refused: the text after Redis's `CONFIG SET failed ... - `.
struct ConfigReason: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// Redis's `memtoull`: decimal digits (none reads as 0) and an optional unit (b, k, kb, m, mb,
/// g, gb; any case); a number past 2^64-1 reads as 2^64-1, as `strtoull` saturates. Nil for
/// anything else (a sign, spaces, another unit).
public func parseMemoryUnsigned(_ text: String) -> UInt64? {
    let bytes = Array(text.utf8)
    let digitCount = bytes.prefix(while: { $0 >= 48 && $0 <= 57 }).count
    let unit = String(decoding: bytes[digitCount...], as: UTF8.self).lowercased()
    let scales: [String: UInt64] = ["": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1_000_000, "mb": 1 << 20,
                                    "g": 1_000_000_000, "gb": 1 << 30]
    guard let scale = scales[unit], digitCount < 128 else { return nil }
    var value: UInt64 = 0
    var saturated = false
    for digit in bytes[..<digitCount] {
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - 48))
        if o1 || o2 { saturated = true; break }
        value = sum
    }
    if saturated { value = UInt64.max }
    guard value == 0 || scale <= UInt64.max / value else { return nil }
    return value * scale
}
