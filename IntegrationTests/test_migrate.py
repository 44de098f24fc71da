"""MIGRATE on the four routes (redis-server and Atoll as source and as target, see
migrate_routes.py): every type and encoding with and without a TTL, COPY, REPLACE, KEYS with
several keys, BUSYKEY from the target, +NOKEY, AUTH and AUTH2 to a password-protected target,
SELECT of another database and the target's errors passed through, and the argument errors,
byte for byte as redis-server replies."""
import random

import pytest

import resp
from migrate_routes import HOST, run_routes, snapshot, targets  # noqa: F401 (fixture)
from procs import spawn

HASH_BIG = [x for i in range(600) for x in (f"f{i}", f"v{i}")]

CASES = {
    "short string": [["SET", "k", "hello world"]],
    "long string (LZF)": [["SET", "k", "ab" * 200]],
    "integer string": [["SET", "k", "12345"]],
    "64-bit integer string": [["SET", "k", "-9223372036854775808"]],
    "empty string": [["SET", "k", ""]],
    "1 MiB random string (written in chunks)": [["SET", "k", random.Random(15).randbytes(1 << 20)]],
    "list listpack": [["RPUSH", "k", "a", "b", "1", "-2"]],
    "list quicklist": [["RPUSH", "k", *[f"element-{i}" for i in range(3000)]]],
    "hash listpack": [["HSET", "k", "f1", "v1", "f2", "2"]],
    "hash hashtable (many fields)": [["HSET", "k", *HASH_BIG]],
    "hash hashtable (long value)": [["HSET", "k", "f", "x" * 100]],
    "set intset": [["SADD", "k", "1", "2", "3", "-5", "70000"]],
    "set hashtable": [["SADD", "k", "a", "b", "c"]],
    "set hashtable (many integers)": [["SADD", "k", *range(600)]],
    "zset listpack": [["ZADD", "k", "1", "a", "2.5", "b", "-inf", "c"]],
    "zset skiplist": [["ZADD", "k", *[x for i in range(200) for x in (i * 0.5, f"m{i}")]]],
    "hyperloglog sparse": [["PFADD", "k", "a", "b", "c"]],
    "hyperloglog dense": [["PFADD", "k", *[f"e{i}" for i in range(5000)]]],
    "geo": [["GEOADD", "k", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]],
    "stream with a group and pending entries": [
        *[["XADD", "k", f"{i}-0", "f", str(i)] for i in range(1, 300)], ["XDEL", "k", "7-0"],
        ["XGROUP", "CREATE", "k", "g", "0"], ["XGROUP", "CREATECONSUMER", "k", "g", "c"],
        ["XCLAIM", "k", "g", "c", "0", "1-0", "2-0", "FORCE", "TIME", "1700000000000"]],
}


def build(c: resp.Conn, commands) -> None:
    for cmd in commands:
        reply = c.command(*cmd)
        assert not reply.startswith(b"-"), (cmd[:3], reply)


