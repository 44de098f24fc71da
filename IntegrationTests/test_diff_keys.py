"""Differential tests for the generic keyspace commands (milestone 1).

DEL/UNLINK/EXISTS/TYPE/RENAME/COPY/MOVE, the EXPIRE family with NX/XX/GT/LT,
TTL/PTTL/EXPIRETIME/PERSIST, KEYS glob patterns, SCAN (compared as key sets),
RANDOMKEY, DBSIZE/FLUSHDB/FLUSHALL/SWAPDB/SELECT, TOUCH and OBJECT.
"""

import pytest

from diff import shape, unordered

FAR_S = 4102444800          # 2100-01-01T00:00:00Z


def test_del_unlink_exists(diff):
    diff.run([
        "MSET a 1 b 2 c 3", "EXISTS a", "EXISTS a a a", "EXISTS a b missing c",
        "EXISTS missing", "DEL a a", "EXISTS a", "DEL b c missing", "DBSIZE",
        "MSET a 1 b 2", "UNLINK a b b missing", "UNLINK a", "DBSIZE",
        "DEL", "UNLINK", "EXISTS", "SET a 1", "DEL A", "EXISTS A a",
    ])


def test_type(diff):
    diff.run([
        "TYPE missing", "SET s v", "TYPE s", "SET n 123", "TYPE n",
        "TYPE", "TYPE a b", "SET e v EXAT 1", "TYPE e",
    ])


def test_rename(diff):
    diff.run([
        "SET a 1", "RENAME a a", "GET a", "RENAME a b", "GET a", "GET b",
        "RENAME missing x", "RENAME missing missing", "SET c 3", "RENAME b c", "GET c",
        "SET t v EX 1000", "RENAME t t2", "TTL t2", "SET p v", "RENAME t2 p", "TTL p",
        "SET v v EX 1000", "SET w w", "RENAME w v", "TTL v", "RENAME a", "RENAME",
        "RENAME a b c",
        "RENAMENX missing x", "SET x 1", "SET y 2", "RENAMENX x y", "RENAMENX x x",
        "RENAMENX x z", "MGET x y z", "RENAMENX z", "SET e v EXAT 1", "RENAME e f",
    ])


def test_copy(diff):
    diff.run([
        "SET a 1", "COPY a b", "GET b", "COPY a b", "SET a 2", "COPY a b REPLACE",
        "GET b", "COPY a a", "COPY a a REPLACE", "COPY missing b", "COPY missing x",
        "COPY a c DB 1", "SELECT 1", "GET c", "SELECT 0", "COPY a c DB 1",
        "COPY a c DB 1 REPLACE", "COPY a c DB 0", "COPY a a DB 0", "COPY a a DB 1",
        "COPY a b DB 16", "COPY a b DB -1", "COPY a b DB abc", "COPY a b DB",
        "COPY a b FOO", "COPY a b REPLACE REPLACE", "COPY a b REPLACE DB 2 DB 3",
        "SELECT 3", "GET b", "SELECT 0", "COPY a b db 4 replace", "COPY a", "COPY",
        "SET t v EX 1000", "COPY t t2", "TTL t2", "COPY t t3 DB 5", "SELECT 5", "TTL t3",
    ])


def test_move(diff):
    diff.run([
        "SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "SELECT 0",
        "SET a 2", "MOVE a 1", "GET a", "MOVE a 0", "MOVE missing 0", "MOVE missing 1",
        "MOVE a 16", "MOVE a -1", "MOVE a abc", "MOVE a", "MOVE", "MOVE a 1 2",
        "SET t v EX 1000", "MOVE t 2", "SELECT 2", "TTL t", "SELECT 0",
    ])


