"""A seeded random run of every write command family, checking that the append-only file
records each write's effect: whatever the run left behind must come back, identically, when
the file is replayed.

Atoll runs with ``--appendonly yes``; a generator sends a few thousand random commands over a
small key set in databases 0 and 2: strings with every SET option, compare-and-set (SET IFEQ/
IFNE/IFDEQ/IFDNE, DELEX), keys and expiries (far-future times, sometimes past ones), hashes,
lists, sets, sorted sets, blocking pops that time out, run inside MULTI or scripts, or are
served by another client's push, MULTI/EXEC blocks (with SELECT, scripts, queueing errors),
EVAL/EVALSHA scripts and FCALL functions that write (SPOP, INCRBYFLOAT, SET EX, SELECT, an
error after a write), SWAPDB/FLUSHDB/FLUSHALL, SCRIPT FLUSH, FUNCTION LOAD/DELETE/FLUSH, a few
big collections, and throwaway keys with 1 ms TTLs that expire lazily (also under RANDOMKEY)
and actively, or are still found by the next command of the same pipeline. Wrong-type and
other errors are fine. Replies are not checked: only the final dataset (``contents``: every key
of every database with type, value and PEXPIRETIME, plus FUNCTION LIST) matters. It must be
the same

1. after ``DEBUG LOADAOF`` (the running server empties itself and replays the file);
2. after ``BGREWRITEAOF`` (with writes going on while it runs) and more random commands,
   again with ``DEBUG LOADAOF`` (RDB base + incremental file) and after a restart on the same
   directory; a key alive when the base was written, persisted afterwards and past its
   original time when loaded, must be there;
3. when redis-server 7.0 loads the same directory.

A mismatch names the seed, the differing keys (expected vs found), the last commands sent
that mention each key, and the incremental files' commands that mention it.

``ATOLL_AOF_FUZZ_SEED`` picks the seed (printed at start), ``ATOLL_AOF_FUZZ_N`` the number of
commands before the first check (the second phase sends an eighth as many), and
``ATOLL_AOF_FUZZ_KEEP=1`` keeps a copy of the AOF directory when a check fails.
"""
from __future__ import annotations

import contextlib
import os
import random
import re
import select
import shutil
import tempfile
import time

import xxhash

import resp
from procs import redis_available, spawn
from test_rdb_snapshot import contents

SEED = int(os.environ.get("ATOLL_AOF_FUZZ_SEED", "20250611"))
N_COMMANDS = int(os.environ.get("ATOLL_AOF_FUZZ_N", "5000"))
KEEP = os.environ.get("ATOLL_AOF_FUZZ_KEEP") == "1"
AOF = ("--appendonly", "yes")

DBS = (0, 2)
KEYS = [f"k{i}" for i in range(8)]
HOME = {  # the keys each family prefers, so most commands find the type they want
    "string": ["k0", "k1"], "hash": ["k2"], "list": ["k3", "k4"], "set": ["k5"], "zset": ["k6", "k7"],
}
TMP = ["t0", "t1", "t2"]  # throwaway keys for short TTLs; never a source of RENAME/COPY/MOVE
SURVIVOR = "ts"  # alive when the rewrite writes the base, expired when the base is loaded
VALUES = ["a", "b", "hello", "1", "10", "-7", "2.5", "", b"\x00\xff\r\nbin", "x" * 50]
FIELDS = ["f0", "f1", "f2", "f3"]
MEMBERS = ["m0", "m1", "m2", "m3", "m4", "1", "2"]
SCORES = ["0", "1", "2", "-3", "0.5", "3.25", "1e3", "-inf", "+inf"]
# Absolute times around 2100-01-01, relative ones well over 1000 s: nothing long-lived expires.
FAR_S = 4102444800

FUNCTION_LIB = """#!lua name=fuzzlib
-- version {version}
redis.register_function('fpush', function(keys, args)
  redis.call('RPUSH', keys[1], args[1])
  return redis.call('LLEN', keys[1])
end)
redis.register_function('fmix', function(keys, args)
  redis.call('HSET', keys[1], 'f0', args[1])
  redis.call('SPOP', keys[2])
  return 1
end)
redis.register_function('fset', function(keys, args)
  return redis.call('SET', keys[1], args[1], 'EX', 5000)
end)
redis.register_function{function_name='fget', callback=function(keys, args)
  return redis.call('GET', keys[1])
end, flags={'no-writes'}}
"""


def function_lib(version: int) -> str:
    return FUNCTION_LIB.replace("{version}", str(version))


