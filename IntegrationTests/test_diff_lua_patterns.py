"""Differential tests for Lua's string pattern functions: string.find, string.match,
string.gmatch (and gfind) and string.gsub, which Atoll implements itself (patterns.c) so
that SCRIPT KILL can stop a pathological pattern.

Every case runs an EVAL on the reference Redis and on Atoll and compares the raw replies
byte for byte. Results come back through ``all``, a Lua serializer that spells out how many
values a call returned and each one's type and value (strings with %q, so NUL bytes show);
errors are raised uncaught, so the whole error reply (with Lua's position prefix) is
compared. A seeded random run over a small alphabet covers the combinations the lists miss
(``ATOLL_PATTERN_FUZZ_SEED``, ``ATOLL_PATTERN_FUZZ_N``).
"""

import os
import random

import pytest

import resp

PRELUDE = r"""
local function show(v)
  if type(v) == 'string' then return string.format('%q', v) end
  return type(v) .. ':' .. tostring(v)
end
local function all(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = show((select(i, ...))) end
  return select('#', ...) .. ': ' .. table.concat(out, ' ')
end
local function each(f, s, p, limit)
  local out, n = {}, 0
  for a, b, c in f(s, p) do
    n = n + 1
    out[n] = all(a, b, c)
    if n == (limit or 200) then break end
  end
  return n .. ' [' .. table.concat(out, '; ') .. ']'
end
"""


@pytest.fixture(autouse=True, scope="module")
def reset_slowlog(redis_ref, atoll):
    """The long-subject and random batches can pass SLOWLOG's 10 ms; later modules expect it
    empty."""
    yield
    for port in (redis_ref.port, atoll.port):
        with resp.Conn(port) as c:
            assert c.command("SLOWLOG", "RESET") == b"+OK\r\n"


def lua(diff, body, *argv, ok=None):
    """EVAL PRELUDE+body on both servers; checks the reply is (ok=False) or is not (ok=True)
    an error, when that is known."""
    __tracebackhide__ = True
    reply = diff.check("EVAL", PRELUDE + body, "0", *argv)
    if ok is not None:
        assert (reply[:1] != b"-") == ok, f"reference replied {reply[:200]!r} to {body!r}"
    return reply


# --- find and match: every pattern feature ------------------------------------------

