"""Differential tests for the bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
BITFIELD_RO, their errors and edge cases, and random sequences of them, byte for byte against
redis-server."""
import random

import pytest


def test_setbit_getbit(diff):
    diff.run([
        "SETBIT k 7 1", "GET k", "GETBIT k 7", "GETBIT k 6", "GETBIT k 100", "SETBIT k 7 1", "SETBIT k 7 0",
        "GET k", "SETBIT k 100 1", "STRLEN k", "GETBIT k 100", "SETBIT k 0 0", "OBJECT ENCODING k",
        "GETBIT nokey 0", "SETBIT n 3 0", "GET n", "EXISTS n",
        "SET num 123", "GETBIT num 2", "GETBIT num 7", "SETBIT num 1 1", "GET num", "OBJECT ENCODING num",
        "SET v abc PXAT 4102444800250", "SETBIT v 1 1", "PEXPIRETIME v",
    ])


def test_setbit_getbit_errors(diff):
    diff.run([
        "SETBIT k -1 1", "SETBIT k x 1", "SETBIT k 1 2", "SETBIT k 1 -1", "SETBIT k 1 x", "SETBIT k x x",
        "SETBIT k 4294967296 1", "SETBIT k 4294967295 0", "EXISTS k", "GETBIT k 4294967296", "GETBIT k -1",
        "GETBIT k 01", "SETBIT k 01 1", "SETBIT k 1 01", "SETBIT k", "GETBIT k",
        "LPUSH l a", "SETBIT l 0 1", "GETBIT l 0", "SETBIT l x 1", "GETBIT l x",
        "SETBIT k 9223372036854775807 1", "SETBIT k 9223372036854775808 1",
    ])


def test_bit_writes_touch_their_key(diff):
    """SETBIT and BITFIELD's writes look their key up for writing, as Redis's
    `lookupStringForBitCommand` does (a wrong type too): under an LFU policy the first access
    raises a new key's counter from 5 to 6 for certain, as GETBIT's read does."""
    diff.run([
        "CONFIG SET maxmemory-policy allkeys-lfu",
        "SET k x", "SETBIT k 1 1", "OBJECT FREQ k", "SET f x", "BITFIELD f SET u8 0 255", "OBJECT FREQ f",
        "SET g x", "GETBIT g 0", "OBJECT FREQ g", "LPUSH l a", "SETBIT l 0 1", "OBJECT FREQ l",
        "CONFIG SET maxmemory-policy noeviction",
    ])


def test_setbit_beyond_proto_max_bulk_len(diff):
    diff.run(["CONFIG SET proto-max-bulk-len 1048576", "SETBIT k 8388608 1", "SETBIT k 8388607 1", "STRLEN k",
              "CONFIG SET proto-max-bulk-len 536870912"])


BITCOUNT_RANGES = ["", "0 -1", "0 0", "1 1", "-1 -1", "-2 -1", "5 2", "-1 -2", "-100 100", "2 -100",
                   "0 -1 BYTE", "0 -1 BIT", "1 5 BIT", "5 1 BIT", "-5 -1 BIT", "7 8 bit", "9 22 BIT",
                   "0 0 byte", "100 200 BIT", "-1000 -999 BIT", "3 3 BIT"]


def _each_on(diff, key_value, command, argument_lists):
    """`command k ...` with every argument list, on k holding `key_value` (None: no key)."""
    if key_value is not None:
        diff.check("SET", "k", key_value)
    for arguments in argument_lists:
        diff.check(command, "k", *arguments.split())


@pytest.mark.parametrize("key_value", ["foobar", "\x00\xff\x81", "1234", "", None])
def test_bitcount_ranges(diff, key_value):
    _each_on(diff, key_value, "BITCOUNT", BITCOUNT_RANGES)


def test_bitcount_errors(diff):
    diff.run([
        "BITCOUNT nokey 0", "BITCOUNT nokey x y", "SET k foobar", "BITCOUNT k 0", "BITCOUNT k 0 1 2 3",
        "BITCOUNT k x 1", "BITCOUNT k 1 x", "BITCOUNT k 0 1 WORD", "BITCOUNT k 0 1 BIT x",
        "BITCOUNT k 9223372036854775807 9223372036854775807 BIT", "BITCOUNT k -9223372036854775808 -1 BIT",
        "LPUSH l a", "BITCOUNT l", "BITCOUNT l x", "BITCOUNT", "BITCOUNT nokey 0 1 2",
        # Redis answers 0 for a negative range that ends before it starts before reading the unit.
        "BITCOUNT k -1 -2 WORD", "BITCOUNT k -1 -2 BIT", "BITCOUNT k -2 -1 WORD", "BITCOUNT k -1 -2 BIT x",
    ])