# (script, number of keys, number of args)
SCRIPTS = [
    ("redis.call('INCR', KEYS[1]); redis.call('RPUSH', KEYS[2], ARGV[1]); return 1", 2, 1),
    ("return redis.call('SPOP', KEYS[1])", 1, 0),
    ("return redis.call('SPOP', KEYS[1], 2)", 1, 0),
    ("return redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])", 1, 1),
    ("redis.call('SET', KEYS[1], ARGV[1], 'EX', 5000); return redis.call('EXPIRE', KEYS[2], 3000)", 2, 1),
    ("redis.call('HINCRBYFLOAT', KEYS[1], 'f1', ARGV[1]); redis.call('ZADD', KEYS[2], ARGV[1], 'm1'); return 1", 2, 1),
    ("redis.call('SELECT', 2); redis.call('SADD', KEYS[1], ARGV[1]); redis.call('SELECT', 0); "
     "return redis.call('LPUSH', KEYS[2], ARGV[1])", 2, 1),
    ("redis.pcall('LPUSH', KEYS[1], 'x'); redis.call('SET', KEYS[2], ARGV[1]); return 1", 2, 1),
    ("return redis.call('LMPOP', 2, KEYS[1], KEYS[2], 'RIGHT', 'COUNT', 2)", 2, 0),
    ("return redis.call('ZPOPMIN', KEYS[1])", 1, 0),
    ("redis.call('DEL', KEYS[1]); return redis.call('RPOPLPUSH', KEYS[2], KEYS[1])", 2, 0),
    ("return redis.call('SET', KEYS[1], ARGV[1], 'IFEQ', redis.call('GET', KEYS[1]) or 'none')", 1, 1),
    ("return redis.call('DELEX', KEYS[1])", 1, 0),
    ("return redis.call('GETEX', KEYS[1], 'PX', 7000000)", 1, 0),
    ("redis.call('HINCRBY', KEYS[1], 'f2', 3); redis.call('SMOVE', KEYS[2], KEYS[3], ARGV[1]); "
     "return redis.call('PEXPIRE', KEYS[3], 9000000)", 3, 1),
    # Blocking commands do not block in scripts; their pops are logged as plain ones.
    ("return redis.call('BLPOP', KEYS[1], KEYS[2], 0)", 2, 0),
    ("return redis.call('BLMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT', 0)", 2, 0),
    ("return redis.call('BZPOPMAX', KEYS[1], 0)", 1, 0),
    ("return redis.call('BZMPOP', 0, 1, KEYS[1], 'MIN', 'COUNT', 2)", 1, 0),
    ("return redis.call('GET', KEYS[1])", 1, 0),  # reads only: nothing to record
    ("redis.call('APPEND', KEYS[1], ARGV[1]); return redis.call('NOSUCHCOMMAND')", 1, 1),  # write, then error
]

LIST_BLOCKERS = ("BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP")
ZSET_BLOCKERS = ("BZPOPMIN", "BZPOPMAX", "BZMPOP")


def short(raw: bytes, limit: int = 90) -> str:
    text = repr(raw)[2:-1]
    return text if len(text) <= limit else text[:limit] + "..."


def show_args(args) -> str:
    out = []
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        s = b.decode("utf-8", "backslashreplace")
        if not s or any(ch in s for ch in " \r\n\"\\") or not s.isprintable():
            s = repr(b)[1:]
        out.append(s if len(s) <= 60 else s[:60] + "...")
    return " ".join(out)


def info_field(c: resp.Conn, section: str, field: str) -> str:
    for line in resp.parse(c.command("INFO", section)).decode().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"no {field} in INFO {section}")


