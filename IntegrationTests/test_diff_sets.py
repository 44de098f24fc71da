"""Differential tests for the set commands.

Integer sets of up to set-max-intset-entries (512) members are intsets in Redis and list
their members in ascending order, which Atoll reproduces, so their replies are compared byte
for byte. Sets with other members are hash tables, whose order is Redis's own: those
replies are compared as multisets. Random replies (SPOP, SRANDMEMBER) are compared by shape
plus invariants.
"""

import pytest

from collection_checks import check_random, scan_all
import resp
from diff import shape, shape_of, unordered

# --- every command on a missing key, a string, a hash and a list ----------------------------

COMMANDS = [
    "SADD {k} a", "SADD {k} 1 2", "SREM {k} a", "SMEMBERS {k}", "SISMEMBER {k} a",
    "SMISMEMBER {k} a b", "SCARD {k}", "SPOP {k}", "SPOP {k} 0", "SPOP {k} 3",
    "SRANDMEMBER {k}", "SRANDMEMBER {k} 3", "SRANDMEMBER {k} -3", "SRANDMEMBER {k} 0",
    "SMOVE {k} dst a", "SMOVE src {k} a", "SINTER {k}", "SINTER {k} other", "SINTERCARD 1 {k}",
    "SINTERSTORE dst {k}", "SUNION {k}", "SUNIONSTORE dst {k}", "SDIFF {k}", "SDIFF other {k}",
    "SDIFFSTORE dst {k}", "SSCAN {k} 0", "SSCAN {k} 0 MATCH * COUNT 5",
]
OTHER_TYPES = {
    "string": "SET {k} v",
    "hash": "HSET {k} f v",
    "list": "RPUSH {k} a",
}


@pytest.mark.parametrize("cmd", COMMANDS)
def test_missing_key(diff, cmd):
    diff.run(["SADD src a", "SADD other a b", unordered(cmd.format(k="nokey")), "EXISTS nokey",
              "EXISTS dst", "TYPE dst"])


@pytest.mark.parametrize("other", sorted(OTHER_TYPES))
@pytest.mark.parametrize("cmd", COMMANDS)
def test_wrong_type(diff, cmd, other):
    diff.run(["SADD src a", "SADD other a b", OTHER_TYPES[other].format(k="k"),
              cmd.format(k="k"), "TYPE k", "EXISTS dst"])


ARITY = [
    "SADD", "SADD s", "SREM s", "SMEMBERS", "SMEMBERS s x", "SISMEMBER s", "SISMEMBER s a b",
    "SMISMEMBER s", "SCARD", "SCARD s x", "SPOP", "SPOP s 1 2", "SRANDMEMBER",
    "SRANDMEMBER s 1 2", "SMOVE s d", "SMOVE s d a b", "SINTER", "SINTERCARD", "SINTERCARD 1",
    "SINTERSTORE d", "SUNION", "SUNIONSTORE d", "SDIFF", "SDIFFSTORE d", "SSCAN s", "SSCAN",
]


@pytest.mark.parametrize("cmd", ARITY)
def test_arity_and_syntax_errors(diff, cmd):
    diff.run(["SADD s 1 2 3", cmd, "SCARD s"])


# --- basic behaviour -------------------------------------------------------------------------

