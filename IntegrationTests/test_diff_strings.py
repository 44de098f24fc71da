"""Differential tests for the string commands (milestone 1).

Every command is sent to the reference Redis and to Atoll and the raw reply
bytes are compared. Expiry checks use TTL (rounded to whole seconds, so it is
exact for TTLs far from now) or EXPIRETIME with fixed absolute timestamps.
"""

import itertools

import pytest

FAR_S = 4102444800          # 2100-01-01T00:00:00Z
FAR_MS = FAR_S * 1000 + 250

# --- SET and its options -----------------------------------------------------

SET_OPTIONS = [
    ("NX",), ("XX",), ("GET",), ("EX", "100"), ("PX", "100000"),
    ("EXAT", str(FAR_S)), ("PXAT", str(FAR_MS)), ("KEEPTTL",),
]


def _set_combinations():
    combos = []
    for n in range(0, 4):
        for c in itertools.combinations(SET_OPTIONS, n):
            combos.append(c)
            if n == 2:
                combos.append(tuple(reversed(c)))
    return combos


SET_COMBOS = _set_combinations()


@pytest.mark.parametrize("opts", SET_COMBOS,
                         ids=[" ".join(" ".join(o) for o in c) or "plain" for c in SET_COMBOS])
def test_set_option_combinations(diff, opts):
    """Every combination of up to 3 options, on absent / plain / volatile keys."""
    flat = [a for o in opts for a in o]
    uses_abs = any(o[0] in ("EXAT", "PXAT") for o in opts)
    # A volatile key whose expiry reads the same on both servers: absolute where EXPIRETIME
    # is compared (a relative one could fall on both sides of a second), relative for TTL.
    volatile = ("PXAT", "4102444900123") if uses_abs else ("EX", "500")
    for pre in (None, ("SET", "k", "old"), ("SET", "k", "old", *volatile)):
        diff.check("DEL", "k")
        if pre:
            diff.check(*pre)
        diff.check("SET", "k", "new", *flat)
        diff.check("GET", "k")
        if uses_abs:
            diff.check("EXPIRETIME", "k")
        else:
            diff.check("TTL", "k")


def test_set_basic(diff):
    diff.run([
        "GET k", "SET k v", "GET k", "SET k ''", "GET k", "STRLEN k",
        "SET k v extra", "SET k", "SET", "GET", "GET a b",
        "set lower case", "GET lower", "SeT MiXeD 1", "GET MiXeD", "GET mixed",
    ])


def test_set_option_errors(diff):
    diff.run([
        "SET k v NX XX", "SET k v XX NX", "SET k v EX 10 PX 10",
        "SET k v PX 10 EX 10", "SET k v EX 10 KEEPTTL", "SET k v KEEPTTL PX 5",
        "SET k v EXAT 10 PXAT 10", "SET k v EX", "SET k v PX", "SET k v EXAT",
        "SET k v PXAT", "SET k v FOO", "SET k v NX FOO", "SET k v GET GET",
        "SET k v NX NX", "SET k v EX 10 EX 20", "TTL k", "SET k v KEEPTTL KEEPTTL",
        "SET k v nx", "SET k v ex 100", "TTL k", "SET k v Get",
    ])


@pytest.mark.parametrize("opt", ["EX", "PX", "EXAT", "PXAT"])
def test_set_invalid_expire(diff, opt):
    diff.run([
        f"SET k v {opt} 0", f"SET k v {opt} -1", f"SET k v {opt} -100",
        f"SET k v {opt} abc", f"SET k v {opt} 1.5", f"SET k v {opt} ''",
        f"SET k v {opt} ' 10'", f"SET k v {opt} '10 '", f"SET k v {opt} +10",
        f"SET k v {opt} 9223372036854775807", f"SET k v {opt} 9223372036854775808",
        f"SET k v {opt} -9223372036854775808", f"SET k v {opt} 9223372036854775",
        f"SET k v {opt} 0x10", "EXISTS k",
    ])


def test_set_past_absolute_expire_deletes(diff):
    diff.run([
        "SET k v EXAT 1", "GET k", "EXISTS k", "SET k v PXAT 1", "GET k",
        "SET k v", "SET k v2 EXAT 1 GET", "GET k", "DBSIZE",
    ])


def test_set_get_option(diff):
    diff.run([
        "SET k v1 GET", "SET k v2 GET", "GET k", "SET k v3 NX GET", "GET k",
        "SET k v4 XX GET", "GET k", "SET nope v XX GET", "EXISTS nope",
        "SET k v5 GET EX 100", "TTL k", "SET k v6 GET KEEPTTL", "TTL k",
        "SET k v7 GET", "TTL k",
    ])


