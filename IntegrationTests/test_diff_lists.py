"""Differential tests for the non-blocking list commands.

Every case starts from the same keys (``SETUP``), runs its commands on the
reference Redis and on Atoll, then compares the state of every key, so a
command that replies right but leaves the list wrong (or an empty key behind)
fails too. Blocking commands are in ``test_blocking_lists.py``.
"""

import pytest

from diff import shape

# l = a b c d e a b c (8 elements, repeats for LPOS/LREM), one = a single element,
# s = a string (WRONGTYPE), new = missing.
SETUP = ["RPUSH l a b c d e a b c", "RPUSH one x", "SET s str"]
STATE = ["LRANGE l 0 -1", "LRANGE one 0 -1", "LRANGE new 0 -1", "LRANGE dst 0 -1",
         "EXISTS l one new dst", "TYPE s", "GET s"]

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"

CASES = [
    # Pushes
    "LPUSH l x", "LPUSH l x y z", "RPUSH l x y z", "LPUSH new a b c", "RPUSH new a b c",
    "LPUSHX new a", "RPUSHX new a", "LPUSHX l x y", "RPUSHX l x y", "LPUSHX one p q",
    "LPUSH s x", "RPUSH s x", "LPUSHX s x", "RPUSHX s x", "lpush l lower", "RPUSH l ''",
    # Pops, with and without count
    "LPOP l", "RPOP l", "LPOP l 0", "RPOP l 0", "LPOP l 1", "RPOP l 1", "LPOP l 3", "RPOP l 3",
    "LPOP l 8", "LPOP l 100", "RPOP l 100", f"LPOP l {LLONG_MAX}", "LPOP l 9223372036854775808",
    "LPOP l -1", "RPOP l -1", "LPOP l abc", "LPOP l 1.5", "LPOP l ''", "LPOP l ' 1'", "LPOP l +1",
    "LPOP l 1 2", "RPOP l 1 2 3", "LPOP new", "RPOP new", "LPOP new 0", "LPOP new 2", "LPOP new -1",
    "LPOP one", "RPOP one 5", "LPOP one 0", "LPOP s", "RPOP s 0", "LPOP s 2", "LPOP s abc",
    # LLEN
    "LLEN l", "LLEN new", "LLEN s", "LLEN one",
    # LRANGE errors and type checks (the index grid is below)
    "LRANGE l abc 1", "LRANGE l 0 abc", "LRANGE l 1.5 2", "LRANGE l 0 9223372036854775808",
    "LRANGE l '' 1", "LRANGE new abc 1", "LRANGE s abc 1", "LRANGE s 0 1", "LRANGE new 0 -1",
    # LINDEX
    "LINDEX l 0", "LINDEX l -1", "LINDEX l 7", "LINDEX l 8", "LINDEX l -8", "LINDEX l -9",
    "LINDEX l 100", f"LINDEX l {LLONG_MIN}", f"LINDEX l {LLONG_MAX}", "LINDEX l abc",
    "LINDEX new abc", "LINDEX new 0", "LINDEX s 0", "LINDEX s abc",
    # LSET
    "LSET l 0 z", "LSET l -1 z", "LSET l 7 z", "LSET l 8 z", "LSET l -8 z", "LSET l -9 z",
    f"LSET l {LLONG_MIN} z", "LSET l abc z", "LSET new 0 z", "LSET new abc z", "LSET s 0 z",
    "LSET s abc z", "LSET one 0 ''",
    # LINSERT
    "LINSERT l BEFORE a X", "LINSERT l AFTER a X", "LINSERT l before c X", "LINSERT l after c X",
    "LINSERT l BEFORE zz X", "LINSERT l MIDDLE a X", "LINSERT new BEFORE a X",
    "LINSERT new MIDDLE a X", "LINSERT s BEFORE a X", "LINSERT s MIDDLE a X",
    "LINSERT one AFTER x y", "LINSERT l AFTER c c",
    # LREM
    "LREM l 0 a", "LREM l 1 a", "LREM l 2 b", "LREM l 3 a", "LREM l -1 a", "LREM l -2 b",
    "LREM l -3 c", "LREM l 0 zz", "LREM l -1 zz", f"LREM l {LLONG_MIN} a", f"LREM l {LLONG_MAX} c",
    "LREM l abc a", "LREM new 0 a", "LREM new abc a", "LREM s 0 a", "LREM s abc a", "LREM one 0 x",
    "LREM one -1 x",
    # LTRIM (the index grid is below)
    "LTRIM l abc 1", "LTRIM l 0 abc", "LTRIM new 0 1", "LTRIM new abc 1", "LTRIM s 0 1",
    "LTRIM s abc 1", "LTRIM one 1 0", "LTRIM one 0 0", "LTRIM l 0 -1", "LTRIM l 100 200",
    "LTRIM l -1 -100",
    # LMOVE and RPOPLPUSH
    "LMOVE l dst LEFT LEFT", "LMOVE l dst LEFT RIGHT", "LMOVE l dst RIGHT LEFT",
    "LMOVE l dst RIGHT RIGHT", "LMOVE l l LEFT LEFT", "LMOVE l l LEFT RIGHT", "LMOVE l l RIGHT LEFT",
    "LMOVE l l RIGHT RIGHT", "LMOVE one one LEFT RIGHT", "LMOVE one one RIGHT RIGHT",
    "LMOVE one dst LEFT LEFT", "LMOVE one l RIGHT LEFT", "LMOVE l s LEFT RIGHT", "LMOVE s l LEFT RIGHT",
    "LMOVE new l LEFT RIGHT", "LMOVE new s LEFT RIGHT", "LMOVE l dst UP LEFT", "LMOVE l dst LEFT UP",
    "LMOVE new dst UP LEFT", "LMOVE s dst UP LEFT", "lmove l dst left right",
    "RPOPLPUSH l dst", "RPOPLPUSH l l", "RPOPLPUSH one one", "RPOPLPUSH one dst",
    "RPOPLPUSH new dst", "RPOPLPUSH new s", "RPOPLPUSH l s", "RPOPLPUSH s l",
    # LMPOP
    "LMPOP 0 l LEFT", "LMPOP -1 l LEFT", "LMPOP abc l LEFT", "LMPOP 1.5 l LEFT", "LMPOP 2 l LEFT",
    "LMPOP 3 l one LEFT", f"LMPOP {LLONG_MAX} l LEFT", "LMPOP 1 l UP", "LMPOP 1 l",
    "LMPOP 1 l LEFT COUNT 0", "LMPOP 1 l LEFT COUNT -1", "LMPOP 1 l LEFT COUNT abc",
    "LMPOP 1 l LEFT COUNT 2 COUNT 2", "LMPOP 1 l LEFT COUNT", "LMPOP 1 l LEFT FOO",
    "LMPOP 1 l LEFT FOO 1", "LMPOP 1 l LEFT", "LMPOP 1 l RIGHT", "LMPOP 1 l RIGHT COUNT 3",
    "LMPOP 1 l LEFT COUNT 100", f"LMPOP 1 l LEFT COUNT {LLONG_MAX}", "LMPOP 2 new l LEFT",
    "LMPOP 3 new one l RIGHT COUNT 5", "LMPOP 2 new new2 LEFT", "LMPOP 2 s l LEFT",
    "LMPOP 2 l s LEFT", "LMPOP 2 new s LEFT", "LMPOP 2 one l LEFT COUNT 2",
    "lmpop 1 l left count 2", "LMPOP 1 new UP",
    # Arity
    "LPUSH l", "RPUSHX l", "LPOP", "LLEN", "LLEN l x", "LRANGE l 0", "LINDEX l", "LSET l 0",
    "LINSERT l BEFORE a", "LREM l 0", "LTRIM l 0", "LPOS l", "LMOVE l dst LEFT",
    "RPOPLPUSH l", "LMPOP 1 l", "LMPOP 1",
]


