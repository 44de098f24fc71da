"""Differential tests for the hash commands.

Small hashes are listpacks in Redis and keep insertion order, which Atoll reproduces, so
their HGETALL/HKEYS/HVALS/HSCAN replies are compared byte for byte. Hashes past the
listpack limits (hash-max-listpack-entries 512 and hash-max-listpack-value 64 in the
reference's defaults) are hash tables on both sides and are compared as field -> value
maps. Random replies (HRANDFIELD) are compared by shape plus invariants.
"""

import pytest

from collection_checks import check_pairs, check_random, scan_all
from diff import shape, unordered

# --- every command on a missing key, a string, a set and a list ---------------------------

READS = [
    "HGET {k} f", "HMGET {k} f g", "HGETALL {k}", "HKEYS {k}", "HVALS {k}", "HLEN {k}",
    "HEXISTS {k} f", "HSTRLEN {k} f", "HRANDFIELD {k}", "HRANDFIELD {k} 2",
    "HRANDFIELD {k} -2 WITHVALUES", "HRANDFIELD {k} 0", "HSCAN {k} 0",
    "HSCAN {k} 0 MATCH * COUNT 5",
]
WRITES = [
    "HSET {k} f v", "HSET {k} f v g w", "HSETNX {k} f v", "HMSET {k} f v", "HDEL {k} f",
    "HDEL {k} f g", "HINCRBY {k} f 1", "HINCRBYFLOAT {k} f 1.5",
]
OTHER_TYPES = {
    "string": "SET {k} v",
    "set": "SADD {k} a",
    "list": "RPUSH {k} a",
}


@pytest.mark.parametrize("cmd", READS + WRITES)
def test_missing_key(diff, cmd):
    diff.run([cmd.format(k="nokey"), "EXISTS nokey", "TYPE nokey"])


@pytest.mark.parametrize("other", sorted(OTHER_TYPES))
@pytest.mark.parametrize("cmd", READS + WRITES)
def test_wrong_type(diff, cmd, other):
    diff.run([OTHER_TYPES[other].format(k="k"), cmd.format(k="k"), "TYPE k"])


ARITY = [
    "HSET", "HSET h", "HSET h f", "HSET h f v g", "HSET h f v g w x", "HMSET h f",
    "HMSET h f v g", "HSETNX h f", "HSETNX h f v x", "HGET h", "HGET h f g", "HMGET h",
    "HGETALL", "HGETALL h x", "HKEYS h x", "HVALS", "HLEN", "HDEL h", "HEXISTS h",
    "HSTRLEN h", "HINCRBY h f", "HINCRBY h f 1 2", "HINCRBYFLOAT h f", "HRANDFIELD",
    "HSCAN h", "HSCAN",
]


@pytest.mark.parametrize("cmd", ARITY)
def test_arity_errors(diff, cmd):
    diff.run([cmd, "EXISTS h"])


# --- basic behaviour (small hashes: exact order) --------------------------------------------