class Fuzzer:
    """Sends random writes on ``c`` (and blocking pops on ``blocker``), logging every command."""

    def __init__(self, rng: random.Random, c: resp.Conn, blocker: resp.Conn, log: list):
        self.rng = rng
        self.c = c
        self.blocker = blocker
        self.log = log  # entries: (seq, db, who, args, reply)
        self.db = 0
        self.in_multi = False
        self.shas: list[str] = []

    # -- plumbing ---------------------------------------------------------------------------
    def record(self, db: int, who: str, args, reply: bytes) -> None:
        self.log.append((len(self.log), db, who, tuple(args), reply))

    def send(self, *args) -> bytes:
        reply = self.c.command(*args)
        self.record(self.db, "c", args, reply)
        return reply

    def pipeline(self, commands) -> list[bytes]:
        replies = self.c.pipeline(commands)
        for args, reply in zip(commands, replies):
            self.record(self.db, "c(pipelined)", args, reply)
        return replies

    def select(self, db: int) -> None:
        self.db = db
        assert self.send("SELECT", str(db)) == b"+OK\r\n"

    # -- random pieces ----------------------------------------------------------------------
    def key(self, family: str | None = None) -> str:
        """A key for a command of ``family``: mostly one that holds that type or nothing
        (probed with TYPE), sometimes any key, so wrong-type errors happen too."""
        r = self.rng
        if family is None or r.random() < 0.12:
            return r.choice(KEYS)
        if self.in_multi:  # TYPE would only be queued
            return r.choice(HOME[family])
        candidates = [r.choice(HOME[family])] + r.sample(KEYS, 3)
        for k in candidates:
            kind = resp.parse(self.c.command("TYPE", k))
            self.record(self.db, "probe", ("TYPE", k), b"")
            if kind in ("none", family):
                return k
        return candidates[0]

    def keys(self, family: str, lo: int = 1, hi: int = 3) -> list[str]:
        return [self.key(family) for _ in range(self.rng.randint(lo, hi))]

    def value(self):
        return self.rng.choice(VALUES)

    def member(self) -> str:
        return self.rng.choice(MEMBERS)

    def rel_seconds(self) -> str:
        return str(self.rng.randint(1000, 10_000_000))

    def abs_seconds(self) -> str:
        return str(FAR_S + self.rng.randint(-100_000, 100_000))

    def past_seconds(self) -> str:
        return self.rng.choice(["1", str(int(time.time()) - 5000)])

    def expiry_option(self) -> list[str]:
        """A SET/GETEX expiry option; rarely an absolute time in the past."""
        r = self.rng
        kind = r.choice(["EX", "PX", "EXAT", "PXAT"])
        if kind in ("EXAT", "PXAT") and r.random() < 0.08:
            t = int(self.past_seconds())
        elif kind in ("EXAT", "PXAT"):
            t = int(self.abs_seconds())
        else:
            t = int(self.rel_seconds())
        return [kind, str(t * 1000 if kind.startswith("P") else t)]

    def cas_condition(self, key: str) -> list:
        """IFEQ/IFNE with a value the key often holds, or IFDEQ/IFDNE with its digest."""
        r = self.rng
        if r.random() < 0.5 and not self.in_multi:
            current = resp.parse(self.send("GET", key))
            operand = current if isinstance(current, bytes) else self.value()
        else:
            operand = self.value()
        kind = r.choice(["IFEQ", "IFNE", "IFEQ", "IFDEQ", "IFDNE"])
        if kind in ("IFDEQ", "IFDNE"):
            data = operand if isinstance(operand, bytes) else str(operand).encode()
            operand = xxhash.xxh3_64_hexdigest(data)
            if r.random() < 0.5:
                operand = operand.upper()
        return [kind, operand]

    # -- command generators (each returns one command's arguments) --------------------------
    def string_cmd(self) -> list:
        r = self.rng
        k = self.key("string")
        pick = r.randrange(22)
        if pick <= 4:
            args = ["SET", k, self.value()]
            if r.random() < 0.3:
                args.append(r.choice(["NX", "XX"]))
            if r.random() < 0.3:
                args.append("GET")
            x = r.random()
            if x < 0.35:
                args += self.expiry_option()
            elif x < 0.5:
                args.append("KEEPTTL")
            return args
        if pick == 5:
            args = ["SET", k, self.value(), *self.cas_condition(k)]
            if r.random() < 0.3:
                args.append("GET")
            if r.random() < 0.3:
                args += self.expiry_option() if r.random() < 0.7 else ["KEEPTTL"]
            return args
        if pick == 6:
            return ["SETNX", k, self.value()]
        if pick == 7:
            return ["SETEX", k, self.rel_seconds(), self.value()]
        if pick == 8:
            return ["PSETEX", k, str(int(self.rel_seconds()) * 1000), self.value()]
        if pick == 9:
            return ["GETSET", k, self.value()]
        if pick == 10:
            return ["GETDEL", k]
        if pick == 11:
            x = r.random()
            if x < 0.6:
                return ["GETEX", k, *self.expiry_option()]
            if x < 0.85:
                return ["GETEX", k, "PERSIST"]
            return ["GETEX", k]
        if pick == 12:
            n = r.randint(1, 3)
            return [r.choice(["MSET", "MSETNX"])] + [x for _ in range(n) for x in (self.key("string"), self.value())]
        if pick == 13:
            return [r.choice(["INCR", "DECR"]), k]
        if pick == 14:
            return [r.choice(["INCRBY", "DECRBY"]), k, str(r.randint(-50, 50))]
        if pick == 15:
            return ["INCRBYFLOAT", k, r.choice(["0.1", "1.5", "-3.25", "1.5e2", "10", "-0.0001"])]
        if pick == 16:
            return ["APPEND", k, self.value()]
        if pick == 17:
            return ["SETRANGE", k, str(r.randint(0, 12)), self.value()]
        if pick == 18:
            return ["DELEX", k, *self.cas_condition(k)]
        if pick == 19:
            return ["DELEX", k]
        if pick == 20:
            return ["GETEX", k, r.choice(["EXAT", "PXAT"]), self.past_seconds()]
        return ["SET", k, self.value(), "KEEPTTL", "GET"]

    def key_cmd(self) -> list:
        r = self.rng
        k = self.key()
        pick = r.randrange(18)
        other_db = str(r.choice([d for d in (0, 2, 5) if d != self.db]))
        if pick == 0:
            return [r.choice(["DEL", "UNLINK"]), *self.keys("string", 1, 2)]
        if pick == 1:
            return [r.choice(["RENAME", "RENAMENX"]), k, self.key()]
        if pick == 2:
            args = ["COPY", k, self.key()]
            if r.random() < 0.4:
                args += ["DB", r.choice([other_db, str(self.db)])]
            if r.random() < 0.5:
                args.append("REPLACE")
            return args
        if pick == 3:
            return ["MOVE", k, other_db]
        if pick in (4, 5, 6, 7, 8):
            cmd = r.choice(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
            if r.random() < 0.07:
                t = int(self.past_seconds()) if cmd.endswith("AT") else -r.randint(1, 100)
            elif cmd.endswith("AT"):
                t = int(self.abs_seconds())
            else:
                t = int(self.rel_seconds())
            if cmd.startswith("P"):
                t *= 1000
            args = [cmd, k, str(t)]
            if r.random() < 0.5:
                args.append(r.choice(["NX", "XX", "GT", "LT"]))
            return args
        if pick in (9, 10):
            return ["PERSIST", k]
        if pick == 11:
            return ["SWAPDB", "0", "2"] if r.random() < 0.3 else ["PERSIST", k]
        if pick == 12:
            return ["FLUSHDB"] if r.random() < 0.08 else ["DEL", k]
        if pick == 13:
            return ["FLUSHALL"] if r.random() < 0.02 else ["UNLINK", k]
        return ["EXPIRE", k, self.rel_seconds(), r.choice(["GT", "LT", "NX", "XX"])]

    def hash_cmd(self) -> list:
        r = self.rng
        k = self.key("hash")
        pick = r.randrange(7)
        if pick in (0, 1):
            n = r.randint(1, 3)
            return [r.choice(["HSET", "HMSET"]), k] + [x for _ in range(n) for x in (r.choice(FIELDS), self.value())]
        if pick == 2:
            return ["HSETNX", k, r.choice(FIELDS), self.value()]
        if pick == 3:
            return ["HDEL", k, *r.sample(FIELDS, r.randint(1, 3))]
        if pick == 4:
            return ["HINCRBY", k, r.choice(FIELDS), str(r.randint(-20, 20))]
        return ["HINCRBYFLOAT", k, r.choice(FIELDS), r.choice(["0.5", "-1.25", "3", "1e2", "0.1"])]

    def list_cmd(self) -> list:
        r = self.rng
        k = self.key("list")
        side = lambda: r.choice(["LEFT", "RIGHT"])  # noqa: E731
        pick = r.randrange(24)
        if pick <= 3:
            return [r.choice(["LPUSH", "RPUSH"]), k, *[self.value() for _ in range(r.randint(1, 4))]]
        if pick == 4:
            return [r.choice(["LPUSHX", "RPUSHX"]), k, self.value()]
        if pick in (5, 6):
            args = [r.choice(["LPOP", "RPOP"]), k]
            if r.random() < 0.5:
                args.append(str(r.randint(0, 4)))
            return args
        if pick == 7:
            return ["LSET", k, str(r.randint(-3, 3)), self.value()]
        if pick == 8:
            return ["LINSERT", k, r.choice(["BEFORE", "AFTER"]), self.value(), self.value()]
        if pick == 9:
            return ["LREM", k, str(r.randint(-2, 2)), self.value()]
        if pick == 10:
            return ["LTRIM", k, str(r.randint(-4, 2)), str(r.randint(-3, 5))]
        if pick == 11:
            return ["LMOVE", k, self.key("list"), side(), side()]
        if pick == 12:
            return ["RPOPLPUSH", k, self.key("list")]
        if pick == 13:
            ks = self.keys("list", 1, 2)
            args = ["LMPOP", str(len(ks)), *ks, side()]
            if r.random() < 0.6:
                args += ["COUNT", str(r.randint(1, 3))]
            return args
        # Blocking forms with a 10 ms timeout (they do not block inside MULTI).
        if pick in (14, 15):
            return [r.choice(["BLPOP", "BRPOP"]), *self.keys("list", 1, 2), "0.01"]
        if pick == 16:
            return ["BLMOVE", k, self.key("list"), side(), side(), "0.01"]
        if pick == 17:
            return ["BRPOPLPUSH", k, self.key("list"), "0.01"]
        if pick == 18:
            ks = self.keys("list", 1, 2)
            args = ["BLMPOP", "0.01", str(len(ks)), *ks, side()]
            if r.random() < 0.6:
                args += ["COUNT", str(r.randint(1, 3))]
            return args
        if pick in (19, 20):
            return [r.choice(["BZPOPMIN", "BZPOPMAX"]), *self.keys("zset", 1, 2), "0.01"]
        if pick == 21:
            ks = self.keys("zset", 1, 2)
            args = ["BZMPOP", "0.01", str(len(ks)), *ks, r.choice(["MIN", "MAX"])]
            if r.random() < 0.6:
                args += ["COUNT", str(r.randint(1, 3))]
            return args
        return ["RPUSH", k, self.value()]

    def set_cmd(self) -> list:
        r = self.rng
        k = self.key("set")
        pick = r.randrange(10)
        if pick <= 2:
            return ["SADD", k, *r.sample(MEMBERS, r.randint(1, 4))]
        if pick == 3:
            return ["SREM", k, *r.sample(MEMBERS, r.randint(1, 3))]
        if pick in (4, 5):
            args = ["SPOP", k]
            if r.random() < 0.6:
                args.append(str(r.randint(0, 6)))
            return args
        if pick == 6:
            return ["SMOVE", k, self.key("set"), self.member()]
        return [r.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), self.key("set"), *self.keys("set", 1, 3)]

    def zset_cmd(self) -> list:
        r = self.rng
        k = self.key("zset")
        pick = r.randrange(16)
        if pick <= 3:
            args = ["ZADD", k]
            if r.random() < 0.3:
                args.append(r.choice(["NX", "XX"]))
            if r.random() < 0.3:
                args.append(r.choice(["GT", "LT"]))
            if r.random() < 0.3:
                args.append("CH")
            if r.random() < 0.2:
                args += ["INCR", r.choice(SCORES), self.member()]
            else:
                for _ in range(r.randint(1, 3)):
                    args += [r.choice(SCORES), self.member()]
            return args
        if pick == 4:
            return ["ZINCRBY", k, r.choice(SCORES[:7]), self.member()]
        if pick == 5:
            return ["ZREM", k, *r.sample(MEMBERS, r.randint(1, 3))]
        if pick == 6:
            lo, hi = sorted(r.sample([-3, 0, 1, 2, 5, 1000], 2))
            return ["ZREMRANGEBYSCORE", k, r.choice([str(lo), f"({lo}", "-inf"]), r.choice([str(hi), f"({hi}", "+inf"])]
        if pick == 7:
            return ["ZREMRANGEBYRANK", k, str(r.randint(-3, 1)), str(r.randint(-2, 3))]
        if pick == 8:
            return ["ZREMRANGEBYLEX", k, r.choice(["-", "[m1", "(m0", "[1"]), r.choice(["+", "[m3", "(m4", "[2"])]
        if pick == 9:
            args = [r.choice(["ZPOPMIN", "ZPOPMAX"]), k]
            if r.random() < 0.5:
                args.append(str(r.randint(1, 4)))
            return args
        if pick == 10:
            ks = self.keys("zset", 1, 2)
            args = ["ZMPOP", str(len(ks)), *ks, r.choice(["MIN", "MAX"])]
            if r.random() < 0.6:
                args += ["COUNT", str(r.randint(1, 3))]
            return args
        if pick in (11, 12):
            ks = self.keys("zset", 1, 3) + ([self.key("set")] if r.random() < 0.3 else [])
            cmd = r.choice(["ZUNIONSTORE", "ZINTERSTORE"])
            args = [cmd, self.key("zset"), str(len(ks)), *ks]
            if r.random() < 0.4:
                args += ["WEIGHTS", *[r.choice(["1", "2", "0.5", "-1", "0"]) for _ in ks]]
            if r.random() < 0.4:
                args += ["AGGREGATE", r.choice(["SUM", "MIN", "MAX"])]
            return args
        if pick == 13:
            ks = self.keys("zset", 1, 3)
            return ["ZDIFFSTORE", self.key("zset"), str(len(ks)), *ks]
        # ZRANGESTORE by rank, score or lex, maybe reversed and limited.
        dst, src = self.key("zset"), self.key("zset")
        how = r.choice(["rank", "score", "lex"])
        if how == "rank":
            args = ["ZRANGESTORE", dst, src, str(r.randint(-3, 1)), str(r.randint(-1, 4))]
        elif how == "score":
            args = ["ZRANGESTORE", dst, src, r.choice(["-inf", "0", "(1"]), r.choice(["+inf", "2", "(1000"]), "BYSCORE"]
        else:
            args = ["ZRANGESTORE", dst, src, r.choice(["-", "[m1"]), r.choice(["+", "(m4"]), "BYLEX"]
        if how != "rank" and r.random() < 0.3:
            args[3], args[4] = args[4], args[3]
            args.append("REV")
        if how != "rank" and r.random() < 0.3:
            args += ["LIMIT", str(r.randint(0, 2)), str(r.randint(-1, 3))]
        return args

    def write_cmd(self) -> list:
        r = self.rng
        x = r.random()
        if x < 0.27:
            return self.string_cmd()
        if x < 0.42:
            return self.key_cmd()
        if x < 0.53:
            return self.hash_cmd()
        if x < 0.74:
            return self.list_cmd()
        if x < 0.84:
            return self.set_cmd()
        return self.zset_cmd()

    # -- composite steps --------------------------------------------------------------------
    def multi_block(self) -> None:
        r = self.rng
        start_db = self.db
        assert self.send("MULTI") == b"+OK\r\n"
        self.in_multi = True
        touched_db = False
        for _ in range(r.randint(2, 4)):
            if r.random() < 0.08:
                self.db = r.choice(DBS)
                self.send("SELECT", str(self.db))
                touched_db = True
            if r.random() < 0.03:
                self.send("SET", self.key("string"))  # arity error: EXEC aborts
            x = r.random()
            if x < 0.1:
                self.script(in_multi=True)
            elif x < 0.15:
                self.tmp_keys()
            else:
                self.send(*self.write_cmd())
        self.in_multi = False
        if r.random() < 0.04:
            self.send("DISCARD")
        else:
            self.send("EXEC")
        if touched_db:
            self.select(start_db)

    def script(self, in_multi: bool = False) -> None:
        r = self.rng
        if r.random() < 0.01:
            self.send("SCRIPT", "FLUSH")  # later EVALSHAs fail until EVAL caches the body again
            return
        i = r.randrange(len(SCRIPTS))
        body, nkeys, nargs = SCRIPTS[i]
        families = ["string", "list", "set", "hash", "zset"]
        keys = [self.key(r.choice(families)) for _ in range(nkeys)]
        args = [r.choice(["1", "2.5", "-3", "hello", "m1", "7"]) for _ in range(nargs)]
        if r.random() < 0.4:
            self.send("EVALSHA", self.shas[i], str(nkeys), *keys, *args)
        else:
            self.send("EVAL", body, str(nkeys), *keys, *args)
        if "SELECT" in body and not in_multi:
            self.select(self.db)

    def fcall(self) -> None:
        r = self.rng
        x = r.random()
        if x < 0.01:
            self.send("FUNCTION", "FLUSH")
            return
        if x < 0.03:
            self.send("FUNCTION", "LOAD", "REPLACE", function_lib(r.randint(1, 9)))
            return
        if x < 0.04:
            self.send("FUNCTION", "DELETE", "fuzzlib")
            return
        if x < 0.1:
            self.send("FUNCTION", "LOAD", function_lib(0))  # errors unless deleted
            return
        name = r.choice(["fpush", "fmix", "fset", "fget"])
        keys = {"fpush": [self.key("list")], "fmix": [self.key("hash"), self.key("set")],
                "fset": [self.key("string")], "fget": [self.key("string")]}[name]
        cmd = r.choice(["FCALL", "FCALL_RO"]) if name == "fget" else "FCALL"
        self.send(cmd, name, str(len(keys)), *keys, self.value())

    def tmp_keys(self) -> None:
        """Short TTLs on throwaway keys: lazy and active expiry must be logged as DEL, and
        commands that found a key before its TTL ran out must find it on replay too."""
        r = self.rng
        t = r.choice(TMP)
        x = r.random()
        if x < 0.3:
            self.send("SET", t, self.value(), "PX", "1")
        elif x < 0.5:
            # Same batch, so the key is still there for the next command; it must be found on
            # replay too, though its time has long passed by then.
            follow = r.choice([["PERSIST", t], ["APPEND", t, "x"], ["INCR", t], ["GETEX", t, "PERSIST"],
                               ["SET", t, "new", "KEEPTTL"], ["RENAME", t, r.choice(TMP)]])
            holder = follow[-1] if follow[0] == "RENAME" else t
            self.pipeline([("SET", t, "5", "PX", "1"), tuple(follow), ("PERSIST", holder)])
        elif x < 0.7:
            self.send(r.choice(["GET", "EXISTS", "TTL", "TYPE"]), t)
        elif x < 0.75:
            self.send("RANDOMKEY")  # may meet (and delete) an expired key too
        else:
            self.send(*r.choice([["APPEND", t, "y"], ["LPUSH", t, "y"], ["SADD", t, "y"], ["INCR", t],
                                 ["HSET", t, "f", "y"], ["ZADD", t, "1", "y"], ["DEL", t]]))

    def served_pop(self) -> None:
        """A blocking pop parked on the other connection, served by a push from this one."""
        r = self.rng
        zset = r.random() < 0.35
        k = self.key("zset" if zset else "list")
        kind = resp.parse(self.send("TYPE", k))
        if kind not in ("none", "zset" if zset else "list"):
            return
        cmd = r.choice(ZSET_BLOCKERS if zset else LIST_BLOCKERS)
        if cmd in ("BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"):
            args = [cmd, k, "0.5"]
        elif cmd == "BLMOVE":
            args = [cmd, k, self.key("list"), r.choice(["LEFT", "RIGHT"]), r.choice(["LEFT", "RIGHT"]), "0.5"]
        elif cmd == "BRPOPLPUSH":
            args = [cmd, k, self.key("list"), "0.5"]
        elif cmd == "BLMPOP":
            args = [cmd, "0.5", "1", k, r.choice(["LEFT", "RIGHT"]), "COUNT", str(r.randint(1, 3))]
        else:
            args = [cmd, "0.5", "1", k, r.choice(["MIN", "MAX"]), "COUNT", str(r.randint(1, 3))]
        assert self.blocker.command("SELECT", str(self.db)) == b"+OK\r\n"
        self.blocker.send_raw(resp.encode(*args))
        self.record(self.db, "blocker(sent)", args, b"")
        # Wait (bounded) until it is parked, or has already answered.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if select.select([self.blocker.sock], [], [], 0)[0] or self.blocker.buf[self.blocker.pos:]:
                break
            if info_field(self.c, "clients", "blocked_clients") == "1":
                break
            time.sleep(0.001)  # short poll interval inside a bounded loop
        how = r.random()
        if zset:
            push = ["ZADD", k, r.choice(SCORES[:7]), self.member(), r.choice(SCORES[:7]), self.member()]
        else:
            push = [r.choice(["LPUSH", "RPUSH"]), k, self.value(), self.value()]
        if how < 0.6:
            self.send(*push)
        elif how < 0.8:
            self.send("MULTI")
            self.in_multi = True
            self.send(*push)
            self.send(*self.write_cmd())
            self.in_multi = False
            self.send("EXEC")
        else:
            argv = ", ".join(f"ARGV[{i + 1}]" for i in range(len(push) - 2))
            body = f"return redis.call('{push[0]}', KEYS[1], {argv})"
            self.send("EVAL", body, "1", k, *push[2:])
        reply = self.blocker.read_reply()
        self.record(self.db, "blocker(reply)", args, reply)

    def bulk(self) -> None:
        """A big collection or string, so the rewrite's base also holds Redis's non-compact
        encodings (quicklist, hashtable, skiplist, large intset and LZF-compressible strings)."""
        r = self.rng
        n = r.choice([130, 300, 600])
        family = r.choice(["list", "set", "intset", "hash", "zset", "string"])
        if family == "list":
            self.send("RPUSH", self.key("list"), *[f"e{i}" for i in range(n)])
        elif family == "set":
            self.send("SADD", self.key("set"), *[f"s{i}" for i in range(n)])
        elif family == "intset":
            self.send("SADD", self.key("set"), *[str(i * 3) for i in range(n)])
        elif family == "hash":
            self.send("HSET", self.key("hash"), *[x for i in range(n) for x in (f"h{i}", "v" * (i % 70))])
        elif family == "zset":
            self.send("ZADD", self.key("zset"), *[x for i in range(n) for x in (str(i / 7), f"z{i}")])
        else:
            self.send("SET", self.key("string"), "abc" * 3000 + str(n))

    def step(self) -> None:
        r = self.rng
        x = r.random()
        if x < 0.003:
            self.bulk()
        elif x < 0.04:
            self.select(r.choice(DBS))
        elif x < 0.08:
            self.multi_block()
        elif x < 0.13:
            self.script()
        elif x < 0.15:
            self.fcall()
        elif x < 0.18:
            self.tmp_keys()
        elif x < 0.195:
            self.served_pop()
        else:
            self.send(*self.write_cmd())

    def setup(self) -> None:
        self.shas = [resp.parse(self.send("SCRIPT", "LOAD", body)) for body, _, _ in SCRIPTS]
        self.send("FUNCTION", "LOAD", function_lib(0))
        self.select(0)

    def run(self, n: int) -> None:
        self.select(self.rng.choice(DBS))
        for _ in range(n):
            self.step()

    def settle(self) -> None:
        """Delete throwaway keys that still have a TTL, so nothing expires during the checks."""
        for db in range(16):
            self.select(db)
            for t in TMP + [SURVIVOR]:
                ttl = self.c.command("PTTL", t)
                self.record(db, "probe", ("PTTL", t), ttl)
                if resp.parse(ttl) >= 0:
                    self.send("DEL", t)
        self.select(0)


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

