"""Differential tests for the scripting libraries cmsgpack and struct.

Every case runs an EVAL on the reference Redis and on Atoll and compares the raw
replies. Packed bytes come back as bulk strings (binary-safe); unpacked values
come back through ``show``, a Lua serializer that spells out types, numbers to
17 digits, strings with %q, tables in ``pairs`` order with their ``#`` length,
and how many values a call returned.
"""

import random

import pytest

import resp

PRELUDE = r"""
local show
show = function(v)
  local t = type(v)
  if t == 'number' then return string.format('%.17g', v) end
  if t == 'string' then return string.format('%q', v) end
  if t == 'table' then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = show(k) .. '=' .. show(x) end
    return '{#' .. #v .. ' ' .. table.concat(parts, ',') .. '}'
  end
  return tostring(v)
end
local function all(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = show((select(i, ...))) end
  return select('#', ...) .. ': ' .. table.concat(out, ' ')
end
local function nested(depth)
  local t = {}
  for _ = 1, depth do t = {t} end
  return t
end
local function range(n, f)
  local t = {}
  for i = 1, n do t[i] = f and f(i) or i end
  return t
end
local function keyed(n)
  local t = {}
  for i = 1, n do t['k' .. i] = i end
  return t
end
"""


@pytest.fixture(autouse=True, scope="module")
def reset_slowlog(redis_ref, atoll):
    """Some scripts here take long enough for SLOWLOG; later modules expect it empty."""
    yield
    for port in (redis_ref.port, atoll.port):
        with resp.Conn(port) as c:
            assert c.command("SLOWLOG", "RESET") == b"+OK\r\n"


def lua(diff, body, *argv, ok=True):
    """EVAL PRELUDE+body on both servers; checks the reply is (not) an error."""
    __tracebackhide__ = True
    reply = diff.check("EVAL", PRELUDE + body, "0", *argv)
    assert (reply[:1] != b"-") == ok, f"reference replied {reply[:200]!r} to {body!r}"
    return reply


# --- cmsgpack.pack ---------------------------------------------------------------

PACK_VALUES = [
    # positive integers at every width boundary
    "0", "1", "127", "128", "255", "256", "65535", "65536", "2^32-1", "2^32",
    "2^53", "2^53+1", "2^62", "2^63-1024",
    # negative integers
    "-1", "-32", "-33", "-128", "-129", "-32768", "-32769", "-2^31", "-2^31-1",
    "-2^53", "-2^63",
    # numbers with no int64 value: packed as float or double
    "2^63", "-2^63-2048", "2^64", "1e300", "-1e300", "1/0", "-1/0", "0/0", "-0.0",
    "0.5", "-0.5", "1.5", "0.1", "3.14", "1/3", "2^-149", "2^-150", "2^-1074",
    "3.4028234663852886e38", "3.5e38", "16777217.5", "-1.25e-10",
    # strings around every header size
    "''", "'a'", "string.rep('x', 31)", "string.rep('x', 32)", "string.rep('x', 255)",
    "string.rep('x', 256)", "string.rep('x', 65535)", "string.rep('x', 65536)",
    "'a\\0b\\255'",
    # booleans, nil and values msgpack has no type for
    "true", "false", "nil", "type", "coroutine.create(function() end)",
    # arrays
    "{}", "{1, 2, 3}", "range(15)", "range(16)", "range(65535)", "range(65536)",
    "{true, false, 'x', 1.5}", "{{}, {{}}}", "range(3, function(i) return {i} end)",
    # maps
    "{a = 1}", "keyed(15)", "keyed(16)", "keyed(65535)", "keyed(65536)",
    "{[true] = 1}", "{[1.5] = 'x'}", "{[0] = 'zero'}", "{[-1] = 1}", "{[2^31] = 1}",
    "{[2^31 - 1] = 1}", "{[1] = 1, [3] = 3}", "{[2] = 2}", "{nil, nil, 3}",
    "{1, 2, x = 3}", "{a = {b = {c = {}}}}", "{[{}] = 1}", "{f = type}",
    # nesting: tables deeper than 16 become nil
    "nested(14)", "nested(15)", "nested(16)", "nested(17)", "nested(30)",
    "{a = nested(15)}", "(function() local t = {} t.self = t return t end)()",
    "(function() local t = {1} t[2] = t return t end)()",
]