SCRIPTS = {
    "hset and hget": [
        "HSET h f v", "HGET h f", "HGET h nope", "HSET h f v", "HSET h f v2", "HGET h f",
        "HSET h a 1 b 2 c 3", "HSET h a 1 b 2 d 4", "HLEN h", "HGETALL h", "TYPE h",
        "OBJECT ENCODING h",
    ],
    "hset repeated field in one call": [
        "HSET h f 1 f 2 f 3", "HGET h f", "HLEN h", "HSET h f 4 g 5 f 6", "HGETALL h",
    ],
    "hmset": ["HMSET h a 1 b 2", "HMSET h a 3", "HGETALL h", "HMSET h x", "HGETALL h"],
    "hsetnx": [
        "HSETNX h f v", "HSETNX h f w", "HGET h f", "HSETNX h g w", "HGETALL h",
    ],
    "hmget": ["HSET h a 1 b 2", "HMGET h a b c", "HMGET h c", "HMGET h a a a"],
    "hkeys hvals order": [
        "HSET h z 1 a 2 m 3", "HKEYS h", "HVALS h", "HDEL h a", "HSET h b 4 a 5", "HKEYS h",
        "HVALS h", "HGETALL h",
    ],
    "hdel": [
        "HSET h a 1 b 2 c 3", "HDEL h a", "HDEL h a", "HDEL h b c d", "EXISTS h", "TYPE h",
        "HSET h a 1", "HDEL h x a", "EXISTS h", "HSET h a 1 b 2", "HDEL h a a b b",
        "EXISTS h",
    ],
    "hexists hlen hstrlen": [
        "HSET h f hello e ''", "HEXISTS h f", "HEXISTS h g", "HLEN h", "HSTRLEN h f",
        "HSTRLEN h e", "HSTRLEN h nope", "HSET h n 12345", "HSTRLEN h n",
        "HSET h neg -9223372036854775808", "HSTRLEN h neg",
    ],
    "empty field and value": [
        "HSET h '' ''", "HGET h ''", "HEXISTS h ''", "HGETALL h", "HSTRLEN h ''",
        "HDEL h ''", "EXISTS h",
    ],
    "ttl survives writes, goes with the key": [
        "HSET h f v", "EXPIRE h 1000", "HSET h g w", "TTL h", "HDEL h f", "TTL h",
        "HINCRBY h n 1", "TTL h", "HDEL h g n", "TTL h", "EXISTS h",
    ],
    "case-insensitive names": ["hset h f v", "HsEt h g w", "hgetall h", "HGETall h"],
    "rename copy and type": [
        "HSET h a 1 b 2", "RENAME h h2", "HGETALL h2", "COPY h2 h3", "HSET h3 c 3",
        "HGETALL h2", "HGETALL h3", "TYPE h3", "DEL h2", "EXISTS h2",
    ],
    "set overwrites hash": ["HSET h f v", "SET h x", "TYPE h", "GET h", "HGET h f"],
}


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_script(diff, script):
    diff.run(script)


# --- HINCRBY / HINCRBYFLOAT -----------------------------------------------------------------

INCRBY = [
    ("new field", [], "HINCRBY h f 5"),
    ("negative", ["HSET h f 10"], "HINCRBY h f -15"),
    ("zero", ["HSET h f 10"], "HINCRBY h f 0"),
    ("max", ["HSET h f 9223372036854775806"], "HINCRBY h f 1"),
    ("overflow up", ["HSET h f 9223372036854775807"], "HINCRBY h f 1"),
    ("overflow down", ["HSET h f -9223372036854775808"], "HINCRBY h f -1"),
    ("min plus max", ["HSET h f -9223372036854775808"], "HINCRBY h f 9223372036854775807"),
    ("not an integer value", ["HSET h f abc"], "HINCRBY h f 1"),
    ("float value", ["HSET h f 1.5"], "HINCRBY h f 1"),
    ("spaces in value", ["HSET h f ' 1'"], "HINCRBY h f 1"),
    ("leading zero value", ["HSET h f 01"], "HINCRBY h f 1"),
    ("plus sign value", ["HSET h f +1"], "HINCRBY h f 1"),
    ("empty value", ["HSET h f ''"], "HINCRBY h f 1"),
    ("bad increment", ["HSET h f 1"], "HINCRBY h f abc"),
    ("float increment", ["HSET h f 1"], "HINCRBY h f 1.0"),
    ("huge increment", [], "HINCRBY h f 9223372036854775808"),
    ("bad increment on missing key", [], "HINCRBY h f x"),
]


@pytest.mark.parametrize("setup,cmd", [pytest.param(s, c, id=i) for i, s, c in INCRBY])
def test_hincrby(diff, setup, cmd):
    diff.run(setup + [cmd, "HGETALL h", "EXISTS h"])