def test_set_keepttl(diff):
    diff.run([
        "SET k v EX 1000", "SET k v2 KEEPTTL", "TTL k", "GET k",
        "SET k v3", "TTL k", "SET k v4 PX 2000000 XX", "TTL k",
        "SET k v5 XX KEEPTTL", "TTL k", "SET new v KEEPTTL", "TTL new",
    ])


def test_setnx_setex_psetex(diff):
    diff.run([
        "SETNX k v", "SETNX k v2", "GET k", "SETNX", "SETNX k", "SETNX k v x",
        "SETEX k 100 v", "TTL k", "GET k", "SETEX k 0 v", "SETEX k -1 v",
        "SETEX k abc v", "SETEX k 1.5 v", "SETEX k 100", "SETEX k 100 v x",
        "SETEX k 9223372036854775807 v",
        "PSETEX k 100000 v", "TTL k", "PSETEX k 0 v", "PSETEX k -5 v",
        "PSETEX k abc v", "PSETEX k", "PSETEX k 9223372036854775807 v", "GET k",
    ])


def test_getset_getdel(diff):
    diff.run([
        "GETSET k v", "GETSET k v2", "GET k", "SET k v EX 100", "GETSET k v3",
        "TTL k", "GETSET k", "GETSET k a b",
        "GETDEL k", "GETDEL k", "EXISTS k", "GETDEL", "GETDEL a b",
        "SET e v EX 100", "GETDEL e", "TTL e",
    ])


def test_getex(diff):
    diff.run([
        "GETEX missing", "GETEX missing EX 100", "GETEX missing EX 0",
        "GETEX missing FOO", "SET k v", "GETEX k", "TTL k",
        "GETEX k EX 100", "TTL k", "GETEX k PX 200000", "TTL k",
        f"GETEX k EXAT {FAR_S}", "EXPIRETIME k", f"GETEX k PXAT {FAR_MS}",
        "PEXPIRETIME k", "EXPIRETIME k", "GETEX k PERSIST", "TTL k",
        "GETEX k EX 0", "GETEX k EX -1", "GETEX k PX 0", "GETEX k EXAT 0",
        "GETEX k PXAT -5", "GETEX k EX abc", "GETEX k EX",
        "GETEX k EX 9223372036854775807", "GETEX k PX 9223372036854775807",
        "GETEX k EX 10 PX 10", "GETEX k PERSIST EX 10", "GETEX k EX 10 PERSIST",
        "GETEX k PERSIST PERSIST", "GETEX k EX 100 EX 200", "TTL k",
        "GETEX k ex 300", "TTL k", "GETEX k persist", "TTL k", "GETEX k FOO",
        "GETEX k KEEPTTL", "GETEX k NX", "GETEX", "GETEX k EXAT 1", "EXISTS k",
        "SET k v", "GETEX k PXAT 1", "GET k",
    ])


def test_mget_mset_msetnx(diff):
    diff.run([
        "MGET a b c", "MSET a 1 b 2 c 3", "MGET a b c d a", "MSET a", "MSET a 1 b",
        "MSET", "MGET", "MSET a x a y", "GET a",
        "MSETNX a 1 z 2", "EXISTS z", "MSETNX y 1 z 2", "MGET y z",
        "MSETNX q 1 q 2", "GET q", "MSETNX a", "MSETNX a 1 b", "MSETNX",
        "SET t v EX 100", "MSET t new", "TTL t",
    ])


# --- counters ----------------------------------------------------------------

def test_incr_decr(diff):
    diff.run([
        "INCR n", "INCR n", "DECR n", "DECR n", "DECR n", "GET n",
        "INCRBY n 10", "INCRBY n -20", "DECRBY n 5", "DECRBY n -5", "GET n",
        "INCRBY n abc", "INCRBY n 1.5", "INCRBY n ''", "INCRBY n ' 1'",
        "INCRBY n 9223372036854775808", "INCRBY n -9223372036854775809",
        "DECRBY n abc", "INCR", "INCR a b", "INCRBY n", "DECRBY n", "DECR",
        "SET n 9223372036854775806", "INCR n", "INCR n", "GET n",
        "SET n -9223372036854775807", "DECR n", "DECR n", "GET n",
        "SET n 0", "DECRBY n -9223372036854775808", "INCRBY n -9223372036854775808",
        "GET n", "DECRBY n 9223372036854775807", "SET n 1",
        "INCRBY n 9223372036854775807", "SET n -1", "DECRBY n 9223372036854775807",
        "DECRBY n 9223372036854775808",
        "SET n 5", "SET t 1 EX 1000", "INCR t", "TTL t",
    ])


@pytest.mark.parametrize("value", [
    "abc", "", " 5", "5 ", "+5", "05", "-0", "1.0", "1e3", "0x10",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "12345678901234567890", "10\x00", "\r\n", "-",
    "  5", "0", "-1",
])
def test_incr_on_values(diff, value):
    diff.run([
        ("SET", "n", value), "INCR n", "GET n", ("SET", "n", value), "DECR n",
        ("SET", "n", value), "INCRBY n 3", ("SET", "n", value), "DECRBY n 3",
    ])