@pytest.mark.parametrize("value", PACK_VALUES)
def test_pack(diff, value):
    lua(diff, f"return cmsgpack.pack({value})")


@pytest.mark.parametrize("args", [
    "1, 2, 3", "'a', {1}, {b = 2}", "nil, nil", "nil, 1", "true, false, nil, 0.5",
    "unpack(range(100))", "string.rep('y', 70000), 1",
])
def test_pack_several_values(diff, args):
    lua(diff, f"return cmsgpack.pack({args})")


def test_pack_needs_input(diff):
    lua(diff, "return cmsgpack.pack()", ok=False)


# --- round trips -------------------------------------------------------------------

ROUND_TRIPS = [
    "0", "127", "128", "-33", "65536", "2^32", "2^53", "-2^63", "2^63", "2^64", "0.1",
    "1.5", "1/0", "-1/0", "3.4028234663852886e38", "string.rep('z', 300)", "'a\\0b'",
    "true", "false", "{}", "range(20)", "keyed(20)", "{1, 2, x = 3}", "{[1] = 1, [3] = 3}",
    "{nil, nil, 3}", "{a = {b = {1, 2, {c = 'd'}}}}", "nested(17)", "{[1.5] = 2.5}",
    "{[true] = false}",
]


@pytest.mark.parametrize("value", ROUND_TRIPS)
def test_round_trip(diff, value):
    lua(diff, f"return all(cmsgpack.unpack(cmsgpack.pack({value})))")


def test_round_trip_several_values(diff):
    lua(diff, "return all(cmsgpack.unpack(cmsgpack.pack(1, 'two', {3}, nil, true)))")


# --- cmsgpack.unpack of hand-made input ------------------------------------------------

def h(text):
    return bytes.fromhex(text)


UNPACK_INPUTS = {
    # integers
    "fixint": h("00"), "fixint-max": h("7f"), "negfix": h("e0"), "negfix-1": h("ff"),
    "u8": h("ccff"), "u16": h("cdffff"), "u32": h("ceffffffff"),
    "u64-max-int64": h("cf7fffffffffffffff"), "u64-2^63": h("cf8000000000000000"),
    "u64-max": h("cfffffffffffffffff"), "u64-2^53+1": h("cf0020000000000001"),
    "i8": h("d080"), "i16": h("d18000"), "i16-low": h("d1ff01"), "i32": h("d280000000"),
    "i64-min": h("d38000000000000000"), "i64-1": h("d3ffffffffffffffff"),
    "i64-2^53+1": h("d30020000000000001"),
    # floats
    "float-1": h("ca3f800000"), "float-nan": h("ca7fc00000"), "float-inf": h("ca7f800000"),
    "float-tiny": h("ca00000001"), "double-0.1": h("cb3fb999999999999a"),
    "double-neg-inf": h("cbfff0000000000000"),
    # nil, booleans
    "nil": h("c0"), "false": h("c2"), "true": h("c3"),
    # strings
    "fixstr": b"\xa3abc", "fixstr-empty": h("a0"), "str8": b"\xd9\x03abc",
    "str16": b"\xda\x00\x03abc", "str32": b"\xdb\x00\x00\x00\x03abc",
    "str-binary": b"\xa4\x00\xff\r\n",
    # arrays and maps
    "fixarray": h("93010203"), "array16": h("dc0003010203"), "array32": h("dd00000003010203"),
    "empty-array": h("90"), "nested": h("929101 80"), "array-with-nil": h("9301c003"),
    "array-nils": h("93c0c0c0"), "fixmap": b"\x82\xa1a\x01\xa1b\x02",
    "map16": b"\xde\x00\x01\xa1a\x01", "map32": b"\xdf\x00\x00\x00\x01\xa1a\x01",
    "map-nil-value": h("8101c0"), "map-table-key": h("81900 1".replace(" ", "")),
    "map-float-key": h("81ca3fc0000001"), "map-dup-keys": h("820102 0103".replace(" ", "")),
    # streams of several values
    "stream": h("010203"), "raw-text": b"abc", "empty": b"",
    # types this library does not know: bad format
    "0xc1": h("c1"), "bin8": h("c40161"), "bin16": h("c5000161"), "bin32": h("c60000000161"),
    "ext8": h("c7010161"), "ext16": h("c800010161"), "ext32": h("c90000000101 61".replace(" ", "")),
    "fixext1": h("d40161"), "fixext2": h("d5016161"), "fixext4": h("d60161616161"),
    "fixext8": h("d701" + "61" * 8), "fixext16": h("d801" + "61" * 16),
    "bad-inside-array": h("9201c1"), "bad-after-value": h("01c1"),
    # truncated input: missing bytes
    "u8-cut": h("cc"), "u16-cut": h("cd00"), "u32-cut": h("ce000000"), "u64-cut": h("cf00"),
    "i64-cut": h("d3ffff"), "float-cut": h("ca0000"), "double-cut": h("cb00000000"),
    "fixstr-cut": b"\xa3ab", "str8-cut": h("d9"), "str8-body-cut": b"\xd9\x05abc",
    "str16-cut": h("da00"), "str32-cut": h("db000000"), "str32-body-cut": b"\xdb\x00\x00\x00\x09ab",
    "array-cut": h("9201"), "array16-cut": h("dc00"), "array32-cut": h("dd000000"),
    "array32-huge": h("ddffffffff01"), "map-cut": h("8101"), "map-key-cut": h("82a161"),
    "map16-cut": h("de"), "map32-cut": h("df0000"), "cut-after-value": h("01cc"),
    # keys Lua tables cannot hold
    "map-nil-key": h("81c001"), "map-nan-key": h("81cb7ff800000000000001"),
}


