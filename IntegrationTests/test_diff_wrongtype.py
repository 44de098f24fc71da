"""WRONGTYPE differential tests: string commands applied to list, set, hash and zset keys,
and the generic commands (TYPE, RENAME, COPY, SET over them) on those keys."""

import pytest

from diff import unordered

CREATE = {"list": "RPUSH list a b c", "set": "SADD set x y", "hash": "HSET hash f v",
          "zset": "ZADD zset 1 m"}
SETUP = list(CREATE.values())


@pytest.mark.parametrize("key", list(CREATE))
def test_string_commands_on_wrong_type(diff, key):
    # Only the key under test is created, so each type's case runs as soon as that type exists.
    diff.run([CREATE[key]] + [
        f"GET {key}", f"SET {key} v GET", f"GETSET {key} v", f"GETDEL {key}",
        f"GETEX {key}", f"GETEX {key} EX 100", f"INCR {key}", f"DECR {key}",
        f"INCRBY {key} 5", f"DECRBY {key} 5", f"INCRBYFLOAT {key} 1.5",
        f"APPEND {key} x", f"STRLEN {key}", f"GETRANGE {key} 0 -1",
        f"SUBSTR {key} 0 1", f"SETRANGE {key} 0 x", f"SETRANGE {key} 0 ''",
        f"LCS {key} other", "SET str abc", f"LCS str {key}", f"MGET str {key} missing",
        f"SETNX {key} v", f"MSETNX {key} v new v", f"TYPE {key}", f"OBJECT ENCODING {key}",
        f"EXISTS {key}",
    ])


def test_set_overwrites_other_types(diff):
    diff.run(SETUP + [
        "SET list v", "TYPE list", "GET list", "SETEX set 100 v", "TYPE set",
        "MSET hash 1", "TYPE hash", "SET zset v XX", "TYPE zset",
    ])


def test_generic_commands_on_other_types(diff):
    diff.run(SETUP + [
        "TYPE list", "TYPE set", "TYPE hash", "TYPE zset", unordered("KEYS *"),
        "RENAME list list2", "TYPE list2", "COPY set set2", "TYPE set2",
        "EXPIRE hash 1000", "TTL hash", "MOVE zset 1", "SELECT 1", "TYPE zset",
        "SELECT 0", "DBSIZE",
    ])
    for t in ("string", "list", "set", "hash", "zset"):
        diff.scan_keys("TYPE", t)