# --- expiry ---------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_family_basics_and_errors(diff, cmd):
    big = {"EXPIRE": 1000, "PEXPIRE": 1000000, "EXPIREAT": FAR_S,
           "PEXPIREAT": FAR_S * 1000}[cmd]
    # TTL of an absolute expiry depends on the sub-second phase of "now"; use
    # EXPIRETIME (exact) to probe the *AT variants.
    probe = "EXPIRETIME k" if cmd.endswith("AT") else "TTL k"
    diff.run([
        f"{cmd} missing {big}", "SET k v", f"{cmd} k {big}", probe,
        f"{cmd} k abc", f"{cmd} k 1.5", f"{cmd} k ''", f"{cmd} k", f"{cmd}",
        f"{cmd} k {big} FOO", f"{cmd} k {big} NX XX", f"{cmd} k {big} XX NX",
        f"{cmd} k {big} GT LT", f"{cmd} k {big} LT GT", f"{cmd} k {big} NX GT",
        f"{cmd} k {big} NX LT", f"{cmd} k {big} XX GT LT", f"{cmd} k {big} nx xx",
        f"{cmd} k 9223372036854775807", f"{cmd} k -9223372036854775808",
        f"{cmd} k 9223372036854775808", f"{cmd} k 92233720368547758",
        f"{cmd} k 922337203685477580", probe,
    ])


@pytest.mark.parametrize("cmd,shorter,middle,longer", [
    ("EXPIRE", "500", "1000", "2000"),
    ("PEXPIRE", "500000", "1000000", "2000000"),
    ("EXPIREAT", str(FAR_S - 1000), str(FAR_S), str(FAR_S + 1000)),
    ("PEXPIREAT", str((FAR_S - 1000) * 1000), str(FAR_S * 1000), str((FAR_S + 1000) * 1000)),
])
def test_expire_nx_xx_gt_lt(diff, cmd, shorter, middle, longer):
    # Never re-apply the current relative TTL with GT/LT: "EXPIRE k 500 GT" right
    # after "EXPIRE k 500" depends on whether a millisecond has passed.
    probe = "EXPIRETIME k" if cmd.endswith("AT") else "TTL k"
    for with_ttl in (False, True):
        for opts in ["", "NX", "XX", "GT", "LT", "XX GT", "XX LT", "GT XX", "LT XX",
                     "xx gt", "nx"]:
            script = ["DEL k", "SET k v"]
            if with_ttl:
                script += [f"{cmd} k {middle}"]
            script += [probe]
            for val in (shorter, longer):
                script += [f"{cmd} k {val} {opts}".strip(), probe]
            diff.run(script)
    # the same on a missing key
    diff.run(["DEL k"] + [f"{cmd} k {shorter} {o}".strip() for o in
                          ("NX", "XX", "GT", "LT")] + ["EXISTS k"])


def test_expire_in_the_past_deletes(diff):
    diff.run([
        "SET k v", "EXPIRE k 0", "EXISTS k", "SET k v", "EXPIRE k -10", "GET k",
        "SET k v", "PEXPIRE k -1", "GET k", "SET k v", "EXPIREAT k 1", "GET k",
        "SET k v", "PEXPIREAT k 0", "GET k", "SET k v", "EXPIREAT k -100", "GET k",
        "SET k v", "EXPIRE k -1 NX", "EXISTS k", "SET k v EX 100", "EXPIRE k -1 NX",
        "EXISTS k", "EXPIRE k -1 GT", "EXISTS k", "EXPIRE k -1 LT", "EXISTS k",
        "SET k v", "EXPIRE k -1 XX", "EXISTS k", "EXPIRE k -1 GT", "EXISTS k",
        "SET k v", "EXPIRE k -1 LT", "EXISTS k", "DBSIZE",
    ])


def test_ttl_pttl_expiretime_persist(diff):
    diff.run([
        "TTL missing", "PTTL missing", "EXPIRETIME missing", "PEXPIRETIME missing",
        "SET k v", "TTL k", "PTTL k", "EXPIRETIME k", "PEXPIRETIME k", "PERSIST k",
        "EXPIRE k 1000", "TTL k", shape("PTTL k"), "PERSIST k", "PERSIST k", "TTL k",
        f"EXPIREAT k {FAR_S}", "EXPIRETIME k", "PEXPIRETIME k",
        f"PEXPIREAT k {FAR_S * 1000 + 499}", "EXPIRETIME k", "PEXPIRETIME k",
        f"PEXPIREAT k {FAR_S * 1000 + 500}", "EXPIRETIME k", "PEXPIRETIME k",
        "SET k v PX 100000000", "TTL k", shape("PTTL k"), "PERSIST missing",
        "TTL", "PTTL", "PERSIST", "TTL a b", "EXPIRETIME", "PEXPIRETIME a b",
    ])


