/// A command's RESP reply as the Lua value `redis.call` returns, by Redis's rules:
/// integer → number, bulk → string, null → false (RESP2) or nil (RESP3 `_`), array → table,
/// status → `{ok=...}`, error → `{err=...}` (see `pushCommandError`); and after
/// `redis.setresp(3)` maps → `{map=...}`, sets → `{set=...}`, doubles → `{double=...}`,
/// booleans, big numbers, verbatim strings.
/// The bytes come from our own reply writer, so they are well formed.
import CLua

struct LuaReplyDecoder {
    let L: OpaquePointer
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(L: OpaquePointer, bytes: UnsafeRawBufferPointer) {
        self.L = L
        self.bytes = bytes
    }

    /// Pushes the next value.
    mutating func push() {
        guard position < bytes.count else { return lua_pushnil(L) }
        let type = bytes[position]
        position += 1
        let line = readLine()
        switch type {
        case UInt8(ascii: "+"): pushTable(field: "ok", line)
        case UInt8(ascii: "-"): pushCommandError(L, line)
        case UInt8(ascii: ":"): lua_pushnumber(L, Double(number(line)))
        case UInt8(ascii: "$"):
            let n = number(line)
            if n < 0 { return lua_pushboolean(L, 0) }
            pushString(bytes[position..<position + n])
            position += n + 2
        case UInt8(ascii: "*"):
            let n = number(line)
            if n < 0 { return lua_pushboolean(L, 0) }
            lua_createtable(L, Int32(n), 0)
            for i in 0..<n {
                push()
                lua_rawseti(L, -2, Int32(i + 1))
            }
        case UInt8(ascii: "%"):
            lua_createtable(L, 0, 1)
            lua_createtable(L, 0, Int32(number(line)))
            for _ in 0..<number(line) {
                push()
                push()
                lua_rawset(L, -3)
            }
            lua_setfield(L, -2, "map")
        case UInt8(ascii: "~"):
            lua_createtable(L, 0, 1)
            lua_createtable(L, 0, Int32(number(line)))
            for _ in 0..<number(line) {
                push()
                lua_pushboolean(L, 1)
                lua_rawset(L, -3)
            }
            lua_setfield(L, -2, "set")
        case UInt8(ascii: "_"): lua_pushnil(L)
        case UInt8(ascii: "#"): lua_pushboolean(L, line.first == UInt8(ascii: "t") ? 1 : 0)
        case UInt8(ascii: ","):
            lua_createtable(L, 0, 1)
            lua_pushnumber(L, parseDouble(line))
            lua_setfield(L, -2, "double")
        case UInt8(ascii: "("): pushTable(field: "big_number", line)
        case UInt8(ascii: "="):
            let n = number(line)
            let body = bytes[position..<position + n]
            position += n + 2
            lua_createtable(L, 0, 1)
            lua_createtable(L, 0, 2)
            pushString(body.prefix(3))
            lua_setfield(L, -2, "format")
            pushString(body.dropFirst(4))
            lua_setfield(L, -2, "string")
            lua_setfield(L, -2, "verbatim_string")
        default:
            lua_pushnil(L)
        }
    }

    private mutating func readLine() -> Slice<UnsafeRawBufferPointer> {
        let start = position
        while position + 1 < bytes.count && !(bytes[position] == 13 && bytes[position + 1] == 10) { position += 1 }
        let line = bytes[start..<position]
        position += 2
        return line
    }

    private func number(_ line: Slice<UnsafeRawBufferPointer>) -> Int {
        var n = 0, negative = false
        for c in line {
            if c == UInt8(ascii: "-") { negative = true } else { n = n &* 10 &+ Int(c &- 48) }
        }
        return negative ? -n : n
    }

    private func parseDouble(_ line: Slice<UnsafeRawBufferPointer>) -> Double {
        Double(String(decoding: line, as: UTF8.self)) ?? 0
    }

    private func pushString(_ slice: Slice<UnsafeRawBufferPointer>) {
        guard let base = slice.base.baseAddress, !slice.isEmpty else { return lua_pushlstring(L, "", 0) }
        lua_pushlstring(L, (base + slice.startIndex).assumingMemoryBound(to: CChar.self), slice.count)
    }

    private func pushTable(field: String, _ value: Slice<UnsafeRawBufferPointer>) {
        lua_createtable(L, 0, 1)
        pushString(value)
        lua_setfield(L, -2, field)
    }
}
