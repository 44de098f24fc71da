"""DUMP and RESTORE against redis-server: DUMP's bytes for every type and encoding where Atoll
holds the value as Redis does, payloads moving both ways (values, encodings, TTLs), every
RESTORE option and error in Redis's order, blocked clients woken by RESTORE, RESTORE with a
relative TTL replayed from the append-only file, and a fuzz test of damaged payloads (which
must get an error or a whole key, never a crash)."""
import random
import tempfile
import time

import pytest

import resp
from diff import Diff
from procs import spawn


def _crc64_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc64_table()


def crc64(data: bytes) -> int:
    """Redis's CRC-64 (Jones polynomial, reflected, initial 0)."""
    crc = 0
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def seal(records: bytes, version: int = 10) -> bytes:
    """Records with the version and CRC footer, as DUMP writes them."""
    body = records + version.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def _rng_text(rng, n, alphabet="abcab "):
    return "".join(rng.choice(alphabet) for _ in range(n))


_R = random.Random(15)

# Values whose encoding in Atoll is Redis's, so DUMP's bytes must be Redis's: each case is the
# commands that build key k.
SAME_BYTES = {
    "int8": [["SET", "k", "123"]],
    "int16": [["SET", "k", "-129"]],
    "int32": [["SET", "k", "70000"]],
    "int64 as text": [["SET", "k", "12345678901"]],
    "int16 and int32 limits": [["SET", "k", "32768"]],
    "past int32": [["SET", "k", "-2147483649"]],
    "int64 minimum, 20 digits": [["SET", "k", "-9223372036854775808"]],
    "int64 maximum incremented to": [["SET", "k", "9223372036854775806"], ["INCR", "k"]],
    "negative zero text": [["SET", "k", "-0"]],
    "leading zero text": [["SET", "k", "007"]],
    "empty string": [["SET", "k", ""]],
    "short string": [["SET", "k", "hello"]],
    "20 bytes, never compressed": [["SET", "k", "a" * 20]],
    "21 bytes compressed": [["SET", "k", "a" * 21]],
    "incompressible": [["SET", "k", bytes(_R.randrange(256) for _ in range(300))]],
    "compressible 100": [["SET", "k", _rng_text(_R, 100)]],
    "compressible 5000": [["SET", "k", _rng_text(_R, 5000)]],
    "compressible 100000": [["SET", "k", _rng_text(_R, 100000, "abcdefgh ")]],
    "appended (raw)": [["SET", "k", "abc"], ["APPEND", "k", "def" * 20]],
    "incremented": [["SET", "k", "41"], ["INCR", "k"]],
    "list small": [["RPUSH", "k", "a", "1", "-5", "300", "x" * 70, "", "-9223372036854775808"]],
    "list integers of every width": [["RPUSH", "k", "0", "127", "128", "-4096", "4095", "4096", "-32769",
                                      "8388607", "8388608", "2147483647", "2147483648", "-1"]],
    "list several nodes": [["RPUSH", "k", *[str(i) if i % 3 else "v" * (i % 100) for i in range(5000)]]],
    "list many nodes": [["RPUSH", "k", *[str(i * 7919) for i in range(20000)]]],
    "list with an element over 8 KiB": [["RPUSH", "k", "a", "x" * 9000, "b"]],
    "list just under a node": [["RPUSH", "k", "x" * 8180, "y"]],
    "hash listpack": [["HSET", "k", "f", "1", "g", "abc", "h", "-70000", "i", ""]],
    "hash listpack 100 fields": [["HSET", "k", *[x for i in range(100)
                                                 for x in (f"f{i}", "v" * (i % 60) if i % 2 else str(i * 1000))]]],
    "hash listpack after HDEL": [["HSET", "k", "a", "1", "b", "2", "c", "3"], ["HDEL", "k", "b"],
                                 ["HSET", "k", "b", "4"]],
    "intset 16": [["SADD", "k", "3", "1", "2", "-5"]],
    "intset 32": [["SADD", "k", "1", "70000"]],
    "intset 64": [["SADD", "k", "1", "-9000000000"]],
    "intset 500": [["SADD", "k", *[str(i * 7 - 100) for i in range(500)]]],
    "zset listpack": [["ZADD", "k", "1", "a", "2.5", "b", "-0", "c", "1e300", "d", "-3", "e"]],
    "zset listpack infinities": [["ZADD", "k", "inf", "a", "-inf", "b", "4611686018427387904", "c",
                                  "123456789012345678", "d", "0.1", "e"]],
    "zset listpack 100": [["ZADD", "k", *[x for i in range(100) for x in (str(i * 0.37), f"m{i}")]]],
    "zset skiplist": [["ZADD", "k", *[x for i in range(300) for x in (str(i * 0.37), f"m{i}")]]],
    "zset skiplist by a long member": [["ZADD", "k", "1", "a", "2", "m" * 100, "-1", "c"]],
    "stream small": [["XADD", "k", "1-1", "a", "1", "b", "x"], ["XADD", "k", "1-2", "a", "-7", "b", "y" * 70],
                     ["XADD", "k", "2-0", "other", "3"]],
    "stream deleted and trimmed": [*[["XADD", "k", f"{i}-{i}", "f", str(i), "g", "v" * i] for i in range(1, 300)],
                                   ["XDEL", "k", "5-5", "150-150", "299-299"], ["XTRIM", "k", "MAXLEN", "250"],
                                   ["XSETID", "k", "400-0", "ENTRIESADDED", "1000", "MAXDELETEDID", "300-0"]],
    "stream emptied": [["XADD", "k", "1-1", "a", "1"], ["XDEL", "k", "1-1"]],
}