@pytest.mark.parametrize("command", CASES)
def test_list_command(diff, command):
    diff.run(SETUP + [command] + STATE)


# LPOS on l = a b c d e a b c: a at 0 and 5, b at 1 and 6, c at 2 and 7.
LPOS_CASES = [
    "a", "c", "e", "zz", "a RANK 1", "a RANK 2", "a RANK 3", "a RANK -1", "a RANK -2",
    "a RANK -3", "a RANK 0", f"a RANK {LLONG_MIN}", f"a RANK -9223372036854775807",
    f"a RANK {LLONG_MAX}", "a RANK abc", "a RANK 1.5", "a COUNT 0", "a COUNT 1", "a COUNT 2",
    "a COUNT 3", "a COUNT -1", "a COUNT abc", "a MAXLEN 0", "a MAXLEN 1", "a MAXLEN 5",
    "a MAXLEN 6", "a MAXLEN -1", "a MAXLEN abc", "b RANK 2 COUNT 0", "c RANK -1 COUNT 2",
    "a RANK -1 COUNT 0 MAXLEN 4", "a COUNT 0 MAXLEN 1", "b RANK 2 MAXLEN 5",
    "b RANK 2 MAXLEN 7", f"a RANK {LLONG_MIN} COUNT 1", f"a RANK {LLONG_MIN} COUNT 0",
    f"a RANK {LLONG_MIN} MAXLEN 3", f"zz RANK {LLONG_MIN}", "a RANK 1 RANK 2",
    "a COUNT 1 COUNT 0", "a MAXLEN 1 MAXLEN 0", "a RANK", "a COUNT", "a MAXLEN", "a FOO",
    "a FOO 1", "a rank -1 count 0 maxlen 0", "zz COUNT 0", "zz COUNT 1 RANK -1",
    "a RANK 0 COUNT -1", "a COUNT -1 RANK 0", "a RANK 2 FOO",
]


