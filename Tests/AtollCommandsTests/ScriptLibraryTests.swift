import AtollCore
import Testing

/// The scripting libraries cmsgpack and struct (C, in CLuaBridge), through EVAL. Expected bytes
/// are the reference Redis 7.0's; the differential suite (test_diff_lua_libs.py) covers more.
@Suite struct ScriptLibraryTests {
    /// Prepends a `hex` helper so binary results compare as text.
    private func eval(_ h: Harness, _ body: String) -> String {
        let hex = "local function hex(s) return (string.gsub(s, '.', function(c) return string.format('%02x', c:byte()) end)) end "
        return h.run("EVAL", hex + body, "0")
    }

    @Test func packIntegersAtEveryWidth() {
        let h = Harness()
        #expect(eval(h, "return hex(cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 2^32, -32, -33, -129, -32769, -2^31 - 1))")
            == bulk("007fcc80ccffcd0100cdffffce00010000cf0000000100000000e0d0dfd1ff7fd2ffff7fffd3ffffffff7fffffff"))
    }

    @Test func packFloatWhenLosslessElseDouble() {
        let h = Harness()
        #expect(eval(h, "return hex(cmsgpack.pack(1.5, 0.1, 2^63, 1/0))") == bulk("ca3fc00000cb3fb999999999999aca5f000000ca7f800000"))
    }

    @Test func packStringHeaders() {
        let h = Harness()
        let body = "return hex(cmsgpack.pack(string.rep('x', 31)):sub(1, 2)) .. hex(cmsgpack.pack(string.rep('x', 32)):sub(1, 4)) .. "
            + "hex(cmsgpack.pack(string.rep('x', 256)):sub(1, 6)) .. hex(cmsgpack.pack(string.rep('x', 65536)):sub(1, 10))"
        #expect(eval(h, body) == bulk("bf78d9207878da0100787878db000100007878787878"))
    }

    @Test func packTablesAndNestingLimit() {
        let h = Harness()
        #expect(eval(h, "return hex(cmsgpack.pack({}, {1, 2}, {a = 1}, true, false, nil))") == bulk("9092010281a16101c3c2c0"))
        #expect(eval(h, "local t = {} for _ = 1, 17 do t = {t} end return hex(cmsgpack.pack(t))")
            == bulk(String(repeating: "91", count: 16) + "c0"))
        #expect(h.run("EVAL", "return cmsgpack.pack()", "0").hasPrefix("-ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"))
    }

    @Test func unpackVariants() {
        let h = Harness()
        #expect(h.run("EVAL", "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3}))}", "0")
            == array(int(1), bulk("two"), array(int(3))))
        #expect(h.run("EVAL", "return {cmsgpack.unpack_one(cmsgpack.pack(7, 8), 1)}", "0") == array(int(-1), int(8)))
        #expect(h.run("EVAL", "return {cmsgpack.unpack_limit(cmsgpack.pack(7, 8, 9), 2)}", "0") == array(int(2), int(7), int(8)))
        #expect(h.run("EVAL", "return cmsgpack.unpack(string.char(0xc1))", "0")
            .hasPrefix("-ERR user_script:1: Bad data format in input."))
        #expect(h.run("EVAL", "return cmsgpack.unpack(string.char(0xcd, 0))", "0")
            .hasPrefix("-ERR user_script:1: Missing bytes in input."))
    }

    @Test func structPackUnpackSize() {
        let h = Harness()
        #expect(eval(h, "return hex(struct.pack('>i3<Hbxd', -2, 258, 1, 0.5))") == bulk("fffffe02010100000000000000e03f"))
        #expect(h.run("EVAL", "return {struct.unpack('>h c0 b', string.char(0, 2) .. 'hi' .. string.char(9))}", "0")
            == array(bulk("hi"), int(9), int(6)))
        #expect(h.run("EVAL", "return struct.size('!4 b i3 d')", "0") == int(16))
        #expect(h.run("EVAL", "return struct.pack('i33', 1)", "0")
            .hasPrefix("-ERR user_script:1: integral size 33 is larger than limit of 32"))
    }
}