# Values whose DUMP bytes cannot match: Redis writes hash tables in its dict's order, which
# depends on its hash function's seed and table history; Atoll writes its own order. The
# payloads still move both ways (test_payloads_move_both_ways).
OTHER_ORDER = {
    "set hashtable": [["SADD", "k", "a", "b", "c", "1"]],
    "set hashtable large": [["SADD", "k", *[f"m{i}" for i in range(1000)]]],
    "set intset grown past the limit": [["SADD", "k", *[str(i) for i in range(600)]]],
    "hash hashtable": [["HSET", "k", *[x for i in range(100) for x in (f"f{i}", "v" * i)]]],
    "hash hashtable large": [["HSET", "k", *[x for i in range(1000) for x in (f"f{i}", str(i))]]],
}

# How to read each type back, for comparing restored values.
READ = {
    "stream": [["XRANGE", "{}", "-", "+"], ["XINFO", "STREAM", "{}", "FULL"]],
    "string": [["GET", "{}"]],
    "list": [["LRANGE", "{}", "0", "-1"]],
    "hash": [["HGETALL", "{}"]],
    "set": [["SMEMBERS", "{}"]],
    "zset": [["ZRANGE", "{}", "0", "-1", "WITHSCORES"]],
}


def build(diff, commands):
    for cmd in commands:
        diff.check(*cmd)


def payload(conn: resp.Conn, key: str = "k") -> bytes:
    return resp.parse(conn.command("DUMP", key))


def compare_key(diff, key: str, ordered: bool = True):
    kind = resp.parse(diff.check("TYPE", key))
    kind = kind.decode() if isinstance(kind, bytes) else kind
    for cmd in READ[kind]:
        args = [a.format(key) for a in cmd]
        if ordered or kind not in ("set", "hash"):
            diff.check(*args)
        else:
            r, a = diff.both(*args)
            # Hash tables list their fields in each server's own order: compare as pairs.
            rv, av = resp.parse(r), resp.parse(a)
            if kind == "hash":
                rv, av = dict(zip(rv[::2], rv[1::2])), dict(zip(av[::2], av[1::2]))
            else:
                rv, av = sorted(rv), sorted(av)
            assert rv == av, f"{args}: redis {r[:200]!r} atoll {a[:200]!r}"
    diff.check("OBJECT", "ENCODING", key)


@pytest.mark.parametrize("case", list(SAME_BYTES))
def test_dump_bytes_match_redis(diff, case):
    build(diff, SAME_BYTES[case])
    diff.check("OBJECT", "ENCODING", "k")
    diff.check("DUMP", "k")


