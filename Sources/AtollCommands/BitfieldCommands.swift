/// BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 (unsigned: 63) bits at
/// any bit offset of a string, read, set or incremented with Redis's overflow rules
/// (WRAP, SAT, FAIL). All arguments are checked before the key is touched.
import AtollCore
import AtollBytes
import AtollKeyspace
import AtollRESP

enum BitfieldCommands {
    static let commands: [CommandBinding] = [
        .init("bitfield", .eventsAfterReply, keyFlags: keyFlags, bitfield),
        .init("bitfield_ro", bitfieldReadOnly),
    ]

    /// BITFIELD's key flags (Redis's `bitfieldGetKeys`): read-only while every subcommand is
    /// a complete GET or OVERFLOW; a SET, an INCRBY or anything malformed makes it a write.
    static func keyFlags(_ args: [[UInt8]], _ position: Int) -> [String] {
        var i = 2
        while i < args.count {
            let rest = args.count - i - 1
            if asciiCaseInsensitiveEquals(args[i], "get") && rest >= 2 {
                i += 3
            } else if asciiCaseInsensitiveEquals(args[i], "overflow") && rest >= 1 {
                i += 2
            } else {
                return ["RW", "access", "update"]
            }
        }
        return ["RO", "access"]
    }

    enum Overflow { case wrap, sat, fail }

    struct Operation {
        enum Kind { case get, set, incrby }
        var kind: Kind
        var signed: Bool
        var bits: Int
        var offset: Int64
        var value: Int64
        var overflow: Overflow
    }

    static func bitfield(_ c: inout CommandContext) { run(&c, readOnly: false) }
    static func bitfieldReadOnly(_ c: inout CommandContext) { run(&c, readOnly: true) }

    static func run(_ c: inout CommandContext, readOnly: Bool) {
        guard let operations = parse(&c) else { return }
        let key = Bytes(c.args[1])
        let writes = operations.filter { $0.kind != .get }
        guard !writes.isEmpty else {
            guard let bytes = BitmapCommands.readString(key, &c) else { return }
            c.out.arrayHeader(operations.count)
            for op in operations { c.out.integer(read(bytes, op)) }
            return
        }
        if readOnly { return c.out.error("ERR BITFIELD_RO only supports the GET subcommand") }
        // Offsets reach 2^63-1 when proto-max-bulk-len is at its largest: the last bit is
        // counted in UInt64, as Redis does, so that it cannot overflow.
        let lastBit = writes.map { UInt64($0.offset) + UInt64($0.bits) - 1 }.max()!
        let replies: [Int64?]? = BitmapCommands.modifyString(key, byteCount: Int(lastBit >> 3) + 1, &c) { bytes in
            // Whether a write was made (not refused by OVERFLOW FAIL), and whether one changed
            // its field: Redis publishes `setbit` only then (or when the string was made or grew).
            var wrote = false, changed = false
            let replies = operations.map { op -> Int64? in
                guard op.kind != .get else { return apply(op, to: &bytes) }
                let before = unsignedField(bytes, op.offset, op.bits)
                let reply = apply(op, to: &bytes)
                if reply != nil {
                    wrote = true
                    if unsignedField(bytes, op.offset, op.bits) != before { changed = true }
                }
                return reply
            }
            return (replies, wrote ? changed : nil)
        }
        guard let replies else { return }
        c.out.arrayHeader(replies.count)
        for reply in replies {
            if let reply { c.out.integer(reply) } else { c.out.null() }
        }
    }

    /// The operations in order, or nil after the first argument error.
    static func parse(_ c: inout CommandContext) -> [Operation]? {
        var operations: [Operation] = []
        var overflow = Overflow.wrap
        var j = 2
        while j < c.args.count {
            let remaining = c.args.count - j - 1
            let kind: Operation.Kind
            if c.argIs(j, "get") && remaining >= 2 {
                kind = .get
            } else if c.argIs(j, "set") && remaining >= 3 {
                kind = .set
            } else if c.argIs(j, "incrby") && remaining >= 3 {
                kind = .incrby
            } else if c.argIs(j, "overflow") && remaining >= 1 {
                if c.argIs(j + 1, "wrap") { overflow = .wrap }
                else if c.argIs(j + 1, "sat") { overflow = .sat }
                else if c.argIs(j + 1, "fail") { overflow = .fail }
                else {
                    c.out.error("ERR Invalid OVERFLOW type specified")
                    return nil
                }
                j += 2
                continue
            } else {
                c.syntaxError()
                return nil
            }
            guard let (signed, bits) = type(c.args[j + 1]) else {
                c.out.error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
                return nil
            }
            guard let offset = BitmapCommands.bitOffset(&c, j + 2, unit: bits) else { return nil }
            var value: Int64 = 0
            if kind != .get {
                guard let given = c.integerArgument(j + 3) else { return nil }
                value = given
            }
            operations.append(Operation(kind: kind, signed: signed, bits: bits, offset: offset, value: value,
                                        overflow: overflow))
            j += kind == .get ? 3 : 4
        }
        return operations
    }