FEATURES = [
    # literals, '.', anchors
    ("hello world", "o w"), ("hello", "l"), ("hello", "xyz"), ("hello", ""), ("", ""), ("", "a"),
    ("hello", "h.l"), ("hello", "^hel"), ("hello", "^el"), ("hello", "lo$"), ("hello", "l$"),
    ("hello", "^hello$"), ("hello", "^$"), ("", "^$"), ("a$b", "a$b"), ("a$", "$"), ("a^b", "a^b"),
    ("^^", "^^"), ("x^", "^x^"), ("$$", "$$"), ("$", "^$$"),
    # classes and their complements
    ("abc123 DEF\t!?", "%a+"), ("abc123 DEF\t!?", "%A+"), ("abc123", "%d+"), ("abc123", "%D+"),
    ("abc DEF", "%l+"), ("abc DEF", "%L+"), ("abc DEF", "%u+"), ("abc DEF", "%U+"),
    ("a \t\r\n\v\fb", "%s+"), ("a \t\nb", "%S+"), ("a,b;c!", "%p"), ("a,b;c!", "%P+"),
    ("\x01\x1f\x7f ok", "%c+"), ("\x01ok", "%C+"), ("a_b9Z", "%w+"), ("a_b9Z", "%W"),
    ("0x1fAg", "%x+"), ("0x1fAg", "%X"), ("a\x00b", "%z"), ("a\x00b", "%Z+"),
    ("a.b", "%."), ("a%b", "%%"), ("a(b)", "%(b%)"), ("a[b]", "%[b%]"), ("a-b", "%-"),
    ("a+b", "%+"), ("a*b", "%*"), ("a?b", "%?"), ("a^b", "%^"), ("a$b", "%$b"),
    ("\xff\x80\xfe", "%a"), ("\xff\x80\xfe", "%A+"), ("\xe9t\xe9", "%l+"),
    # sets
    ("hello", "[aeiou]"), ("hello", "[^aeiou]+"), ("a-z", "[a-c]+"), ("b-", "[a-]+"),
    ("-b", "[-a]+"), ("]]x", "[]]+"), ("ab]", "[^]]+"), ("a^b", "[b^]+"), ("a^", "[%^a]+"),
    ("a%b", "[%%]"), ("a]b", "[%]]"), ("x-y", "[%a-]+"), ("123abc", "[%d]+"),
    ("123abc", "[^%d]+"), ("ABCdef", "[%u%d]+"), ("a.b", "[.]"), ("z", "[a-%z]"),
    ("m", "[z-a]"), ("a-", "[a-]"), ("%", "[%]"), ("\x00a", "[%z]"), ("b", "[a-c-e]"),
    ("-", "[a-c-e]"), ("d", "[a-c-e]"), ("\xfe", "[\x80-\xff]"), ("[", "[[]"),
    # quantifiers
    ("aaa", "a*"), ("baaa", "a*"), ("aaa", "a+"), ("bbb", "a+"), ("aaa", "a-"), ("aaab", "a-b"),
    ("aaa", "a?"), ("ab", "a?b"), ("b", "a?b"), ("<a><b>", "<.*>"), ("<a><b>", "<.->"),
    ("xaaay", "a*y"), ("aaa", "^a-$"), ("abc", ".-"), ("abc", ".-$"), ("aXbXc", "(.-)X"),
    ("aXbXc", "(.*)X"), ("a+b", "a+b"), ("a", "a**"), ("a*", "a**"), ("aa", "a+?"),
    ("-", "-"), ("a-", "a-$"), ("*a", "*a"), ("+a", "+a"), ("?a", "?a"), ("a", "a-?"),
    # captures and position captures
    ("hello world", "(%w+) (%w+)"), ("key=val", "(%w+)=(%w+)"), ("abc", "()b()"), ("abc", "()"),
    ("abc", "(a)(b)(c)"), ("abc", "((a)(b))"), ("abc", "(a(b(c)))"), ("abc", "(x?)"),
    ("abc", "()(b)()"), ("", "()"), ("abc", "$()"), ("abc", "(.-)()$"),
    # back-references
    ("abcabc", "(abc)%1"), ("xyzzy", "(z)%1"), ("aXbXa", "(%a)X.X%1"), ("abab", "(a)(b)%1%2"),
    ("abab", "(a)(b)%2"), ("aa", "()a%1"), ("abcabc", "(a(b)c)%2"), ("\"q\" 'r'", "([\"'])(.-)%1"),
    # %b and %f
    ("f(a(b)c) d", "%b()"), ("((x)", "%b()"), ("[[a]]]", "%b[]"), ("xx", "%bxx"), ("<<>", "%b<>"),
    ("THE (quick) fox", "%f[%a]%a+"), ("THE (quick) fox", "%f[%l]%a+"), ("hello", "%f[%a]"),
    ("hello", "%f[%A]"), ("a b", "%f[%s]"), ("ab", "%f[^%z]"), ("ab", "%f[%z]"),
    ("x\x00y", "%f[%Z]."), ("aa", "%f[a]a"),
]


@pytest.mark.parametrize("subject,pattern", FEATURES)
@pytest.mark.parametrize("function", ["find", "match"])
def test_features(diff, function, subject, pattern):
    lua(diff, f"return all(string.{function}(ARGV[1], ARGV[2]))", subject.encode("latin-1"),
        pattern.encode("latin-1"))


@pytest.mark.parametrize("subject,pattern", FEATURES[::3])
def test_features_in_gmatch_and_gsub(diff, subject, pattern):
    lua(diff, "return each(string.gmatch, ARGV[1], ARGV[2]) .. ' | ' .. all(string.gsub(ARGV[1], ARGV[2], '<%0>'))",
        subject.encode("latin-1"), pattern.encode("latin-1"))


# --- errors ----------------------------------------------------------------------------

ERROR_PATTERNS = [
    "%", "abc%", "[a", "[", "[^", "[]", "[^]", "[a%", "[%", "[a%]", "%f", "%fa", "%f[a",
    "%b", "%bx", "(", "(()", "a)", ")", "%1", "(a)%2", "(a%1)", "%0", "(a)%0", "%9",
    "(" * 33 + "a" + ")" * 33, "()" * 33, "(a", "((a)", "[%a", "%f%a", "x[^%]",
]


@pytest.mark.parametrize("pattern", ERROR_PATTERNS)
@pytest.mark.parametrize("function", ["find", "match", "gmatch", "gsub"])
def test_pattern_errors(diff, function, pattern):
    call = {"find": "string.find(ARGV[1], ARGV[2])", "match": "string.match(ARGV[1], ARGV[2])",
            "gmatch": "each(string.gmatch, ARGV[1], ARGV[2])", "gsub": "string.gsub(ARGV[1], ARGV[2], 'x')"}
    lua(diff, f"return all({call[function]})", "aaxa(b)c", pattern)