@pytest.mark.parametrize("case", list(SAME_BYTES) + list(OTHER_ORDER))
def test_payloads_move_both_ways(diff, case):
    """Redis's payload restored on Atoll and Atoll's on Redis give the same value, encoding and
    TTL; a restored value dumps again to the bytes it came from."""
    commands = SAME_BYTES.get(case) or OTHER_ORDER[case]
    build(diff, commands)
    from_redis, from_atoll = payload(diff.ref), payload(diff.atoll)
    assert diff.ref.command("RESTORE", "x", "0", from_atoll) == b"+OK\r\n"
    assert diff.atoll.command("RESTORE", "x", "0", from_redis) == b"+OK\r\n"
    compare_key(diff, "x", ordered=case in SAME_BYTES)
    diff.check("TTL", "x")
    # Where the encodings match, each payload comes back unchanged from the other server.
    if case in SAME_BYTES:
        assert payload(diff.ref, "x") == from_atoll
        assert payload(diff.atoll, "x") == from_redis
    # With an expiry (absolute, so that both servers' answers are exact).
    assert diff.ref.command("RESTORE", "y", "4102444800250", from_atoll, "ABSTTL") == b"+OK\r\n"
    assert diff.atoll.command("RESTORE", "y", "4102444800250", from_redis, "ABSTTL") == b"+OK\r\n"
    diff.check("PEXPIRETIME", "y")
    compare_key(diff, "y", ordered=case in SAME_BYTES)


def test_dump_of_a_missing_key_and_arity(diff):
    diff.run(["DUMP nokey", "DUMP", "DUMP a b", "RESTORE", "RESTORE k 0", "RESTORE-ASKING k"])


def test_restore_errors_and_their_order(diff):
    diff.check("SET", "src", "value")
    good = payload(diff.ref, "src")
    assert payload(diff.atoll, "src") == good
    diff.check("SET", "exists", "1")
    newer = seal(good[:-10], version=11)
    bad_type = seal(b"\x0f\x00")
    truncated = seal(good[:3])
    cases = [
        # The key exists: BUSYKEY, unless REPLACE.
        ["RESTORE", "exists", "0", good],
        ["GET", "exists"],
        # Options are parsed first: a syntax error wins over BUSYKEY and a bad TTL.
        ["RESTORE", "exists", "-1", good, "BADOPT"],
        ["RESTORE", "exists", "0", good, "IDLETIME"],
        ["RESTORE", "exists", "0", good, "FREQ"],
        ["RESTORE", "exists", "0", good, "IDLETIME", "abc"],
        ["RESTORE", "exists", "0", good, "IDLETIME", "-1"],
        ["RESTORE", "exists", "0", good, "FREQ", "256"],
        ["RESTORE", "exists", "0", good, "FREQ", "-1"],
        ["RESTORE", "exists", "0", good, "FREQ", "1.5"],
        ["RESTORE", "exists", "0", good, "IDLETIME", "10", "FREQ", "5"],
        ["RESTORE", "exists", "0", good, "FREQ", "5", "IDLETIME", "10"],
        ["RESTORE", "exists", "0", good, "REPLACE", "REPLACE", "ABSTTL", "absttl"],
        # BUSYKEY before the TTL, the TTL before the payload.
        ["RESTORE", "exists", "-1", b"garbage"],
        ["RESTORE", "new", "-1", b"garbage"],
        ["RESTORE", "new", "ten", b"garbage"],
        ["RESTORE", "new", "0", b"garbage"],
        ["RESTORE", "new", "0", b""],
        ["RESTORE", "new", "0", good[:-1] + bytes([good[-1] ^ 1])],
        ["RESTORE", "new", "0", newer],
        ["RESTORE", "new", "0", bad_type],
        ["RESTORE", "new", "0", truncated],
        ["RESTORE", "new", "0", seal(b"")],
        ["EXISTS", "new"],
        ["RESTORE", "new", "0", good, "IDLETIME", "1000"],
        ["OBJECT", "IDLETIME", "new"],
        ["RESTORE", "new", "0", good, "REPLACE", "FREQ", "100"],
        ["OBJECT", "FREQ", "new"],
        ["RESTORE-ASKING", "asking", "0", good],
        ["GET", "asking"],
    ]
    for cmd in cases:
        diff.check(*cmd)


