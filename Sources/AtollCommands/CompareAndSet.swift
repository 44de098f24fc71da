/// Native compare-and-set, as Redis 8.4 defines it: the IFEQ / IFNE / IFDEQ / IFDNE conditions
/// of SET and DELEX, and DIGEST, the XXH3-64 hash of a string value as 16 lowercase hex digits.
///
/// A digest given by a client must be exactly 16 hex digits and is compared without regard
/// to case. IFEQ and IFDEQ never match a missing key; IFNE and IFDNE always do.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

/// One parsed condition on a key's current string value.
struct ValueCondition {
    enum Kind {
        case equal, notEqual, digestEqual, digestNotEqual

        init?(keyword: [UInt8]) {
            if asciiCaseInsensitiveEquals(keyword, "ifeq") { self = .equal }
            else if asciiCaseInsensitiveEquals(keyword, "ifne") { self = .notEqual }
            else if asciiCaseInsensitiveEquals(keyword, "ifdeq") { self = .digestEqual }
            else if asciiCaseInsensitiveEquals(keyword, "ifdne") { self = .digestNotEqual }
            else { return nil }
        }
    }

    let kind: Kind
    /// The value to compare with (IFEQ/IFNE), or the digest as a number (IFDEQ/IFDNE).
    let operand: [UInt8]
    let digest: UInt64

    /// Reads the condition's argument; nil after replying with Redis's error for a bad digest.
    static func parse(_ c: inout CommandContext, _ kind: Kind, argument index: Int) -> ValueCondition? {
        let operand = c.args[index]
        switch kind {
        case .equal, .notEqual:
            return ValueCondition(kind: kind, operand: operand, digest: 0)
        case .digestEqual, .digestNotEqual:
            guard let digest = parseDigest(operand) else {
                c.out.error("ERR must be exactly 16 hexadecimal characters")
                return nil
            }
            return ValueCondition(kind: kind, operand: [], digest: digest)
        }
    }

    /// Whether the write may go ahead, given the key's current value (nil when missing;
    /// the caller has already refused non-strings).
    func holds(for value: Value?) -> Bool {
        guard let value else { return kind == .notEqual || kind == .digestNotEqual }
        switch kind {
        case .equal: return stringEquals(value, operand)
        case .notEqual: return !stringEquals(value, operand)
        case .digestEqual: return stringDigest(value) == digest
        case .digestNotEqual: return stringDigest(value) != digest
        }
    }
}

/// Sixteen hex digits (either case) as a number.
func parseDigest(_ text: [UInt8]) -> UInt64? {
    guard text.count == 16 else { return nil }
    var n: UInt64 = 0
    for c in text {
        let digit: UInt8
        switch c {
        case 48...57: digit = c - 48
        case 97...102: digit = c - 87
        case 65...70: digit = c - 55
        default: return nil
        }
        n = n << 4 | UInt64(digit)
    }
    return n
}

func stringEquals(_ value: Value, _ other: [UInt8]) -> Bool {
    switch value {
    case .string(let bytes): return bytes.withUnsafeBytes { $0.elementsEqual(other) }
    default: return value.stringBytes == other
    }
}

func stringDigest(_ value: Value) -> UInt64 {
    switch value {
    case .string(let bytes): return bytes.withUnsafeBytes { xxh3_64($0) }
    default: return xxh3_64(value.stringBytes)
    }
}

enum CompareAndSetCommands {
    static let commands: [CommandBinding] = [
        .init("delex", delex),
        .init("digest", digest),
    ]

    /// `DELEX key [IFEQ v | IFNE v | IFDEQ d | IFDNE d]`: 1 if the key was deleted, else 0.
    static func delex(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        if c.args.count == 2 {
            // Logged as a plain DEL, so Redis's own tools can read the file.
            if c.logsWrites { c.logAs([AppendOnlyFeed.del, c.args[1]]) }
            return c.out.integer(c.delete(key) ? 1 : 0)
        }
        guard c.args.count == 4, let kind = ValueCondition.Kind(keyword: c.args[2]) else { return c.syntaxError() }
        guard let condition = ValueCondition.parse(&c, kind, argument: 3) else { return }
        guard let entry = c.lookup(key) else { return c.out.integer(0) }
        guard entry.value.isString else { return c.wrongType() }
        guard condition.holds(for: entry.value) else { return c.out.integer(0) }
        c.delete(key)
        if c.logsWrites { c.logAs([AppendOnlyFeed.del, c.args[1]]) }
        c.out.integer(1)
    }

    /// `DIGEST key`: the value's XXH3-64 as 16 lowercase hex digits; null for a missing key.
    static func digest(_ c: inout CommandContext) {
        guard let entry = c.lookupRead(Bytes(c.args[1])) else { return c.out.null() }
        guard entry.value.isString else { return c.wrongType() }
        c.out.bulk(digestHex(stringDigest(entry.value)))
    }
}

extension StringCommands.SetOptions.Condition {
    /// NX and XX may repeat but not mix, and exclude the compare conditions.
    func allows(_ other: Self) -> Bool {
        switch (self, other) {
        case (.always, _), (.ifAbsent, .ifAbsent), (.ifPresent, .ifPresent): return true
        default: return false
        }
    }
}