@pytest.mark.parametrize("args", LPOS_CASES)
def test_lpos(diff, args):
    diff.run(SETUP + [f"LPOS l {args}", f"LPOS new {args}", f"LPOS s {args}"])


INDEXES = ["-100", "-9", "-8", "-3", "-1", "0", "1", "3", "7", "8", "100", LLONG_MAX, LLONG_MIN]


@pytest.mark.parametrize("start", INDEXES)
def test_lrange_index_grid(diff, start):
    diff.run(SETUP + [f"LRANGE l {start} {end}" for end in INDEXES])


@pytest.mark.parametrize("start", INDEXES)
def test_ltrim_index_grid(diff, start):
    """Every end for this start; a trim to nothing deletes the key."""
    for end in INDEXES:
        diff.run(["DEL l"] + SETUP[:1] + [f"LTRIM l {start} {end}", "LRANGE l 0 -1", "EXISTS l"])


def test_last_element_removed_deletes_the_key(diff):
    steps = []
    for remove in ["LPOP k", "RPOP k", "LPOP k 5", "RPOP k 1", "LREM k 0 v", "LTRIM k 1 0",
                   "LMOVE k other LEFT LEFT", "RPOPLPUSH k other", "LMPOP 1 k RIGHT",
                   "LMPOP 1 k LEFT COUNT 9"]:
        steps += ["DEL k other", "RPUSH k v", remove, "EXISTS k", "TYPE k", "LLEN k",
                  "LRANGE other 0 -1", "DBSIZE"]
    steps += ["RPUSH k a b", "LPOP k", "EXISTS k", "LPOP k", "EXISTS k", "TYPE k", "OBJECT ENCODING k"]
    diff.run(steps)


def test_binary_elements(diff):
    values = [b"", b"\x00", b"a\x00b", b"\r\n", b"\xff\xfe", b"line\nbreak", b" spaced ",
              bytes(range(256)), b"x" * 100_000]
    diff.check("RPUSH", "bin", *values)
    diff.check("LRANGE", "bin", "0", "-1")
    for i, v in enumerate(values):
        diff.check("LINDEX", "bin", str(i))
        diff.check("LPOS", "bin", v)
        diff.check("LPOS", "bin", v, "COUNT", "0")
    diff.check("LINSERT", "bin", "BEFORE", b"\x00", b"\x00\x01")
    diff.check("LREM", "bin", "0", b"\r\n")
    diff.check("LSET", "bin", "0", b"\xff" * 40)
    diff.check("LMOVE", "bin", b"dst\x00key", "LEFT", "RIGHT")
    diff.check("LRANGE", b"dst\x00key", "0", "-1")
    diff.check("LPUSH", b"\xff\x00", b"\x00")
    diff.check("LMPOP", "2", "missing", b"\xff\x00", "LEFT")
    diff.check("LPOP", "bin", "3")
    diff.check("RPOP", "bin", "100")
    diff.check("EXISTS", "bin")


def test_long_list(diff):
    items = [str(i % 17) for i in range(3000)]
    diff.check("RPUSH", "big", *items)
    diff.run(["LLEN big", "LRANGE big 1000 1010", "LRANGE big -5 -1", "LINDEX big 2999",
              "LINDEX big -3000", "LPOS big 16 RANK -3", "LPOS big 5 COUNT 0 MAXLEN 100",
              "LREM big 10 3", "LREM big -10 4", "LLEN big", "LINSERT big AFTER 16 x",
              "LSET big 1500 y", "LTRIM big 100 -100", "LLEN big", "LRANGE big 0 20",
              "LPOP big 50", "RPOP big 50", "LMPOP 1 big RIGHT COUNT 7", "LREM big 0 0",
              "LLEN big", "OBJECT ENCODING big"])


@pytest.mark.parametrize("element", ["small", "x" * 70, "y" * 10_000])
def test_object_encoding(diff, element):
    diff.run([["RPUSH", "k", element], "OBJECT ENCODING k", ["LPUSH", "k"] + [element] * 200,
              "OBJECT ENCODING k", "LTRIM k 0 0", "OBJECT ENCODING k", "TYPE k"])