SCRIPTS = {
    "sadd and smembers (intset order)": [
        "SADD s 3 1 2 -5 10", "SADD s 3 1", "SMEMBERS s", "SCARD s", "TYPE s",
        "OBJECT ENCODING s", "SADD s 1 1 1 7", "SMEMBERS s",
    ],
    "int64 bounds": [
        "SADD s -9223372036854775808 9223372036854775807 0", "SMEMBERS s", "OBJECT ENCODING s",
        "SISMEMBER s -9223372036854775808", "SISMEMBER s 9223372036854775808",
    ],
    "non-canonical integers are strings": [
        "SADD s 1 01 +1 -0 ' 1' 1.0 0x1", "SCARD s", "OBJECT ENCODING s", "SISMEMBER s 01",
        "SISMEMBER s 1", "SREM s 1.0 01", "SCARD s",
    ],
    "srem": [
        "SADD s a b c", "SREM s a", "SREM s a", "SREM s b c d", "EXISTS s", "TYPE s",
        "SADD s 1 2", "SREM s 3 x", "SREM s 1 1 2", "EXISTS s",
    ],
    "sismember and smismember": [
        "SADD s a 1", "SISMEMBER s a", "SISMEMBER s b", "SISMEMBER s 1",
        "SMISMEMBER s a b 1 2 a", "SADD n 1 2 3", "SMISMEMBER n 1 x 3 01",
    ],
    "smove": [
        "SADD a 1 2 3", "SADD b x", "SMOVE a b 1", "SMEMBERS a", unordered("SMEMBERS b"),
        "SMOVE a b 1", "SMOVE a a 2", "SMOVE a a 9", "SMOVE a c 2", "OBJECT ENCODING c",
        "SMOVE b c x", "OBJECT ENCODING c", "EXISTS b", "SMOVE a d 3", "EXISTS a",
        "SMEMBERS d", "SADD e 3", "SMOVE d e 3", "SMEMBERS e", "EXISTS d",
    ],
    "smove to and from wrong types": [
        "SADD s a", "SET str v", "SMOVE s str a", "SMOVE str s a", "SMOVE nokey str a",
        "SMEMBERS s",
    ],
    "empty member": ["SADD s ''", "SISMEMBER s ''", "SMEMBERS s", "SREM s ''", "EXISTS s"],
    "ttl survives writes": [
        "SADD s a", "EXPIRE s 1000", "SADD s b", "TTL s", "SREM s a", "TTL s",
        "SREM s b", "TTL s",
    ],
    "rename copy": [
        "SADD s 3 2 1", "RENAME s t", "SMEMBERS t", "COPY t u", "SADD u 4", "SMEMBERS t",
        "SMEMBERS u",
    ],
    "set overwrites set": ["SADD s a", "SET s x", "TYPE s", "SISMEMBER s a"],
    "case-insensitive names": ["sadd s 1", "SaDd s 2", "smembers s", "SInterCard 1 s limit 1"],
}


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_script(diff, script):
    diff.run(script)


def test_hashtable_set_unordered(diff):
    diff.run([
        "SADD s a b c 1 2 3", "OBJECT ENCODING s", unordered("SMEMBERS s"), "SCARD s",
        "SREM s a b c", "OBJECT ENCODING s", unordered("SMEMBERS s"), "SISMEMBER s 1",
    ])


# --- set algebra -----------------------------------------------------------------------------

ALGEBRA_SETUP = [
    "SADD i1 1 2 3 4 5", "SADD i2 4 5 6 7", "SADD i3 5 7 9", "SADD w a b c 5",
    "SADD x b c d", "SADD one 5",
]
ALGEBRA = [
    "SINTER i1 i2", "SINTER i1 i2 i3", "SINTER i1", "SINTER i1 i1", "SINTER i2 i1",
    "SINTER i1 nokey", "SINTER nokey i1", "SINTER i1 w", "SINTER w x", "SINTER one i1 i2",
    "SUNION i1 i2", "SUNION i1 nokey i3", "SUNION nokey", "SUNION i1 one", "SUNION w x",
    "SUNION i1 w",
    "SDIFF i1 i2", "SDIFF i1 i2 i3", "SDIFF i1 nokey", "SDIFF nokey i1", "SDIFF i1 i1",
    "SDIFF i2 i1 i1", "SDIFF w x", "SDIFF w i1", "SDIFF i1 w", "SDIFF one one",
    "SINTERCARD 2 i1 i2", "SINTERCARD 3 i1 i2 i3", "SINTERCARD 1 i1", "SINTERCARD 2 i1 nokey",
    "SINTERCARD 2 w x", "SINTERCARD 1 i1 LIMIT 0", "SINTERCARD 1 i1 LIMIT 2",
    "SINTERCARD 1 i1 LIMIT 5", "SINTERCARD 1 i1 LIMIT 100", "SINTERCARD 2 i1 i2 limit 1",
    "SINTERCARD 1 i1 LIMIT 1 LIMIT 3",
]