def test_too_many_captures_needs_33(diff):
    lua(diff, "return all(string.find(ARGV[1], ARGV[2]))", "a", "()" * 32, ok=True)
    lua(diff, "return all(string.match(ARGV[1], ARGV[2]))", "a" * 40, "(a)" * 32, ok=True)
    lua(diff, "return all(string.match(ARGV[1], ARGV[2]))", "a" * 40, "(a)" * 33, ok=False)


@pytest.mark.parametrize("body", [
    "return string.find()", "return string.find('a')", "return string.find(nil, 'a')",
    "return string.find({}, 'a')", "return string.find('a', {})", "return string.find('a', 'a', 'x')",
    "return string.find('a', 'a', {})", "return string.match('a')", "return string.match('a', 'a', 'x')",
    "return string.gmatch('a')", "return string.gmatch(nil, 'a')", "return string.gsub('a', 'a')",
    "return string.gsub('a', 'a', true)", "return string.gsub('a', 'a', nil)",
    "return string.gsub('a', 'a', 'x', 'y')", "return string.gsub('a', 'a', true, 'y')",
    "return string.gsub('a')", "return string.gsub({}, 'a', 'b')", "return ('a'):gsub()",
    "return ('a'):find()", "return ('a'):find('a', 'x')", "return string.gsub('abc', '%w', '%2')",
    "return string.gsub('abc', '(%w)', '%2')", "return string.gsub('abc', '(%w', '%1')",
    "return string.gsub('abc', '%w', function() return {} end)",
    "return string.gsub('abc', '%w', function() return true end)",
    "return string.gsub('abc', '%w', {a = {}})", "return string.gsub('abc', '%w', {a = print})",
    "return string.gsub('abc', '(%w)', function(c) error('boom ' .. c) end)",
    "return string.gsub('abc', '%w', setmetatable({}, {__index = function(t, k) error('idx ' .. k) end}))",
    "local ok, e = pcall(string.find, 'a', '[') return e",
    "local ok, e = pcall(string.gsub, 'a', 'a', 1, 'x') return e",
    "local ok, e = pcall(string.rep('a', 3).find, 'a', '%') return e",
])
def test_argument_and_replacement_errors(diff, body):
    lua(diff, body, ok=body.startswith("local ok"))


# --- find's init and plain arguments ------------------------------------------------------

@pytest.mark.parametrize("init", ["nil", "0", "1", "2", "3", "4", "5", "6", "100", "-1", "-3", "-4",
                                  "-5", "-100", "1.9", "-1.5", "'2'", "2^31", "-2^31", "2^53", "1e300",
                                  "-1e300", "0/0"])
@pytest.mark.parametrize("pattern", ["b", "", "^b", "b$", "()", ".", "x", "(b)()", "[bc]+"])
def test_init(diff, init, pattern):
    lua(diff, f"return all(string.find('abcb', ARGV[1], {init})) .. ' / ' .. all(string.match('abcb', ARGV[1], {init}))",
        pattern)


@pytest.mark.parametrize("pattern", ["a.c", ".", "%d", "[a]", "a+", "(", "%", "^a", "b$", "", "a\0.", "\0%"])
@pytest.mark.parametrize("plain", ["true", "false", "nil", "1", "0", "'no'"])
def test_plain(diff, pattern, plain):
    lua(diff, f"return all(string.find(ARGV[1], ARGV[2], 1, {plain}))", "xa.cya+b(%^a\0.\0%b$", pattern)


@pytest.mark.parametrize("subject,pattern", [
    ("a\0b", "\0b"), ("a\0b", "b"), ("a\0b\0c", "\0c"), ("\0\0", "\0"), ("abc", "\0"), ("", "\0"),
    ("a\0b", "a\0"), ("a\0b", "%a\0z"), ("a\0b", "[\0]"), ("a\0b", "a.b"), ("a\0b", "%z"),
    ("a\0b", "[%z]"), ("a\0b", "(.)%z(.)"), ("\0", "^%z$"), ("a\0a", "(a)%z%1"), ("ab\0", "b%z$"),
    ("x\0y", "%f[%z]"), ("x\0y", "%b\0y"), ("a\0b", "a\0%"),
])
def test_binary(diff, subject, pattern):
    lua(diff, "return all(string.find(ARGV[1], ARGV[2])) .. ' / ' .. all(string.match(ARGV[1], ARGV[2]))"
              " .. ' / ' .. each(string.gmatch, ARGV[1], ARGV[2]) .. ' / ' .. all(string.gsub(ARGV[1], ARGV[2], '<%0>'))",
        subject.encode("latin-1"), pattern.encode("latin-1"))