@pytest.mark.parametrize("data", list(UNPACK_INPUTS.values()), ids=list(UNPACK_INPUTS))
def test_unpack(diff, data):
    diff.check("EVAL", PRELUDE + "return all(cmsgpack.unpack(ARGV[1]))", "0", data)


@pytest.mark.parametrize("body", [
    "return all(cmsgpack.unpack(123))",
    "return all(cmsgpack.unpack('\\1', 'ignored'))",
])
def test_unpack_converts_numbers_and_ignores_extra_arguments(diff, body):
    lua(diff, body)


@pytest.mark.parametrize("body", [
    "return cmsgpack.unpack()", "return cmsgpack.unpack({})", "return cmsgpack.unpack(nil)",
])
def test_unpack_argument_errors(diff, body):
    lua(diff, body, ok=False)


@pytest.mark.parametrize("depth,ok", [(100, True), (3000, True), (5000, False)])
def test_unpack_deep_nesting(diff, depth, ok):
    """Each level holds a table and an index on the stack, so very deep input overflows it."""
    lua(diff, "local t = cmsgpack.unpack(ARGV[1]) local d = 0 "
              "while type(t) == 'table' do t = t[1] d = d + 1 end return d",
        b"\x91" * depth + b"\x01", ok=ok)


@pytest.mark.parametrize("count,ok", [(7000, True), (9000, False)])
def test_unpack_many_values(diff, count, ok):
    lua(diff, "return select('#', cmsgpack.unpack(ARGV[1]))", b"\x01" * count, ok=ok)


# --- unpack_one / unpack_limit ---------------------------------------------------------

STREAM = "local s = cmsgpack.pack(1, 'two', {3, 4}, nil, {k = 'v'}) "


def test_unpack_one_walks_a_stream(diff):
    lua(diff, STREAM + """
        local out, offset = {}, 0
        for _ = 1, 10 do
          local next_offset, value = cmsgpack.unpack_one(s, offset)
          out[#out + 1] = show(next_offset) .. '/' .. show(value)
          if next_offset == -1 then break end
          offset = next_offset
        end
        return table.concat(out, ' ')""")


def test_unpack_limit_walks_a_stream(diff):
    lua(diff, STREAM + """
        local out, offset = {}, 0
        for _ = 1, 10 do
          local res = {cmsgpack.unpack_limit(s, 2, offset)}
          out[#out + 1] = all(unpack(res, 1, 3))
          if res[1] == -1 then break end
          offset = res[1]
        end
        return table.concat(out, ' | ')""")