def test_incrbyfloat(diff):
    diff.run([
        "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f -0.1",
        "INCRBYFLOAT f 1e5", "INCRBYFLOAT f 3.0e3", "INCRBYFLOAT f -0",
        "INCRBYFLOAT f 0.0000001", "GET f", "INCRBYFLOAT f 10.50",
        "INCRBYFLOAT f 1e17", "INCRBYFLOAT f 1e18", "INCRBYFLOAT f -1e18",
        "INCRBYFLOAT g 0.1", "INCRBYFLOAT g 0.2", "INCRBYFLOAT h -0",
        "GET h", "INCRBYFLOAT i 1e-5", "INCRBYFLOAT j 5", "INCRBYFLOAT j 5.0",
        "INCRBYFLOAT j 0.5", "INCRBYFLOAT k -5", "INCRBYFLOAT l 3.14159265358979323846",
        "INCRBYFLOAT m 1.23456789012345678901234", "INCRBYFLOAT", "INCRBYFLOAT f",
        "INCRBYFLOAT f 1 2", "SET t 1 EX 1000", "INCRBYFLOAT t 1", "TTL t",
    ])


@pytest.mark.parametrize("incr", [
    "inf", "-inf", "+inf", "Infinity", "nan", "NaN", "-nan", "abc", "", " 5", "5 ",
    "  5", "1e5000", "-1e5000", "1e400", "1e-400", "0x10", "1,5", "1.5.5",
    "1e", "e5", ".5", "5.", "-.5", "1_000", "\x00", "1e308", "-1e308",
])
def test_incrbyfloat_increment_parsing(diff, incr):
    diff.run([
        "SET f 10", ("INCRBYFLOAT", "f", incr), "GET f",
        ("INCRBYFLOAT", "fresh", incr), "EXISTS fresh",
    ])


@pytest.mark.parametrize("value", [
    "inf", "-inf", "nan", " 5", "5 ", "abc", "1e400", "1e308", "-1e308",
    "0x10", ".5", "", "1.7976931348623157e308", "5e-324", "-0",
])
def test_incrbyfloat_stored_values(diff, value):
    diff.run([
        ("SET", "f", value), "INCRBYFLOAT f 1", "GET f",
        ("SET", "f", value), "INCRBYFLOAT f 1e308", "GET f",
    ])


# --- APPEND / STRLEN / ranges -----------------------------------------------

def test_append_strlen(diff):
    diff.run([
        "STRLEN k", "APPEND k hello", "APPEND k ' world'", "GET k", "STRLEN k",
        "APPEND e ''", "EXISTS e", "STRLEN e", "APPEND", "APPEND k", "APPEND k a b",
        "STRLEN", "STRLEN a b", "SET n 10", "APPEND n 5", "GET n", "INCR n",
        "SET t v EX 1000", "APPEND t x", "TTL t",
    ])


RANGE_POINTS = ["0", "1", "3", "10", "11", "12", "100", "-1", "-3", "-11", "-12",
                "-100", "9223372036854775807", "-9223372036854775808"]


def test_getrange_grid(diff):
    diff.check("SET", "k", "Hello World")
    diff.check("SET", "empty", "")
    for key in ("k", "empty", "missing"):
        for s in RANGE_POINTS:
            for e in RANGE_POINTS:
                diff.check("GETRANGE", key, s, e)


def test_getrange_substr_errors(diff):
    diff.run([
        "SET k 'Hello World'", "GETRANGE k a 1", "GETRANGE k 0 b", "GETRANGE k 1.5 2",
        "GETRANGE k", "GETRANGE k 0", "GETRANGE k 0 1 2", "GETRANGE k 9223372036854775808 1",
        "SUBSTR k 0 4", "SUBSTR k -5 -1", "SUBSTR k 5 1", "SUBSTR k a b", "SUBSTR k 0",
        "SUBSTR missing 0 -1", "SET n 12345", "GETRANGE n 1 3", "SUBSTR n -2 -1",
    ])


def test_setrange(diff):
    diff.run([
        "SETRANGE k 0 Hello", "GET k", "SETRANGE k 6 World", "GET k", "STRLEN k",
        "SETRANGE k 0 J", "GET k", "SETRANGE k 20 x", "GET k",
        "SETRANGE k 5 ''", "GET k", "SETRANGE new 0 ''", "EXISTS new",
        "SETRANGE new 10 ''", "EXISTS new", "SETRANGE pad 3 ab", "GET pad",
        "SETRANGE k -1 x", "SETRANGE k abc x", "SETRANGE k 1.5 x",
        "SETRANGE k 536870912 x", "SETRANGE k 536870911 xy",
        "SETRANGE k 9223372036854775807 x", "SETRANGE k 536870912 ''",
        "SETRANGE missing2 536870912 x", "SETRANGE missing2 -1 ''",
        "SETRANGE k 0", "SETRANGE k", "SETRANGE k 0 a b",
        "SET n 12345", "SETRANGE n 1 x", "GET n",
        "SET t v EX 1000", "SETRANGE t 3 x", "TTL t", "GET t",
    ])