# --- gmatch ---------------------------------------------------------------------------

@pytest.mark.parametrize("subject,pattern", [
    ("hello world from lua", "%a+"), ("k1=v1, k2=v2", "(%w+)=(%w+)"), ("abc", ""), ("abc", "a*"),
    ("abc", ".-"), ("abc", "()"), ("abc", "()(.)"), ("a,b,,c", "([^,]*)"), ("^a^a", "^a"),
    ("aaa", "^a"), ("abc", "$"), ("a$", "a$"), ("one two", "%f[%w]%w+"), ("(a)(b)", "%b()"),
    ("", ""), ("", "x"), ("xyx", "x?"), ("abcabc", "(b)(c)"), ("aa", "(a)%1"), ("a1b2", "%d()"),
])
def test_gmatch(diff, subject, pattern):
    lua(diff, "return each(string.gmatch, ARGV[1], ARGV[2])", subject, pattern, ok=True)


@pytest.mark.parametrize("body", [
    "local it = string.gmatch('a b c', '%a') return all(it(), it(), it(), it(), it())",
    "local it = string.gmatch('ab', '') return all(it(), it(), it(), it())",
    "local it = ('x y'):gmatch('%a') return all(it(), it(), it())",
    "local it = string.gmatch(12345, 3) return all(it(), it())",
    "local it = string.gmatch('a(b', '(%a') local ok1, e1 = pcall(it) local ok2, e2 = pcall(it) return all(ok1, e1, ok2, e2)",
    "return all(string.gfind == string.gmatch, type(string.gfind))",
    "return each(string.gfind, 'x1 y2', '%a%d')",
    "local n = 0 for a, b in string.gmatch('k=v, x=y', '(%w+)=(%w+)') do n = n + #a + #b end return n",
])
def test_gmatch_iterators(diff, body):
    lua(diff, body, ok=True)


# --- gsub -----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    "'hello world', 'o', '0'", "'hello world', 'o', '0', 1", "'hello world', 'o', '0', 0",
    "'hello world', 'o', '0', -1", "'hello world', 'o', '0', 1.9", "'hello world', 'o', '0', '1'",
    "'hello world', '(%w+)', '<%1>'", "'hello world', '%w+', '%0 %0'", "'hello world', '(%w+) (%w+)', '%2 %1'",
    "'abc', '%w', '%%'", "'abc', '%w', '%'", "'abc', '%w', 'x%'", "'abc', '%w', '%x'", "'abc', '%w', '%1'",
    "'abc', '()', '%1'", "'abc', '(b)()', '[%1%2]'", "'abc', '', '-'", "'abc', '.-', '-'", "'abc', 'x*', '-'",
    "'abc', '^', '>'", "'abc', '$', '<'", "'abc', '^a', 'A'", "'aaa', '^a', 'A'", "'abc', '^x', 'A'",
    "'hello', 'l+', 5", "'hello', 'l', 1.5", "'a b c', ' ', ''", "'', '', 'x'", "'', 'x', 'y'",
    "'  trim  ', '^%s*(.-)%s*$', '%1'", "'abc', '%w', '%0%0'", "12345, 3, 9", "'a.b.c', '%.', '/'",
    "'a.b.c', '.', '/'", "'abc', '[ac]', {a = 1, c = true}", "'abc', '%w', {a = 'A', b = false}",
    "'abc', '(%w)', {}", "'abc', '()', {[1] = 'one', [2] = 'two'}", "'abc', '%w', {a = 1.5}",
    "'abc', '%w', function(c) return c:upper() end", "'abc', '%w', function(c) return nil end",
    "'abc', '%w', function(c) return false end", "'abc', '%w', function() return 7 end",
    "'abc', '(%w)()', function(c, p) return c .. p end", "'abc', '%w', function(...) return select('#', ...) end",
    "'abc', '', function(c) return '[' .. c .. ']' end", "'abc', '%w', function(c) return c, 'extra' end",
    "'abc', '%w', string.upper", "'x = 1, y = 2', '(%w+) = (%w+)', '%2 = %1'",
    "'abc', 'b', '\\0'", "'a\\0c', '%z', 'Z'", "'a\\0c', '\\0', 'Z'", "'abc', 'b', 'x', 2^31",
    "'abc', 'b', 'x', -2^31", "'abc', '%w', '%9'",
])
def test_gsub(diff, args):
    # A capture that does not exist, and a table value that is no string, are errors.
    lua(diff, f"return all(string.gsub({args}))", ok="'%9'" not in args and "c = true" not in args)