@pytest.mark.parametrize("cmd", ALGEBRA)
def test_algebra(diff, cmd):
    diff.run(ALGEBRA_SETUP)
    diff.check_unordered(*cmd.split())


STORES = [
    "SINTERSTORE d i1 i2", "SINTERSTORE d i1 nokey", "SINTERSTORE d w x", "SINTERSTORE d i1 w",
    "SUNIONSTORE d i1 i2", "SUNIONSTORE d w i1", "SUNIONSTORE d nokey",
    "SDIFFSTORE d i1 i2", "SDIFFSTORE d i1 i1", "SDIFFSTORE d w x", "SDIFFSTORE d nokey i1",
    "SINTERSTORE i1 i1 i2", "SUNIONSTORE i1 i1 w", "SDIFFSTORE i2 i2 i1",
]
DESTINATIONS = {
    "missing": [],
    "a string": ["SET d v"],
    "a hash": ["HSET d f v"],
    "a set with ttl": ["SADD d z", "EXPIRE d 1000"],
}


@pytest.mark.parametrize("dest", DESTINATIONS.values(), ids=DESTINATIONS.keys())
@pytest.mark.parametrize("cmd", STORES)
def test_store(diff, cmd, dest):
    diff.run(ALGEBRA_SETUP + dest + [cmd, "TYPE d", "TTL d", "EXISTS d", "OBJECT ENCODING d"])
    diff.check_unordered("SMEMBERS", cmd.split()[1])


@pytest.mark.parametrize("cmd", ["SINTERSTORE d s str", "SUNIONSTORE d str s",
                                 "SDIFFSTORE d s str", "SINTERSTORE d nokey str",
                                 "SINTER nokey str", "SUNION nokey str", "SDIFF nokey str"])
def test_wrong_type_source_leaves_destination(diff, cmd):
    diff.run(["SADD s a", "SET str v", "SADD d keep", cmd, "SMEMBERS d"])


def test_sintercard_errors(diff):
    diff.run([
        "SADD s 1 2 3", "SINTERCARD 0 s", "SINTERCARD -1 s", "SINTERCARD abc s",
        "SINTERCARD 9223372036854775808 s", "SINTERCARD 2 s", "SINTERCARD 1 s LIMIT",
        "SINTERCARD 1 s LIMIT -1", "SINTERCARD 1 s LIMIT abc", "SINTERCARD 1 s FOO 2",
        "SINTERCARD 1 s LIMIT 1 FOO", "SINTERCARD 1 str", "SET str v", "SINTERCARD 1 str",
        "SINTERCARD 2 nokey str", "SINTERCARD 1 str LIMIT -1", "SINTERCARD 2 s s LIMIT 2",
    ])


def test_store_encodings(diff):
    """Results are built as Redis builds them: intset when they can be, and SDIFFSTORE's
    second algorithm keeps a hash table when the first set could not be an intset."""
    diff.run([
        "SADD f a 1 2 3", "SADD g a", "SDIFFSTORE r f g", "OBJECT ENCODING r", "SMEMBERS r",
        "SADD f2 a b c d e f g h 1 2", "SADD g2 a b c d e f g h", "SADD e1 z", "SADD e2 y",
        "SADD e3 a", "SDIFFSTORE r3 f2 g2", "OBJECT ENCODING r3",
        "SDIFFSTORE r4 f2 e1 e2 e3 g2", "OBJECT ENCODING r4", "SCARD r4",
        "SINTERSTORE r5 f f2", "OBJECT ENCODING r5", unordered("SMEMBERS r5"),
        "SUNIONSTORE r6 r r5", "OBJECT ENCODING r6", unordered("SMEMBERS r6"),
    ])


