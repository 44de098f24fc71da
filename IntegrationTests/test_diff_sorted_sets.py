"""Differential tests for the sorted set commands.

Every command is sent to the reference Redis and to Atoll and the raw replies
are compared: options and their conflicts, every error text, score parsing and
formatting (RESP2 and RESP3), ranges by rank, score and lex with LIMIT and REV,
the STORE forms, set algebra with WEIGHTS/AGGREGATE over sets and sorted sets,
pops, ZRANDMEMBER (by shape when random), ZSCAN, OBJECT ENCODING at the
listpack limits, binary members and WATCH.
"""

import itertools

import pytest

from diff import shape, unordered


def require_set_commands(diff):
    """Skips a test that needs plain sets (SADD) while the server under test has none."""
    if diff.atoll.command("SADD").startswith(b"-ERR unknown command"):
        pytest.skip("needs the set commands (SADD)")


def hello3(diff):
    """Switch both connections to RESP3 (the HELLO replies differ, so not compared)."""
    r, a = diff.both("HELLO", "3")
    assert r.startswith(b"%") and a.startswith(b"%"), (r, a)


SMALL = "ZADD z 1 a 2 b 3 c 4 d 5 e"
LEX = "ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g"


# --- ZADD and ZINCRBY ------------------------------------------------------------

ZADD_FLAGS = ["NX", "XX", "GT", "LT", "CH", "INCR"]
ZADD_COMBOS = [c for n in range(0, 3) for c in itertools.combinations(ZADD_FLAGS, n)]


@pytest.mark.parametrize("flags", ZADD_COMBOS, ids=["-".join(c) or "plain" for c in ZADD_COMBOS])
def test_zadd_flag_combinations(diff, flags):
    """Each combination on a missing key, then lower/equal/higher scores on existing members."""
    f = list(flags)
    diff.check("ZADD", "k", *f, "5", "m")
    diff.check("ZRANGE", "k", "0", "-1", "WITHSCORES")
    diff.run(["ZADD k 5 m 1 n"])
    for score in ("3", "5", "7", "-inf", "+inf"):
        diff.check("ZADD", "k", *f, score, "m")
        diff.check("ZADD", "k", *f, score, "m", "9", "new")
        diff.check("ZRANGE", "k", "0", "-1", "WITHSCORES")
    diff.check("ZCARD", "k")


def test_zadd_errors(diff):
    diff.run([
        "ZADD k", "ZADD k 1", "ZADD k NX", "ZADD k 1 a 2", "ZADD k NX XX 1 a",
        "ZADD k XX NX 1 a", "ZADD k GT LT 1 a", "ZADD k GT NX 1 a", "ZADD k LT NX 1 a",
        "ZADD k NX XX GT 1 a", "ZADD k INCR 1 a 2 b", "ZADD k INCR XX NX 1 a 2 b",
        "ZADD k abc a", "ZADD k 1 a abc b", "ZADD k '' a", "ZADD k ' 1' a", "ZADD k '1 ' a",
        "ZADD k nan a", "ZADD k -nan a", "ZADD k 1e400 a", "ZADD k 1e-400 a", "ZADD k 0x1g a",
        "EXISTS k", "ZADD k FOO 1 a", "ZADD k 1 a FOO", "ZADD k CH", "ZADD k ch ch 1 a",
        "ZINCRBY k", "ZINCRBY k 1", "ZINCRBY k abc m", "ZINCRBY k nx m", "ZINCRBY k 1 m x",
        "ZINCRBY k incr m", "EXISTS k",
    ])


def test_zadd_incr_and_nan(diff):
    diff.run([
        "ZADD k INCR 1 m", "ZADD k INCR 2.5 m", "ZINCRBY k 1 m", "ZINCRBY k -1.5 m",
        "ZINCRBY k inf m", "ZINCRBY k -inf m", "ZSCORE k m", "ZADD k INCR -inf m",
        "ZINCRBY k +inf n", "ZADD k INCR -inf n", "ZSCORE k n",
        "ZADD k XX INCR 1 missing", "ZADD k NX INCR 1 m", "ZADD k GT INCR -1 m2",
        "ZADD k 1 p", "ZADD k GT INCR -1 p", "ZADD k LT INCR 1 p", "ZADD k LT INCR -1 p",
        "ZADD k INCR 0 p", "ZADD k CH INCR 0 p", "ZINCRBY nokey 0.1 m", "ZINCRBY nokey 0.2 m",
        "ZSCORE nokey m", "ZADD nk XX INCR 1 m", "EXISTS nk", "ZADD nk XX 1 m", "EXISTS nk",
        "ZADD nk INCR -0 m", "ZSCORE nk m",
    ])


def test_zadd_ch_counts_changes(diff):
    diff.run([
        "ZADD k CH 1 a 2 b", "ZADD k CH 1 a 3 b 4 c", "ZADD k CH XX 9 a 9 z",
        "ZADD k CH NX 0 a 0 y", "ZADD k CH GT 1 a 10 b", "ZADD k CH LT 1 a 10 b",
        "ZRANGE k 0 -1 WITHSCORES", "ZADD k 1 a 1 a 2 a", "ZSCORE k a",
        "zadd k nx ch 5 q", "ZADD k -0 zero", "ZADD k CH 0 zero", "ZADD k 5 ' spaced'",
    ])


# --- Score parsing and formatting ------------------------------------------------

