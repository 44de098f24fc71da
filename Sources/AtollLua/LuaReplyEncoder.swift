/// The value a script returns, as the reply its caller gets, by Redis 7.0's rules: numbers are
/// truncated to integers, tables with `err` / `ok` are errors / statuses, `{double=}`,
/// `{map=}`, `{set=}`, `{big_number=}` and `{verbatim_string=}` give RESP3 types, and any other
/// table is an array that stops at its first nil. Booleans follow the script's protocol
/// (`redis.setresp`), not the caller's: under RESP2 `true` is 1 and `false` a null; under
/// RESP3 they are booleans (which a RESP2 caller sees as 1 and 0).
import AtollRESP
import CLua
import CLuaBridge
import NIOCore

struct LuaReplyEncoder {
    let L: OpaquePointer
    let scriptResp3: Bool

    /// The string on top of the stack as a bulk string, written from Lua's own bytes. Kept out
    /// of `write`, which recurses once per nesting level: its frame stays small.
    @inline(never)
    private func writeString(_ out: inout ReplyWriter) {
        var length = 0
        let bytes = lua_tolstring(L, -1, &length)
        out.bulk(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    /// Writes the value on top of the stack and pops it.
    func write(_ out: inout ReplyWriter) {
        defer { lua_settop(L, -2) }
        // As in Redis: a reply nested deeper than the Lua stack allows is cut with an error.
        guard lua_checkstack(L, 4) != 0 else {
            out.error("ERR reached lua stack limit")
            return
        }
        switch lua_type(L, -1) {
        case LUA_TSTRING:
            writeString(&out)
        case LUA_TBOOLEAN:
            let value = lua_toboolean(L, -1) != 0
            if scriptResp3 {
                if out.resp3 { out.boolean(value) } else { out.integer(value ? 1 : 0) }
            } else if value {
                out.integer(1)
            } else {
                out.null()
            }
        case LUA_TNUMBER:
            out.integer(truncatedInteger(lua_tonumber(L, -1)))
        case LUA_TTABLE:
            writeTable(&out)
        default:
            out.null()
        }
    }

    private func writeTable(_ out: inout ReplyWriter) {
        if let err = field("err", type: LUA_TSTRING) {
            out.errorLine([UInt8(ascii: "-")] + cString(err), counted: !ignoresErrorStats())
            return
        }
        if let ok = field("ok", type: LUA_TSTRING) {
            out.buffer.writeInteger(UInt8(ascii: "+"))
            out.buffer.writeBytes(cString(ok).map(spaceForNewline))
            out.buffer.writeStaticString("\r\n")
            return
        }
        if fieldType("double") == LUA_TNUMBER {
            lua_getfield(L, -1, "double")
            let d = lua_tonumber(L, -1)
            lua_settop(L, -2)
            writeDouble(d, &out)
            return
        }
        if let big = field("big_number", type: LUA_TSTRING) {
            let digits = big.map(spaceForNewline)
            guard out.resp3 else { return out.bulk(digits) }
            out.buffer.writeInteger(UInt8(ascii: "("))
            out.buffer.writeBytes(digits)
            out.buffer.writeStaticString("\r\n")
            return
        }
        if fieldType("verbatim_string") == LUA_TTABLE, writeVerbatim(&out) { return }
        if fieldType("map") == LUA_TTABLE {
            lua_getfield(L, -1, "map")
            writeMap(&out)
            return
        }
        if fieldType("set") == LUA_TTABLE {
            lua_getfield(L, -1, "set")
            writeSet(&out)
            return
        }
        writeArray(&out)
    }

    /// Redis prints doubles with printf, so a NaN keeps its sign ("-nan" for Lua's 0/0).
    private func writeDouble(_ d: Double, _ out: inout ReplyWriter) {
        guard d.isNaN else { return out.double(d) }
        let text = d.sign == .minus ? "-nan" : "nan"
        guard out.resp3 else { return out.bulk(text) }
        out.buffer.writeInteger(UInt8(ascii: ","))
        out.buffer.writeString(text)
        out.buffer.writeStaticString("\r\n")
    }

    /// `{verbatim_string={format=..., string=...}}`: written when both are strings; the format
    /// is cut or padded with spaces to three characters. Returns false (nothing written) when
    /// they are not, and the table is then taken as a map, set or array like any other.
    private func writeVerbatim(_ out: inout ReplyWriter) -> Bool {
        lua_getfield(L, -1, "verbatim_string")
        defer { lua_settop(L, -2) }
        guard let format = field("format", type: LUA_TSTRING), let text = field("string", type: LUA_TSTRING) else {
            return false
        }
        guard out.resp3 else {
            out.bulk(text)
            return true
        }
        var ext = Array(cString(format).prefix(3))
        ext += [UInt8](repeating: 32, count: 3 - ext.count)
        out.buffer.writeInteger(UInt8(ascii: "="))
        out.buffer.writeString(String(text.count + 4))
        out.buffer.writeStaticString("\r\n")
        out.buffer.writeBytes(ext)
        out.buffer.writeInteger(UInt8(ascii: ":"))
        out.buffer.writeBytes(text)
        out.buffer.writeStaticString("\r\n")
        return true
    }

    private func writeArray(_ out: inout ReplyWriter) {
        var count: Int32 = 0
        while true {
            lua_rawgeti(L, -1, count + 1)
            let isNil = lua_type(L, -1) == LUA_TNIL
            lua_settop(L, -2)
            if isNil { break }
            count += 1
        }
        out.arrayHeader(Int(count))
        for i in 0..<count {
            lua_rawgeti(L, -1, i + 1)
            write(&out)
        }
    }

    /// The map table is on top; written and popped.
    private func writeMap(_ out: inout ReplyWriter) {
        defer { lua_settop(L, -2) }
        out.mapHeader(pairCount())
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            lua_pushvalue(L, -2)
            write(&out)   // key (a copy)
            write(&out)   // value
        }
    }

    /// The set table is on top; its keys are written, then it is popped.
    private func writeSet(_ out: inout ReplyWriter) {
        defer { lua_settop(L, -2) }
        out.setHeader(pairCount())
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            lua_settop(L, -2)
            lua_pushvalue(L, -1)
            write(&out)
        }
    }