# --- SPOP and SRANDMEMBER --------------------------------------------------------------------

INTS = {str(i).encode() for i in range(1, 11)}
WORDS = {f"m{i}".encode() for i in range(10)}


def _members(count: int, members: set, repeats: bool):
    def validate(reply):
        got = list(reply)
        if len(got) != count:
            return f"{len(got)} members, expected {count}"
        if not set(got) <= members:
            return f"{set(got) - members!r} not in the set"
        if not repeats and len(set(got)) != len(got):
            return "repeated member"
        return None
    return validate


@pytest.mark.parametrize("members", [INTS, WORDS], ids=["intset", "hashtable"])
@pytest.mark.parametrize("count", [1, 3, 9, 10, 11, 100, -1, -3, -10, -25])
def test_srandmember_count(diff, members, count):
    diff.check("SADD", "s", *sorted(members))
    check_random(diff, ["SRANDMEMBER", "s", str(count)],
                 _members(min(count, 10) if count > 0 else -count, members, count < 0))
    diff.run(["SCARD s"])


def test_srandmember_whole_intset_in_order(diff):
    diff.run(["SADD s 5 3 1 4 2", "SRANDMEMBER s 5", "SRANDMEMBER s 99", "SRANDMEMBER s 0",
              "SRANDMEMBER nokey 5", "SRANDMEMBER nokey -5", "SRANDMEMBER nokey"])


def test_srandmember_single(diff):
    diff.check("SADD", "s", *sorted(WORDS))
    for _ in range(20):
        check_random(diff, ["SRANDMEMBER", "s"], lambda m: None if m in WORDS else f"{m!r}")


@pytest.mark.parametrize("members", [INTS, WORDS], ids=["intset", "hashtable"])
@pytest.mark.parametrize("count", [0, 1, 3, 8, 9, 10, 20])
def test_spop_count(diff, members, count):
    diff.check("SADD", "s", *sorted(members))
    r, a = diff.both("SPOP", "s", str(count))
    assert shape_of(r) == shape_of(a), (r, a)
    validate = _members(min(count, 10), members, False)
    for conn, raw in ((diff.ref, r), (diff.atoll, a)):
        popped = resp.parse(raw)
        assert validate(popped) is None, (conn.port, raw, validate(popped))
        left = resp.parse(conn.command("SMEMBERS", "s"))
        assert set(popped) | set(left) == members and not set(popped) & set(left)
    diff.run(["SCARD s", "EXISTS s"])


def test_spop_single_until_empty(diff):
    diff.check("SADD", "s", *sorted(WORDS))
    for _ in range(10):
        check_random(diff, ["SPOP", "s"], lambda m: None if m in WORDS else f"{m!r}")
    diff.run(["EXISTS s", "SPOP s", "SCARD s"])


def test_spop_whole_intset_in_order(diff):
    diff.run(["SADD s 5 3 1 4 2", "SPOP s 5", "EXISTS s", "SADD s 2 1", "SPOP s 100",
              "SPOP nokey 3", "SPOP nokey"])


def test_spop_errors(diff):
    diff.run(["SADD s 1 2", "SPOP s -1", "SPOP s abc", "SPOP s 1.5", "SPOP nokey -1",
              "SPOP s 1 2", "SPOP s 9223372036854775808", "SCARD s"])


def test_srandmember_errors(diff):
    diff.run(["SADD s 1 2", "SRANDMEMBER s abc", "SRANDMEMBER s 1.5",
              "SRANDMEMBER s -9223372036854775808", "SRANDMEMBER nokey abc",
              "SRANDMEMBER s 1 2", "SET str v", "SRANDMEMBER str abc", "SRANDMEMBER str 1"])