def read_aof_commands(directory: str) -> list[tuple[str, int, list[bytes]]]:
    """The commands of every incremental AOF file (file name, db, args)."""
    aof_dir = os.path.join(directory, "appendonlydir")
    out = []
    try:
        with open(os.path.join(aof_dir, "appendonly.aof.manifest")) as f:
            names = [line.split()[1] for line in f if line.split()[-1] in ("i", "b")]
    except OSError:
        return out
    for name in names:
        try:
            with open(os.path.join(aof_dir, name), "rb") as f:
                data = f.read()
        except OSError:
            continue
        if data.startswith(b"REDIS"):
            continue  # an RDB preamble
        db, pos = 0, 0
        while pos < len(data):
            try:
                args, pos = resp._parse(data, pos)
            except Exception:
                break
            if not isinstance(args, list):
                break
            if args and args[0].upper() == b"SELECT":
                db = int(args[1])
            out.append((name, db, args))
    return out


def dataset(c: resp.Conn) -> dict:
    """``contents`` with each library's functions in name order (FUNCTION LIST's order is
    Redis's hash-table order, not part of the state)."""
    out = contents(c)
    libraries = []
    for lib in out["functions"]:
        lib = list(lib)
        i = lib.index(b"functions") + 1
        lib[i] = sorted(lib[i], key=lambda f: f[1])
        libraries.append(lib)
    out["functions"] = sorted(libraries, key=lambda lib: lib[1])
    return out


