/// Reading stream arguments as Redis 7.0 does: IDs (`ms-seq`, `ms`, `-`, `+`, `ms-*`, and
/// `(` for exclusive range bounds) and the trimming options shared by XADD and XTRIM.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum StreamArguments {
    static let invalidID = "ERR Invalid stream ID specified as stream command argument"

    /// Redis's `string2ull` on a C string: a canonical signed integer that is not negative,
    /// or else what `strtoull` takes whole (leading white space, a sign, digits, no overflow;
    /// `-` wraps around as in C).
    static func unsigned(_ s: ArraySlice<UInt8>) -> UInt64? {
        if let n = s.withUnsafeBytes({ parseStrictInt64($0) }) { return n < 0 ? nil : UInt64(n) }
        var i = s.startIndex
        while i < s.endIndex, s[i] == 32 || (s[i] >= 9 && s[i] <= 13) { i += 1 }
        var negative = false
        if i < s.endIndex, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < s.endIndex else { return nil }
        var value: UInt64 = 0
        while i < s.endIndex {
            let d = s[i]
            guard d >= 48 && d <= 57 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { return nil }
            value = sum
            i += 1
        }
        return negative ? 0 &- value : value
    }

    /// The common form, `ms-seq` or `ms` in plain digits that fit 64 bits, read without
    /// slicing; nil for anything else (`parseID` reads it the long way, to the same result
    /// for these).
    @inline(__always) static func plainID(_ raw: [UInt8], missingSequence: UInt64) -> StreamID? {
        raw.withUnsafeBufferPointer { b -> StreamID? in
            guard b.count <= 41 else { return nil }
            var parts: (UInt64, UInt64) = (0, missingSequence)
            var value: UInt64 = 0
            var digits = 0
            var dashSeen = false
            for byte in b {
                if byte == UInt8(ascii: "-") {
                    guard !dashSeen, digits > 0 else { return nil }
                    dashSeen = true
                    parts.0 = value
                    value = 0
                    digits = 0
                    continue
                }
                guard byte >= 48 && byte <= 57 else { return nil }
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 48))
                guard !o1 && !o2 else { return nil }
                value = sum
                digits += 1
            }
            guard digits > 0 else { return nil }
            if dashSeen { parts.1 = value } else { parts.0 = value }
            return StreamID(ms: parts.0, seq: parts.1)
        }
    }

    /// Redis's `streamGenericParseIDOrReply` (without the reply): `strict` refuses `-` and
    /// `+`; `autoSequence` accepts `ms-*` (then `sequenceGiven` is false). The argument is
    /// read as a C string, up to its first NUL, and may not exceed 127 bytes.
    static func parseID(_ raw: [UInt8], missingSequence: UInt64, strict: Bool,
                        autoSequence: Bool = false) -> (id: StreamID, sequenceGiven: Bool)? {
        if let id = plainID(raw, missingSequence: missingSequence) { return (id, true) }
        guard raw.count <= 127 else { return nil }
        let text = raw.firstIndex(of: 0).map { raw[..<$0] } ?? raw[...]
        if text.count == 1 && (text.first == UInt8(ascii: "-") || text.first == UInt8(ascii: "+")) {
            if strict { return nil }
            return (text.first == UInt8(ascii: "-") ? .zero : .max, true)
        }
        guard let dash = text.firstIndex(of: UInt8(ascii: "-")) else {
            guard let ms = unsigned(text) else { return nil }
            return (StreamID(ms: ms, seq: missingSequence), true)
        }
        guard let ms = unsigned(text[..<dash]) else { return nil }
        let rest = text[(dash + 1)...]
        if autoSequence && rest.count == 1 && rest.first == UInt8(ascii: "*") {
            return (StreamID(ms: ms, seq: 0), false)
        }
        guard let seq = unsigned(rest) else { return nil }
        return (StreamID(ms: ms, seq: seq), true)
    }
}

extension CommandContext {
    /// Argument `index` as a stream ID (`-` and `+` too unless `strict`), or nil after
    /// replying Redis's invalid-ID error.
    mutating func streamIDArgument(_ index: Int, missingSequence: UInt64 = 0, strict: Bool = false) -> StreamID? {
        guard let parsed = StreamArguments.parseID(args[index], missingSequence: missingSequence, strict: strict) else {
            out.error(StreamArguments.invalidID)
            return nil
        }
        return parsed.id
    }