SCORES = [
    "1", "1.1", "0.1", "-0", "0", "-0.0", "+0", "inf", "+inf", "-inf", "Infinity", "-INF",
    "1e300", "-1e300", "1e-300", "4e-320", "1e18", "-1e18", "4611686018427387904",
    "4611686018427387905", "4503599627370495", "4503599627370496", "123456789012345678",
    "3.0", "-1.5e-7", "0x10", "0X1p4", "1e+2", ".5", "5.", "0.30000000000000004",
    "9007199254740993", "1E5", "00012", "-0x0",
]


@pytest.mark.parametrize("score", SCORES)
def test_score_formatting(diff, score):
    """The score as ZSCORE, ZRANGE WITHSCORES, ZSCAN and ZINCRBY show it, compact and not."""
    diff.run([
        ("ZADD", "k", score, "m"), "ZSCORE k m", "ZMSCORE k m x", "ZRANGE k 0 -1 WITHSCORES",
        "ZSCAN k 0", "OBJECT ENCODING k", ("ZINCRBY", "k", score, "n"),
        ("ZADD", "big", score, "m"), ("ZADD", "big", score, "x" * 70),
        "ZSCORE big m", "ZSCAN big 0 MATCH m", "ZRANGE big 0 -1 WITHSCORES", "OBJECT ENCODING big",
        ("ZCOUNT", "k", score, score), ("ZCOUNT", "k", "(" + score, "+inf"),
        ("ZRANGEBYSCORE", "k", score, score, "WITHSCORES"),
    ])
    hello3(diff)
    diff.run(["ZSCORE k m", "ZMSCORE k m x", "ZRANGE big 0 -1 WITHSCORES", ("ZINCRBY", "k", score, "n")])


def test_score_sum_formatting(diff):
    diff.run([
        "ZADD k 0.1 m", "ZINCRBY k 0.2 m", "ZSCORE k m", "ZADD k INCR 1e300 m",
        "ZINCRBY k 1e300 m", "ZADD k 1.7976931348623157e308 x", "ZINCRBY k 1e308 x",
        "ZSCORE k x", "ZADD k 2.2250738585072014e-308 y", "ZSCORE k y",
        "ZADD k 1.5 a 2.25 b -3.125 c", "ZRANGE k 0 -1 WITHSCORES",
    ])


def test_negative_zero_orders_with_zero(diff):
    """-0 and 0 compare equal, so members with either order by bytes (compact and not)."""
    members = " ".join(f"{'-0' if i % 2 else '0'} m{i}" for i in range(10))
    big = " ".join(f"{i} pad{i}" for i in range(200))
    diff.run([
        f"ZADD k {members}", "ZRANGE k 0 -1 WITHSCORES", "ZRANGEBYSCORE k 0 0",
        "ZRANGEBYSCORE k -0 (1", "ZRANGEBYSCORE k (-1 -0 WITHSCORES", "ZRANK k m5",
        f"ZADD b {big}", f"ZADD b {members}", "ZRANGEBYSCORE b 0 0 WITHSCORES", "ZRANK b m3",
        "ZSCORE b m1", "ZADD b 0 m1", "ZSCORE b m1", "ZINCRBY b 0 m1", "ZSCORE b m1",
    ])


# --- Reading commands ------------------------------------------------------------------

def test_basic_reads(diff):
    diff.run([
        SMALL, "ZCARD z", "ZCARD missing", "ZSCORE z a", "ZSCORE z x", "ZSCORE missing a",
        "ZMSCORE z a x c", "ZMSCORE missing a b", "ZMSCORE z", "ZRANK z a", "ZRANK z e",
        "ZRANK z x", "ZRANK missing a", "ZREVRANK z a", "ZREVRANK z e", "ZREVRANK z x",
        "ZRANK z a WITHSCORE", "ZREVRANK z a extra", "ZCARD", "ZCARD z extra", "ZSCORE z",
    ])


SCORE_BOUNDS = [
    ("-inf", "+inf"), ("2", "4"), ("(2", "4"), ("2", "(4"), ("(2", "(4"), ("4", "2"),
    ("3", "3"), ("(3", "3"), ("3", "(3"), ("-inf", "-inf"), ("+inf", "+inf"), ("(1", "(1.5"),
    ("''", "''"), ("(", "("), ("0x1", "0X4"), ("' 2'", "4"), ("2 ", "4"), ("abc", "4"),
    ("nan", "1"), ("1", "(nan"), ("((1", "2"), ("-1e400", "1e400"), ("inf", "-inf"),
]


@pytest.mark.parametrize("lo,hi", SCORE_BOUNDS, ids=[f"{a}..{b}" for a, b in SCORE_BOUNDS])
def test_score_ranges(diff, lo, hi):
    diff.run([
        SMALL, f"ZCOUNT z {lo} {hi}", f"ZRANGEBYSCORE z {lo} {hi}",
        f"ZRANGEBYSCORE z {lo} {hi} WITHSCORES", f"ZREVRANGEBYSCORE z {hi} {lo}",
        f"ZREVRANGEBYSCORE z {hi} {lo} WITHSCORES LIMIT 1 2", f"ZRANGE z {lo} {hi} BYSCORE",
        f"ZRANGE z {hi} {lo} BYSCORE REV WITHSCORES", f"ZRANGESTORE d z {lo} {hi} BYSCORE",
        "ZRANGE d 0 -1 WITHSCORES", f"ZCOUNT missing {lo} {hi}",
        f"ZREMRANGEBYSCORE z {lo} {hi}", "ZRANGE z 0 -1 WITHSCORES", "EXISTS z",
    ])