@pytest.mark.parametrize("call", [
    "unpack_one(s)", "unpack_one(s, 0)", "unpack_one(s, 1)", "unpack_one(s, 2)",
    "unpack_one(s, #s - 3)", "unpack_one(s, #s)", "unpack_one(s, 1.9)", "unpack_one(s, '2')",
    "unpack_one(s, nil)", "unpack_one('')", "unpack_one('', 0)",
    "unpack_limit(s, 1)", "unpack_limit(s, 3)", "unpack_limit(s, 100)", "unpack_limit(s, 2, 1)",
    "unpack_limit(s, 0)", "unpack_limit(s, 0, 0)", "unpack_limit(s, 0, 1)", "unpack_limit(s, 5, #s)",
    "unpack_limit(s, 2.7)", "unpack_limit(s, '2', '1')", "unpack_limit('', 3)",
])
def test_unpack_one_and_limit(diff, call):
    lua(diff, STREAM + f"return all(cmsgpack.{call})")


@pytest.mark.parametrize("call", [
    "unpack_one(s, -1)", "unpack_one(s, #s + 1)", "unpack_one(s, 'x')", "unpack_one()",
    "unpack_one(nil, 1)", "unpack_one({}, 1)", "unpack_one(s, 1000000)",
    "unpack_limit(s)", "unpack_limit(s, -1)", "unpack_limit(s, 1, -5)", "unpack_limit(s, 'x')",
    "unpack_limit(s, 1, 'x')", "unpack_limit(s, 1, #s + 1)", "unpack_limit()",
    "unpack_one(string.char(0xc1))", "unpack_one(string.char(0x01, 0xcc), 1)",
    "unpack_limit(string.char(0x01, 0xcc), 5)", "unpack_limit(string.char(0x01, 0xc1), 1, 1)",
])
def test_unpack_one_and_limit_errors(diff, call):
    lua(diff, STREAM + f"return all(cmsgpack.{call})", ok=False)


# --- struct ------------------------------------------------------------------------------

STRUCT_PACKS = [
    # integers, every width and both byte orders
    "'b', 127", "'b', -128", "'b', 255", "'B', 255", "'B', 256", "'B', -1",
    "'h', -1", "'H', 65535", "'<h', 258", "'>h', 258", "'<H', 65536 + 2",
    "'l', -1", "'L', 2^40 + 5", "'>l', -2", "'<L', 2^53", "'T', 123456789", "'>T', 1",
    "'i', -3", "'I', 2^32 - 1", "'>i', 1", "'<I', 7",
    "'>i1', 200", "'>i2', -2", "'>i3', -2", "'<i3', 65536 * 3 + 1", "'>i5', 2^33",
    "'>i7', -1", "'>i8', -1", "'<i8', 2^62", "'>i9', -1", "'>i16', -1", "'<I16', 2^63",
    "'>i32', 5", "'i0', 7",
    # numbers out of an integer's range
    "'>L', 2^63", "'>L', 2^64", "'>L', 2^65", "'>L', 0/0", "'>L', 1/0", "'>L', -1/0",
    "'>l', -2^70", "'>l', -0.5", "'>l', 1.9", "'>l', -1.9", "'>i', '12'", "'>b', ' 0x10 '",
    # floats
    "'f', 1.5", "'>f', 1.5", "'<d', 0.1", "'>d', 0.1", "'f', 0.1", "'f', 1e300", "'>d', -1/0",
    "'>f', 0/0",
    # strings
    "'s', 'abc'", "'s', 'a\\0b'", "'s', ''", "'c', 'xyz'", "'c3', 'abc'", "'c3', 'abcdef'",
    "'c0', 'whole'", "'c0', ''", "'s', 42", "'c2', 42",
    # padding, alignment, spaces, several values
    "'x'", "'xx b x', 1", "'bxh', 1, 2", "'!4 b i', 1, 2", "'!2 b d', 1, 2", "'!8 b d', 1, 2",
    "'! b d', 1, 2", "'!16 b d', 1, 2", "'!1 b i', 1, 2", "'!4 b i3', 1, 2", "'!8 bh bi bl', 1, 2, 3, 4, 5, 6",
    "'!4 b c3 i', 1, 'abc', 2", "'!4 b s i', 1, 'ab', 2", "'!4 b f', 1, 1.5", "'<i>i', 1, 1",
    "'>!4bI2<h', 1, 2, 3", "'', 1", "'   '",
]


