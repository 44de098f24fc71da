/// Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP. Bit 0 is the most
/// significant bit of the first byte, as in Redis; a missing key reads as zero bits. BITFIELD
/// is in BitfieldCommands.swift.
import AtollCore
import AtollBytes
import AtollKeyspace
import AtollRESP

enum BitmapCommands {
    static let commands: [CommandBinding] = [
        .init("setbit", setbit),
        .init("getbit", getbit),
        .init("bitcount", bitcount),
        .init("bitpos", bitpos),
        .init("bitop", bitop),
    ]

    static let offsetError = "ERR bit offset is not an integer or out of range"

    /// Redis's `getBitOffsetFromArgument`: a bit offset below `proto-max-bulk-len` bytes. With
    /// `unit` (BITFIELD's width), `#n` means n times the width; the product wraps as Redis's
    /// C arithmetic does before the range check.
    static func bitOffset(_ c: inout CommandContext, _ index: Int, unit: Int? = nil) -> Int64? {
        // The argument read where it is (a copy of it cost a retain and a release).
        let scaled = unit != nil && c.args[index].first == UInt8(ascii: "#")
        guard var offset = scaled ? parseStrictInt64(Array(c.args[index].dropFirst())) : parseStrictInt64(c.args[index]) else {
            c.out.error(offsetError)
            return nil
        }
        if scaled, let unit { offset = offset &* Int64(unit) }
        guard offset >= 0, (offset >> 3) < Int64(c.server.config.protoMaxBulkLen) else {
            c.out.error(offsetError)
            return nil
        }
        return offset
    }

    /// Redis's `lookupStringForBitCommand` and the change after it: the string at `key`, made
    /// (zero bits) or zero-padded to `byteCount` bytes, changed in place by `body`, which
    /// returns its result and whether a write it made changed a byte (nil: it made none, as
    /// when OVERFLOW FAIL refused every BITFIELD write). Nil after WRONGTYPE. The key counts as
    /// modified, and the `setbit` event is published, when a write was made and the string was
    /// made, grew, or changed, as in Redis.
    static func modifyString<R>(_ key: Bytes, byteCount: Int, _ c: inout CommandContext,
                                _ body: (inout [UInt8]) -> (R, changed: Bool?)) -> R? {
        // One lookup, as Redis's `lookupKeyWrite` (the access stamped): the string is changed
        // where it is stored, the table's reference to its bytes dropped first so that they
        // are not copied. nil: no live key; .some(nil): not a string.
        var expired = 0
        let touch = c.client.noTouch ? nil : c.touchClock
        let outcome: (R, Bool)?? = c.keyspace.databases[c.client.db].modifyLive(key, hash: c.hintedHash(key), now: c.now, expired: &expired, touch: touch) { entry -> (R, Bool)? in
            guard entry.value.isString else { return nil }
            entry.rawEncoding = true
            return entry.value.changeString { bytes in
                let grew = bytes.count < byteCount
                if grew {
                    if byteCount > bytes.capacity { bytes.reserveCapacity(grownCapacity(byteCount)) }
                    bytes.append(contentsOf: repeatElement(0, count: byteCount - bytes.count))
                }
                let (result, changed) = body(&bytes)
                guard let changed else { return (result, false) }
                return (result, grew || changed)
            }
        }
        if expired > 0 { c.noteExpired(key, db: c.client.db) }
        guard let outcome else {
            var bytes = [UInt8](repeating: 0, count: byteCount)
            let (result, changed) = body(&bytes)
            c.store(key, .string(Bytes(bytes)), raw: true)
            if changed != nil { c.notify(.string, "setbit", key) }
            return result
        }
        guard case let (result, changed)? = outcome else {
            c.wrongType()
            return nil
        }
        if changed {
            c.modified(key)
            c.notify(.string, "setbit", key)
        }
        return result
    }

    /// The room a string growing to `byteCount` bytes gets: twice that up to 1 MB, then 1 MB
    /// more (Redis's greedy growth: a bitmap set bit by bit is copied once per doubling, then
    /// once per megabyte, and keeps no more spare room than Redis's does).
    static func grownCapacity(_ byteCount: Int) -> Int {
        let megabyte = 1 << 20
        return byteCount < megabyte ? byteCount * 2 : byteCount + megabyte
    }