# --- KEYS / SCAN / RANDOMKEY ------------------------------------------------------

KEY_NAMES = [
    "hello", "hallo", "hxllo", "hllo", "heeeello", "hbllo", "hcllo", "h^llo",
    "h-llo", "h]llo", "h*llo", "h?llo", "h[llo", "h\\llo", "a*b", "a?b", "ab", "a",
    "foo:1", "foo:2", "foo:10", "bar:1", "-", "x", "X", "", "user:1000:name",
    "\xff", "ünïcode",
]

PATTERNS = [
    "*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[!e]llo", "h[a-b]llo",
    "h[b-a]llo", "h[a-c]llo", "h[^a-c]llo", "h\\*llo", "h\\?llo", "h\\[llo",
    "h\\\\llo", "h[\\]]llo", "h[\\^]llo", "a\\*b", "a*b", "a?b", "foo:*", "foo:?",
    "foo:[0-9]", "foo:[0-9]*", "*:1", "*1*", "?", "??", "", "-", "[-]", "[a-]",
    "[", "h[", "h[a", "h[^", "*[", "\\", "h\\", "x", "X", "[xX]", "*o*o*",
    "***", "h*l*o", "[^h]*", "user:*:name", "\xff", "*ü*", "h[]llo",
    "[a-z][a-z]", "[z-a]", "[!a]",
]


def _make_keys(diff):
    args = []
    for k in KEY_NAMES:
        args += [k, "v"]
    diff.check("MSET", *args)


def test_keys_patterns(diff):
    _make_keys(diff)
    for p in PATTERNS:
        diff.check_unordered("KEYS", p)
    diff.run(["KEYS", "KEYS a b", unordered("KEYS *"), "DBSIZE"])


def test_keys_skips_expired_and_other_dbs(diff):
    diff.run([
        "SET a 1", "SET b 2 PXAT 1", "SELECT 1", "SET c 3", "SELECT 0",
        unordered("KEYS *"), "SELECT 1", unordered("KEYS *"), "SELECT 2", "KEYS *",
    ])


@pytest.mark.parametrize("opts", [
    (), ("COUNT", "1"), ("COUNT", "3"), ("COUNT", "1000"), ("MATCH", "h*"),
    ("MATCH", "foo:[0-9]"), ("MATCH", "nomatch*"), ("MATCH", "*", "COUNT", "2"),
    ("COUNT", "2", "MATCH", "h?llo"), ("TYPE", "string"), ("TYPE", "STRING"),
    ("TYPE", "list"), ("TYPE", "none"), ("TYPE", "nosuchtype"),
    ("MATCH", "*o*", "TYPE", "string", "COUNT", "5"), ("match", "a*", "count", "1"),
])
def test_scan_full_iteration(diff, opts):
    _make_keys(diff)
    diff.check_pipeline([("SET", f"bulk:{i}", i) for i in range(200)])
    diff.scan_keys(*opts)


def test_scan_errors_and_empty(diff):
    diff.run([
        "SCAN 0", "SCAN 0 COUNT 10", "SCAN 0 MATCH *", "SCAN 0 TYPE string",
        "SCAN 18446744073709551615", "SCAN -1",
        "SCAN abc", "SCAN 1.5", "SCAN ''", "SCAN 18446744073709551616",
        "SCAN 0 COUNT 0", "SCAN 0 COUNT -1", "SCAN 0 COUNT abc", "SCAN 0 COUNT",
        "SCAN 0 MATCH", "SCAN 0 TYPE", "SCAN 0 FOO bar", "SCAN 0 COUNT 1 extra",
        "SCAN", "SET k v", "SCAN 0 COUNT 0", "SCAN 0 MATCH k COUNT 10 TYPE string",
    ])


def test_randomkey(diff):
    diff.run([
        "RANDOMKEY", "SET only v", "RANDOMKEY", "RANDOMKEY", "DEL only",
        "RANDOMKEY", "SET gone v PXAT 1", "RANDOMKEY", "RANDOMKEY x",
        "SELECT 1", "SET other v", "RANDOMKEY", "SELECT 0", "RANDOMKEY",
    ])