def test_restore_ttls(diff):
    diff.check("RPUSH", "src", "a", "b")
    good = payload(diff.ref, "src")
    diff.run(["SET exists 1", "SET other 1"])
    for cmd in [
        # TTL 0 is no expiry.
        ["RESTORE", "k0", "0", good], ["TTL", "k0"],
        # A relative TTL.
        ["RESTORE", "k1", "5000000", good], ["TTL", "k1"],
        # An absolute one, given the same on both servers.
        ["RESTORE", "k2", "4102444800000", good, "ABSTTL"], ["PEXPIRETIME", "k2"],
        # An absolute TTL in the past: nothing is created...
        ["RESTORE", "k3", "1000", good, "ABSTTL"], ["EXISTS", "k3"],
        # ... and with REPLACE the old key is deleted.
        ["RESTORE", "exists", "1000", good, "ABSTTL", "REPLACE"], ["EXISTS", "exists"],
        # Without REPLACE an existing key is still BUSYKEY.
        ["RESTORE", "other", "1000", good, "ABSTTL"], ["GET", "other"],
        # A relative TTL that overflows when the time is added lands in the past, as in Redis.
        ["RESTORE", "k4", "9223372036854775807", good], ["EXISTS", "k4"],
        ["RESTORE", "k5", "9223372036854775807", good, "ABSTTL"], ["EXPIRETIME", "k5"],
        # REPLACE of another type.
        ["SET", "s", "x"], ["RESTORE", "s", "0", good, "REPLACE"], ["TYPE", "s"], ["LRANGE", "s", "0", "-1"],
    ]:
        diff.check(*cmd)


def _changes(raw: bytes) -> int:
    """`rdb_changes_since_last_save` in a raw INFO persistence reply."""
    line = next(l for l in raw.split(b"\r\n") if l.startswith(b"rdb_changes_since_last_save:"))
    return int(line.split(b":")[1])


def test_restore_replace_over_a_volatile_key_and_the_changes_it_counts(diff):
    """REPLACE replaces the old key in place: its TTL goes (or is the new one), and one RESTORE
    counts one change, as Redis's delete and add count one."""
    diff.check("HSET", "src", "f", "1", "g", "v")
    good = payload(diff.ref, "src")
    for cmd in [
        ["SET", "v", "x", "EX", "1000"], ["RESTORE", "v", "0", good, "REPLACE"], ["TTL", "v"], ["HGETALL", "v"],
        ["SET", "w", "x", "EX", "1000"], ["RESTORE", "w", "5000000", good, "REPLACE"], ["TTL", "w"], ["TYPE", "w"],
        ["SET", "p", "x"], ["RESTORE", "p", "5000000", good, "REPLACE"], ["TTL", "p"],
        ["RESTORE", "fresh", "0", good, "REPLACE"], ["HGETALL", "fresh"],
    ]:
        diff.check(*cmd)
    for key in ["v", "fresh"]:
        before_ref, before_atoll = diff.both("INFO", "persistence")
        diff.check("RESTORE", key, "0", good, "REPLACE")
        after_ref, after_atoll = diff.both("INFO", "persistence")
        assert _changes(after_ref) - _changes(before_ref) == 1
        assert _changes(after_atoll) - _changes(before_atoll) == 1


def _field(raw: bytes, name: bytes) -> int:
    line = next(l for l in raw.split(b"\r\n") if l.startswith(name + b":"))
    return int(line.split(b":")[1])