@pytest.mark.parametrize("body", [
    "return all(('hello'):gsub('l', 'L'))", "return all(('hello'):find('l+'))",
    "return all(('hello'):match('(h)(e)'))", "local s = 'k=v' return all(s:match('(%w)=(%w)'))",
    "return all(string.gsub('abc', '%w', function(c) return string.gsub(c, '.', '%0%0') end))",
    "return all(string.gsub('abc', '%w', function(c) return (string.find('xbx', c)) end))",
    "local t = {} string.gsub('k1=v1;k2=v2', '(%w+)=(%w+)', function(k, v) t[#t+1] = k .. v end) return table.concat(t, ',')",
    "local count = 0 local r = string.gsub(string.rep('ab', 100), 'a', function() count = count + 1 end) return all(r, count)",
    "return all(string.gsub('abc', '%w', setmetatable({}, {__index = function(t, k) return k .. k end})))",
])
def test_method_forms_and_nesting(diff, body):
    lua(diff, body, ok=True)


def test_long_subjects(diff):
    lua(diff, "local s = string.rep('ab', 50000) .. 'c' "
              "return all(string.find(s, 'c'), string.find(s, 'b+c'), #string.gsub(s, 'a', ''), "
              "select(2, string.gsub(s, '(a)(b)', '%2%1')), string.match(s, '(b)c$'), string.find(s, 'abc', 1, true))",
        ok=True)


def test_captures_come_back_as_multiple_values(diff):
    lua(diff, "return {string.match('2024-01-31', '(%d+)-(%d+)-(%d+)')}", ok=True)
    lua(diff, "return {string.find('2024-01-31', '(%d+)-(%d+)-(%d+)')}", ok=True)
    lua(diff, "return {string.find('abc', '()b()')}", ok=True)


def test_deep_pattern_within_lua_limits(diff):
    """Many quantified items nest the matcher deeply; both servers match them."""
    lua(diff, "return all(string.find(string.rep('a', 3000), string.rep('a?', 3000) .. '$'))", ok=True)


# --- seeded random patterns over a small alphabet --------------------------------------

PATTERN_ATOMS = ["a", "b", ".", "%a", "%d", "%s", "%A", "[ab]", "[^a]", "[a-c]", "%%", "(", ")", "()",
                 "%1", "%2", "%ba)", "%f[a]", "*", "+", "-", "?", "^", "$", "[", "]", "%", "1", " ", "\0"]
SUBJECT_BYTES = ["a", "b", "c", "1", " ", "(", ")", "%", "-", "\0"]
REPLACEMENTS = ["x", "%0", "%1", "%2", "<%1>", "%%", "%"]


def random_case(rng):
    pattern = "".join(rng.choice(PATTERN_ATOMS) for _ in range(rng.randint(0, 6)))
    subject = "".join(rng.choice(SUBJECT_BYTES) for _ in range(rng.randint(0, 10)))
    return subject.encode(), pattern.encode(), str(rng.randint(-4, 12)), rng.choice(REPLACEMENTS).encode()


RANDOM_BATCH = r"""
local out = {}
for i = 1, #ARGV, 4 do
  local s, p, init, r = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local calls = {
    function() return all(string.find(s, p, init)) end,
    function() return all(string.match(s, p, init)) end,
    function() return all(string.find(s, p, init, true)) end,
    function() return each(string.gmatch, s, p, 20) end,
    function() return all(string.gsub(s, p, r)) end,
    function() return all(string.gsub(s, p, r, init)) end,
    function() return all(string.gsub(s, p, function(a, b) return b end)) end,
    function() return all(string.gsub(s, p, {a = 'A', ['1'] = false})) end,
  }
  for _, call in ipairs(calls) do out[#out + 1] = all(pcall(call)) end
end
return out
"""


def test_random_patterns(diff):
    seed = int(os.environ.get("ATOLL_PATTERN_FUZZ_SEED", "20240607"))
    total = int(os.environ.get("ATOLL_PATTERN_FUZZ_N", "2000"))
    rng = random.Random(seed)
    cases = [random_case(rng) for _ in range(total)]
    # Batches keep the run quick; every call is caught, so one error does not hide the rest.
    for start in range(0, total, 50):
        argv = [field for case in cases[start:start + 50] for field in case]
        lua(diff, RANDOM_BATCH, *argv, ok=True)