BITPOS_ARGS = ["1", "0", "1 0", "0 0", "1 2", "0 2", "1 -1", "0 -1", "1 0 -1", "0 0 -1", "0 1 1",
               "1 1 1", "1 5 2", "0 -2 -1", "1 0 -1 BIT", "0 0 -1 BIT", "1 3 10 BIT", "0 3 10 BIT",
               "0 7 7 BIT", "1 7 7 BIT", "0 1 1 bit", "1 100 200 BIT", "0 100 200", "0 0 0 BYTE",
               "1 -3 -1 BIT", "0 -3 -1 BIT", "1 9 BIT"]


@pytest.mark.parametrize("key_value", ["\xff\xf0\x00", "\x00\x00\x00", "\xff\xff\xff", "\x00\x0f",
                                       "\x80", "10", "", None])
def test_bitpos(diff, key_value):
    _each_on(diff, key_value, "BITPOS", BITPOS_ARGS)


def test_bitpos_errors(diff):
    diff.run([
        "BITPOS k 2", "BITPOS k x", "BITPOS k -1", "BITPOS nokey 1 x", "SET k abc", "BITPOS k 1 x",
        "BITPOS k 1 0 x", "BITPOS k 1 0 1 WORD", "BITPOS k 1 0 1 BIT 3", "BITPOS k", "LPUSH l a",
        "BITPOS l 1", "BITPOS l 2", "BITPOS nokey 0 1 2 3 4",
    ])


def test_bitop(diff):
    diff.run([
        "SET a foobar", "SET b abcdef", "SET c \x00\xff", "BITOP AND d a b", "GET d", "BITOP OR d a b c",
        "GET d", "BITOP XOR d a b c", "GET d", "BITOP NOT d a", "GET d", "BITOP not d c", "GET d",
        "BITOP AND d a nokey", "GET d", "BITOP OR d nokey1 nokey2", "EXISTS d", "SET d x",
        "BITOP XOR d nokey", "EXISTS d", "BITOP and d a", "GET d",
        "SET e y EX 100", "BITOP OR e a", "TTL e", "LPUSH l x", "BITOP OR l a", "TYPE l",
        "SET n 12", "BITOP NOT d n", "GET d",
    ])


def test_bitop_errors(diff):
    diff.run([
        "BITOP NAND d a", "BITOP NOT d a b", "BITOP NOT d", "BITOP AND d", "LPUSH l x",
        "BITOP AND d a l", "BITOP NOT d l", "BITOP", "BITOP AND",
    ])


def test_bitfield(diff):
    diff.run([
        "BITFIELD k SET i8 0 100 GET i8 0 INCRBY i8 0 100 GET u4 0",
        "BITFIELD k GET u8 0 GET i8 0 GET u1 7 GET i64 0 GET u63 1 GET i5 #3",
        "BITFIELD k INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1 INCRBY u2 102 1",
        "BITFIELD k OVERFLOW FAIL INCRBY u2 102 1 OVERFLOW WRAP INCRBY u2 102 5",
        "BITFIELD k SET u8 #1 255 GET u8 8 SET i16 #2 -1 GET u16 32", "GET k", "STRLEN k",
        "BITFIELD k OVERFLOW SAT SET i8 0 1000 SET i8 0 -1000 SET u8 0 -1 SET u8 0 1000 GET i8 0",
        "BITFIELD k OVERFLOW FAIL SET i8 0 128 SET i8 0 -129 SET u8 0 256 SET u8 0 -1 GET u8 0",
        "BITFIELD k OVERFLOW WRAP SET i8 0 128 SET u8 0 256 SET u8 0 -1 SET i4 0 9 GET i4 0",
        "BITFIELD k SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 9223372036854775807",
        "BITFIELD k OVERFLOW SAT SET i64 0 -9223372036854775808 INCRBY i64 0 -1 OVERFLOW FAIL INCRBY i64 0 -1",
        "BITFIELD k SET u63 0 9223372036854775807 INCRBY u63 0 1 OVERFLOW SAT INCRBY u63 0 5 INCRBY u63 0 -9223372036854775808",
        "BITFIELD nokey GET u8 0 GET i16 100", "EXISTS nokey", "BITFIELD k", "BITFIELD_RO k GET u8 0 GET i3 5",
        "BITFIELD new OVERFLOW FAIL SET u8 16 300", "GET new",
        "SET num 123", "BITFIELD num GET u8 0 SET u8 0 65", "GET num",
        "BITFIELD k overflow sat incrby I8 0 1",
    ])