LEX_BOUNDS = [
    ("-", "+"), ("[b", "[d"), ("(b", "[d"), ("[b", "(d"), ("(b", "(d"), ("[d", "[b"),
    ("[c", "[c"), ("(c", "[c"), ("-", "-"), ("+", "+"), ("+", "-"), ("-", "(c"), ("[c", "+"),
    ("[", "+"), ("(", "+"), ("[aa", "[cc"), ("b", "d"), ("", "+"), ("-x", "+"), ("[b", "+x"),
    ("[\x00", "+"), ("-\x00z", "+"),
]


@pytest.mark.parametrize("lo,hi", LEX_BOUNDS, ids=[f"{a!r}..{b!r}" for a, b in LEX_BOUNDS])
def test_lex_ranges(diff, lo, hi):
    diff.run([
        LEX, ("ZLEXCOUNT", "l", lo, hi), ("ZRANGEBYLEX", "l", lo, hi),
        ("ZRANGEBYLEX", "l", lo, hi, "LIMIT", "1", "2"), ("ZREVRANGEBYLEX", "l", hi, lo),
        ("ZREVRANGEBYLEX", "l", hi, lo, "LIMIT", "0", "3"), ("ZRANGE", "l", lo, hi, "BYLEX"),
        ("ZRANGE", "l", hi, lo, "BYLEX", "REV"), ("ZRANGESTORE", "d", "l", lo, hi, "BYLEX"),
        "ZRANGE d 0 -1 WITHSCORES", ("ZLEXCOUNT", "missing", lo, hi),
        ("ZREMRANGEBYLEX", "l", lo, hi), "ZRANGE l 0 -1", "EXISTS l",
    ])


RANKS = [
    ("0", "-1"), ("0", "0"), ("1", "3"), ("-2", "-1"), ("-100", "100"), ("3", "1"),
    ("5", "10"), ("-1", "-2"), ("4", "4"), ("-5", "-5"), ("-6", "0"), ("0", "-6"),
    ("9223372036854775807", "-9223372036854775808"), ("-9223372036854775808", "9223372036854775807"),
    ("1.5", "2"), ("a", "2"), ("1", ""),
]


@pytest.mark.parametrize("start,end", RANKS, ids=[f"{a}..{b}" for a, b in RANKS])
def test_rank_ranges(diff, start, end):
    diff.run([
        SMALL, ("ZRANGE", "z", start, end), ("ZRANGE", "z", start, end, "WITHSCORES"),
        ("ZRANGE", "z", start, end, "REV"), ("ZREVRANGE", "z", start, end, "WITHSCORES"),
        ("ZRANGESTORE", "d", "z", start, end, "REV"), "ZRANGE d 0 -1 WITHSCORES",
        ("ZRANGE", "missing", start, end), ("ZREMRANGEBYRANK", "z", start, end),
        "ZRANGE z 0 -1", "EXISTS z",
    ])


LIMITS = [("0", "2"), ("1", "1"), ("2", "-1"), ("0", "0"), ("4", "5"), ("5", "1"), ("-1", "2"),
          ("0", "-5"), ("100", "1"), ("1", "abc"), ("x", "1")]


@pytest.mark.parametrize("offset,count", LIMITS, ids=[f"{a},{b}" for a, b in LIMITS])
def test_limit(diff, offset, count):
    diff.run([
        SMALL, LEX, f"ZRANGEBYSCORE z -inf +inf LIMIT {offset} {count}",
        f"ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT {offset} {count}",
        f"ZRANGE z (1 5 BYSCORE LIMIT {offset} {count} WITHSCORES",
        f"ZRANGE z 5 (1 BYSCORE REV LIMIT {offset} {count}",
        f"ZRANGEBYLEX l - + LIMIT {offset} {count}", f"ZREVRANGEBYLEX l + [b LIMIT {offset} {count}",
        f"ZRANGESTORE d z 2 5 BYSCORE LIMIT {offset} {count}", "ZRANGE d 0 -1 WITHSCORES",
    ])


def test_zrange_option_errors(diff):
    diff.run([
        SMALL, LEX,
        "ZRANGE z 0 -1 LIMIT 0 1", "ZRANGE z 0 -1 LIMIT 0 -1", "ZRANGE z 0 -1 REV LIMIT 1 1",
        "ZRANGE l - + BYLEX WITHSCORES", "ZRANGE z 0 1 BYSCORE BYLEX", "ZRANGE z 0 1 BYLEX BYSCORE",
        "ZRANGE z 0 1 REV REV", "ZRANGE z 0 1 FOO", "ZRANGE z 0 1 LIMIT", "ZRANGE z 0 1 LIMIT 1",
        "ZRANGE z 0 1 BYSCORE LIMIT 1", "ZRANGE z a b BYSCORE", "ZRANGE l a b BYLEX",
        "ZRANGE z 1 5 byscore withscores rev", "ZRANGE z 5 1 BYSCORE REV", "ZRANGE z 0 1 WITHSCORES WITHSCORES",
        "ZRANGEBYSCORE z 0 1 REV", "ZRANGEBYSCORE z 0 1 BYSCORE", "ZRANGEBYSCORE z 0 1 BYLEX",
        "ZRANGEBYLEX l - + WITHSCORES", "ZRANGEBYLEX l - + REV", "ZREVRANGE z 0 1 LIMIT 0 1",
        "ZREVRANGE z 0 1 BYSCORE", "ZREVRANGE z 0 1 REV", "ZREVRANGEBYSCORE z 1 0 REV",
        "ZREVRANGEBYLEX l + - WITHSCORES", "ZRANGE z", "ZRANGE z 0", "ZRANGEBYSCORE z 0",
        "ZRANGESTORE d z 0 -1 WITHSCORES", "ZRANGESTORE d z 0", "ZRANGESTORE d z 0 -1 LIMIT 0 1",
        "ZRANGE z 0 -1 LIMIT x 1 BYSCORE", "ZRANGE z x 1 LIMIT 0 1 BYSCORE",
    ])