INCRBYFLOAT = [
    ("new field", [], "1.5"), ("integer", [], "10"), ("tenth", ["HSET h f 0.1"], "0.2"),
    ("exponent", [], "1e10"), ("small exponent", [], "-1e-10"), ("3.0e3", [], "3.0e3"),
    ("17 digits", [], "1.23456789012345678"), ("negative zero", [], "-0"),
    ("to zero", ["HSET h f 1.5"], "-1.5"), ("hex increment", [], "0x10"),
    ("hex value", ["HSET h f 0x10"], "1"), ("int value", ["HSET h f 5"], "0.25"),
    ("int64 max value", ["HSET h f 9223372036854775807"], "1"),
    ("big value", ["HSET h f 1e400"], "1"), ("huge", [], "1.1e4932"),
    ("overflow to inf", ["HSET h f 1.1e4932"], "1.1e4932"),
    ("inf increment", [], "inf"), ("-inf increment", [], "-inf"), ("nan increment", [], "nan"),
    ("bad increment", [], "abc"), ("space before", [], "' 1'"), ("space after", [], "'1 '"),
    ("out of range", [], "1e5000"), ("empty increment", [], "''"),
    ("bad value", ["HSET h f abc"], "1"), ("space value", ["HSET h f ' 1'"], "1"),
    ("nan value", ["HSET h f nan"], "1"), ("inf value", ["HSET h f inf"], "1"),
    ("empty value", ["HSET h f ''"], "1"),
]


@pytest.mark.parametrize("setup,incr", [pytest.param(s, i, id=n) for n, s, i in INCRBYFLOAT])
def test_hincrbyfloat(diff, setup, incr):
    diff.run(setup + [f"HINCRBYFLOAT h f {incr}", "HGET h f", "EXISTS h", "HSTRLEN h f"])


def test_hincrbyfloat_repeated(diff):
    diff.run(["HSET h f 0"] + ["HINCRBYFLOAT h f 0.1"] * 12 + ["HINCRBYFLOAT h f -3.3e-1"] * 3
             + ["HGET h f", "HINCRBY h f 1"])


# --- HRANDFIELD ------------------------------------------------------------------------------

FIELDS = {f"f{i}".encode(): f"v{i}".encode() for i in range(10)}
SMALL_SETUP = "HSET h " + " ".join(f"f{i} v{i}" for i in range(10))


def _random_fields(count: int, with_values: bool, size: int = 10, fields=FIELDS):
    want = count if count < 0 else min(count, size)
    distinct = count > 0

    def validate(reply):
        if with_values:
            if reply and isinstance(reply[0], list):      # RESP3 pairs
                pairs = [tuple(p) for p in reply]
            else:
                pairs = list(zip(reply[0::2], reply[1::2]))
                if len(reply) % 2:
                    return "odd flat list"
        else:
            pairs = [(f, fields.get(f)) for f in reply]
        if len(pairs) != abs(want):
            return f"{len(pairs)} fields, expected {abs(want)}"
        for f, v in pairs:
            if fields.get(f) != v:
                return f"{f!r} -> {v!r} is not in the hash"
        if distinct and len({f for f, _ in pairs}) != len(pairs):
            return "repeated field for a positive count"
        return None
    return validate


@pytest.mark.parametrize("count", [1, 3, 9, 10, 11, 100, -1, -3, -10, -25])
@pytest.mark.parametrize("with_values", [False, True])
def test_hrandfield_count(diff, count, with_values):
    diff.check(*SMALL_SETUP.split())
    args = ["HRANDFIELD", "h", str(count)] + (["WITHVALUES"] if with_values else [])
    check_random(diff, args, _random_fields(count, with_values))


def test_hrandfield_whole_hash_in_order(diff):
    """A count at least the size returns the whole (listpack) hash in its order."""
    diff.run([SMALL_SETUP, "HRANDFIELD h 10", "HRANDFIELD h 50 WITHVALUES", "HDEL h f3",
              "HSET h f3 x", "HRANDFIELD h 10 WITHVALUES"])


def test_hrandfield_single(diff):
    diff.check(*SMALL_SETUP.split())
    for _ in range(20):
        check_random(diff, ["HRANDFIELD", "h"],
                     lambda f: None if f in FIELDS else f"{f!r} not a field")