    /// How many key/value pairs the table on top holds.
    private func pairCount() -> Int {
        var count = 0
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            lua_settop(L, -2)
            count += 1
        }
        return count
    }

    /// Whether the error table on top of the stack came from a command the script called,
    /// whose error the statistics counted already (see `pushCommandError`).
    func ignoresErrorStats() -> Bool {
        lua_pushstring(L, "ignore_error_stats_update")
        lua_rawget(L, -2)
        defer { lua_settop(L, -2) }
        return lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) != 0
    }

    private func fieldType(_ name: String) -> Int32 {
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        defer { lua_settop(L, -2) }
        return lua_type(L, -1)
    }

    private func field(_ name: String, type: Int32) -> [UInt8]? {
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        defer { lua_settop(L, -2) }
        guard lua_type(L, -1) == type else { return nil }
        return luaBytes(L, -1)
    }
}

private func spaceForNewline(_ byte: UInt8) -> UInt8 { byte == 13 || byte == 10 ? 32 : byte }

extension ReplyWriter {
    /// An error reply from `text` ("-CODE message"), as Redis's formatted errors are written:
    /// CR and LF at the end are dropped and any others become spaces. Not `counted`: the
    /// error statistics have it already (it came from a command the script called).
    mutating func errorLine(_ text: [UInt8], counted: Bool = true) {
        var end = text.count
        while end > 1, text[end - 1] == 13 || text[end - 1] == 10 { end -= 1 }
        let line = text[..<end].map(spaceForNewline)
        if counted { noteError(line, dashed: true) } else { uncountedErrors += 1 }
        buffer.writeBytes(line)
        buffer.writeStaticString("\r\n")
    }
}

/// C's `(long long)` cast of a double on x86-64: out-of-range values and NaN give INT64_MIN.
func truncatedInteger(_ d: Double) -> Int64 {
    guard d.isFinite, d >= -9223372036854775808.0, d < 9223372036854775808.0 else { return Int64.min }
    return Int64(d.rounded(.towardZero))
}