@pytest.mark.parametrize("ttl", [False, True], ids=["persistent", "ttl"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_type_and_encoding(ref_port, atoll_port, targets, case, ttl):
    def scenario(route):
        build(route.source, CASES[case])
        if ttl:
            assert route.source.command("PEXPIRE", "k", 100000) == b":1\r\n"
        before = snapshot(route.source, "k")
        reply = route.migrate("k")
        after = snapshot(route.target, "k")
        # The same type and contents (a short string restored becomes embstr, as in Redis; the
        # encodings are compared between the routes).
        assert (after[0], after[2]) == (before[0], before[2]), route.name
        left = resp.parse(route.source.command("EXISTS", "k"))
        pttl = resp.parse(route.target.command("PTTL", "k"))
        assert (90000 < pttl <= 100000) if ttl else pttl == -1, (route.name, pttl)
        return reply, left, after

    reply, left, _ = run_routes(ref_port, atoll_port, targets, scenario)
    assert (reply, left) == (b"+OK\r\n", 0)


def test_copy_keeps_the_source_key(ref_port, atoll_port, targets):
    def scenario(route):
        build(route.source, [["RPUSH", "k", "a", "b"], ["PEXPIRE", "k", 50000]])
        reply = route.migrate("k", "COPY")
        ttl = resp.parse(route.target.command("PTTL", "k"))
        return (reply, snapshot(route.source, "k"), snapshot(route.target, "k"),
                resp.parse(route.source.command("PTTL", "k")) > 40000, 40000 < ttl <= 50000)

    observed = run_routes(ref_port, atoll_port, targets, scenario)
    assert observed[0] == b"+OK\r\n" and observed[1] == observed[2] and observed[3:] == (True, True)


def test_busykey_without_replace_and_replace(ref_port, atoll_port, targets):
    def scenario(route):
        route.source.command("SET", "k", "new")
        route.target.command("SADD", "k", "old")
        busy = route.migrate("k")
        busy_copy = route.migrate("k", "COPY")
        kept = (snapshot(route.source, "k"), snapshot(route.target, "k"))
        replaced = route.migrate("k", "REPLACE")
        return busy, busy_copy, kept, replaced, snapshot(route.source, "k"), snapshot(route.target, "k")

    busy, _, kept, replaced, source, target = run_routes(ref_port, atoll_port, targets, scenario)
    assert busy == b"-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    assert kept[0][0] == "string" and kept[1][0] == "set"
    assert replaced == b"+OK\r\n" and source == ("none",) and target[2] == b"new"


def test_keys_option_moves_several_keys_and_skips_missing_ones(ref_port, atoll_port, targets):
    def scenario(route):
        build(route.source, [["SET", "a", "1"], ["HSET", "b", "f", "v"], ["ZADD", "c", "1", "m"],
                             ["SET", "busy", "x"]])
        route.target.command("SET", "busy", "y")
        first = route.migrate("", "KEYS", "a", "missing", "b")
        # A key the target refuses stays; the others that it took are gone.
        second = route.migrate("", "REPLACE", "KEYS", "c") + route.migrate("", "KEYS", "busy", "d")
        none = route.migrate("", "KEYS", "missing", "other")
        return (first, second, none, [snapshot(route.source, k) for k in "abc"] + [snapshot(route.source, "busy")],
                [snapshot(route.target, k) for k in "abc"], resp.parse(route.target.command("GET", "busy")))

    first, second, none, source, target, busy = run_routes(ref_port, atoll_port, targets, scenario)
    assert first == b"+OK\r\n" and none == b"+NOKEY\r\n"
    assert second == b"+OK\r\n-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    assert source[:3] == [("none",)] * 3 and source[3][0] == "string" and busy == b"y"
    assert [t[0] for t in target] == ["string", "hash", "zset"]


def test_repeated_keys_and_target_errors_midway(ref_port, atoll_port, targets):
    def scenario(route):
        build(route.source, [["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]])
        route.target.command("SET", "b", "taken")
        mixed = route.migrate("", "KEYS", "a", "b", "c")
        repeated = route.migrate("", "KEYS", "b", "b")
        repeated_replace = route.migrate("", "REPLACE", "KEYS", "b", "b")
        return (mixed, repeated, repeated_replace, [snapshot(route.source, k) for k in "abc"],
                [snapshot(route.target, k) for k in "abc"])

    mixed, _, repeated_replace, source, _ = run_routes(ref_port, atoll_port, targets, scenario)
    assert mixed.startswith(b"-ERR Target instance replied with error: BUSYKEY")
    assert repeated_replace == b"+OK\r\n" and source == [("none",)] * 3


def test_destination_database(ref_port, atoll_port, targets):
    def scenario(route):
        build(route.source, [["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]])
        replies = [route.migrate("a", db=3), route.migrate("b", db=3), route.migrate("c", "COPY", db=0),
                   route.migrate("c", "COPY", db=99), route.migrate("c", "COPY", "REPLACE", db=-1),
                   route.migrate("c", "COPY", db=2**40)]
        route.target.command("SELECT", "3")
        in3 = resp.parse(route.target.command("KEYS", "*"))
        return replies, sorted(in3)

    replies, in3 = run_routes(ref_port, atoll_port, targets, scenario)
    assert replies[:3] == [b"+OK\r\n"] * 3 and in3 == [b"a", b"b"]
    assert replies[3] == b"-ERR Target instance replied with error: ERR DB index is out of range\r\n"


def test_auth_and_auth2_to_a_password_protected_target(ref_port, atoll_port):
    with spawn("redis", "--requirepass", "s3cret") as r, spawn("atoll", "--requirepass", "s3cret") as a:
        def scenario(route):
            build(route.source, [["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]])
            replies = [route.migrate("a"), route.migrate("a", "AUTH", "wrong"),
                       route.migrate("a", "AUTH2", "nobody", "s3cret"),
                       route.migrate("a", "AUTH", "s3cret"), route.migrate("b", "AUTH2", "default", "s3cret"),
                       route.migrate("c", "AUTH", "wrong", "AUTH2", "default", "s3cret", "COPY"),
                       route.migrate("c", "AUTH2", "default", "s3cret", "AUTH", "wrong", "REPLACE")]
            return replies, sorted(resp.parse(route.target.command("KEYS", "*")))

        replies, keys = run_routes(ref_port, atoll_port, {"redis": r.port, "atoll": a.port}, scenario,
                                  password="s3cret")
    assert replies[0] == b"-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"
    wrongpass = b"-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"
    assert replies[1:3] == [wrongpass, wrongpass] and replies[3:6] == [b"+OK\r\n"] * 3
    assert replies[6] == wrongpass and keys == [b"a", b"b", b"c"]


BAD_ARGUMENTS = [
    ["MIGRATE"],
    ["MIGRATE", HOST, "1", "k", "0"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "BOGUS"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "COPY", "REPLACE", "BOGUS"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "AUTH"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "AUTH2", "user"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "AUTH2"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "KEYS", "a"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "KEYS"],
    ["MIGRATE", HOST, "1", "k", "0", "100", "AUTH", "pw", "KEYS", "a"],
    ["MIGRATE", HOST, "1", "k", "x", "100", "KEYS", "a"],
    ["MIGRATE", HOST, "1", "k", "x", "100", "BOGUS"],
    ["MIGRATE", HOST, "1", "k", "x", "100"],
    ["MIGRATE", HOST, "1", "k", "0", "1.5"],
    ["MIGRATE", HOST, "1", "k", "0", " 100"],
    ["MIGRATE", HOST, "1", "k", "0", "9223372036854775808"],
    ["MIGRATE", HOST, "1", "k", "0", "abc"],
    ["MIGRATE", HOST, "1", "k", "9223372036854775808", "100"],
    ["MIGRATE", HOST, "1", "k", "", "100"],
    ["MIGRATE", HOST, "1", "missing", "0", "100"],
    ["MIGRATE", HOST, "1", "missing", "0", "-5", "COPY", "REPLACE", "AUTH2", "u", "p"],
    ["MIGRATE", HOST, "1", "", "0", "100", "KEYS"],
    ["MIGRATE", HOST, "1", "", "0", "100", "KEYS", "no1", "no2"],
    ["MIGRATE", HOST, "1", "", "0", "100", "copy", "keys", "KEYS", "keys"],
    ["MIGRATE", HOST, "1", "", "0", "100", "auth", "keys", "keys"],
]


@pytest.mark.parametrize("args", BAD_ARGUMENTS, ids=[" ".join(a[3:]) or "arity" for a in BAD_ARGUMENTS])
def test_argument_errors_byte_for_byte(diff, args):
    diff.check(*args)


def test_command_getkeys(diff):
    for args in (["k", "0", "5", "AUTH", "x"], ["", "0", "5", "KEYS", "a", "b"], ["", "0", "5"],
                 ["k", "0", "5", "KEYS", "a"], ["", "0", "5", "AUTH2", "u", "keys", "KEYS", "z"],
                 ["", "0", "5", "KEYS"], ["k", "0", "5", "COPY", "REPLACE"], ["keys", "0", "5"],
                 ["", "0", "5", "AUTH", "keys", "a"], ["", "0", "5", "keys", "KEYS", "b"]):
        diff.check("COMMAND", "GETKEYS", "MIGRATE", HOST, "1", *args)
    diff.check("COMMAND", "GETKEYS", "MIGRATE", "keys", "1", "k", "0", "5")


def test_port_read_as_atoi(ref_port, atoll_port, targets):
    """Redis reads the port with C's atoi (white space and a sign before it, anything after it,
    32-bit wrap-around) and prints it into 5 characters; the resolver keeps 16 bits."""
    def scenario(route):
        route.source.command("SET", "k", "v")
        p = route.target_port
        return [route.migrate("k", "COPY", "REPLACE", port=text)
                for text in (f" {p}", f"+{p}", f"{p}xyz", f"0{p}", str(p + 2**32),
                             f"{p}9", "-" + str(p))]

    replies = run_routes(ref_port, atoll_port, targets, scenario)
    assert replies[:6] == [b"+OK\r\n"] * 6
    assert replies[-1] == b"-IOERR error or timeout connecting to the client\r\n"