    /// The string at `key` for reading: `.some([])` for a missing key, nil after WRONGTYPE.
    static func readString(_ key: Bytes, _ c: inout CommandContext) -> [UInt8]? {
        guard let entry = c.lookupRead(key) else { return [] }
        guard entry.value.isString else {
            c.wrongType()
            return nil
        }
        return entry.value.stringBytes
    }

    static func setbit(_ c: inout CommandContext) {
        guard let offset = bitOffset(&c, 2) else { return }
        guard let on = parseStrictInt64(c.args[3]), on & ~1 == 0 else {
            return c.out.error("ERR bit is not an integer or out of range")
        }
        let byte = Int(offset >> 3)
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        let was: Bool? = modifyString(Bytes(c.args[1]), byteCount: byte + 1, &c) { bytes in
            let old = bytes[byte] & mask != 0
            if on == 1 { bytes[byte] |= mask } else { bytes[byte] &= ~mask }
            return (old, old != (on == 1))
        }
        guard let was else { return }
        c.out.integer(was ? 1 : 0)
    }

    /// Reads the bit where the string is stored (no copy of the entry or its bytes).
    static func getbit(_ c: inout CommandContext) {
        guard let offset = bitOffset(&c, 2) else { return }
        let byte = Int(offset >> 3)
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        func bit(_ raw: UnsafeRawBufferPointer) -> Int { byte < raw.count && raw[byte] & mask != 0 ? 1 : 0 }
        // nil: no key (a bit of 0); .some(nil): not a string.
        let found: Int?? = c.readLive(Bytes(c.args[1])) { entry in
            switch entry.value {
            case .string(let bytes): return bytes.withUnsafeBytes(bit)
            case .int: return entry.value.stringBytes.withUnsafeBytes(bit)
            default: return nil
            }
        }
        guard let found else { return c.out.integer(0) }
        guard let set = found else { return c.wrongType() }
        c.out.integer(set)
    }

    /// A range of a string in bytes, with the bits to ignore in its first and last byte when
    /// the range was given in bits (Redis's "negative masks").
    struct ByteRange {
        var start: Int64
        var end: Int64
        var firstByteIgnored: UInt8 = 0
        var lastByteIgnored: UInt8 = 0
    }

    /// Redis's start/end arithmetic for BITCOUNT and BITPOS: negative indexes count from the
    /// end, the range is clamped to the string, and a bit range becomes a byte range with masks.
    static func clampedRange(start: Int64, end: Int64, length: Int64, bits: Bool) -> ByteRange {
        let total = bits ? length << 3 : length
        var start = start < 0 ? total &+ start : start
        var end = end < 0 ? total &+ end : end
        start = max(start, 0)
        end = max(end, 0)
        if end >= total { end = total - 1 }
        var range = ByteRange(start: start, end: end)
        if bits && start <= end {
            range.firstByteIgnored = ~UInt8(truncatingIfNeeded: (1 << (8 - (start & 7))) - 1)
            range.lastByteIgnored = UInt8(truncatingIfNeeded: (1 << (7 - (end & 7))) - 1)
            range.start = start >> 3
            range.end = end >> 3
        }
        return range
    }

    /// BYTE or BIT as the last argument; nil after a syntax error.
    static func unitIsBit(_ c: inout CommandContext, _ index: Int) -> Bool? {
        if c.argIs(index, "bit") { return true }
        if c.argIs(index, "byte") { return false }
        c.syntaxError()
        return nil
    }

    static func bitcount(_ c: inout CommandContext) {
        // Redis looks the key up before it reads the range: a missing key is 0 whatever follows.
        guard let entry = c.lookupRead(Bytes(c.args[1])) else { return c.out.integer(0) }
        guard entry.value.isString else { return c.wrongType() }
        let bytes = entry.value.stringBytes
        var range = ByteRange(start: 0, end: Int64(bytes.count) - 1)
        switch c.args.count {
        case 2: break
        case 4, 5:
            guard let start = c.integerArgument(2), let end = c.integerArgument(3) else { return }
            // Redis answers this empty range before it reads the unit (a bad unit is no error).
            if start < 0 && end < 0 && start > end { return c.out.integer(0) }
            var bits = false
            if c.args.count == 5 {
                guard let unit = unitIsBit(&c, 4) else { return }
                bits = unit
            }
            range = clampedRange(start: start, end: end, length: Int64(bytes.count), bits: bits)
        default: return c.syntaxError()
        }
        guard range.start <= range.end else { return c.out.integer(0) }
        let first = Int(range.start), last = Int(range.end)
        var count = bytes.withUnsafeBytes { popcount(UnsafeRawBufferPointer(rebasing: $0[first...last])) }
        count -= (bytes[first] & range.firstByteIgnored).nonzeroBitCount
        count -= (bytes[last] & range.lastByteIgnored).nonzeroBitCount
        c.out.integer(count)
    }