def test_spop_encoding_after_big_pop(diff):
    """Popping nearly everything rebuilds the set from what is left, as Redis does."""
    diff.check("SADD", "big", *[str(i) for i in range(600)])
    diff.check("OBJECT", "ENCODING", "big")
    check_random(diff, ["SPOP", "big", "550"], lambda r: None if len(r) == 550 else "count")
    diff.run(["SCARD big", "OBJECT ENCODING big"])
    diff.check("SADD", "big2", *[str(i) for i in range(600)])
    check_random(diff, ["SPOP", "big2", "400"], lambda r: None if len(r) == 400 else "count")
    diff.run(["SCARD big2", "OBJECT ENCODING big2"])


@pytest.mark.parametrize("count", [5, 300, 900, -2000])
def test_random_on_big_set(diff, count):
    members = {f"member:{i}".encode() for i in range(1000)}
    diff.check("SADD", "big", *sorted(members))
    want = min(count, 1000) if count > 0 else -count
    check_random(diff, ["SRANDMEMBER", "big", str(count)], _members(want, members, count < 0))
    if count > 0:
        check_random(diff, ["SPOP", "big", str(count)], _members(want, members, False))
        diff.run(["SCARD big"])


# --- SSCAN -----------------------------------------------------------------------------------

def test_sscan_intset(diff):
    diff.run([
        "SADD s 10 3 -1 25 7", "SSCAN s 0", "SSCAN s 0 COUNT 1", "SSCAN s 0 MATCH 2*",
        "SSCAN s 99", "SSCAN s 0 MATCH *", "SSCAN s 0 MATCH -*",
    ])


def test_sscan_errors(diff):
    diff.run([
        "SADD s 1", "SSCAN s abc", "SSCAN s 18446744073709551616", "SSCAN s 0 COUNT 0",
        "SSCAN s 0 COUNT x", "SSCAN s 0 MATCH", "SSCAN s 0 TYPE set", "SSCAN s 0 FOO",
        "SSCAN nokey abc", "SSCAN nokey 0 FOO", "SSCAN nokey 0 COUNT 0", "SET str v",
        "SSCAN str 0", "SSCAN str x",
    ])


@pytest.mark.parametrize("opts", [(), ("COUNT", "3"), ("MATCH", "m1*"), ("COUNT", "5000")])
def test_sscan_big(diff, opts):
    diff.check("SADD", "big", *[f"m{i}" for i in range(800)])
    items = scan_all(diff, "SSCAN", "big", *opts)
    assert len(items) == (111 if opts[:1] == ("MATCH",) else 800)


def test_sscan_small_hashtable(diff):
    diff.check("SADD", "s", "a", "b", "c")
    scan_all(diff, "SSCAN", "s")
    scan_all(diff, "SSCAN", "s", "MATCH", "b")


# --- encodings -------------------------------------------------------------------------------

ENCODINGS = {
    "512 integers stay intset": ["SADD s " + " ".join(map(str, range(512))), "OBJECT ENCODING s"],
    "513th integer converts": ["SADD s " + " ".join(map(str, range(512))), "SADD s 0",
                               "OBJECT ENCODING s", "SADD s 512", "OBJECT ENCODING s",
                               "SREM s 512 0 1", "OBJECT ENCODING s"],
    "513 at once": ["SADD s " + " ".join(map(str, range(513))), "OBJECT ENCODING s"],
    "non-integer first": ["SADD s a 1", "OBJECT ENCODING s", "SREM s a", "OBJECT ENCODING s",
                          "SMEMBERS s"],
    "non-integer later": ["SADD s 1 2", "OBJECT ENCODING s", "SADD s x", "OBJECT ENCODING s",
                          "SREM s x", "OBJECT ENCODING s"],
    "large integers": ["SADD s 9223372036854775808", "OBJECT ENCODING s"],
    "smove creates intset": ["SADD a 1 x", "SMOVE a b 1", "OBJECT ENCODING b",
                             "SMOVE a c x", "OBJECT ENCODING c"],
}