def clip(value, limit: int = 700) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def difference(a, b) -> list[str]:
    """For two values of the same type: what differs, element by element."""
    if not (isinstance(a, tuple) and isinstance(b, tuple)) or a[0] != b[0]:
        return []
    out = []
    if a[2] != b[2]:
        out.append(f"   PEXPIRETIME: expected {a[2]}, found {b[2]}")
    va, vb = a[1], b[1]
    if isinstance(va, list) and isinstance(vb, list) and va != vb:
        if a[0] == "list":
            i = next((i for i, (x, y) in enumerate(zip(va, vb)) if x != y), min(len(va), len(vb)))
            out.append(f"   lengths {len(va)} vs {len(vb)}; first difference at index {i}: "
                       f"{clip(va[i:i + 5], 200)} vs {clip(vb[i:i + 5], 200)}")
        else:
            fa = [tuple(x) if isinstance(x, list) else x for x in va]
            fb = [tuple(x) if isinstance(x, list) else x for x in vb]
            if a[0] == "zset":
                fa, fb = list(zip(fa[0::2], fa[1::2])), list(zip(fb[0::2], fb[1::2]))
            only_a = [x for x in fa if x not in set(fb)]
            only_b = [x for x in fb if x not in set(fa)]
            out.append(f"   only expected: {clip(only_a, 300)}; only found: {clip(only_b, 300)}")
    return out


