"""RESTORE of payloads from Redis 6 and before (RDB version 9), whose small lists, hashes and
sorted sets are ziplists (types 10, 12, 13 and quicklists of ziplists, 14): Redis 7.0 still
takes them, so data moves from an older Redis by DUMP/RESTORE. Each payload is built here with
every ziplist entry encoding, restored on both servers, and read back and compared; damaged
ziplists get Redis's error, never a crash."""
import random

import pytest

from procs import diff_of, spawn_both
from test_dump_restore import compare_key, crc64, seal


def _length(n: int) -> bytes:
    """An RDB length (6, 14 or 32 bits)."""
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | n >> 8, n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def _rdb_string(data: bytes) -> bytes:
    return _length(len(data)) + data


def _entry(value, previous: int) -> bytes:
    """One ziplist entry after one of `previous` bytes, in the smallest encoding Redis uses."""
    prev = bytes([previous]) if previous < 254 else b"\xfe" + previous.to_bytes(4, "little")
    if isinstance(value, int):
        if 0 <= value <= 12:
            body = bytes([0xF1 + value])
        elif -128 <= value <= 127:
            body = b"\xfe" + value.to_bytes(1, "little", signed=True)
        elif -2**15 <= value < 2**15:
            body = b"\xc0" + value.to_bytes(2, "little", signed=True)
        elif -2**23 <= value < 2**23:
            body = b"\xf0" + value.to_bytes(3, "little", signed=True)
        elif -2**31 <= value < 2**31:
            body = b"\xd0" + value.to_bytes(4, "little", signed=True)
        else:
            body = b"\xe0" + value.to_bytes(8, "little", signed=True)
    else:
        n = len(value)
        if n < 64:
            head = bytes([n])
        elif n < 16384:
            head = bytes([0x40 | n >> 8, n & 0xFF])
        else:
            head = b"\x80" + n.to_bytes(4, "big")
        body = head + value
    return prev + body


def ziplist(values) -> bytes:
    entries, previous, tail = b"", 0, 10
    for value in values:
        entry = _entry(value, previous)
        tail = 10 + len(entries)
        entries += entry
        previous = len(entry)
    total = 10 + len(entries) + 1
    return total.to_bytes(4, "little") + tail.to_bytes(4, "little") + len(values).to_bytes(2, "little") + entries + b"\xff"


# Every entry encoding: immediate 0..12, 8, 16, 24, 32 and 64-bit integers, and strings with a
# 6-bit, 14-bit and 32-bit length (the last long enough that the next entry's previous-length
# field takes 5 bytes).
VALUES = [0, 12, 13, -1, -128, 127, 300, -30000, 70000, -8000000, 2**31 - 1, -2**31, 2**40, -2**63,
          b"", b"short", b"x" * 63, b"y" * 64, b"z" * 300, b"w" * 16384, b"after a long one", b"\x00\xff"]


def _payload(type_byte: int, body: bytes) -> bytes:
    return seal(bytes([type_byte]) + body, version=9)


def _cases():
    # As Redis 6 wrote them: a hash's values short enough for a ziplist, a sorted set's
    # members in score order (Redis trusts that order when it loads one).
    small = [v for v in VALUES if not isinstance(v, bytes) or len(v) <= 64]
    hash_pairs = [x for i, value in enumerate(small) for x in (f"f{i}".encode(), value)]
    scores = [b"-inf", -3, 0, 1, b"3.5", b"1e10", 2**40, b"inf"]
    zset_pairs = [x for i, score in enumerate(scores) for x in (f"m{i}".encode(), score)]
    return {
        "list ziplist (10)": _payload(10, _rdb_string(ziplist(VALUES))),
        "quicklist of ziplists (14)": _payload(14, _length(2) + _rdb_string(ziplist(VALUES[:9]))
                                               + _rdb_string(ziplist(VALUES[9:]))),
        "hash ziplist (13)": _payload(13, _rdb_string(ziplist(hash_pairs))),
        "sorted set ziplist (12)": _payload(12, _rdb_string(ziplist(zset_pairs))),
        "small hash ziplist": _payload(13, _rdb_string(ziplist([b"a", 1, b"b", b"two"]))),
        "small list ziplist": _payload(10, _rdb_string(ziplist([b"a", 5, b"c"]))),
    }


CASES = _cases()
assert len(set(str(v) for v in VALUES)) == len(VALUES)


@pytest.mark.parametrize("case", list(CASES))
def test_redis_6_payloads_restore_as_in_redis(diff, case):
    data = CASES[case]
    diff.check("RESTORE", "k", "0", data)
    compare_key(diff, "k", ordered=False)


def test_damaged_ziplists_are_refused_as_redis_refuses_them(diff):
    """A ziplist cut short, with a wrong header or a bad encoding: refused by both servers."""
    good = ziplist([b"a", 1, b"bb", 70000])
    damaged = [
        good[:-1],                                   # no terminator
        b"\x00\x00\x00\x00" + good[4:],              # wrong total
        good[:8] + b"\x09\x00" + good[10:],          # wrong count
        good[:11] + b"\xc1" + good[12:],             # an encoding that does not exist
        good[:10] + b"\x00\x3f" + good[12:],         # a string longer than the ziplist
    ]
    for zl in damaged:
        diff.check("RESTORE", "bad", "0", _payload(10, _rdb_string(zl)))
    diff.check("EXISTS", "bad")


def test_random_ziplists_never_crash(atoll_conn):
    """Random bytes after a valid header: an error or a whole key, never a crash."""
    rng = random.Random(9)
    for _ in range(2000):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 24)))
        total = 10 + len(body) + 1
        zl = total.to_bytes(4, "little") + b"\x0a\x00\x00\x00" + rng.randrange(4).to_bytes(2, "little") + body + b"\xff"
        reply = atoll_conn.command("RESTORE", "r", "0", _payload(rng.choice([10, 12, 13]), _rdb_string(zl)), "REPLACE")
        assert reply in (b"+OK\r\n", b"-ERR Bad data format\r\n"), reply
    assert atoll_conn.command("PING") == b"+PONG\r\n"


def _rdb_file(keys) -> bytes:
    """A version 9 RDB file (what Redis 6 writes) holding `keys`: (name, type byte, body)."""
    out = b"REDIS0009" + b"\xfe\x00"
    for name, type_byte, body in keys:
        out += bytes([type_byte]) + _rdb_string(name) + body
    out += b"\xff"
    return out + crc64(out).to_bytes(8, "little")


def test_a_redis_6_snapshot_loads_as_in_redis(tmp_path):
    """The same values in a snapshot file (loaded at start) rather than RESTORE payloads."""
    keys = [(name.encode(), data[0], data[1:-10]) for name, data in CASES.items()]
    (tmp_path / "redis6.rdb").write_bytes(_rdb_file(keys))
    flags = ("--dir", str(tmp_path), "--dbfilename", "redis6.rdb", "--save", "")
    with spawn_both(*flags) as (r, a), diff_of(r, a) as diff:
        diff.check("DBSIZE")
        for name in CASES:
            compare_key(diff, name, ordered=False)
