"""Seeded randomized differential run over the hash and set commands.

A generator with a fixed seed (``ATOLL_COLLECTION_FUZZ_SEED``, default below) sends
``ATOLL_COLLECTION_FUZZ_N`` random commands per protocol (RESP2, then RESP3) over five keys,
a small member alphabet and a few string keys for WRONGTYPE, to Redis and to Atoll, and
compares every reply: exactly, as multisets for replies whose order Redis does not fix, as
field -> value maps for HGETALL, and by shape plus invariants for random replies. SPOP is
the one random command that changes data: after it, Atoll's set is brought to Redis's
outcome (adding back what only Atoll popped, removing what only Redis popped) so the two
keyspaces stay equal. Counts that would make Redis rebuild the set from its remainder are
not drawn, since the rebuilt encoding would depend on which members were popped.
"""

import os
import random

import pytest

import resp
from collection_checks import check_pairs, scan_all
from diff import shape_of

SEED = int(os.environ.get("ATOLL_COLLECTION_FUZZ_SEED", "20240611"))
N = int(os.environ.get("ATOLL_COLLECTION_FUZZ_N", "1500"))

KEYS = ["k0", "k1", "k2", "k3", "k4"]
INTEGERS = ["1", "2", "3", "-5", "10", "0", "9223372036854775807"]
WORDS = ["a", "b", "", "07", "+1", "x\x00\xff", "\r\n"]
LONG = "L" * 70
FIELDS = ["f", "g", "h", "1", "", "\x00"]
VALUES = INTEGERS[:4] + ["2.5", "abc", "", "1e3"]
INCREMENTS = ["1", "-2", "0", "9223372036854775807", "x", "1.5"]
FLOAT_INCREMENTS = ["0.1", "-1.5", "1e3", "3", "abc", "inf", "0x10"]
COUNTS = ["0", "1", "2", "3", "5", "20", "-1", "-4", "-20", "abc"]