def describe_mismatch(stage: str, expected: dict, found: dict, log: list, directory: str) -> str:
    lines = [f"{stage}: dataset differs from the one before (seed {SEED}; "
             f"rerun with ATOLL_AOF_FUZZ_SEED={SEED})"]
    differing = sorted((k for k in set(expected) | set(found) if expected.get(k) != found.get(k)), key=repr)
    aof = read_aof_commands(directory)
    for k in differing:
        lines.append(f"\n== {k!r}\n   expected: {clip(expected.get(k))}\n   found:    {clip(found.get(k))}")
        lines += difference(expected.get(k), found.get(k))
        if k == "functions":
            continue
        db, name = k
        name_b = name if isinstance(name, bytes) else str(name).encode()
        sent = [e for e in log if e[2] != "probe" and (
                any((a if isinstance(a, bytes) else str(a).encode()) == name_b for a in e[3])
                or str(e[3][0]).upper() in ("SWAPDB", "FLUSHDB", "FLUSHALL", "DEBUG", "BGREWRITEAOF", "--"))]
        lines.append(f"   last {min(40, len(sent))} commands sent that mention it (seq db who: command -> reply):")
        for seq, edb, who, args, reply in sent[-40:]:
            lines.append(f"     #{seq} db{edb} {who}: {show_args(args)} -> {short(reply)}")
        logged = [(n, d, a) for n, d, a in aof if name_b in a or (a and a[0].upper() in (b"SWAPDB", b"FLUSHDB", b"FLUSHALL"))]
        lines.append(f"   last {min(25, len(logged))} AOF commands that mention it (file db: command):")
        for n, d, a in logged[-25:]:
            lines.append(f"     {n} db{d}: {show_args(a)}")
    return "\n".join(lines)