# --- databases ------------------------------------------------------------------

def test_dbsize_flushdb_flushall(diff):
    diff.run([
        "DBSIZE", "MSET a 1 b 2 c 3", "DBSIZE", "SELECT 1", "SET x 1", "DBSIZE",
        "FLUSHDB", "DBSIZE", "SELECT 0", "DBSIZE", "FLUSHDB ASYNC", "DBSIZE",
        "SET a 1", "FLUSHDB SYNC", "DBSIZE", "FLUSHDB async", "FLUSHDB sync",
        "FLUSHDB FOO", "FLUSHDB SYNC ASYNC", "FLUSHDB ASYNC ASYNC",
        "SET a 1", "SELECT 3", "SET b 2", "FLUSHALL", "DBSIZE", "SELECT 0", "DBSIZE",
        "SET a 1", "FLUSHALL ASYNC", "DBSIZE", "SET a 1", "FLUSHALL SYNC", "DBSIZE",
        "FLUSHALL FOO", "FLUSHALL ASYNC SYNC", "FLUSHALL sync", "DBSIZE x",
    ])


def test_swapdb(diff):
    diff.run([
        "SET a db0", "SELECT 1", "SET b db1", "SELECT 0", "SWAPDB 0 1", "GET a",
        "GET b", "SELECT 1", "GET a", "SELECT 0", "SWAPDB 0 0", "GET b",
        "SET t v EX 1000", "SWAPDB 0 2", "SELECT 2", "TTL t", "SELECT 0",
        "SWAPDB 0 16", "SWAPDB 16 0", "SWAPDB -1 0", "SWAPDB 0 -1",
        "SWAPDB a 0", "SWAPDB 0 a", "SWAPDB a b", "SWAPDB 1.5 0", "SWAPDB 0",
        "SWAPDB", "SWAPDB 0 1 2", "DBSIZE",
    ])


def test_select(diff):
    diff.run([
        "SELECT 0", "SELECT 15", "SELECT 16", "SELECT -1", "SELECT abc",
        "SELECT 1.5", "SELECT ''", "SELECT 99999999999999999999", "SELECT",
        "SELECT 1 2", "SELECT ' 1'", "SELECT 01", "SET k v", "SELECT 1", "GET k",
    ])


def test_touch(diff):
    diff.run([
        "TOUCH missing", "MSET a 1 b 2", "TOUCH a", "TOUCH a b missing a",
        "TOUCH", "SET e v PXAT 1", "TOUCH e",
    ])


# --- OBJECT --------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "1", "123", "-5", "0", "9999", "10000", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-0", "007", "+1", " 1",
    "1.5", "abc", "x" * 44, "x" * 45, "x" * 100, "",
])
def test_object_encoding_and_refcount(diff, value):
    diff.run([
        ("SET", "k", value), "OBJECT ENCODING k", "OBJECT REFCOUNT k",
    ])


def test_object_encoding_after_modification(diff):
    diff.run([
        "SET k 10", "OBJECT ENCODING k", "APPEND k 0", "OBJECT ENCODING k",
        "INCR k", "OBJECT ENCODING k", "SET k abc", "APPEND k def",
        "OBJECT ENCODING k", "SETRANGE k 0 x", "OBJECT ENCODING k",
        "SET f 1", "INCRBYFLOAT f 1.5", "OBJECT ENCODING f",
        "INCRBYFLOAT f 0.5", "OBJECT ENCODING f", "GET f",
        "SET big 1", "INCRBY big 100000", "OBJECT ENCODING big", "OBJECT REFCOUNT big",
    ])


def test_object_misc(diff):
    diff.run([
        "SET k v", shape("OBJECT IDLETIME k"), "OBJECT FREQ k",
        "OBJECT ENCODING missing", "OBJECT REFCOUNT missing", "OBJECT IDLETIME missing",
        "OBJECT FREQ missing", shape("OBJECT HELP", deep=False), "OBJECT FOO", "OBJECT FOO k",
        "OBJECT", "OBJECT ENCODING", "OBJECT ENCODING a b", "OBJECT REFCOUNT",
        "OBJECT HELP extra", "object encoding k",
    ])
