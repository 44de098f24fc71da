"""Native compare-and-set (Redis 8.4): SET ... IFEQ/IFNE/IFDEQ/IFDNE, DELEX and DIGEST.

The reference server (7.0) lacks these commands, so they are checked against redis.io's
documented behaviour, and DIGEST against an independent XXH3-64 (PyPI `xxhash`).
"""
import random

import pytest
import xxhash

import resp

NIL = b"$-1\r\n"
OK = b"+OK\r\n"
SYNTAX = b"-ERR syntax error\r\n"
BAD_DIGEST = b"-ERR must be exactly 16 hexadecimal characters\r\n"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


def bulk(v: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(v), v)


def digest_of(v: bytes) -> bytes:
    return xxhash.xxh3_64_hexdigest(v).encode()


# --- DIGEST ---------------------------------------------------------------------------

def test_digest_documented_example(atoll_conn):
    c = atoll_conn
    assert c.command("SET", "key1", "Hello world") == OK
    assert c.command("DIGEST", "key1") == bulk(b"b6acb9d84a38ff74")


def test_digest_missing_key_is_null(atoll_conn):
    assert atoll_conn.command("DIGEST", "nope") == NIL


def test_digest_wrong_type(atoll_conn):
    atoll_conn.command("RPUSH", "l", "a")
    assert atoll_conn.command("DIGEST", "l") == WRONGTYPE


def test_digest_arity(atoll_conn):
    assert atoll_conn.command("DIGEST") == b"-ERR wrong number of arguments for 'digest' command\r\n"
    assert atoll_conn.command("DIGEST", "a", "b") == b"-ERR wrong number of arguments for 'digest' command\r\n"


@pytest.mark.parametrize("value", [b"", b"0", b"123", b"-9223372036854775808", b"12345678901234567890",
                                   b"3.14", b"\x00\xff\r\n", b"x" * 44, b"y" * 45])
def test_digest_matches_xxh3(atoll_conn, value):
    """Integer-encoded, embedded and raw strings all hash their bytes."""
    atoll_conn.command("SET", "k", value)
    assert atoll_conn.command("DIGEST", "k") == bulk(digest_of(value))


def test_digest_matches_xxh3_random_lengths(atoll_conn):
    rng = random.Random(20261123)
    for n in list(range(0, 260)) + [511, 1024, 4096, 100_000]:
        value = bytes(rng.getrandbits(8) for _ in range(n))
        atoll_conn.command("SET", "k", value)
        assert atoll_conn.command("DIGEST", "k") == bulk(digest_of(value)), n


def test_digest_keeps_leading_zeros(atoll_conn):
    """A value whose hash starts with zero nibbles still gets 16 digits."""
    rng = random.Random(7)
    for _ in range(20000):
        value = b"%d" % rng.getrandbits(64)
        if digest_of(value).startswith(b"00"):
            break
    else:
        pytest.fail("no value with a leading-zero digest found")
    atoll_conn.command("SET", "k", value)
    assert atoll_conn.command("DIGEST", "k") == bulk(digest_of(value))


def test_digest_after_append_and_incr(atoll_conn):
    c = atoll_conn
    c.command("SET", "k", "10")
    c.command("INCRBY", "k", "5")
    assert c.command("DIGEST", "k") == bulk(digest_of(b"15"))
    c.command("APPEND", "k", "abc")
    assert c.command("DIGEST", "k") == bulk(digest_of(b"15abc"))


# --- SET IFEQ / IFNE -------------------------------------------------------------------

def test_set_ifeq(atoll_conn):
    c = atoll_conn
    assert c.command("SET", "k", "new", "IFEQ", "old") == NIL
    assert c.command("EXISTS", "k") == b":0\r\n", "IFEQ never creates a key"
    c.command("SET", "k", "old")
    assert c.command("SET", "k", "new", "IFEQ", "other") == NIL
    assert c.command("GET", "k") == bulk(b"old")
    assert c.command("SET", "k", "new", "IFEQ", "old") == OK
    assert c.command("GET", "k") == bulk(b"new")