def test_zrangestore_destinations(diff):
    diff.run([
        SMALL, "SET str v", "ZRANGESTORE str z 0 1", "TYPE str", "ZRANGE str 0 -1 WITHSCORES",
        "SET s2 v EX 100", "ZRANGESTORE s2 z 0 0", "TTL s2", "ZRANGESTORE s2 z 10 20", "EXISTS s2",
        "SET other v EX 100", "ZRANGESTORE other missing 0 -1", "EXISTS other", "ZRANGESTORE z z 1 2",
        "ZRANGE z 0 -1 WITHSCORES", "SET str2 v", "ZRANGESTORE x str2 0 1", "EXISTS x",
        "ZRANGESTORE str2 str2 0 1", "TYPE str2",
    ])


# --- Removing and popping ------------------------------------------------------------

def test_zrem(diff):
    diff.run([
        SMALL, "ZREM z a", "ZREM z a", "ZREM z x y", "ZREM z b c b", "ZRANGE z 0 -1",
        "ZREM missing a", "ZREM z d e f", "EXISTS z", "ZREM z", "SET s v", "ZREM s a",
    ])


def test_zremrange_errors(diff):
    diff.run([
        SMALL, "ZREMRANGEBYRANK z a 1", "ZREMRANGEBYRANK z 1 1.5", "ZREMRANGEBYSCORE z a 1",
        "ZREMRANGEBYSCORE z 1 (x", "ZREMRANGEBYLEX z a b", "ZREMRANGEBYLEX z [a", "ZREMRANGEBYRANK z 0",
        "ZREMRANGEBYRANK missing 0 -1", "ZREMRANGEBYSCORE missing -inf +inf", "ZREMRANGEBYLEX missing - +",
        "SET s v", "ZREMRANGEBYRANK s 0 -1", "ZREMRANGEBYRANK s a 1", "ZREMRANGEBYSCORE s 0 1",
        "ZREMRANGEBYSCORE s x 1", "ZREMRANGEBYLEX s - +", "ZREMRANGEBYLEX s x y",
    ])


POPS = ["ZPOPMIN", "ZPOPMAX"]