def check(stage: str, expected: dict, found: dict, log: list, directory: str) -> None:
    if found == expected:
        return
    message = describe_mismatch(stage, expected, found, log, directory)
    if KEEP:
        kept = tempfile.mkdtemp(prefix="atoll-aof-fuzz-kept-")
        shutil.copytree(os.path.join(directory, "appendonlydir"), os.path.join(kept, "appendonlydir"))
        message += f"\n(AOF directory kept in {kept})"
    raise AssertionError(message)


@contextlib.contextmanager
def loaded(kind: str, stage: str, directory: str, log: list):
    """spawn() a server on ``directory``'s AOF; a refusal to load fails with the seed."""
    try:
        with spawn(kind, "--dir", directory, *AOF) as p:
            yield p
    except RuntimeError as e:
        if "during startup" not in str(e) and "not ready" not in str(e):
            raise
        boilerplate = ("WARNING", "Redis version", "Configuration loaded", "Server initialized", "Redis is starting")
        reasons = [line for line in str(e).splitlines()
                   if (" # " in line or "Bad" in line or "rror" in line) and not any(b in line for b in boilerplate)]
        message = (f"{stage}: {kind} did not load the directory (seed {SEED}; rerun with "
                   f"ATOLL_AOF_FUZZ_SEED={SEED}):\n  " + "\n  ".join(reasons[-5:] or [str(e)[-2000:]]))
        unknown = re.search(r"Unknown command '([^']*)'", str(e))
        if unknown:
            name = unknown.group(1).upper()
            logged = [(n, d, a) for n, d, a in read_aof_commands(directory) if a and a[0].upper() == name.encode()]
            message += f"\n{len(logged)} such commands in the AOF, e.g.:"
            for n, d, a in logged[:5]:
                message += f"\n  {n} db{d}: {show_args(a)}"
            sent = [e for e in log if e[2] != "probe" and name in " ".join(map(str, e[3])).upper()]
            message += f"\n{len(sent)} commands sent mention {name}, e.g.:"
            for seq, edb, who, args, reply in sent[:8]:
                message += f"\n  #{seq} db{edb} {who}: {show_args(args)} -> {short(reply)}"
        if KEEP:
            kept = tempfile.mkdtemp(prefix="atoll-aof-fuzz-kept-")
            shutil.copytree(os.path.join(directory, "appendonlydir"), os.path.join(kept, "appendonlydir"))
            message += f"\n(AOF directory kept in {kept})"
        raise AssertionError(message) from None