def test_set_ifne(atoll_conn):
    c = atoll_conn
    assert c.command("SET", "k", "v1", "IFNE", "x") == OK, "IFNE creates a missing key"
    assert c.command("SET", "k", "v2", "IFNE", "v1") == NIL
    assert c.command("GET", "k") == bulk(b"v1")
    assert c.command("SET", "k", "v2", "ifne", "zzz") == OK
    assert c.command("GET", "k") == bulk(b"v2")


def test_set_ifeq_compares_integer_encoded_values_as_text(atoll_conn):
    c = atoll_conn
    c.command("SET", "n", "42")
    assert c.command("SET", "n", "43", "IFEQ", "042") == NIL
    assert c.command("SET", "n", "43", "IFEQ", "42") == OK
    assert c.command("GET", "n") == bulk(b"43")


def test_set_ifeq_binary_values(atoll_conn):
    c = atoll_conn
    c.command("SET", "b", b"\x00\r\n\xff")
    assert c.command("SET", "b", "x", "IFEQ", b"\x00\r\n\xfe") == NIL
    assert c.command("SET", "b", "x", "IFEQ", b"\x00\r\n\xff") == OK


def test_set_condition_with_get(atoll_conn):
    c = atoll_conn
    assert c.command("SET", "k", "a", "IFEQ", "z", "GET") == NIL
    assert c.command("EXISTS", "k") == b":0\r\n"
    assert c.command("SET", "k", "a", "IFNE", "z", "GET") == NIL
    assert c.command("GET", "k") == bulk(b"a")
    # GET replies with the old value whether or not the condition held.
    assert c.command("SET", "k", "b", "IFEQ", "nope", "GET") == bulk(b"a")
    assert c.command("GET", "k") == bulk(b"a")
    assert c.command("SET", "k", "b", "GET", "IFEQ", "a") == bulk(b"a")
    assert c.command("GET", "k") == bulk(b"b")


def test_set_condition_with_expiry_options(atoll_conn):
    c = atoll_conn
    c.command("SET", "k", "a")
    assert c.command("SET", "k", "b", "IFEQ", "a", "EX", "100") == OK
    assert c.command("TTL", "k") == b":100\r\n"
    assert c.command("SET", "k", "c", "IFEQ", "b", "KEEPTTL") == OK
    assert c.command("TTL", "k") == b":100\r\n"
    assert c.command("SET", "k", "d", "PX", "5000000", "IFNE", "zz") == OK
    assert c.command("TTL", "k") == b":5000\r\n"
    assert c.command("SET", "k", "e", "IFEQ", "d") == OK
    assert c.command("TTL", "k") == b":-1\r\n", "a successful SET without KEEPTTL drops the TTL"
    # A failed condition leaves the TTL alone.
    c.command("EXPIRE", "k", "300")
    assert c.command("SET", "k", "f", "IFEQ", "nope", "EX", "10") == NIL
    assert c.command("TTL", "k") == b":300\r\n"


def test_set_condition_on_wrong_type(atoll_conn):
    c = atoll_conn
    c.command("RPUSH", "l", "a")
    for cond in (["IFEQ", "a"], ["IFNE", "a"], ["IFDEQ", "0" * 16], ["IFDNE", "0" * 16]):
        assert c.command("SET", "l", "v", *cond) == WRONGTYPE, cond
    assert c.command("TYPE", "l") == b"+list\r\n"
    # Plain SET still overwrites any type.
    assert c.command("SET", "l", "v") == OK