@pytest.mark.parametrize("args", STRUCT_PACKS)
def test_struct_pack(diff, args):
    lua(diff, f"return struct.pack({args})")


STRUCT_PACK_ERRORS = [
    "'b'", "'bb', 1", "'bbb', 1", "'b', {}", "'b', 'x'", "'i0'", "'c5', 'ab'", "'s'",
    "'s', {}", "'q', 1", "'z'", "'#'", "'b5', 1", "'b' .. string.char(127), 1", "'i33', 1",
    "'i99999999999', 1", "'!3'", "'!0'", "'!99999999999'", "'c99999999999', 'a'", "5",
    "nil", "{}",
]


@pytest.mark.parametrize("args", STRUCT_PACK_ERRORS)
def test_struct_pack_errors(diff, args):
    lua(diff, f"return struct.pack({args})", ok=False)


def test_struct_pack_no_arguments(diff):
    lua(diff, "return struct.pack()", ok=False)


STRUCT_UNPACKS = [
    # round trips of every format and byte order
    "'b', struct.pack('b', -5)", "'B', struct.pack('b', -5)", "'<h', struct.pack('<h', -300)",
    "'>H', struct.pack('>h', -300)", "'l', struct.pack('l', -2^40)", "'>L', struct.pack('>L', 2^40)",
    "'T', struct.pack('T', 99)", "'i', struct.pack('i', -7)", "'>I', struct.pack('>I', 2^31)",
    "'>i3', struct.pack('>i3', -2)", "'<I3', struct.pack('<i3', -2)", "'>i5', struct.pack('>i5', -2^33)",
    "'f', struct.pack('f', 0.1)", "'>f', struct.pack('>f', 2.5)", "'<d', struct.pack('<d', 0.1)",
    "'>d', struct.pack('>d', -1/0)", "'s', struct.pack('s', 'hello')", "'c3', 'abcdef'",
    "'c', 'q'", "'x b', '\\1\\2'", "'bxb', '\\1\\2\\3'", "'!4 b i', struct.pack('!4 b i', 1, 2)",
    "'!8 b d', struct.pack('!8 b d', 1, 0.5)", "'!4 b i3', struct.pack('!4 b i3', 1, 2)",
    "'<i>i', struct.pack('<i>i', 1, 1)", "'s s', 'ab\\0cd\\0'", "'s', 'ab\\0cd\\0'",
    # sign extension of wide integers
    "'<i16', string.rep(string.char(255), 16)", "'<I16', string.rep(string.char(255), 16)",
    "'<i9', string.rep(string.char(128), 9)", "'<i12', string.char(1,0,0,0,0,0,0,128,0,0,0,0)",
    "'<i0', 'abc'", "'<i3', string.char(255, 255, 255)", "'>i5', string.char(128, 0, 0, 0, 1)",
    "'>i8', string.char(128, 0, 0, 0, 0, 0, 0, 1)", "'>I8', string.rep(string.char(255), 8)",
    "'>i32', string.rep(string.char(255), 32)", "'>I7', string.rep(string.char(255), 7)",
    # c0 takes its length from the value before it
    "'c1c0', '2abc'", "'bc0', string.char(3) .. 'abcd'", "'b x c0', string.char(2) .. '-xyz'",
    "'>h c0 b', string.char(0, 2) .. 'hi' .. string.char(9)",
    # positions
    "'b', 'abc', 2", "'b', 'abc', 3", "'', 'abc', 4", "'', 'a', -5", "'', 'a', 9", "'b', 'abc', 1.7",
    "'b', 'abc', '2'", "'bb', 'ab', 1", "'', ''",
]


@pytest.mark.parametrize("args", STRUCT_UNPACKS)
def test_struct_unpack(diff, args):
    lua(diff, f"return all(struct.unpack({args}))")