def marker(log: list, text: str) -> None:
    log.append((len(log), -1, "test", ("--", text), b""))


# ---------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------

def test_random_writes_replay_from_the_append_only_file():
    print(f"\n[aof-replay-fuzz] seed {SEED} (ATOLL_AOF_FUZZ_SEED), {N_COMMANDS} commands")
    started = time.monotonic()
    rng = random.Random(SEED)
    log: list = []
    with tempfile.TemporaryDirectory(prefix="atoll-aof-fuzz-") as directory:
        # DEBUG needs enable-debug-command, in Atoll as in Redis 7.
        with spawn("atoll", "--dir", directory, *AOF, "--enable-debug-command", "yes") as a:
            c = a.connect(timeout=15)
            blocker = a.connect(timeout=15)
            fuzz = Fuzzer(rng, c, blocker, log)
            fuzz.setup()
            fuzz.run(N_COMMANDS)
            fuzz.settle()
            expected = dataset(c)
            keys_left = len(expected) - 1

            marker(log, "DEBUG LOADAOF")
            reply = c.command("DEBUG", "LOADAOF")
            assert reply == b"+OK\r\n", f"DEBUG LOADAOF replied {reply!r} (seed {SEED})\n{a.logs()}"
            check("after DEBUG LOADAOF", expected, dataset(c), log, directory)

            # Writes go on while the rewrite runs: each must land in the base or in the new
            # incremental file, never in both or neither. A key that is still alive when the
            # rewrite writes the base, and has expired when the base is loaded, must be found
            # by the PERSIST in the incremental file.
            marker(log, "BGREWRITEAOF")
            fuzz.select(0)
            fuzz.send("SET", SURVIVOR, "survivor", "PX", "1500")
            survivor_set = time.monotonic()
            reply = c.command("BGREWRITEAOF")
            assert reply.startswith(b"+"), f"BGREWRITEAOF replied {reply!r}\n{a.logs()}"
            survivor_kept = fuzz.send("PERSIST", SURVIVOR) == b":1\r\n"
            n2 = max(N_COMMANDS // 8, 50)
            during = 0
            deadline = time.monotonic() + 20
            while not (info_field(c, "persistence", "aof_rewrite_in_progress") == "0"
                       and info_field(c, "persistence", "aof_rewrites") == "1"):
                assert time.monotonic() < deadline, "BGREWRITEAOF did not finish in 20 s\n" + a.logs()
                if during < n2 // 2:
                    for _ in range(5):
                        fuzz.step()
                    during += 5
                else:
                    time.sleep(0.01)  # short poll interval inside a bounded loop
            assert info_field(c, "persistence", "aof_last_bgrewrite_status") == "ok", a.logs()
            marker(log, "BGREWRITEAOF done")
            fuzz.run(n2 - during)
            fuzz.settle()
            expected = dataset(c)
            # Let the survivor's original time pass before the file is loaded again.
            time.sleep(max(0.0, 1.6 - (time.monotonic() - survivor_set)))

            marker(log, "DEBUG LOADAOF (base + incremental)")
            reply = c.command("DEBUG", "LOADAOF")
            assert reply == b"+OK\r\n", f"DEBUG LOADAOF replied {reply!r} (seed {SEED})\n{a.logs()}"
            check("after BGREWRITEAOF and DEBUG LOADAOF", expected, dataset(c), log, directory)
            c.close()
            blocker.close()

        marker(log, "restart Atoll")
        with loaded("atoll", "restart", directory, log) as a:
            c = a.connect(timeout=15)
            check("after restarting Atoll on the same directory", expected, dataset(c), log, directory)
            c.close()

        if redis_available():
            marker(log, "start redis-server")
            with loaded("redis", "redis-server", directory, log) as r:
                c = r.connect(timeout=15)
                check("redis-server loading Atoll's directory", expected, dataset(c), log, directory)
                c.close()
    sent = sum(1 for e in log if e[2] not in ("probe", "test"))
    print(f"[aof-replay-fuzz] seed {SEED}: {sent} commands sent ({during} during the rewrite), "
          f"survivor persisted: {survivor_kept}, {keys_left} keys at the first check, "
          f"{time.monotonic() - started:.1f} s")