def test_bitfield_errors(diff):
    diff.run([
        "BITFIELD k GET", "BITFIELD k GET u8", "BITFIELD k SET u8 0", "BITFIELD k INCRBY u8 0",
        "BITFIELD k FOO u8 0", "BITFIELD k OVERFLOW", "BITFIELD k OVERFLOW BAD GET u8 0",
        "BITFIELD k GET u64 0", "BITFIELD k GET i65 0", "BITFIELD k GET u0 0", "BITFIELD k GET x8 0",
        "BITFIELD k GET U8 0", "BITFIELD k GET u 0", "BITFIELD k GET u-1 0", "BITFIELD k GET u08 0",
        "BITFIELD k GET u8 -1", "BITFIELD k GET u8 x", "BITFIELD k GET u8 #x", "BITFIELD k GET u8 #-1",
        "BITFIELD k SET u8 0 x", "BITFIELD k SET u8 4294967296 1", "BITFIELD k GET u8 #536870912",
        "BITFIELD k GET u8 #2305843009213693952", "BITFIELD k GET i64 #144115188075855872",
        "BITFIELD_RO k SET u8 0 1", "BITFIELD_RO k INCRBY u8 0 1 GET u8 0", "BITFIELD_RO k GET u8 x",
        "BITFIELD_RO k OVERFLOW SAT GET u8 0", "LPUSH l a", "BITFIELD l GET u8 0", "BITFIELD l SET u8 0 1",
        "BITFIELD_RO l GET u8 0", "BITFIELD l GET u64 0", "BITFIELD", "EXISTS k",
        "BITFIELD k SET u8 0 1 GET u99 0", "EXISTS k",
    ])


def test_offsets_near_the_top_of_int64(diff):
    """With proto-max-bulk-len at its largest, any offset up to 2^63-1 is accepted: reading a
    field that runs past bit 2^63 is zeros, not an overflow."""
    diff.check("CONFIG", "SET", "proto-max-bulk-len", "9223372036854775807")
    try:
        diff.run([
            "SET k abc", "BITFIELD k GET i64 9223372036854775807", "BITFIELD k GET u63 9223372036854775800",
            "BITFIELD_RO k GET i64 #144115188075855871 GET i8 #1152921504606846975", "BITFIELD k GET i8 #1152921504606846976",
            "GETBIT k 9223372036854775807", "BITFIELD k GET i3 #3074457345618258602", "BITFIELD nokey GET i64 9223372036854775807",
        ])
    finally:
        diff.check("CONFIG", "SET", "proto-max-bulk-len", "536870912")


def test_bitmaps_inside_multi_and_scripts(diff):
    diff.run([
        "MULTI", "SETBIT k 3 1", "BITCOUNT k", "BITFIELD k INCRBY u4 0 3", "BITOP NOT d k", "EXEC",
        ("EVAL", "redis.call('SETBIT', KEYS[1], 9, 1) return {redis.call('BITCOUNT', KEYS[1]),"
                 " redis.call('BITPOS', KEYS[1], 1), redis.call('BITFIELD_RO', KEYS[1], 'GET', 'u16', 0)}", "1", "k"),
        ("EVAL", "return redis.call('BITFIELD', KEYS[1], 'GET', 'u64', 0)", "1", "k"),
        ("EVAL", "return redis.pcall('SETBIT', KEYS[1], -1, 1)", "1", "k"),
    ])


@pytest.mark.parametrize("seed", range(8))
def test_random_bitmap_sequences(diff, seed):
    rng = random.Random(seed)
    keys = ["a", "b", "c"]

    def offset(limit=200):
        return str(rng.randrange(limit))

    def index():
        return str(rng.randint(-30, 30))

    for _ in range(150):
        k = rng.choice(keys)
        kind = rng.randrange(7)
        if kind == 0:
            diff.check("SETBIT", k, offset(), str(rng.randrange(2)))
        elif kind == 1:
            diff.check("GETBIT", k, offset(260))
        elif kind == 2:
            args = [index(), index()] + ([rng.choice(["BIT", "BYTE"])] if rng.random() < 0.5 else [])
            diff.check("BITCOUNT", k, *(args if rng.random() < 0.8 else []))
        elif kind == 3:
            args = [str(rng.randrange(2))] + [index() for _ in range(rng.randrange(3))]
            if len(args) == 3 and rng.random() < 0.5:
                args.append(rng.choice(["BIT", "BYTE"]))
            diff.check("BITPOS", k, *args)
        elif kind == 4:
            op = rng.choice(["AND", "OR", "XOR", "NOT"])
            sources = [rng.choice(keys + ["none"])] if op == "NOT" else rng.sample(keys + ["none"], rng.randint(1, 4))
            diff.check("BITOP", op, rng.choice(keys), *sources)
        else:
            ops = []
            for _ in range(rng.randint(1, 4)):
                signed = rng.random() < 0.5
                t = ("i" if signed else "u") + str(rng.randint(1, 64 if signed else 63))
                off = ("#" + str(rng.randrange(8))) if rng.random() < 0.3 else offset()
                if rng.random() < 0.3:
                    ops += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
                choice = rng.randrange(3)
                if choice == 0:
                    ops += ["GET", t, off]
                else:
                    value = rng.choice([rng.randint(-300, 300), rng.randint(-2**63, 2**63 - 1)])
                    ops += ["SET" if choice == 1 else "INCRBY", t, off, str(value)]
            diff.check("BITFIELD_RO" if all(o != "SET" and o != "INCRBY" for o in ops) and rng.random() < 0.5
                       else "BITFIELD", k, *ops)
        if rng.random() < 0.1:
            diff.check("GET", k)