    /// A range bound: `(` makes it exclusive (then `-` and `+` are refused).
    mutating func streamRangeBound(_ index: Int, missingSequence: UInt64) -> (StreamID, exclusive: Bool)? {
        let raw = args[index]
        if raw.count > 1 && raw[0] == UInt8(ascii: "(") {
            guard let parsed = StreamArguments.parseID(Array(raw.dropFirst()), missingSequence: missingSequence,
                                                       strict: true) else {
                out.error(StreamArguments.invalidID)
                return nil
            }
            return (parsed.id, true)
        }
        guard let id = streamIDArgument(index, missingSequence: missingSequence) else { return nil }
        return (id, false)
    }
}

/// XADD's and XTRIM's options, as Redis 7.0's `streamParseAddOrTrimArgsOrReply` reads them.
struct StreamTrimOptions {
    var bound: StreamObject.TrimBound?
    var approximate = false
    var limit: Int64 = 0
    /// Where the MAXLEN or MINID value is (the `~` or `=` before it, if any, is one earlier).
    var boundIndex = 0
    var noMakeStream = false
    /// XADD: the ID argument's index, the ID given (nil for `*`), and whether its sequence was.
    var idIndex = 0
    var id: StreamID?
    var sequenceGiven = true

    /// Reads options from argument 2 on; nil after replying with the error.
    static func parse(_ c: inout CommandContext, forAdd: Bool) -> StreamTrimOptions? {
        var o = StreamTrimOptions()
        var limitGiven = false
        var i = 2
        while i < c.args.count {
            let moreArgs = c.args.count - 1 - i
            let arg = c.args[i]
            if forAdd && c.argIs(i, "*") {
                break
            } else if (c.argIs(i, "maxlen") || c.argIs(i, "minid")) && moreArgs > 0 {
                let isMaxLen = c.argIs(i, "maxlen")
                if o.bound != nil {
                    c.out.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
                    return nil
                }
                o.approximate = false
                if moreArgs >= 2 && c.argIs(i + 1, "~") {
                    o.approximate = true
                    i += 1
                } else if moreArgs >= 2 && c.argIs(i + 1, "=") {
                    i += 1
                }
                if isMaxLen {
                    guard let n = c.integerArgument(i + 1) else { return nil }
                    guard n >= 0 else {
                        c.out.error("ERR The MAXLEN argument must be >= 0.")
                        return nil
                    }
                    o.bound = .maxLength(n)
                } else {
                    guard let id = c.streamIDArgument(i + 1, strict: true) else { return nil }
                    o.bound = .minID(id)
                }
                i += 1
                o.boundIndex = i
            } else if c.argIs(i, "limit") && moreArgs > 0 {
                guard let n = c.integerArgument(i + 1) else { return nil }
                guard n >= 0 else {
                    c.out.error("ERR The LIMIT argument must be >= 0.")
                    return nil
                }
                o.limit = n
                limitGiven = true
                i += 1
            } else if forAdd && c.argIs(i, "nomkstream") {
                o.noMakeStream = true
            } else if forAdd {
                guard let parsed = StreamArguments.parseID(arg, missingSequence: 0, strict: true, autoSequence: true) else {
                    c.out.error(StreamArguments.invalidID)
                    return nil
                }
                o.id = parsed.id
                o.sequenceGiven = parsed.sequenceGiven
                break
            } else {
                c.syntaxError()
                return nil
            }
            i += 1
        }
        o.idIndex = i
        if o.limit != 0 && o.bound == nil {
            c.out.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
            return nil
        }
        if !forAdd && o.bound == nil {
            c.out.error("ERR syntax error, XTRIM must be called with a trimming strategy")
            return nil
        }
        if limitGiven {
            if !o.approximate {
                c.out.error("ERR syntax error, LIMIT cannot be used without the special ~ option")
                return nil
            }
        } else if o.approximate {
            // 100 nodes' worth, or 10000 when that is not a positive number.
            let (product, overflow) = Int64(c.encodingLimits.streamNodeMaxEntries).multipliedReportingOverflow(by: 100)
            o.limit = overflow || product <= 0 ? 10_000 : product
        } else {
            o.limit = 0
        }
        return o
    }
}
