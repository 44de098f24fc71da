/// The value a script returns, as the reply its caller gets, by Redis 7.0's rules: numbers are
/// truncated to integers, `false` is a null (RESP3: `#f`), `true` is 1 (RESP3: `#t`), tables
/// with `err` / `ok` are errors / statuses, `{double=}`, `{map=}`, `{set=}`, `{big_number=}` and
/// `{verbatim_string=}` give RESP3 types, and any other table is an array that stops at its
/// first nil.
import AtollRESP
import CLua
import CLuaBridge

struct LuaReplyEncoder {
    let L: OpaquePointer

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
            let bytes = luaBytes(L, -1)
            out.bulk(bytes)
        case LUA_TBOOLEAN:
            let value = lua_toboolean(L, -1) != 0
            if out.resp3 { out.boolean(value) } else if value { out.integer(1) } else { out.null() }
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
            out.error(bytes: err.isEmpty ? [32] : err)
            return
        }
        if let ok = field("ok", type: LUA_TSTRING) {
            out.status(text: String(decoding: ok.map { $0 == 13 || $0 == 10 ? 32 : $0 }, as: UTF8.self))
            return
        }
        if fieldType("double") == LUA_TNUMBER {
            lua_getfield(L, -1, "double")
            let d = lua_tonumber(L, -1)
            lua_settop(L, -2)
            out.double(d)
            return
        }
        if let big = field("big_number", type: LUA_TSTRING) {
            if out.resp3 {
                out.buffer.writeInteger(UInt8(ascii: "("))
                out.buffer.writeBytes(big.map { $0 == 13 || $0 == 10 ? 32 : $0 })
                out.buffer.writeStaticString("\r\n")
            } else {
                out.bulk(big)
            }
            return
        }
        if fieldType("verbatim_string") == LUA_TTABLE {
            lua_getfield(L, -1, "verbatim_string")
            defer { lua_settop(L, -2) }
            if let format = field("format", type: LUA_TSTRING), let text = field("string", type: LUA_TSTRING), format.count == 3 {
                if out.resp3 {
                    out.buffer.writeInteger(UInt8(ascii: "="))
                    out.buffer.writeString(String(text.count + 4))
                    out.buffer.writeStaticString("\r\n")
                    out.buffer.writeBytes(format)
                    out.buffer.writeInteger(UInt8(ascii: ":"))
                    out.buffer.writeBytes(text)
                    out.buffer.writeStaticString("\r\n")
                } else {
                    out.bulk(text)
                }
                return
            }
            out.null()
            return
        }
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

/// C's `(long long)` cast of a double on x86-64: out-of-range values and NaN give INT64_MIN.
func truncatedInteger(_ d: Double) -> Int64 {
    guard d.isFinite, d >= -9223372036854775808.0, d < 9223372036854775808.0 else { return Int64.min }
    return Int64(d.rounded(.towardZero))
}