def test_restore_replace_in_the_past_deletes_an_expired_key_as_redis_does():
    """REPLACE with a TTL already past, over a key that expired but is still in the table: Redis
    deletes it (one change, no expiry counted), it does not expire it first. Servers of its own,
    where DEBUG SET-ACTIVE-EXPIRE may keep the expired key in the table."""
    with spawn("redis", "--enable-debug-command", "yes") as r, spawn("atoll", "--enable-debug-command", "yes") as a:
        diff = Diff(resp.Conn(r.port), resp.Conn(a.port))
        diff.check("HSET", "src", "f", "1")
        good = payload(diff.ref, "src")
        assert diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"+OK\r\n"
        diff.check("SET", "k", "v", "PX", "1")
        # The key's millisecond must pass (wall time is what expires it; nothing to wait for).
        time.sleep(0.02)
        assert diff.check("DBSIZE") == b":2\r\n"
        before = [diff.both("INFO", "persistence"), diff.both("INFO", "stats")]
        diff.check("RESTORE", "k", "1", good, "REPLACE", "ABSTTL")
        after = [diff.both("INFO", "persistence"), diff.both("INFO", "stats")]
        for server in (0, 1):
            changes = _field(after[0][server], b"rdb_changes_since_last_save") - _field(before[0][server], b"rdb_changes_since_last_save")
            assert changes == 1, server
            assert _field(after[1][server], b"expired_keys") == _field(before[1][server], b"expired_keys"), server
        diff.check("EXISTS", "k")


def test_restore_wakes_blocked_clients(ref_port, atoll_port):
    """RESTORE of a list or sorted set serves a client blocked on the key, as Redis's dbAdd
    signals it."""
    replies = {}
    for name, port in (("redis", ref_port), ("atoll", atoll_port)):
        with resp.Conn(port) as c, resp.Conn(port) as blocked, resp.Conn(port) as zblocked:
            c.command("RPUSH", "src", "job1", "job2")
            c.command("ZADD", "zsrc", "1", "m")
            lpayload, zpayload = payload(c, "src"), payload(c, "zsrc")
            blocked.send_raw(resp.encode("BLPOP", "q", "10"))
            zblocked.send_raw(resp.encode("BZPOPMIN", "z", "10"))
            # The blocked clients are parked once INFO counts them (no sleeping).
            for _ in range(1000):
                info = resp.parse(c.command("INFO", "clients")).decode()
                if "blocked_clients:2" in info:
                    break
            assert "blocked_clients:2" in info
            assert c.command("RESTORE", "q", "0", lpayload) == b"+OK\r\n"
            assert c.command("RESTORE", "z", "0", zpayload) == b"+OK\r\n"
            replies[name] = (blocked.read_reply(), zblocked.read_reply(), c.command("LRANGE", "q", "0", "-1"))
    assert replies["atoll"] == replies["redis"]
    assert replies["atoll"][0] == b"*2\r\n$1\r\nq\r\n$4\r\njob1\r\n"


def test_restore_with_a_relative_ttl_replays_from_the_append_only_file():
    """RESTORE is logged with the absolute expiry time it set (and ABSTTL), so a restart brings
    back the same key with the same expiry."""
    with tempfile.TemporaryDirectory() as directory:
        with spawn("atoll", "--dir", directory, "--appendonly", "yes", "--appendfsync", "always") as a:
            c = a.connect()
            c.command("HSET", "src", "f", "v")
            p = payload(c, "src")
            assert c.command("RESTORE", "rel", "5000000", p) == b"+OK\r\n"
            assert c.command("RESTORE", "abs", "4102444800000", p, "ABSTTL") == b"+OK\r\n"
            assert c.command("RESTORE", "plain", "0", p) == b"+OK\r\n"
            c.command("SET", "gone", "1")
            assert c.command("RESTORE", "gone", "1000", p, "ABSTTL", "REPLACE") == b"+OK\r\n"
            expected = {k: c.command("PEXPIRETIME", k) for k in ("rel", "abs", "plain", "gone")}
            c.close()
        with spawn("atoll", "--dir", directory, "--appendonly", "yes") as a:
            c = a.connect()
            assert {k: c.command("PEXPIRETIME", k) for k in expected} == expected
            assert c.command("HGETALL", "rel") == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
            assert c.command("EXISTS", "gone") == b":0\r\n"
            c.close()