    static func popcount(_ bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var i = 0
        while i + 8 <= bytes.count {
            count += bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
            i += 8
        }
        while i < bytes.count {
            count += bytes[i].nonzeroBitCount
            i += 1
        }
        return count
    }

    static func bitpos(_ c: inout CommandContext) {
        guard let bit = c.integerArgument(2) else { return }
        guard bit == 0 || bit == 1 else { return c.out.error("ERR The bit argument must be 1 or 0.") }
        guard let entry = c.lookupRead(Bytes(c.args[1])) else { return c.out.integer(bit == 1 ? -1 : 0) }
        guard entry.value.isString else { return c.wrongType() }
        let bytes = entry.value.stringBytes
        let length = Int64(bytes.count)
        var range = ByteRange(start: 0, end: length - 1)
        var endGiven = false
        switch c.args.count {
        case 3: break
        case 4, 5, 6:
            guard let start = c.integerArgument(3) else { return }
            var bits = false
            if c.args.count == 6 {
                guard let unit = unitIsBit(&c, 5) else { return }
                bits = unit
            }
            var end = bits ? (length << 3) + 7 : length - 1
            if c.args.count >= 5 {
                guard let given = c.integerArgument(4) else { return }
                end = given
                endGiven = true
            }
            range = clampedRange(start: start, end: end, length: length, bits: bits)
        default: return c.syntaxError()
        }
        guard range.start <= range.end else { return c.out.integer(-1) }
        if let found = firstBit(bit == 1, in: bytes, range) { return c.out.integer(Int(found)) }
        // Not found. Looking for a clear bit without an explicit end, the string continues
        // with zero bits past its end, so the answer is the first bit after the range.
        c.out.integer(bit == 0 && !endGiven ? Int((range.end + 1) << 3) : -1)
    }

    /// The first bit equal to `one` in the range, ignoring the masked bits at its edges.
    static func firstBit(_ one: Bool, in bytes: [UInt8], _ range: ByteRange) -> Int64? {
        var i = Int(range.start)
        let last = Int(range.end)
        while i <= last {
            var byte = bytes[i]
            // Ignored bits are made to look like the bit not searched for.
            var ignored: UInt8 = 0
            if i == Int(range.start) { ignored |= range.firstByteIgnored }
            if i == last { ignored |= range.lastByteIgnored }
            if ignored != 0 { byte = one ? byte & ~ignored : byte | ignored }
            let searched = one ? byte : ~byte
            if searched != 0 { return Int64(i) << 3 + Int64(searched.leadingZeroBitCount) }
            i += 1
        }
        return nil
    }

    enum BitOperation { case and, or, xor, not }

    static func bitop(_ c: inout CommandContext) {
        let operation: BitOperation
        if c.argIs(1, "and") { operation = .and }
        else if c.argIs(1, "or") { operation = .or }
        else if c.argIs(1, "xor") { operation = .xor }
        else if c.argIs(1, "not") { operation = .not }
        else { return c.syntaxError() }
        if operation == .not && c.args.count != 4 {
            return c.out.error("ERR BITOP NOT must be called with a single source key.")
        }
        var sources: [[UInt8]] = []
        sources.reserveCapacity(c.args.count - 3)
        for i in 3..<c.args.count {
            guard let bytes = readString(Bytes(c.args[i]), &c) else { return }
            sources.append(bytes)
        }
        let length = sources.map(\.count).max() ?? 0
        let destination = Bytes(c.args[2])
        guard length > 0 else {
            c.delete(destination)
            return c.out.integer(0)
        }
        var result = sources[0] + repeatElement(0, count: length - sources[0].count)
        switch operation {
        case .not:
            for i in result.indices { result[i] = ~result[i] }
        case .and, .or, .xor:
            for source in sources.dropFirst() {
                for i in 0..<length {
                    let byte: UInt8 = i < source.count ? source[i] : 0
                    switch operation {
                    case .and: result[i] &= byte
                    case .or: result[i] |= byte
                    default: result[i] ^= byte
                    }
                }
            }
        }
        c.store(destination, .string(Bytes(result)), raw: true)
        c.notify(.string, "set", destination)
        c.out.integer(length)
    }
}