@pytest.mark.parametrize("opts", [
    ["NX", "IFEQ", "a"], ["IFEQ", "a", "NX"], ["XX", "IFNE", "a"], ["IFNE", "a", "XX"],
    ["IFEQ", "a", "IFNE", "b"], ["IFEQ", "a", "IFEQ", "a"], ["IFDEQ", "0" * 16, "IFEQ", "a"],
    ["IFDNE", "0" * 16, "IFDEQ", "0" * 16], ["IFEQ"], ["IFNE"], ["IFDEQ"], ["IFDNE"],
    ["GET", "IFEQ"], ["IFEQ", "a", "EX"], ["IFEQ", "a", "EX", "10", "KEEPTTL"],
])
def test_set_condition_conflicts_are_syntax_errors(atoll_conn, opts):
    c = atoll_conn
    c.command("SET", "k", "a")
    assert c.command("SET", "k", "v", *opts) == SYNTAX
    assert c.command("GET", "k") == bulk(b"a")


# --- SET IFDEQ / IFDNE -----------------------------------------------------------------

def test_set_ifdeq_ifdne(atoll_conn):
    c = atoll_conn
    d_old = digest_of(b"old")
    assert c.command("SET", "k", "new", "IFDEQ", d_old) == NIL
    assert c.command("EXISTS", "k") == b":0\r\n", "IFDEQ never creates a key"
    assert c.command("SET", "k", "old", "IFDNE", d_old) == OK, "IFDNE creates a missing key"
    assert c.command("SET", "k", "x", "IFDNE", d_old) == NIL
    assert c.command("SET", "k", "x", "IFDEQ", digest_of(b"other")) == NIL
    assert c.command("SET", "k", "new", "IFDEQ", d_old) == OK
    assert c.command("GET", "k") == bulk(b"new")
    assert c.command("SET", "k", "newer", "IFDNE", d_old) == OK


def test_digest_comparison_ignores_case(atoll_conn):
    c = atoll_conn
    c.command("SET", "k", "Hello world")
    assert c.command("SET", "k", "v", "IFDEQ", "B6ACB9D84A38FF74") == OK
    c.command("SET", "k", "Hello world")
    assert c.command("DELEX", "k", "IFDEQ", "b6AcB9d84a38Ff74") == b":1\r\n"


@pytest.mark.parametrize("digest", ["", "b6acb9d84a38ff7", "b6acb9d84a38ff740", "0xb6acb9d84a38ff",
                                    "g6acb9d84a38ff74", "b6acb9d84a38ff7 ", "-6acb9d84a38ff74"])
def test_malformed_digest_is_refused(atoll_conn, digest):
    c = atoll_conn
    c.command("SET", "k", "Hello world")
    for cond in ("IFDEQ", "IFDNE"):
        assert c.command("SET", "k", "v", cond, digest) == BAD_DIGEST
        assert c.command("DELEX", "k", cond, digest) == BAD_DIGEST
    assert c.command("GET", "k") == bulk(b"Hello world")


# --- DELEX -----------------------------------------------------------------------------

def test_delex_without_condition_deletes_any_type(atoll_conn):
    c = atoll_conn
    c.command("SET", "s", "v")
    c.command("RPUSH", "l", "a")
    assert c.command("DELEX", "s") == b":1\r\n"
    assert c.command("DELEX", "l") == b":1\r\n"
    assert c.command("DELEX", "l") == b":0\r\n"


def test_delex_conditions(atoll_conn):
    c = atoll_conn
    for cond, arg, deletes in [("IFEQ", b"tok", True), ("IFEQ", b"other", False),
                               ("IFNE", b"other", True), ("IFNE", b"tok", False),
                               ("IFDEQ", digest_of(b"tok"), True), ("IFDEQ", digest_of(b"x"), False),
                               ("IFDNE", digest_of(b"x"), True), ("IFDNE", digest_of(b"tok"), False)]:
        c.command("SET", "lock", "tok")
        assert c.command("DELEX", "lock", cond, arg) == (b":1\r\n" if deletes else b":0\r\n"), cond
        assert c.command("EXISTS", "lock") == (b":0\r\n" if deletes else b":1\r\n"), cond