def _mutations(rng, good: bytes):
    """Damaged copies of `good`: flipped bits, cut short, bytes inserted or dropped, each with
    the original footer and with the CRC recomputed (so the value parser itself sees them)."""
    body = good[:-10]
    for _ in range(60):
        b = bytearray(body)
        kind = rng.randrange(5)
        if kind == 0 and b:
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 1 and b:
            b = b[:rng.randrange(len(b))]
        elif kind == 2:
            at = rng.randrange(len(b) + 1)
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
        elif kind == 3 and len(b) > 1:
            at = rng.randrange(len(b))
            del b[at:at + rng.randrange(1, 4)]
        else:
            b[rng.randrange(len(b))] = rng.choice([0x00, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xC0, 0xC3, 0xFF])
        yield bytes(b) + good[-10:]
        yield seal(bytes(b))


def test_damaged_payloads_never_crash(atoll_conn):
    c = atoll_conn
    rng = random.Random(1234)
    sources = [cmds for name, cmds in list(SAME_BYTES.items()) + list(OTHER_ORDER.items())
               if "100000" not in name and "many nodes" not in name]
    restored = refused = 0
    for i, commands in enumerate(sources):
        c.command("FLUSHALL")
        for cmd in commands:
            c.command(*cmd)
        good = payload(c)
        for damaged in _mutations(rng, good):
            reply = c.command("RESTORE", "x", "0", damaged, "REPLACE")
            if reply == b"+OK\r\n":
                restored += 1
                # A whole key: readable, and it dumps to a payload that restores again.
                again = payload(c, "x")
                assert c.command("RESTORE", "y", "0", again, "REPLACE") == b"+OK\r\n"
                assert c.command("TYPE", "y") == c.command("TYPE", "x")
            else:
                refused += 1
                assert reply in (b"-ERR Bad data format\r\n",
                                 b"-ERR DUMP payload version or checksum are wrong\r\n"), reply
        assert c.command("PING") == b"+PONG\r\n"
    assert refused > restored > 0


def test_stream_groups_restore_from_redis(diff):
    """A Redis payload with consumer groups and pending entries: Atoll restores it, shows the
    same XINFO STREAM FULL and dumps it back to the same bytes."""
    r = diff.ref
    for i in range(1, 6):
        r.command("XADD", "k", f"{i}-0", "f", str(i))
    r.command("XGROUP", "CREATE", "k", "g1", "0")
    r.command("XGROUP", "CREATE", "k", "g0", "$")
    r.command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "k", ">")
    r.command("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "k", ">")
    r.command("XDEL", "k", "2-0")
    data = payload(r)
    assert diff.atoll.command("RESTORE", "k", "0", data) == b"+OK\r\n"
    diff.check("XINFO", "STREAM", "k", "FULL")
    diff.check("XINFO", "STREAM", "k")
    assert payload(diff.atoll) == data


def test_stream_payload_with_extreme_times_and_counters(atoll_conn):
    """Delivery and seen times and read counters in a payload may be any 64-bit value: the
    commands that subtract or count with them answer instead of trapping."""
    c = atoll_conn
    c.command("XADD", "k", "1-0", "f", "v")
    c.command("XGROUP", "CREATE", "k", "g", "0", "ENTRIESREAD", "0")
    c.command("XCLAIM", "k", "g", "c", "0", "1-0", "FORCE", "TIME", "1700000000000")
    good = payload(c)
    time_bytes = (1700000000000).to_bytes(8, "little")
    assert good.count(time_bytes) == 1
    for extreme in (-(2**63), 2**63 - 1):
        damaged = seal(good[:-10].replace(time_bytes, extreme.to_bytes(8, "little", signed=True)))
        assert c.command("RESTORE", "x", "0", damaged, "REPLACE") == b"+OK\r\n"
        for cmd in (["XPENDING", "x", "g", "-", "+", "10"], ["XPENDING", "x", "g", "IDLE", "5", "-", "+", "10"],
                    ["XINFO", "CONSUMERS", "x", "g"], ["XINFO", "STREAM", "x", "FULL"], ["XINFO", "GROUPS", "x"],
                    ["XAUTOCLAIM", "x", "g", "d", "10", "0"], ["XCLAIM", "x", "g", "e", "10", "1-0"]):
            assert not c.command(*cmd).startswith(b"-"), cmd
    assert c.command("PING") == b"+PONG\r\n"