@pytest.mark.parametrize("count", [5, 400, 1000, -300])
@pytest.mark.parametrize("with_values", [False, True])
def test_hrandfield_big_hash(diff, count, with_values):
    fields = {f"field:{i}".encode(): str(i).encode() for i in range(1000)}
    diff.check("HSET", "big", *[x for kv in fields.items() for x in kv])
    diff.check("OBJECT", "ENCODING", "big")
    args = ["HRANDFIELD", "big", str(count)] + (["WITHVALUES"] if with_values else [])
    check_random(diff, args, _random_fields(count, with_values, 1000, fields))


def test_hrandfield_errors(diff):
    diff.run([
        SMALL_SETUP, "HRANDFIELD h abc", "HRANDFIELD h 1.5", "HRANDFIELD h 1 WITHVALUE",
        "HRANDFIELD h 1 WITHVALUES x", shape("HRANDFIELD h 1 withvalues"), "HRANDFIELD h 0 WITHVALUES",
        "HRANDFIELD h -9223372036854775808", "HRANDFIELD h 9223372036854775807 WITHVALUES",
        "HRANDFIELD h 4611686018427387904 WITHVALUES",
        "HRANDFIELD h -4611686018427387904 WITHVALUES",
        "HRANDFIELD nokey 4611686018427387903 WITHVALUES", "HRANDFIELD nokey abc",
        "SET s v", "HRANDFIELD s abc", "HRANDFIELD s 1 WITHVALUES x", "HRANDFIELD s 1",
        "HRANDFIELD s 9223372036854775807 WITHVALUES",
    ])


# --- HSCAN -----------------------------------------------------------------------------------

def test_hscan_small(diff):
    diff.run([
        "HSET h a 1 b 2 abc 3 x 4", "HSCAN h 0", "HSCAN h 0 COUNT 1", "HSCAN h 0 MATCH a*",
        "HSCAN h 0 match *b* count 100", "HSCAN h 0 MATCH nomatch", "HSCAN h 12345",
        "HSCAN h -1", "HSCAN h 18446744073709551615", "HSCAN h 0 MATCH a* MATCH x",
        "HDEL h a", "HSET h a 9", "HSCAN h 0",
    ])


def test_hscan_errors(diff):
    diff.run([
        "HSET h a 1", "HSCAN h abc", "HSCAN h ' 1'", "HSCAN h 18446744073709551616",
        "HSCAN h 0 COUNT 0", "HSCAN h 0 COUNT -1", "HSCAN h 0 COUNT abc", "HSCAN h 0 COUNT",
        "HSCAN h 0 MATCH", "HSCAN h 0 TYPE hash", "HSCAN h 0 FOO bar", "HSCAN nokey abc",
        "HSCAN nokey 0 COUNT 0", "HSCAN nokey 0 FOO", "SET s v", "HSCAN s abc", "HSCAN s 0",
        "HSCAN s 0 COUNT 0",
    ])


@pytest.mark.parametrize("opts", [(), ("COUNT", "7"), ("MATCH", "f1*"), ("COUNT", "1000")])
def test_hscan_big(diff, opts):
    diff.check("HSET", "big", *[x for i in range(700) for x in (f"f{i}", f"v{i}")])
    items = scan_all(diff, "HSCAN", "big", *opts)
    assert len(items) == (111 if opts[:1] == ("MATCH",) else 700)


# --- encodings -------------------------------------------------------------------------------

def _fields(n, prefix="f"):
    return " ".join(f"{prefix}{i} v" for i in range(n))