STRUCT_UNPACK_ERRORS = [
    "'b', ''", "'i', 'abc'", "'d', '1234567'", "'b', 'a', 0", "'b', 'a', -1", "'b', 'a', 3",
    "'>', 'a', 9", "'c0', '2abc'", "'x c0', '2abc'", "'bc0', string.char(255) .. 'abc'",
    "'bc0', string.char(9) .. 'abc'", "'s', 'abc'", "'q', 'abc'", "'#', 'a'", "'#', 'a', 5",
    "'i33', 'a'", "'!3', 'a'", "'c4', 'abc'", "'b'", "'b', {}", "nil, 'a'", "'b', 'a', 'x'",
    "'b', nil", "'c99999999999', 'a'",
]


@pytest.mark.parametrize("args", STRUCT_UNPACK_ERRORS)
def test_struct_unpack_errors(diff, args):
    lua(diff, f"return all(struct.unpack({args}))", ok=False)


def test_struct_unpack_too_many_results(diff):
    lua(diff, "return select('#', struct.unpack(string.rep('b', 9000), string.rep('a', 9000)))",
        ok=False)
    lua(diff, "return select('#', struct.unpack(string.rep('b', 3000), string.rep('a', 3000)))")


STRUCT_SIZES = [
    "'b'", "'B'", "'h'", "'H'", "'l'", "'L'", "'T'", "'i'", "'I'", "'f'", "'d'", "'x'", "''",
    "'bhlTifd'", "'i3'", "'i32'", "'c10'", "'c'", "'!bd'", "'!4 b d'", "'!2 b i'", "'!4 b i3'",
    "'<>! b'", "'bq'", "'bqz5'", "'b 7'",
]


@pytest.mark.parametrize("fmt", STRUCT_SIZES)
def test_struct_size(diff, fmt):
    lua(diff, f"return struct.size({fmt})")


@pytest.mark.parametrize("fmt", [
    "'s'", "'c0'", "'bc0'", "'#'", "'b#'", "'i40'", "'!3'", "'!99999999999'", "nil", "{}",
    "'b' .. string.char(127)",
])
def test_struct_size_errors(diff, fmt):
    lua(diff, f"return struct.size({fmt})", ok=False)


# --- the library tables ------------------------------------------------------------------

@pytest.mark.parametrize("library", ["cmsgpack", "struct"])
def test_library_fields(diff, library):
    """Fields in pairs() order, with each value's type (and the metadata strings)."""
    lua(diff, f"""
        local out = {{}}
        for k, v in pairs({library}) do
          out[#out + 1] = k .. '=' .. (type(v) == 'string' and v or type(v))
        end
        return out""")


@pytest.mark.parametrize("body", [
    "cmsgpack.pack = nil", "cmsgpack.extra = 1", "struct.pack = nil", "struct.extra = 1",
])
def test_libraries_are_read_only(diff, body):
    lua(diff, body, ok=False)


def test_library_globals(diff):
    lua(diff, "return {type(cmsgpack), type(struct), cmsgpack._NAME, cmsgpack._VERSION}")


# --- stack limits: each library fails at the reference's exact size ---------------------

STACK_LIMITS = [
    # (script, argument made from n, first n that fails)
    ("return type(cmsgpack.unpack(ARGV[1]))", lambda n: b"\x91" * n + b"\x01", 4000),
    ("return type(cmsgpack.unpack(ARGV[1]))", lambda n: b"\x81\x01" * n + b"\x01", 4000),
    ("return select('#', cmsgpack.unpack(ARGV[1]))", lambda n: b"\x01" * n, 8000),
    ("return select('#', cmsgpack.unpack(ARGV[1], 1, 2, 3))", lambda n: b"\x01" * n, 7997),
    ("return select('#', cmsgpack.unpack_limit(ARGV[1], 100000))", lambda n: b"\x01" * n, 7999),
    ("return select('#', struct.unpack(string.rep('b', #ARGV[1]), ARGV[1]))", lambda n: b"a" * n, 7998),
    ("local t = {} for i = 1, #ARGV[1] do t[i] = i end return #cmsgpack.pack(unpack(t))",
     lambda n: b"a" * n, 4001),
    ("local t = {} for i = 1, #ARGV[1] do t[i] = {a = {i}} end return #cmsgpack.pack(unpack(t))",
     lambda n: b"a" * n, 3999),
]