    /// `i1`...`i64` or `u1`...`u63` (lower case, as Redis reads them).
    static func type(_ arg: [UInt8]) -> (signed: Bool, bits: Int)? {
        guard let first = arg.first, first == UInt8(ascii: "i") || first == UInt8(ascii: "u") else { return nil }
        let signed = first == UInt8(ascii: "i")
        // Redis reads the width as a C string: it ends at a NUL byte.
        let digits = arg.dropFirst().prefix { $0 != 0 }
        guard let bits = parseStrictInt64(Array(digits)), bits >= 1, bits <= (signed ? 64 : 63) else { return nil }
        return (signed, Int(bits))
    }

    /// A GET on a string that may be shorter than the field: missing bits are zero.
    static func read(_ bytes: [UInt8], _ op: Operation) -> Int64 {
        let raw = unsignedField(bytes, op.offset, op.bits)
        return op.signed ? signExtended(raw, op.bits) : Int64(bitPattern: raw)
    }

    /// Runs a SET or INCRBY (or GET) on `bytes`, long enough for every write; the reply is
    /// nil when FAIL refused an overflow.
    static func apply(_ op: Operation, to bytes: inout [UInt8]) -> Int64? {
        if op.kind == .get { return read(bytes, op) }
        let old = unsignedField(bytes, op.offset, op.bits)
        let increment = op.kind == .incrby ? op.value : 0
        let start = op.kind == .incrby ? (op.signed ? signExtended(old, op.bits) : Int64(bitPattern: old)) : op.value
        let (result, overflowed) = op.signed
            ? signedAdd(start, increment, bits: op.bits, op.overflow)
            : unsignedAdd(UInt64(bitPattern: start), increment, bits: op.bits, op.overflow)
        if overflowed && op.overflow == .fail { return nil }
        setUnsignedField(&bytes, op.offset, op.bits, UInt64(bitPattern: result))
        if op.kind == .incrby { return result }
        return op.signed ? signExtended(old, op.bits) : Int64(bitPattern: old)
    }

    /// Redis's `checkUnsignedBitfieldOverflow` and the value it leads to: `value + increment`
    /// in `bits` bits, wrapped, saturated, or flagged.
    static func unsignedAdd(_ value: UInt64, _ increment: Int64, bits: Int, _ overflow: Overflow) -> (Int64, Bool) {
        let max: UInt64 = (1 << UInt64(bits)) - 1
        let wrapped = Int64(bitPattern: (value &+ UInt64(bitPattern: increment)) & max)
        if value > max || (increment > 0 && UInt64(increment) > max - value) {
            return (overflow == .sat ? Int64(max) : wrapped, true)
        }
        if increment < 0 && increment.magnitude > value {
            return (overflow == .sat ? 0 : wrapped, true)
        }
        return (Int64(bitPattern: value &+ UInt64(bitPattern: increment)), false)
    }

    /// Redis's `checkSignedBitfieldOverflow` and the value it leads to.
    static func signedAdd(_ value: Int64, _ increment: Int64, bits: Int, _ overflow: Overflow) -> (Int64, Bool) {
        let max: Int64 = bits == 64 ? .max : (1 << Int64(bits - 1)) - 1
        let min = -max - 1
        let sum = value.addingReportingOverflow(increment)
        let wrapped = signExtended(UInt64(bitPattern: sum.partialValue), bits)
        if value > max || (!sum.overflow && increment > 0 && sum.partialValue > max) || (sum.overflow && increment > 0) {
            return (overflow == .sat ? max : wrapped, true)
        }
        if value < min || (!sum.overflow && increment < 0 && sum.partialValue < min) || (sum.overflow && increment < 0) {
            return (overflow == .sat ? min : wrapped, true)
        }
        return (sum.partialValue, false)
    }

    static func signExtended(_ raw: UInt64, _ bits: Int) -> Int64 {
        guard bits < 64 else { return Int64(bitPattern: raw) }
        let shift = UInt64(64 - bits)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    /// `bits` bits from bit `offset`, most significant first; bits past the end read as zero.
    /// Bit positions are UInt64: a field may run past bit 2^63 (never past 2^64).
    static func unsignedField(_ bytes: [UInt8], _ offset: Int64, _ bits: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<UInt64(bits) {
            let at = UInt64(offset) + i
            let byte = at >> 3
            let bit: UInt64 = byte < UInt64(bytes.count) ? UInt64(bytes[Int(byte)] >> UInt8(7 - (at & 7))) & 1 : 0
            value = value << 1 | bit
        }
        return value
    }

    /// Writes `bits` bits at bit `offset` of `bytes`, which the caller made long enough.
    static func setUnsignedField(_ bytes: inout [UInt8], _ offset: Int64, _ bits: Int, _ value: UInt64) {
        for i in 0..<UInt64(bits) {
            let at = UInt64(offset) + i
            let mask = UInt8(0x80) >> UInt8(at & 7)
            if value >> (UInt64(bits) - 1 - i) & 1 == 1 {
                bytes[Int(at >> 3)] |= mask
            } else {
                bytes[Int(at >> 3)] &= ~mask
            }
        }
    }
}