ENCODINGS = {
    "512 fields stay listpack": [f"HSET h {_fields(512)}", "OBJECT ENCODING h"],
    "513th field converts": [f"HSET h {_fields(512)}", "HSET h f0 w", "OBJECT ENCODING h",
                             "HSET h new v", "OBJECT ENCODING h", "HDEL h new f0 f1",
                             "OBJECT ENCODING h"],
    "513 fields at once": [f"HSET h {_fields(513)}", "OBJECT ENCODING h", "HLEN h"],
    "repeated field counts once": [f"HSET h {' '.join(['f v'] * 600)}", "OBJECT ENCODING h"],
    "64-byte value stays": ["HSET h f " + "x" * 64, "OBJECT ENCODING h", "HGETALL h"],
    "65-byte value converts": ["HSET h f " + "x" * 65, "OBJECT ENCODING h",
                               "HSET h f short", "OBJECT ENCODING h"],
    "65-byte field converts": ["HSET h " + "f" * 65 + " v", "OBJECT ENCODING h"],
    "65-byte value later": ["HSET h a 1", "HSET h b " + "x" * 65, "OBJECT ENCODING h"],
    "hsetnx of an existing field does not convert": [
        "HSET h f v", "HSETNX h f " + "x" * 65, "OBJECT ENCODING h",
        "HSETNX h g " + "x" * 65, "OBJECT ENCODING h"],
    "hsetnx new key with long value": ["HSETNX h f " + "x" * 65, "OBJECT ENCODING h"],
    "hincrby long field": ["HINCRBY h " + "f" * 65 + " 1", "OBJECT ENCODING h"],
    "hincrbyfloat long field": ["HINCRBYFLOAT h " + "f" * 65 + " 1", "OBJECT ENCODING h"],
    "hincrbyfloat long result": ["HINCRBYFLOAT h f 1e100", "OBJECT ENCODING h", "HSTRLEN h f"],
    "arity error leaves encoding": ["HSET h a b", "HSET h a " + "x" * 65 + " c",
                                    "OBJECT ENCODING h"],
    "copy keeps encoding": ["HSET h f " + "x" * 65, "COPY h h2", "OBJECT ENCODING h2",
                            "HSET s a b", "COPY s s2", "OBJECT ENCODING s2"],
}