@pytest.mark.parametrize("script", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_encoding(diff, script):
    diff.run(script)


def test_encoding_follows_config(diff):
    try:
        diff.run([
            "CONFIG SET set-max-intset-entries 3", "SADD s 1 2 3", "OBJECT ENCODING s",
            "SADD s 4", "OBJECT ENCODING s", "SADD t 1 2 3 4", "OBJECT ENCODING t",
            "SADD u 1 2", "SUNIONSTORE v u s", "OBJECT ENCODING v",
            "CONFIG GET set-max-intset-entries",
        ])
    finally:
        diff.run(["CONFIG SET set-max-intset-entries 512"])


# --- binary safety ---------------------------------------------------------------------------

BINARY = [b"\x00", b"\xff", b"a\r\nb", b"\r\n", b"\x00\xff\r\n\x00", b"*1\r\n$1\r\nx\r\n"]


@pytest.mark.parametrize("blob", BINARY, ids=[repr(b) for b in BINARY])
def test_binary_members(diff, blob):
    diff.check("SADD", "s", blob)
    diff.check("SADD", "t", blob, b"x" + blob)
    for cmd in (("SMEMBERS", "s"), ("SISMEMBER", "s", blob), ("SMISMEMBER", "s", blob, b"no"),
                ("SINTER", "s", "t"), ("SRANDMEMBER", "s"), ("SSCAN", "s", "0"),
                ("SMOVE", "s", "u", blob), ("SMEMBERS", "u"), ("SDIFF", "t", "u"),
                ("SPOP", "u"), ("EXISTS", "u"), ("SREM", "t", blob), ("SMEMBERS", "t")):
        diff.check(*cmd)


def test_binary_in_big_set(diff):
    members = [bytes([i, 0, 255 - i]) + b"\r\n" for i in range(256)]
    diff.check("SADD", "s", *members)
    diff.check_unordered("SMEMBERS", "s")
    diff.check("SMISMEMBER", "s", *members[::37], b"\x00")
    scan_all(diff, "SSCAN", "s")


# --- RESP3 -----------------------------------------------------------------------------------

def test_resp3_replies(diff):
    r, a = diff.both("HELLO", "3")
    assert r[:1] == a[:1] == b"%"
    diff.run([
        "SADD s 1 2 3", "SMEMBERS s", "SMEMBERS nokey", "SINTER s s", "SINTER s nokey",
        "SUNION s nokey", "SDIFF s nokey", "SDIFF nokey s", "SMISMEMBER s 1 9",
        "SRANDMEMBER s 3", "SRANDMEMBER s 10", "SRANDMEMBER s 0", "SRANDMEMBER nokey 2",
        "SRANDMEMBER nokey", "SPOP nokey", "SPOP nokey 2", "SPOP s 0", "SSCAN s 0",
        "SINTERCARD 1 s", "SADD w a b", unordered("SMEMBERS w"), shape("SRANDMEMBER w -3"),
        shape("SPOP w 1"), "SPOP s 3", "EXISTS s",
    ])


# --- WATCH -----------------------------------------------------------------------------------

# (setup, command run by another client between WATCH s and EXEC, aborts?)
WATCH = [
    ("sadd new member", ["SADD s a"], "SADD s b", True),
    ("sadd existing member", ["SADD s a"], "SADD s a", False),
    ("sadd creates key", [], "SADD s a", True),
    ("srem missing member", ["SADD s a"], "SREM s zz", False),
    ("srem missing key", [], "SREM s a", False),
    ("srem member", ["SADD s a b"], "SREM s a", True),
    ("srem last member", ["SADD s a"], "SREM s a", True),
    ("spop", ["SADD s a b"], "SPOP s", True),
    ("spop count 0", ["SADD s a"], "SPOP s 0", False),
    ("spop missing", [], "SPOP s", False),
    ("srandmember", ["SADD s a"], "SRANDMEMBER s 3", False),
    ("smove out of watched", ["SADD s a b", "SADD t c"], "SMOVE s t a", True),
    ("smove into watched", ["SADD s b", "SADD t a"], "SMOVE t s a", True),
    ("smove into watched, already member", ["SADD s a", "SADD t a"], "SMOVE t s a", False),
    ("smove same key", ["SADD s a"], "SMOVE s s a", False),
    ("smove missing member", ["SADD s a", "SADD t b"], "SMOVE s t zz", False),
    ("sinterstore into watched", ["SADD t a"], "SINTERSTORE s t", True),
    ("sinterstore empty, dest missing", ["SADD t a"], "SINTERSTORE s t nokey", False),
    ("sinterstore empty, dest existed", ["SADD s x", "SADD t a"], "SINTERSTORE s t nokey", True),
    ("sunionstore same content", ["SADD s a", "SADD t a"], "SUNIONSTORE s t", True),
    ("sdiffstore empty, dest missing", ["SADD t a"], "SDIFFSTORE s t t", False),
    ("store wrong type source", ["SADD s a", "SET str v"], "SINTERSTORE s s str", False),
    ("reads", ["SADD s a"], "SINTER s s", False),
]


@pytest.mark.parametrize("setup,between,aborts", [pytest.param(*w[1:], id=w[0]) for w in WATCH])
def test_watch(diff, new_diff, setup, between, aborts):
    other = new_diff()
    diff.run(setup + ["WATCH s"])
    other.check_shape(*between.split())
    diff.run(["MULTI", "PING"])
    r = diff.check("EXEC")
    assert r == (b"*-1\r\n" if aborts else b"*1\r\n+PONG\r\n")


def test_commands_inside_multi(diff):
    diff.run(["MULTI", "SADD s 1 2 3", "SREM s 2", "SMEMBERS s", "SINTERSTORE d s s",
              "SMEMBERS d", "SUNIONSTORE d d nokey", "SCARD d", "EXEC"])


# --- keyspace hits and misses ----------------------------------------------------------------

STATS_COMMANDS = [
    "SADD a 9", "SREM a 1", "SMEMBERS a", "SMEMBERS nokey", "SISMEMBER a 1", "SMISMEMBER a 1",
    "SCARD a", "SPOP a", "SPOP a 0", "SRANDMEMBER a", "SRANDMEMBER nokey 2", "SMOVE a b 1",
    "SINTER a b nokey", "SINTERCARD 2 a b", "SUNION a nokey", "SDIFF a b",
    "SINTERSTORE d a b", "SUNIONSTORE d a nokey", "SDIFFSTORE d a b", "SSCAN a 0",
    "HSET h g 2", "HSETNX h f 1", "HGET h f", "HGET nokey f", "HMGET h f g", "HGETALL h",
    "HKEYS h", "HVALS h", "HLEN h", "HEXISTS h f", "HSTRLEN h f", "HDEL h zz",
    "HINCRBY h n 1", "HINCRBYFLOAT h n 1", "HRANDFIELD h", "HRANDFIELD nokey 2", "HSCAN h 0",
]


def _hits_and_misses(conn) -> list[bytes]:
    info = conn.command("INFO", "stats")
    return [line for line in info.split(b"\r\n") if line.startswith((b"keyspace_hits", b"keyspace_misses"))]


@pytest.mark.parametrize("cmd", STATS_COMMANDS)
def test_keyspace_hits_and_misses(diff, cmd):
    """Which lookups count as reads (hits and misses in INFO) follows Redis, command by command."""
    diff.run(["SADD a 1 2", "SADD b 2 3", "HSET h f 1", "CONFIG RESETSTAT"])
    diff.check_shape(*cmd.split())
    ref, atoll = _hits_and_misses(diff.ref), _hits_and_misses(diff.atoll)
    assert len(ref) == 2 and ref == atoll, (cmd, ref, atoll)