# --- LCS --------------------------------------------------------------------

def test_lcs(diff):
    diff.run([
        "MSET a ohmytext b mynewtext c '' d xyz",
        "LCS a b", "LCS b a", "LCS a b LEN", "LCS a b IDX", "LCS a b IDX WITHMATCHLEN",
        "LCS a b IDX MINMATCHLEN 4", "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
        "LCS a b IDX WITHMATCHLEN MINMATCHLEN 2", "LCS a b MINMATCHLEN 4",
        "LCS a b IDX MINMATCHLEN 0", "LCS a b IDX MINMATCHLEN -1",
        "LCS a b IDX MINMATCHLEN 100", "LCS a b LEN MINMATCHLEN 3",
        "LCS a b WITHMATCHLEN", "LCS a b LEN WITHMATCHLEN",
        "LCS a c", "LCS a c LEN", "LCS a c IDX", "LCS c c IDX WITHMATCHLEN",
        "LCS a d", "LCS a d IDX", "LCS a missing", "LCS missing missing2",
        "LCS missing a IDX", "LCS a a", "LCS a a IDX WITHMATCHLEN",
        "LCS a b IDX LEN", "LCS a b LEN IDX", "LCS a b FOO", "LCS a b MINMATCHLEN",
        "LCS a b IDX MINMATCHLEN abc", "LCS a b idx len", "LCS a", "LCS",
        "MSET x 'ACCGGTCGAGTGCGCGGAAGCCGGCCGAA' y 'GTCGTTCGGAATGCCGTTGCTCTGTAAA'",
        "LCS x y", "LCS x y LEN", "LCS x y IDX", "LCS x y IDX WITHMATCHLEN MINMATCHLEN 2",
        "SET n 12345", "SET m 2345", "LCS n m IDX",
    ])


# --- binary safety ------------------------------------------------------------

def test_binary_safe_values(diff):
    every_byte = bytes(range(256))
    diff.run([
        ("SET", "bin", every_byte), "GET bin", "STRLEN bin",
        ("APPEND", "bin", b"\r\n\x00\r\n"), "GET bin", "GETRANGE bin 250 -1",
        ("SETRANGE", "bin", "1", b"\x00\xff\r\n"), "GETRANGE bin 0 8",
        ("SET", b"key\x00with\r\nnul", b"v\r\nv"), ("GET", b"key\x00with\r\nnul"),
        ("EXISTS", b"key\x00with\r\nnul"), ("MSET", b"\xff", b"\x00", b"\x00", b"\xff"),
        ("MGET", b"\xff", b"\x00", b"\x01"), ("GETDEL", b"\xff"), ("GETSET", b"\x00", b"\r\n"),
        ("SET", "crlf", b"\r\n" * 100), "GET crlf", "STRLEN crlf",
        ("SET", "utf8", "héllo wörld ✓".encode()), "GET utf8", "STRLEN utf8",
        "GETRANGE utf8 1 2", ("LCS", "bin", "crlf"),
    ])


def test_large_values(diff):
    big = b"x" * (1024 * 1024)
    diff.run([
        ("SET", "big", big), "STRLEN big", ("APPEND", "big", big), "STRLEN big",
        "GETRANGE big 1048570 1048580", "SETRANGE big 3000000 end", "STRLEN big",
        "GETRANGE big -5 -1",
    ])
    raw = diff.check("GET", "big")
    assert len(raw) > 3_000_000


def test_string_commands_across_databases(diff):
    diff.run([
        "SET k db0", "SELECT 1", "GET k", "SET k db1", "INCR c", "SELECT 0",
        "GET k", "GET c", "SELECT 15", "MSET a 1 b 2", "DBSIZE", "SELECT 0", "DBSIZE",
    ])


def test_lcs_transient_memory_limit(diff):
    """The DP table of (|a|+1)×(|b|+1) 4-byte cells may not exceed proto-max-bulk-len
    (lowered to 1 MB here so the boundary is cheap: 511 fits exactly, 512 does not)."""
    diff.check("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    try:
        for n in (511, 512):
            diff.check("SET", "a", "a" * n)
            diff.check("SET", "b", "b" * n)
            diff.check("LCS", "a", "b", "LEN")
        diff.check("LCS", "a", "b", "BADOPT")
    finally:
        diff.check("CONFIG", "SET", "proto-max-bulk-len", "512mb")