@pytest.mark.parametrize("script", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_encoding(diff, script):
    diff.run(script)


@pytest.fixture
def small_limits(diff):
    diff.run(["CONFIG SET hash-max-listpack-entries 2", "CONFIG SET hash-max-listpack-value 4"])
    yield
    diff.run(["CONFIG SET hash-max-listpack-entries 512", "CONFIG SET hash-max-listpack-value 64"])


def test_encoding_follows_config(diff, small_limits):
    diff.run([
        "HSET a x 1 y 2", "OBJECT ENCODING a", "HSET a x 1 y 2 x 3", "OBJECT ENCODING a",
        "HSET a z 3", "OBJECT ENCODING a", "HSET b f 1234", "OBJECT ENCODING b",
        "HSET c f 12345", "OBJECT ENCODING c", "HINCRBY d a 1", "HINCRBY d b 1",
        "OBJECT ENCODING d", "HINCRBY d c 1", "OBJECT ENCODING d",
        "CONFIG SET hash-max-listpack-entries 0", "HSET e a 1", "OBJECT ENCODING e",
        unordered("CONFIG GET hash-max-listpack-*"), "CONFIG GET hash-max-ziplist-entries",
    ])


def test_hashtable_replies_as_maps(diff):
    big = [x for i in range(600) for x in (f"f{i}", f"v{i}")]
    diff.check("HSET", "big", *big)
    diff.check("OBJECT", "ENCODING", "big")
    check_pairs(diff, "HGETALL", "big")
    diff.check_unordered("HKEYS", "big")
    diff.check_unordered("HVALS", "big")
    diff.run(["HLEN big", "HGET big f599", "HMGET big f0 f1 nope", "HDEL big f0 f1 f2",
              "HLEN big", "HEXISTS big f1", "HINCRBY big f3 5", "HGET big f3"])
    check_pairs(diff, "HGETALL", "big")


# --- binary safety ---------------------------------------------------------------------------

BINARY = [b"\x00", b"\xff", b"a\r\nb", b"\r\n", b"\x00\xff\r\n\x00", b"*2\r\n$1\r\nx\r\n"]


@pytest.mark.parametrize("blob", BINARY, ids=[repr(b) for b in BINARY])
def test_binary_fields_and_values(diff, blob):
    diff.check("HSET", "h", blob, blob + b"v", b"k" + blob, blob)
    for cmd in (("HGET", "h", blob), ("HMGET", "h", blob, b"k" + blob), ("HGETALL", "h"),
                ("HKEYS", "h"), ("HVALS", "h"), ("HEXISTS", "h", blob),
                ("HSTRLEN", "h", blob), ("HSCAN", "h", "0"), ("HSETNX", "h", blob, "x"),
                ("HINCRBY", "h", blob, "1"), ("HDEL", "h", blob), ("HGETALL", "h")):
        diff.check(*cmd)


def test_binary_in_hashtable(diff):
    pairs = [(bytes([i, 0, 255 - i]), b"\r\n" + bytes([i])) for i in range(256)]
    pairs.append((b"long" * 20, b"\x00" * 70))
    diff.check("HSET", "h", *[x for p in pairs for x in p])
    diff.check("OBJECT", "ENCODING", "h")
    check_pairs(diff, "HGETALL", "h")
    for f, _ in pairs[::17]:
        diff.check("HGET", "h", f)
    scan_all(diff, "HSCAN", "h", "MATCH", b"\x05*")


# --- RESP3 -----------------------------------------------------------------------------------

def test_resp3_replies(diff):
    r, a = diff.both("HELLO", "3")
    assert r[:1] == a[:1] == b"%"
    diff.run([
        "HSET h a 1 b 2", "HGETALL h", "HGETALL nokey", "HKEYS h", "HVALS h", "HMGET h a x",
        "HGET h x", "HRANDFIELD nokey", "HRANDFIELD h 5 WITHVALUES", "HRANDFIELD h 2",
        "HRANDFIELD h 0 WITHVALUES", "HRANDFIELD nokey 3 WITHVALUES", "HSCAN h 0",
        "HSCAN nokey 0", "HINCRBYFLOAT h a 1.5", "HLEN h",
    ])
    check_random(diff, ["HRANDFIELD", "h", "-5", "WITHVALUES"],
                 lambda r: None if len(r) == 5 and all(len(p) == 2 for p in r) else "bad pairs")
    big = [x for i in range(600) for x in (f"f{i}", f"v{i}")]
    diff.check("HSET", "big", *big)
    check_pairs(diff, "HGETALL", "big")


# --- WATCH -----------------------------------------------------------------------------------

# (setup, command run by another client between WATCH and EXEC, aborts?)
WATCH = [
    ("hset new field", ["HSET h f v"], "HSET h g w", True),
    ("hset same value", ["HSET h f v"], "HSET h f v", True),
    ("hset creates key", [], "HSET h f v", True),
    ("hsetnx refused", ["HSET h f v"], "HSETNX h f w", False),
    ("hsetnx applied", ["HSET h f v"], "HSETNX h g w", True),
    ("hdel missing field", ["HSET h f v"], "HDEL h nope", False),
    ("hdel missing key", [], "HDEL h f", False),
    ("hdel field", ["HSET h f v g w"], "HDEL h f", True),
    ("hdel last field", ["HSET h f v"], "HDEL h f", True),
    ("hincrby", ["HSET h f 1"], "HINCRBY h f 0", True),
    ("hincrby error", ["HSET h f x"], "HINCRBY h f 1", False),
    ("hincrby overflow", ["HSET h f 9223372036854775807"], "HINCRBY h f 1", False),
    ("hincrbyfloat", ["HSET h f 1"], "HINCRBYFLOAT h f 0", True),
    ("hincrbyfloat error", ["HSET h f x"], "HINCRBYFLOAT h f 1", False),
    ("hset wrong type", ["SET h v"], "HSET h f v", False),
    ("reads", ["HSET h f v"], "HGETALL h", False),
    ("hrandfield and hscan", ["HSET h f v"], "HSCAN h 0", False),
]


@pytest.mark.parametrize("setup,between,aborts", [pytest.param(*w[1:], id=w[0]) for w in WATCH])
def test_watch(diff, new_diff, setup, between, aborts):
    other = new_diff()
    diff.run(setup + ["WATCH h"])
    other.run([between])
    diff.run(["MULTI", "PING"])
    r = diff.check("EXEC")
    assert r == (b"*-1\r\n" if aborts else b"*1\r\n+PONG\r\n")


def test_commands_inside_multi(diff):
    diff.run(["MULTI", "HSET h a 1 b 2", "HINCRBY h a 5", "HINCRBY h b x", "HGETALL h",
              "HDEL h a b", "EXISTS h", "EXEC"])