def test_resp3_null_replies(diff):
    diff.run([shape("HELLO 3"), "LPOP missing", "RPOP missing", "LPOP missing 2", "LPOP missing 0",
              "LMPOP 1 missing LEFT", "LMPOP 2 missing other RIGHT COUNT 3", "LINDEX missing 0",
              "RPUSH k a", "LINDEX k 5", "LPOS k zz", "LPOS k zz COUNT 0", "LPOS missing a",
              "LMOVE missing k LEFT LEFT", "RPOPLPUSH missing k", "LRANGE missing 0 -1",
              "LPOP k 0", "LMPOP 1 k LEFT", "RPUSH k a b", "LPOP k 2", "LRANGE k 0 -1",
              "LPOS k b COUNT 0", shape("HELLO 2"), "LPOP missing", "LPOP missing 2"])


def test_commands_on_list_from_other_families(diff):
    diff.run(SETUP + ["TYPE l", "GET l", "INCR l", "APPEND l x", "STRLEN l", "SET l v GET",
                      "TYPE l", "RPUSH l2 a", "RENAME l2 l3", "LRANGE l3 0 -1", "COPY l3 l4",
                      "LPUSH l4 z", "LRANGE l3 0 -1", "LRANGE l4 0 -1", "EXPIRE one 100",
                      "TTL one", "RPOP one", "TTL one", "EXISTS one"])


WATCH_CASES = [
    (["RPUSH k a"], "LPUSH k x"), (["RPUSH k a"], "RPOP k"), ([], "LPUSHX k x"),
    ([], "RPUSHX k x"), (["RPUSH k a"], "LREM k 0 zz"), (["RPUSH k a"], "LREM k 0 a"),
    (["RPUSH k a b"], "LTRIM k 0 -1"), (["RPUSH k a"], "LTRIM k 5 10"), ([], "LTRIM k 0 1"),
    (["RPUSH k a"], "LINSERT k BEFORE zz x"), (["RPUSH k a"], "LINSERT k BEFORE a x"),
    ([], "LINSERT k BEFORE a x"), (["RPUSH k a"], "LSET k 0 a"), (["RPUSH k a"], "LSET k 5 a"),
    ([], "LPOP k"), ([], "LPOP k 0"), (["RPUSH k a"], "LPOP k 0"),
    (["RPUSH k a"], "LMOVE k k LEFT RIGHT"), (["RPUSH j a"], "LMOVE j k LEFT RIGHT"),
    (["RPUSH k a"], "LMOVE k j LEFT RIGHT"), ([], "LMOVE j k LEFT RIGHT"),
    (["RPUSH k a", "SET j s"], "LMOVE k j LEFT RIGHT"), (["RPUSH k a"], "RPOPLPUSH k k"),
    (["RPUSH k a"], "LMPOP 1 k LEFT"), ([], "LMPOP 1 k LEFT"), (["RPUSH k a"], "LRANGE k 0 -1"),
    (["RPUSH k a"], "LPOS k a"), (["RPUSH k a"], "LPUSHX k b"), (["RPUSH k a"], "BLPOP k 0"),
    (["RPUSH k a"], "BLMOVE k j LEFT LEFT 0"), (["RPUSH j a"], "BRPOPLPUSH j k 0"),
]


@pytest.mark.parametrize("setup,command", WATCH_CASES, ids=[c for _, c in WATCH_CASES])
def test_watch_touched_by_list_commands(diff, new_diff, setup, command):
    """Another client's command aborts EXEC exactly when Redis says the key changed."""
    other = new_diff()
    diff.run(setup + ["WATCH k"])
    other.check(*command.split())
    diff.run(["MULTI", "PING", "EXEC"])


def _changes(conn) -> int:
    info = conn.command("INFO", "persistence")
    return int(info.split(b"rdb_changes_since_last_save:")[1].split(b"\r\n")[0])


def test_changes_counted_per_element(diff):
    """INFO's rdb_changes_since_last_save grows by the elements a command changed."""
    for command in ["RPUSH l a b c d e f", "LPUSH l x y", "LPUSHX m a", "RPUSHX l a b", "LPOP l",
                    "LPOP l 3", "RPOP l 0", "LMOVE l d LEFT LEFT", "LMOVE l l LEFT LEFT",
                    "LMPOP 1 l LEFT COUNT 2", "RPUSH l a b c d e f", "BLPOP l 0",
                    "BLMPOP 0 1 l RIGHT COUNT 2", "BLMOVE l d LEFT RIGHT 0", "LSET l 0 x",
                    "LINSERT l BEFORE x y", "LINSERT l BEFORE zz y", "LREM l 0 y", "RPUSH l a a a",
                    "LREM l 0 a", "LTRIM l 0 0", "LTRIM l 0 -1", "LTRIM l 5 1", "RPOPLPUSH d d",
                    "RPUSH z 1 2 3 4", "LTRIM z 1 2", "LPOP z 5", "LREM missing 0 a"]:
        before = (_changes(diff.ref), _changes(diff.atoll))
        diff.check(*command.split())
        after = (_changes(diff.ref), _changes(diff.atoll))
        assert after[0] - before[0] == after[1] - before[1], command