class Fuzzer:
    def __init__(self, diff, rng: random.Random):
        self.d = diff
        self.r = rng

    # -- argument choices ----------------------------------------------------------------
    def key(self, family=None):
        """Hash commands lean to k0 and k1, set commands to k2..k4, so most commands meet a
        key of their own type while every pairing still happens."""
        if family == "hash" and self.r.random() < 0.75:
            return self.r.choice(KEYS[:2])
        if family == "set" and self.r.random() < 0.75:
            return self.r.choice(KEYS[2:])
        return self.r.choice(KEYS)

    def keys(self, low=1, high=3):
        return [self.key("set") for _ in range(self.r.randint(low, high))]

    def member(self):
        roll = self.r.random()
        if roll < 0.7:
            return self.r.choice(INTEGERS)
        return LONG if roll > 0.98 else self.r.choice(WORDS)

    def members(self, low=1, high=4):
        return [self.member() for _ in range(self.r.randint(low, high))]

    def field(self):
        return LONG if self.r.random() > 0.98 else self.r.choice(FIELDS)

    def value(self):
        return LONG if self.r.random() > 0.97 else self.r.choice(VALUES)

    def pairs(self):
        out = []
        for _ in range(self.r.randint(1, 3)):
            out += [self.field(), self.value()]
        return out

    def pattern(self):
        return self.r.choice(["*", "1*", "*a*", "[fg]", "?"])

    # -- one step ----------------------------------------------------------------------------
    def step(self):
        kind = self.r.random()
        if kind < 0.45:
            self.hash_command()
        elif kind < 0.92:
            self.set_command()
        else:
            self.generic_command()

    def exact(self, *args):
        self.d.check(*args)

    def unordered(self, *args):
        self.d.check_unordered(*args)

    def hash_command(self):
        r, k = self.r, self.key("hash")
        choice = r.randrange(17)
        if choice == 0:
            self.exact("HSET", k, *self.pairs())
        elif choice == 1:
            self.exact("HSETNX", k, self.field(), self.value())
        elif choice == 2:
            args = self.pairs()
            self.exact("HMSET", k, *(args if r.random() < 0.9 else args[:-1]))
        elif choice == 3:
            self.exact("HGET", k, self.field())
        elif choice == 4:
            self.exact("HMGET", k, *[self.field() for _ in range(r.randint(1, 3))])
        elif choice == 5:
            check_pairs(self.d, "HGETALL", k)
        elif choice == 6:
            self.exact("HDEL", k, *[self.field() for _ in range(r.randint(1, 3))])
        elif choice == 7:
            self.exact("HEXISTS", k, self.field())
        elif choice == 8:
            self.exact("HLEN", k)
        elif choice == 9:
            self.unordered("HKEYS", k)
        elif choice == 10:
            self.unordered("HVALS", k)
        elif choice == 11:
            self.exact("HINCRBY", k, self.field(), r.choice(INCREMENTS))
        elif choice == 12:
            self.exact("HINCRBYFLOAT", k, self.field(), r.choice(FLOAT_INCREMENTS))
        elif choice == 13:
            self.exact("HSTRLEN", k, self.field())
        elif choice == 14:
            self.random_read(["HRANDFIELD", k] + r.choice([[], [r.choice(COUNTS)],
                                                           [r.choice(COUNTS), "WITHVALUES"]]))
        elif choice == 15:
            self.scan("HSCAN", k)
        else:
            self.exact("OBJECT", "ENCODING", k)

    def set_command(self):
        r, k = self.r, self.key("set")
        choice = r.randrange(19)
        if choice in (0, 1):
            self.exact("SADD", k, *self.members())
        elif choice == 2:
            self.exact("SREM", k, *self.members())
        elif choice == 3:
            self.unordered("SMEMBERS", k)
        elif choice == 4:
            self.exact("SISMEMBER", k, self.member())
        elif choice == 5:
            self.exact("SMISMEMBER", k, *self.members())
        elif choice == 6:
            self.exact("SCARD", k)
        elif choice == 7:
            self.spop(k)
        elif choice == 8:
            self.random_read(["SRANDMEMBER", k] + ([r.choice(COUNTS)] if r.random() < 0.7 else []))
        elif choice == 9:
            self.exact("SMOVE", k, self.key("set"), self.member())
        elif choice in (10, 11, 12):
            op = ["SINTER", "SUNION", "SDIFF"][choice - 10]
            self.unordered(op, *self.keys())
        elif choice == 13:
            keys = self.keys()
            args = ["SINTERCARD", str(len(keys)), *keys]
            if r.random() < 0.4:
                args += ["LIMIT", r.choice(["0", "1", "2", "-1"])]
            self.exact(*args)
        elif choice in (14, 15, 16):
            op = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][choice - 14]
            self.exact(op, self.key("set"), *self.keys())
        elif choice == 17:
            self.scan("SSCAN", k)
        else:
            self.exact("OBJECT", "ENCODING", k)

    def generic_command(self):
        r, k = self.r, self.key()
        choice = r.randrange(8)
        if choice < 3:
            self.exact("DEL", k)
        elif choice == 3:
            self.exact("TYPE", k)
        elif choice == 4:
            self.exact("SET", k, "str")
        elif choice == 5:
            self.exact("EXISTS", *self.keys())
        elif choice == 6:
            self.exact("DBSIZE")
        else:
            self.exact("OBJECT", "ENCODING", k)

    # -- random replies --------------------------------------------------------------------------
    def random_read(self, args):
        """Errors must match exactly; other replies by shape (what they hold is random)."""
        r, a = self.d.both(*args)
        if r[:1] == b"-" or a[:1] == b"-":
            assert r == a, (args, r, a)
        else:
            assert shape_of(r) == shape_of(a), (args, r, a)

    def scan(self, command, key):
        opts = []
        if self.r.random() < 0.5:
            opts += ["MATCH", self.pattern()]
        if self.r.random() < 0.5:
            opts += ["COUNT", self.r.choice(["1", "2", "10", "0"])]
        scan_all(self.d, command, key, *opts)

    def spop(self, key):
        size_reply = self.d.check("SCARD", key)
        size = int(size_reply[1:-2]) if size_reply[:1] == b":" else 0
        if self.r.random() < 0.3:
            args = ["SPOP", key]
        else:
            counts = [c for c in (0, 1, 2, 3, size, size + 2)
                      if c >= size or (size - c) * 5 > c]
            args = ["SPOP", key, str(self.r.choice(counts))]
        r, a = self.d.both(*args)
        if r[:1] == b"-" or a[:1] == b"-":
            assert r == a, (args, r, a)
            return
        assert shape_of(r, deep=False) == shape_of(a, deep=False), (args, r, a)

        def popped(raw):
            value = resp.parse(raw)
            if value is None:
                return set()
            return {value} if isinstance(value, bytes) else set(value)

        ref_popped, atoll_popped = popped(r), popped(a)
        assert len(ref_popped) == len(atoll_popped), (args, r, a)
        # Bring Atoll's set to Redis's outcome: re-add first so the key never empties.
        only_atoll, only_ref = atoll_popped - ref_popped, ref_popped - atoll_popped
        if only_atoll:
            self.d.atoll.command("SADD", key, *sorted(only_atoll))
        if only_ref:
            self.d.atoll.command("SREM", key, *sorted(only_ref))
        self.unordered("SMEMBERS", key)


@pytest.mark.parametrize("protocol", [2, 3])
def test_random_commands(diff, protocol):
    if protocol == 3:
        r, a = diff.both("HELLO", "3")
        assert r[:1] == a[:1] == b"%"
    fuzzer = Fuzzer(diff, random.Random(SEED * 10 + protocol))
    start = diff.count
    for _ in range(N):
        fuzzer.step()
    assert diff.count - start >= N
    # The keyspaces end equal.
    for key in KEYS:
        diff.check("TYPE", key)
        diff.check("OBJECT", "ENCODING", key)