def test_delex_missing_key(atoll_conn):
    c = atoll_conn
    for cond in (["IFEQ", "a"], ["IFNE", "a"], ["IFDEQ", "0" * 16], ["IFDNE", "0" * 16], []):
        assert c.command("DELEX", "missing", *cond) == b":0\r\n", cond


def test_delex_condition_on_wrong_type(atoll_conn):
    c = atoll_conn
    c.command("RPUSH", "l", "a")
    for cond in (["IFEQ", "a"], ["IFNE", "a"], ["IFDEQ", "0" * 16], ["IFDNE", "0" * 16]):
        assert c.command("DELEX", "l", *cond) == WRONGTYPE, cond
    assert c.command("EXISTS", "l") == b":1\r\n"


@pytest.mark.parametrize("args", [["IFEQ"], ["IFEQ", "a", "b"], ["NX", "a"], ["IFEQ", "a", "IFNE", "b"], ["a"]])
def test_delex_syntax(atoll_conn, args):
    c = atoll_conn
    c.command("SET", "k", "a")
    assert c.command("DELEX", "k", *args) == SYNTAX
    assert c.command("EXISTS", "k") == b":1\r\n"


def test_delex_arity(atoll_conn):
    assert atoll_conn.command("DELEX") == b"-ERR wrong number of arguments for 'delex' command\r\n"


def test_delex_expired_key_counts_as_missing(atoll_conn):
    c = atoll_conn
    c.command("SET", "k", "v", "PXAT", "1")
    assert c.command("DELEX", "k", "IFNE", "x") == b":0\r\n"
    assert c.command("SET", "k", "new", "IFNE", "v") == OK, "the expired value is gone, so IFNE creates"


# --- With WATCH and MULTI ---------------------------------------------------------------

def test_successful_compare_and_set_aborts_watchers(atoll_port):
    watcher, writer = resp.Conn(atoll_port), resp.Conn(atoll_port)
    try:
        writer.command("SET", "bal", "100")
        watcher.command("WATCH", "bal")
        assert writer.command("SET", "bal", "90", "IFEQ", "100") == OK
        watcher.command("MULTI")
        watcher.command("SET", "bal", "0")
        assert watcher.command("EXEC") == b"*-1\r\n"
    finally:
        watcher.close()
        writer.close()


def test_failed_compare_and_set_does_not_abort_watchers(atoll_port):
    watcher, writer = resp.Conn(atoll_port), resp.Conn(atoll_port)
    try:
        writer.command("SET", "bal", "100")
        watcher.command("WATCH", "bal")
        assert writer.command("SET", "bal", "90", "IFEQ", "55") == NIL
        assert writer.command("DELEX", "bal", "IFEQ", "55") == b":0\r\n"
        watcher.command("MULTI")
        watcher.command("SET", "bal", "1")
        assert watcher.command("EXEC") == b"*1\r\n+OK\r\n"
    finally:
        watcher.close()
        writer.close()


def test_compare_and_set_in_transaction(atoll_conn):
    c = atoll_conn
    c.command("SET", "k", "a")
    c.command("MULTI")
    assert c.command("SET", "k", "b", "IFEQ", "a") == b"+QUEUED\r\n"
    assert c.command("SET", "k", "c", "IFEQ", "a") == b"+QUEUED\r\n"
    assert c.command("DIGEST", "k") == b"+QUEUED\r\n"
    assert c.command("DELEX", "k", "IFEQ", "b") == b"+QUEUED\r\n"
    assert c.command("EXEC") == b"*4\r\n+OK\r\n$-1\r\n" + bulk(digest_of(b"b")) + b":1\r\n"


def test_resp3_null_for_failed_condition(atoll_conn):
    c = atoll_conn
    c.command("HELLO", "3")
    assert c.command("SET", "k", "v", "IFEQ", "x") == b"_\r\n"
    assert c.command("DIGEST", "k") == b"_\r\n"