@pytest.mark.parametrize("cmd", POPS)
@pytest.mark.parametrize("proto", [2, 3])
def test_zpop(diff, cmd, proto):
    if proto == 3:
        hello3(diff)
    diff.run([
        SMALL, f"{cmd} z", f"{cmd} z 2", f"{cmd} z 0", f"{cmd} z -1", f"{cmd} z abc",
        f"{cmd} z 1 2", f"{cmd} missing", f"{cmd} missing 3", f"{cmd} z 100", "EXISTS z",
        "SET s v", f"{cmd} s", f"{cmd} s 0", "ZADD one 1 x", f"{cmd} one 1", "EXISTS one",
        "ZADD t 1 a 1 b 1 c", f"{cmd} t 2", f"{cmd} t", f"{cmd} t", f"{cmd}",
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_zmpop(diff, proto):
    if proto == 3:
        hello3(diff)
    diff.run([
        SMALL, "ZADD y 10 p 20 q", "ZMPOP 1 z MIN", "ZMPOP 1 z MAX", "ZMPOP 2 missing z MIN COUNT 2",
        "ZMPOP 2 y z max count 10", "ZMPOP 2 y z MIN COUNT 10", "ZMPOP 2 y z MIN", "EXISTS y z",
        "ZMPOP 1 missing MIN", "SET s v", "ZMPOP 2 missing s MIN", "ZADD w 1 a", "ZMPOP 2 w s MIN",
        "ZMPOP 0 z MIN", "ZMPOP -1 z MIN", "ZMPOP abc z MIN", "ZMPOP 1 z", "ZMPOP 1 z FOO",
        "ZMPOP 2 z MIN", "ZMPOP 1 z MIN COUNT", "ZMPOP 1 z MIN COUNT 0", "ZMPOP 1 z MIN COUNT -1",
        "ZMPOP 1 z MIN COUNT x", "ZMPOP 1 z MIN COUNT 1 COUNT 1", "ZMPOP 1 z MIN FOO 1",
        "ZMPOP 9999999999 z MIN", "ZMPOP 1",
    ])


def test_blocking_pops_answer_at_once(diff):
    """With data present (or inside MULTI), the blocking forms reply immediately."""
    diff.run([
        SMALL, "ZADD y 7 q", "BZPOPMIN z 0", "BZPOPMAX z 0", "BZPOPMIN missing z y 0.01",
        "BZPOPMAX missing y 0", "BZMPOP 0 2 missing z MIN COUNT 2", "BZMPOP 0.5 1 z MAX COUNT 10",
        "BZPOPMIN z abc", "BZPOPMIN z -1", "BZPOPMIN z", "BZMPOP abc 1 z MIN", "BZMPOP 0 0 z MIN",
        "BZMPOP 0 1 z", "BZMPOP -1 1 z MIN", "BZMPOP 0 1 z MIN COUNT 0", "SET s v", "BZPOPMIN s 0",
        "BZPOPMIN missing s 0", "BZMPOP 0 1 s MIN", "MULTI", "BZPOPMIN missing 0", "BZPOPMAX missing 1",
        "BZMPOP 0 1 missing MIN", "ZADD fresh 1 a", "BZPOPMIN fresh 0", "EXEC",
    ])
    hello3(diff)
    diff.run(["ZADD z3 1 a 2 b", "BZPOPMIN z3 0", "BZMPOP 0 1 z3 MAX", "MULTI", "BZPOPMAX none 0", "EXEC"])


# --- Set algebra --------------------------------------------------------------------------

ALGEBRA_SETUP = [
    "ZADD z1 1 a 2 b 3 c 4 d", "ZADD z2 10 b 20 c 30 e", "ZADD z3 -1 a 0.5 x inf c",
    "ZADD zinf inf a -inf b 0 c",
]
SET_SETUP = ["SADD s1 a c x", "SADD s2 1 2 3 c"]


def algebra_setup(diff, keys):
    """The sources; plain sets only when `keys` use them (and the server has them)."""
    if any(k.startswith("s") for k in keys):
        require_set_commands(diff)
        return ALGEBRA_SETUP + SET_SETUP
    return ALGEBRA_SETUP
OPTIONS = [(), ("WEIGHTS", "2", "3"), ("WEIGHTS", "0", "1"), ("AGGREGATE", "MIN"),
           ("AGGREGATE", "MAX"), ("AGGREGATE", "SUM"), ("WEIGHTS", "-1", "0.5", "AGGREGATE", "max"),
           ("WEIGHTS", "inf", "-inf"), ("WEIGHTS", "0", "0", "AGGREGATE", "MIN")]
PAIRS = [("z1", "z2"), ("z1", "s1"), ("s1", "s2"), ("z1", "missing"), ("missing", "z3"),
         ("z1", "z1"), ("zinf", "zinf"), ("zinf", "z3"), ("s1", "z3")]


@pytest.mark.parametrize("keys", PAIRS, ids=["+".join(p) for p in PAIRS])
@pytest.mark.parametrize("opts", OPTIONS, ids=[" ".join(o) or "plain" for o in OPTIONS])
def test_union_inter_with_options(diff, keys, opts):
    diff.run(algebra_setup(diff, keys) + [
        ("ZUNION", "2", *keys, *opts, "WITHSCORES"), ("ZINTER", "2", *keys, *opts, "WITHSCORES"),
        ("ZUNIONSTORE", "d", "2", *keys, *opts), "ZRANGE d 0 -1 WITHSCORES",
        ("ZINTERSTORE", "d", "2", *keys, *opts), "ZRANGE d 0 -1 WITHSCORES", "EXISTS d",
    ])


@pytest.mark.parametrize("keys", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_diff_and_intercard(diff, keys):
    diff.run(algebra_setup(diff, keys) + [
        ("ZDIFF", "2", *keys), ("ZDIFF", "2", *keys, "WITHSCORES"), ("ZDIFFSTORE", "d", "2", *keys),
        "ZRANGE d 0 -1 WITHSCORES", ("ZINTERCARD", "2", *keys), ("ZINTERCARD", "2", *keys, "LIMIT", "1"),
        ("ZINTERCARD", "2", *keys, "LIMIT", "0"), ("ZUNION", "2", *keys), ("ZINTER", "2", *keys),
    ])


def test_algebra_three_sources_and_order(diff):
    diff.run(algebra_setup(diff, ["s1"]) + [
        "ZUNION 3 z1 z2 z3 WITHSCORES", "ZINTER 3 z1 z2 s1 WITHSCORES", "ZINTER 3 z1 s1 z3 WITHSCORES",
        "ZUNION 3 z1 z2 z3 WEIGHTS 1 2 3 AGGREGATE MAX WITHSCORES", "ZDIFF 3 z1 z2 s1 WITHSCORES",
        "ZDIFF 3 z1 missing z3", "ZDIFF 1 z1 WITHSCORES", "ZUNION 1 s2 WITHSCORES",
        "ZINTERCARD 3 z1 z2 z3", "ZINTERCARD 1 z1 LIMIT 2", "ZINTER 2 z1 z1 WEIGHTS inf 0 WITHSCORES",
        "ZINTER 2 z1 z1 WEIGHTS 0 inf AGGREGATE MAX WITHSCORES", "ZUNION 2 z1 z1 AGGREGATE SUM WITHSCORES",
        "ZADD eq1 0.1 m", "ZADD eq2 0.2 m", "ZADD eq3 0.3 m", "ZUNION 3 eq1 eq2 eq3 WITHSCORES",
        "ZUNION 3 eq3 eq2 eq1 WITHSCORES", "ZINTER 3 eq2 eq3 eq1 WITHSCORES",
        "ZADD mz -0 m", "ZADD pz 0 m", "ZUNION 2 mz pz AGGREGATE MIN WITHSCORES",
        "ZUNION 2 pz mz AGGREGATE MAX WITHSCORES", "ZUNIONSTORE d 2 mz pz AGGREGATE MIN", "ZSCORE d m",
    ])


def test_algebra_errors(diff):
    diff.run(ALGEBRA_SETUP + [
        "SET str v", "ZUNION 0 z1", "ZUNION -1 z1", "ZUNION abc z1", "ZUNION 3 z1 z2",
        "ZUNIONSTORE d 0 z1", "ZINTERSTORE d 0 z1", "ZDIFFSTORE d 0 z1", "ZINTERCARD 0 z1",
        "ZDIFF 0 z1", "ZINTER 0 z1", "ZUNION 2 z1 str", "ZINTER 2 str missing", "ZDIFF 2 missing str",
        "ZUNIONSTORE d 2 z1 str", "ZINTERCARD 2 z1 str", "ZUNION 2 z1 z2 WEIGHTS 1",
        "ZUNION 2 z1 z2 WEIGHTS 1 x", "ZUNION 2 z1 z2 WEIGHTS 1 nan", "ZUNION 2 z1 z2 WEIGHTS 1 ' 2'",
        "ZUNION 2 z1 z2 AGGREGATE", "ZUNION 2 z1 z2 AGGREGATE AVG", "ZUNION 2 z1 z2 FOO",
        "ZUNIONSTORE d 2 z1 z2 WITHSCORES", "ZDIFF 2 z1 z2 WEIGHTS 1 2", "ZDIFF 2 z1 z2 AGGREGATE MIN",
        "ZDIFFSTORE d 2 z1 z2 WITHSCORES", "ZINTERCARD 2 z1 z2 WITHSCORES", "ZINTERCARD 2 z1 z2 WEIGHTS 1 2",
        "ZINTERCARD 2 z1 z2 LIMIT -1", "ZINTERCARD 2 z1 z2 LIMIT x", "ZINTERCARD 2 z1 z2 LIMIT",
        "ZINTERCARD abc z1", "ZUNION 1 z1 WEIGHTS 2 WEIGHTS 3 WITHSCORES",
        "ZUNION 1 z1 AGGREGATE MIN AGGREGATE MAX WITHSCORES", "ZUNION 1 z1 withscores withscores",
        "ZUNIONSTORE", "ZINTERCARD 1", "EXISTS d",
    ])


def test_store_overwrites_and_deletes(diff):
    diff.run(algebra_setup(diff, ["s1"]) + [
        "SET d v EX 100", "ZUNIONSTORE d 2 z1 z2", "TYPE d", "TTL d", "ZRANGE d 0 -1 WITHSCORES",
        "ZINTERSTORE d 2 z1 missing", "EXISTS d", "SET lst a", "ZDIFFSTORE lst 2 z1 z1", "EXISTS lst",
        "SADD sd a", "ZINTERSTORE sd 2 z1 s1", "TYPE sd", "ZRANGE sd 0 -1 WITHSCORES",
        "ZUNIONSTORE z1 2 z1 z2 WEIGHTS 1 1", "ZRANGE z1 0 -1 WITHSCORES", "ZDIFFSTORE z2 1 z2",
        "ZRANGE z2 0 -1 WITHSCORES", "ZUNIONSTORE none 1 missing", "EXISTS none",
    ])


# --- ZRANDMEMBER ---------------------------------------------------------------------------

@pytest.mark.parametrize("proto", [2, 3])
def test_zrandmember(diff, proto):
    if proto == 3:
        hello3(diff)
    diff.run([
        SMALL, shape("ZRANDMEMBER z"), shape("ZRANDMEMBER z 1"), shape("ZRANDMEMBER z 3"),
        shape("ZRANDMEMBER z -3"), shape("ZRANDMEMBER z -10 WITHSCORES"), shape("ZRANDMEMBER z 2 WITHSCORES"),
        shape("ZRANDMEMBER z 4 withscores"), "ZRANDMEMBER z 5", "ZRANDMEMBER z 10 WITHSCORES",
        "ZRANDMEMBER z 0", "ZRANDMEMBER z 0 WITHSCORES", "ZRANDMEMBER missing", "ZRANDMEMBER missing 5",
        "ZRANDMEMBER missing -5 WITHSCORES", "ZRANDMEMBER z abc", "ZRANDMEMBER z 1 FOO",
        "ZRANDMEMBER z 1 WITHSCORES x", "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
        "ZRANDMEMBER z -9223372036854775808 WITHSCORES", "ZRANDMEMBER z 4611686018427387904 WITHSCORES",
        "SET s v", "ZRANDMEMBER s", "ZRANDMEMBER s 1", "ZRANDMEMBER s 0", "ZRANDMEMBER s abc",
        "ZADD one 1 only", "ZRANDMEMBER one", "ZRANDMEMBER one -3 WITHSCORES", "ZRANDMEMBER one 3",
    ])


def test_zrandmember_members_belong(diff):
    """Random picks come from the set: unique when the count is positive."""
    big = " ".join(f"{i} m{i}" for i in range(300))
    diff.run([f"ZADD z {big}", "ZADD small 1 a 2 b 3 c 4 d 5 e 6 f"])
    for key, size in (("z", 300), ("small", 6)):
        for n in (2, size // 2, size - 1):
            raw = diff.check_shape("ZRANDMEMBER", key, str(n))
            _, atoll = diff.both("ZRANDMEMBER", key, str(n))
            members = atoll.split(b"\r\n")[2::2]
            assert len(members) == n and len(set(members)) == n, atoll
            assert raw.startswith(b"*%d\r\n" % n)
        _, atoll = diff.both("ZRANDMEMBER", key, "-50", "WITHSCORES")
        parts = atoll.split(b"\r\n")
        assert parts[0] == b"*100", atoll[:40]


# --- ZSCAN -------------------------------------------------------------------------------

def test_zscan_compact_exact(diff):
    diff.run([
        "ZADD z 3 c 1 a 2 b 1.5 ab -0 zero 1e18 big", "ZSCAN z 0", "ZSCAN z 7", "ZSCAN z 0 COUNT 1",
        "ZSCAN z 0 MATCH a*", "ZSCAN z 0 MATCH *b* COUNT 100", "ZSCAN z 0 MATCH nomatch",
        "ZSCAN missing 0", "ZSCAN missing 0 COUNT 0", "ZSCAN z abc", "ZSCAN z -1", "ZSCAN z 0 COUNT 0",
        "ZSCAN z 0 COUNT -1", "ZSCAN z 0 COUNT x", "ZSCAN z 0 MATCH", "ZSCAN z 0 FOO bar",
        "ZSCAN z 0 TYPE zset", "ZSCAN z", "SET s v", "ZSCAN s 0", "ZSCAN s 0 COUNT 0", "ZSCAN s x",
        "ZSCAN missing x", "ZSCAN z 18446744073709551616", "ZSCAN z 18446744073709551615",
    ])


def _full_zscan(conn, key, *opts):
    import resp
    cursor, seen = b"0", {}
    for _ in range(10000):
        reply = resp.parse(conn.command("ZSCAN", key, cursor, *opts))
        cursor, batch = reply
        for i in range(0, len(batch), 2):
            seen[batch[i]] = batch[i + 1]
        if cursor == b"0":
            return seen
    raise AssertionError("ZSCAN did not finish")


def test_zscan_large_set_returns_everything(diff):
    members = " ".join(f"{i / 4} m{i}" for i in range(500))
    diff.run([f"ZADD z {members}", "ZADD z -0 negzero", "OBJECT ENCODING z"])
    for opts in ((), ("COUNT", "7"), ("MATCH", "m1*"), ("MATCH", "*9", "COUNT", "1000")):
        assert _full_zscan(diff.ref, "z", *opts) == _full_zscan(diff.atoll, "z", *opts)


# --- Encodings, binary members, wrong types, WATCH ------------------------------------------

def test_object_encoding_thresholds(diff):
    m128 = " ".join(f"{i} m{i}" for i in range(128))
    diff.run([
        f"ZADD z {m128}", "OBJECT ENCODING z", "ZADD z 1 m0", "OBJECT ENCODING z", "ZADD z 999 m128",
        "OBJECT ENCODING z", "ZREMRANGEBYRANK z 0 -3", "OBJECT ENCODING z",
        ("ZADD", "v", "1", "x" * 64), "OBJECT ENCODING v", ("ZADD", "v", "1", "y" * 65), "OBJECT ENCODING v",
        ("ZADD", "w", "1", "y" * 65), "OBJECT ENCODING w",
        "ZUNIONSTORE u 1 z", "OBJECT ENCODING u", "ZRANGESTORE r z 0 0", "OBJECT ENCODING r",
        f"ZADD z2 {m128}", "ZUNIONSTORE u2 1 z2", "OBJECT ENCODING u2", "ZRANGESTORE r2 z2 0 -1",
        "OBJECT ENCODING r2", "ZADD z2 1000 extra", "ZRANGESTORE r3 z2 0 -1", "OBJECT ENCODING r3",
        "ZRANGESTORE r4 z2 -inf +inf BYSCORE", "OBJECT ENCODING r4", "ZRANGESTORE r5 z2 0 127",
        "OBJECT ENCODING r5", ("ZADD", "lv", "1", "a", "2", "z" * 65), "ZRANGESTORE r6 lv 0 -1 BYSCORE",
        "OBJECT ENCODING r6", "ZINTERSTORE i 2 z2 z2", "OBJECT ENCODING i", "ZUNIONSTORE u3 1 lv",
        "OBJECT ENCODING u3", "COPY z2 c2", "OBJECT ENCODING c2", "ZRANGE c2 0 2 WITHSCORES",
    ])


def test_object_encoding_with_config(diff):
    diff.run([
        "CONFIG SET zset-max-listpack-entries 0", "ZADD z 1 a", "OBJECT ENCODING z",
        "CONFIG SET zset-max-listpack-entries 3", "CONFIG SET zset-max-listpack-value 4",
        "ZADD y 1 a 2 b 3 c", "OBJECT ENCODING y", "ZADD y 4 d", "OBJECT ENCODING y",
        "ZADD x 1 abcd", "OBJECT ENCODING x", "ZADD x 1 abcde", "OBJECT ENCODING x",
        "ZADD w -0 m 1 n", "ZSCORE w m", "ZADD w 5 o 6 p", "ZADD w -0 q", "ZSCORE w q", "ZSCORE w m",
        "ZRANGESTORE r w 0 -1 BYSCORE", "ZSCORE r m", "ZSCORE r q",
        "CONFIG SET zset-max-listpack-entries 128", "CONFIG SET zset-max-listpack-value 64",
    ])


def test_binary_members(diff):
    diff.run([
        ("ZADD", "b", "1", b"\x00\xff", "1", b"\x00", "1", b"", "1", b"\xff", "2", b"a\r\nb"),
        "ZRANGE b 0 -1 WITHSCORES", ("ZSCORE", "b", b"\x00\xff"), ("ZRANK", "b", b""),
        ("ZRANGEBYLEX", "b", b"[\x00", b"(\xff"), ("ZLEXCOUNT", "b", "-", b"[\x00\xff"),
        ("ZREM", "b", b"\x00"), "ZRANGE b 0 -1", "ZSCAN b 0", ("ZMSCORE", "b", b"", b"\xff", b"\x00"),
        ("ZINCRBY", "b", "1", b"\xfe\x00"), "ZRANGE b 0 -1 WITHSCORES",
    ])


ALL_ON_STRING = [
    "ZADD s 1 a", "ZINCRBY s 1 a", "ZREM s a", "ZCARD s", "ZSCORE s a", "ZMSCORE s a",
    "ZRANK s a", "ZREVRANK s a", "ZCOUNT s 0 1", "ZLEXCOUNT s - +", "ZRANGE s 0 -1",
    "ZRANGESTORE d s 0 -1", "ZRANGEBYSCORE s 0 1", "ZREVRANGEBYSCORE s 1 0", "ZRANGEBYLEX s - +",
    "ZREVRANGEBYLEX s + -", "ZREVRANGE s 0 -1", "ZREMRANGEBYSCORE s 0 1", "ZREMRANGEBYRANK s 0 1",
    "ZREMRANGEBYLEX s - +", "ZPOPMIN s", "ZPOPMAX s 2", "BZPOPMIN s 0", "BZPOPMAX s 0",
    "ZMPOP 1 s MIN", "BZMPOP 0 1 s MAX", "ZUNION 1 s", "ZINTER 1 s", "ZDIFF 1 s",
    "ZUNIONSTORE d 1 s", "ZINTERSTORE d 1 s", "ZDIFFSTORE d 1 s", "ZINTERCARD 1 s",
    "ZRANDMEMBER s", "ZRANDMEMBER s 2", "ZSCAN s 0",
]


@pytest.mark.parametrize("cmd", ALL_ON_STRING, ids=[c.split()[0] + str(i) for i, c in enumerate(ALL_ON_STRING)])
def test_wrong_type(diff, cmd):
    diff.run(["SET s v", cmd, "GET s", "EXISTS d", "SET s 12345", cmd, "OBJECT ENCODING s"])


ARITY = ["ZADD", "ZADD k 1", "ZINCRBY k 1", "ZREM k", "ZCARD", "ZSCORE k", "ZMSCORE k", "ZRANK k",
         "ZCOUNT k 1", "ZLEXCOUNT k -", "ZRANGE k 0", "ZRANGESTORE d k 0", "ZRANGEBYSCORE k 0",
         "ZREVRANGE k 0", "ZREMRANGEBYRANK k 0", "ZPOPMIN", "BZPOPMIN k", "ZMPOP 1 k",
         "BZMPOP 0 1 k", "ZUNION 1", "ZUNIONSTORE d 1", "ZINTERCARD 1", "ZRANDMEMBER", "ZSCAN k",
         "ZREMRANGEBYSCORE k 0 1 2", "ZCARD k k"]


def test_arity_errors(diff):
    diff.run(ARITY)


def test_watch_is_touched_only_by_changes(diff, new_diff):
    other = new_diff()
    steps = [
        ("ZADD z 1 a", True), ("ZADD z 1 a", False), ("ZADD z XX 2 missing", False), ("ZREM z nope", False),
        ("ZADD z NX 5 a", False), ("ZADD z GT 0 a", False), ("ZINCRBY z 0 a", False), ("ZREM z a", True),
        ("ZADD z 1 a 2 b", True), ("ZREMRANGEBYSCORE z 10 20", False), ("ZPOPMIN z 0", False),
        ("ZPOPMIN z", True), ("ZRANGESTORE z missing 0 -1", True), ("ZRANGESTORE z missing 0 -1", False),
        ("ZADD src 1 a", False), ("ZUNIONSTORE z 1 src", True), ("ZINTERSTORE z 2 src missing", True),
        ("ZINTERSTORE z 2 src missing", False), ("ZSCORE z a", False), ("ZADD z 1 a", True),
        ("ZINCRBY z 1 a", True), ("ZMPOP 1 z MAX", True), ("ZMPOP 1 z MAX", False),
    ]
    for cmd, touches in steps:
        diff.run(["WATCH z", "MULTI", "PING"])
        other.run([cmd])
        r = diff.check("EXEC")
        assert (r == b"*-1\r\n") == touches, (cmd, r)


@pytest.mark.parametrize("cmd", ["ZUNION", "ZINTER", "ZDIFF", "ZRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE"])
def test_resp3_withscores_pairs(diff, cmd):
    hello3(diff)
    args = {"ZUNION": "2 z y", "ZINTER": "2 z y", "ZDIFF": "2 z y", "ZRANGE": "z 0 -1",
            "ZRANGEBYSCORE": "z -inf +inf", "ZREVRANGEBYSCORE": "z +inf -inf"}[cmd]
    diff.run([SMALL, "ZADD y 1 a 2 b 0.5 q", f"{cmd} {args} WITHSCORES", f"{cmd} {args}",
              "ZSCAN z 0", "ZPOPMIN z", "ZPOPMAX z 2", "ZMPOP 1 z MIN COUNT 2", "ZINCRBY z 1.1 c",
              "ZADD z INCR 0.5 c", "ZRANDMEMBER z 0 WITHSCORES", "ZMSCORE z c nope"])