@pytest.mark.parametrize("script,argument,limit", STACK_LIMITS,
                         ids=[f"{i}-{s[2]}" for i, s in enumerate(STACK_LIMITS)])
def test_stack_limits(diff, script, argument, limit):
    lua(diff, script, argument(limit - 1))
    lua(diff, script, argument(limit), ok=False)


def test_pack_reuses_its_buffer(diff):
    """A large pack, then small ones, then a large one again, in one script."""
    lua(diff, """
        local a = cmsgpack.pack(string.rep('a', 100000))
        local b = cmsgpack.pack(1, 2)
        local c = cmsgpack.pack(range(40000))
        local d = cmsgpack.pack('x')
        return {#a, b, #c, d, a:sub(-3), c:sub(1, 8)}""")


# --- seeded random cases (deterministic) ---------------------------------------------------

FUZZ_ATOMS = [
    "0", "1", "-1", "127", "128", "-33", "2^31", "2^32", "2^53", "2^63", "-2^63", "0.5", "0.1",
    "1/0", "-1/0", "0/0", "-0.0", "1e300", "'a'", "''", "string.rep('q', 40)", "true", "false",
    "nil", "type",
]
FUZZ_KEYS = ["1", "2", "3", "5", "0", "-1", "1.5", "2^31", "'k'", "'1'", "true", "'f1'", "'f2'"]


def random_value(rng, depth=0):
    if depth > 3 or rng.random() < 0.5:
        return rng.choice(FUZZ_ATOMS)
    items = []
    for _ in range(rng.randint(0, 6)):
        value = random_value(rng, depth + 1)
        items.append(value if rng.random() < 0.5 else f"[{rng.choice(FUZZ_KEYS)}] = {value}")
    return "{" + ", ".join(items) + "}"


def test_fuzz_pack_and_round_trip(diff):
    rng = random.Random(20240501)
    for _ in range(300):
        values = ", ".join(random_value(rng) for _ in range(rng.randint(1, 3)))
        diff.check("EVAL", f"local p = cmsgpack.pack({values}) local u = {{cmsgpack.unpack(p)}} "
                   "return {p, #u, #u > 0 and cmsgpack.pack(unpack(u, 1, #u)) or ''}", "0")


FUZZ_TAGS = [
    0x00, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa3, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
    0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd9, 0xda,
    0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
]


def test_fuzz_unpack_random_bytes(diff):
    rng = random.Random(20240502)
    for _ in range(300):
        data = bytes(rng.choice(FUZZ_TAGS) if rng.random() < 0.6 else rng.randrange(256)
                     for _ in range(rng.randint(0, 12)))
        call = rng.choice([
            "unpack(ARGV[1])", f"unpack_one(ARGV[1], {rng.randint(0, 4)})",
            f"unpack_limit(ARGV[1], {rng.randint(0, 3)}, {rng.randint(0, 3)})",
        ])
        diff.check("EVAL", PRELUDE + f"return all(cmsgpack.{call})", "0", data)


FUZZ_OPTIONS = list("bBhHlLTiIfdxsc<>! ") + ["i3", "I5", "i12", "c0", "c2", "!4", "!2", "!8", "i0", "q"]
FUZZ_ARGUMENTS = ["1", "-1", "255", "65537", "2^40", "-2^40", "0.5", "'ab'", "'12'", "'xyz\\0w'",
                  "1/0", "2^64", "-3.7"]


def test_fuzz_struct_formats(diff):
    rng = random.Random(20240503)
    for _ in range(300):
        fmt = "".join(rng.choice(FUZZ_OPTIONS) for _ in range(rng.randint(0, 6)))
        args = "".join(", " + rng.choice(FUZZ_ARGUMENTS) for _ in range(rng.randint(0, 6)))
        diff.check("EVAL", PRELUDE + f"local p = struct.pack({fmt!r}{args}) "
                   f"return {{p, all(struct.unpack({fmt!r}, p)), struct.size({fmt!r})}}", "0")
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
        position = rng.choice([1, 1, 2, 5, -1])
        diff.check("EVAL", PRELUDE + f"return all(struct.unpack({fmt!r}, ARGV[1], {position}))",
                   "0", data)
