"""Differential tests for the stream entry commands: XADD XRANGE XREVRANGE XLEN XDEL XTRIM
XSETID, with their options and errors, node boundaries (`stream-node-max-entries`), and the
stream as seen by TYPE, OBJECT ENCODING, DUMP/RESTORE, COPY, RENAME and the digest.

IDs are explicit wherever the reply shows them; `*` IDs are compared by shape. Every case
ends by reading the whole stream back, so a command that replies right but leaves the stream
wrong fails too. Consumer groups are in ``test_diff_stream_groups.py``.
"""

import pytest

from diff import shape, unordered

U64 = "18446744073709551615"
SETUP = ["XADD s 1-1 a 1 b 2", "XADD s 1-2 a 3 b 4", "XADD s 2-0 c x", "XADD s 3-5 a 5 b 6",
         "XADD s 5-0 a 7", "SET str v"]
STATE = ["XRANGE s - +", "XLEN s", "EXISTS s", "XRANGE new - +", "EXISTS new", "TYPE s",
         "XINFO STREAM s"]

CASES = [
    # XADD: IDs
    "XADD s 5-1 f v", "XADD s 5-0 f v", "XADD s 4-9 f v", "XADD s 5-* f v", "XADD s 6-* f v",
    "XADD s 4-* f v", "XADD s 6 f v", "XADD s 0-0 f v", "XADD new 0-0 f v", "XADD new 0 f v",
    "XADD new 0-1 f v", "XADD new 0-* f v", "XADD s 1-x f v", "XADD s -1 f v", "XADD s x f v",
    "XADD s '' f v", "XADD s 6- f v", "XADD s -6 f v", "XADD s 6-1-1 f v", "XADD s +7 f v",
    "XADD s ' 8' f v", "XADD s '8 ' f v", "XADD s '9- 1' f v", "XADD s 10-+1 f v", "XADD s 0x20 f v",
    "XADD s 00030 f v", "XADD s 40-0005 f v", f"XADD s {U64} f v", f"XADD s {U64}-{U64} f v",
    "XADD s 18446744073709551616 f v", "XADD s 7.5 f v", "XADD s - f v", "XADD s + f v",
    "XADD s 9-' -5' f v", "XADD s 9--5 f v", "XADD s 9-* f v", "xadd s 9-1 F V",
    # XADD: arity and fields
    "XADD s 9-1", "XADD s 9-1 f", "XADD s 9-1 f v g", "XADD s", "XADD s NOMKSTREAM",
    "XADD s MAXLEN 2", "XADD s 9-1 f v f v2", "XADD s 9-1 a 1 b 2", "XADD s 9-1 b 2 a 1",
    "XADD s 9-1 '' ''", "XADD s 9-1 12 -7 0 00", "XADD s 9-1 a 1 b 2 c 3",
    # XADD: NOMKSTREAM, wrong type
    "XADD new NOMKSTREAM 1-1 f v", "XADD s NOMKSTREAM 9-1 f v", "XADD s nomkstream 9-1 f v",
    "XADD str 1-1 f v", "XADD str NOMKSTREAM 1-1 f v", "XADD str 0-0 f v", "XADD str x f v",
    # XADD: trimming
    "XADD s MAXLEN 2 9-1 f v", "XADD s MAXLEN = 2 9-1 f v", "XADD s MAXLEN ~ 2 9-1 f v",
    "XADD s MAXLEN 0 9-1 f v", "XADD s MAXLEN -1 9-1 f v", "XADD s MAXLEN x 9-1 f v",
    "XADD s MAXLEN ~ 2 LIMIT 1 9-1 f v", "XADD s MAXLEN 2 LIMIT 1 9-1 f v",
    "XADD s MAXLEN ~ 2 LIMIT -1 9-1 f v", "XADD s MAXLEN ~ 2 LIMIT x 9-1 f v",
    "XADD s LIMIT 5 9-1 f v", "XADD s LIMIT 0 9-1 f v", "XADD s MAXLEN 2 MINID 1 9-1 f v",
    "XADD s MINID 3 9-1 f v", "XADD s MINID 3-5 9-1 f v", "XADD s MINID = 3-6 9-1 f v",
    "XADD s MINID ~ 3 9-1 f v", "XADD s MINID - 9-1 f v", "XADD s MINID + 9-1 f v",
    "XADD s MINID x 9-1 f v", "XADD s MINID 100 9-1 f v", "XADD s maxlen 1 nomkstream 9-1 f v",
    "XADD s MAXLEN ~ 9-1 f v", "XADD s MAXLEN = 9-1 f v", "XADD s MAXLEN 9-1 f v",
    "XADD s MAXLEN ~ 0 LIMIT 0 9-1 f v", "XADD s MAXLEN 1 MAXLEN 2 9-1 f v",
    f"XADD s MAXLEN 9223372036854775808 9-1 f v", "XADD new MAXLEN 0 1-1 f v",
    # XRANGE / XREVRANGE
    "XRANGE s - +", "XRANGE s 1 2", "XRANGE s 1-2 3-5", "XRANGE s (1-1 +", "XRANGE s - (5-0",
    "XRANGE s (1-2 (3-5", "XRANGE s 2 1", "XRANGE s 3 3", "XRANGE s 1-2 1-2", "XRANGE s (- +",
    "XRANGE s - (+", "XRANGE s ( +", "XRANGE s (x +", f"XRANGE s ({U64}-{U64} +",
    "XRANGE s - (0-0", "XRANGE s - + COUNT 2", "XRANGE s - + COUNT 0", "XRANGE s - + COUNT -1",
    "XRANGE s - + COUNT x", "XRANGE s - + COUNT", "XRANGE s - + FOO 1", "XRANGE s - + count 1 count 3",
    "XRANGE s x +", "XRANGE s - x", "XRANGE s 1-1-1 +", "XRANGE new - +", "XRANGE new x +",
    "XRANGE new - + COUNT 0", "XRANGE str - +", "XRANGE str x +", "XRANGE s 0 0", f"XRANGE s {U64} +",
    "XRANGE s 1-18446744073709551615 2", "XREVRANGE s + -", "XREVRANGE s + - COUNT 2",
    "XREVRANGE s 3 1", "XREVRANGE s (5-0 (1-1", "XREVRANGE s - +", "XREVRANGE s + (+",
    "XREVRANGE s (- -", "XREVRANGE s x y", "XREVRANGE s + - COUNT 0", "XREVRANGE new + -",
    "XREVRANGE str + -", "XREVRANGE s 1-2 1-2", "XREVRANGE s 2 2",
    # XLEN
    "XLEN s", "XLEN new", "XLEN str",
    # XDEL
    "XDEL s 1-1", "XDEL s 1-1 1-1", "XDEL s 1-2 2-0 9-9", "XDEL s 5-0", "XDEL s 1-1 1-2 2-0 3-5 5-0",
    "XDEL s 1", "XDEL s x", "XDEL s 1-1 x", "XDEL s -", "XDEL s +", "XDEL new 1-1", "XDEL new x",
    "XDEL str 1-1", "XDEL str x", "XDEL s 3-5 1-1",
    # XTRIM
    "XTRIM s MAXLEN 2", "XTRIM s MAXLEN = 2", "XTRIM s MAXLEN ~ 2", "XTRIM s MAXLEN 0",
    "XTRIM s MAXLEN 10", "XTRIM s MAXLEN -1", "XTRIM s MINID 3", "XTRIM s MINID (3",
    "XTRIM s MINID ~ 3", "XTRIM s MINID 1-2", "XTRIM s MINID 100", "XTRIM s MAXLEN ~ 0 LIMIT 0",
    "XTRIM s MAXLEN 2 LIMIT 1", "XTRIM s", "XTRIM s FOO", "XTRIM s MAXLEN", "XTRIM s MAXLEN 2 FOO",
    "XTRIM s LIMIT 1", "XTRIM s MAXLEN 1 MINID 1", "XTRIM new MAXLEN 0", "XTRIM new FOO",
    "XTRIM str MAXLEN 0", "XTRIM str FOO", "XTRIM s NOMKSTREAM MAXLEN 1", "xtrim s maxlen 3",
    # XSETID
    "XSETID s 5-0", "XSETID s 9-0", "XSETID s 4-0", "XSETID s 5", "XSETID s x", "XSETID s -",
    "XSETID s 9-0 ENTRIESADDED 10", "XSETID s 9-0 ENTRIESADDED 4", "XSETID s 9-0 ENTRIESADDED -1",
    "XSETID s 9-0 ENTRIESADDED x", "XSETID s 9-0 MAXDELETEDID 3-0", "XSETID s 9-0 MAXDELETEDID 10-0",
    "XSETID s 9-0 MAXDELETEDID x", "XSETID s 9-0 ENTRIESADDED 10 MAXDELETEDID 9-0", "XSETID s 9-0 FOO",
    "XSETID s 9-0 ENTRIESADDED", "XSETID new 1-0", "XSETID new x", "XSETID str 1-0",
    f"XSETID s {U64}-{U64}", "XSETID s 0-0",
]


@pytest.mark.parametrize("command", CASES)
def test_stream_command(diff, command):
    diff.run(SETUP + [command] + STATE)


def test_auto_ids_have_the_right_shape(diff):
    diff.run([shape("XADD s * a 1"), shape("XADD s * a 2"), "XLEN s", shape("XRANGE s - +"),
              shape("XADD s MAXLEN ~ 1 * a 3"), shape("XADD new NOMKSTREAM * a 1"), "XSETID s 99999999999999-5",
              "XADD s * a 1", f"XSETID s {U64}-{U64}", "XADD s * f v", f"XADD s {U64}-* f v", "XLEN s"])


def test_xsetid_below_deleted_entries(diff):
    diff.run(["XADD s 1-0 a 1", "XADD s 5-0 a 1", "XADD s 6-0 a 1", "XDEL s 5-0", "XSETID s 6-0", "XSETID s 5-5",
              "XDEL s 6-0", "XSETID s 2-0", "XINFO STREAM s", "XSETID s 0-5", "XDEL s 1-0", "XSETID s 0-5",
              "XINFO STREAM s", "XADD s 0-6 f v", "XADD s 3-0 f v"])


def test_sequence_overflow(diff):
    diff.run([f"XADD s 5-{U64} f v", "XADD s 5-* f v", "XADD s 6-* f v", "XADD s 6-* f v",
              "XRANGE s - +", f"XRANGE s (5-{U64} +", f"XREVRANGE s (6-0 -"])


@pytest.mark.parametrize("per_node", [1, 2, 3, 0])
def test_node_boundaries(diff, per_node):
    """Small nodes: ranges, deletes and trims across node edges, and XINFO's node count."""
    steps = [f"CONFIG SET stream-node-max-entries {per_node}"]
    steps += [f"XADD s {i}-{j} f {i} g {j}" for i in range(1, 8) for j in range(3)]
    steps += ["XADD s 8-0 other 1", "XADD s 8-1 f 1 g 2", "XINFO STREAM s", "XRANGE s 2-1 5",
              "XREVRANGE s 5 2-1", "XRANGE s (3-2 + COUNT 4", "XREVRANGE s (6 - COUNT 5",
              "XDEL s 3-0 3-1 3-2 4-1", "XRANGE s 2-2 5", "XREVRANGE s 5 2-2", "XINFO STREAM s",
              "XTRIM s MAXLEN 15", "XINFO STREAM s", "XTRIM s MINID 5-1", "XRANGE s - +",
              "XTRIM s MAXLEN ~ 3", "XINFO STREAM s", "XTRIM s MINID ~ 7", "XINFO STREAM s",
              "XADD s MAXLEN ~ 2 LIMIT 2 9-0 f v", "XRANGE s - +", "XINFO STREAM s",
              "CONFIG SET stream-node-max-entries 100"]
    diff.run(steps)


def test_node_size_limit(diff):
    steps = ["CONFIG SET stream-node-max-bytes 100"]
    steps += [["XADD", "s", f"{i}-0", "field", "v" * (i * 7)] for i in range(1, 12)]
    steps += ["XINFO STREAM s", "XRANGE s 3 8", "XTRIM s MAXLEN ~ 4", "XINFO STREAM s",
              "CONFIG SET stream-node-max-bytes 4096"]
    diff.run(steps)


def test_values_of_every_listpack_encoding(diff):
    values = ["0", "127", "128", "-1", "-4096", "4095", "4096", "-32768", "32767", "32768",
              "8388607", "-8388609", "2147483647", "2147483648", "9223372036854775807",
              "-9223372036854775808", "9223372036854775808", "01", "+1", "1.5", "", "x" * 63,
              "x" * 64, "y" * 4095, "y" * 4096, "z" * 70000, "\x00\r\n"]
    steps = []
    for i, v in enumerate(values):
        steps.append(["XADD", "s", f"{i + 1}-0", v, v, "same", v])
    steps += ["XRANGE s - +", "XREVRANGE s + -", "XINFO STREAM s", "DEBUG DIGEST-VALUE s"]
    diff.run(steps)


def test_stream_with_other_families(diff):
    diff.run(SETUP + ["TYPE s", "OBJECT ENCODING s", "GET s", "LPUSH s x", "DEBUG DIGEST-VALUE s",
                      "COPY s s2", "XADD s2 9-0 f v", "XLEN s", "XLEN s2", "RENAME s2 s3",
                      "XRANGE s3 - +", "EXPIRE s 100", "XADD s 9-0 f v", "TTL s", unordered("KEYS *"),
                      "XADD str 1-1 f v", "DEL s s3", "EXISTS s"])


def test_dump_restore_round_trip(diff):
    """DUMP payloads are compared byte for byte, and each server restores the other's."""
    diff.run(SETUP + ["XDEL s 2-0", "XSETID s 7-0 ENTRIESADDED 20 MAXDELETEDID 6-0", "DUMP s",
                      "DEL s", "RESTORE s 0 \"\"", "XRANGE s - +"])


def test_scan_type_stream(diff):
    diff.run(SETUP + ["XADD s2 1-1 f v", "RPUSH l a"])
    assert diff.scan_keys("TYPE", "stream") == {b"s", b"s2"}


def test_snapshot_reload_keeps_streams(diff):
    """DEBUG RELOAD saves and loads the RDB file (type 19) on each server."""
    diff.run(SETUP + ["XDEL s 2-0", "XADD e 1-1 f v", "XDEL e 1-1",
                      "XSETID s 9-0 ENTRIESADDED 30 MAXDELETEDID 8-0", "DEBUG RELOAD",
                      "XINFO STREAM s FULL", "XINFO STREAM e", "XRANGE s - +", "DUMP s", "DUMP e"])


WATCH_CASES = [
    ([], "XADD k 1-0 f v"), (["XADD k 1-0 f v"], "XADD k 0-1 f v"), ([], "XADD k NOMKSTREAM 1-0 f v"),
    (["XADD k 1-0 f v"], "XDEL k 1-0"), (["XADD k 1-0 f v"], "XDEL k 2-0"), (["XADD k 1-0 f v"], "XTRIM k MAXLEN 0"),
    (["XADD k 1-0 f v"], "XTRIM k MAXLEN 5"), (["XADD k 1-0 f v"], "XSETID k 5-0"),
    (["XADD k 1-0 f v"], "XGROUP CREATE k g 0"), ([], "XGROUP CREATE k g 0 MKSTREAM"),
    (["XADD k 1-0 f v", "XGROUP CREATE k g 0"], "XGROUP SETID k g 1-0"),
    (["XADD k 1-0 f v", "XGROUP CREATE k g 0"], "XGROUP DESTROY k g"),
    (["XADD k 1-0 f v", "XGROUP CREATE k g 0"], "XGROUP CREATECONSUMER k g c"),
    (["XADD k 1-0 f v", "XGROUP CREATE k g 0"], "XREADGROUP GROUP g c STREAMS k >"),
    (["XADD k 1-0 f v", "XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >"], "XACK k g 1-0"),
    (["XADD k 1-0 f v", "XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >"], "XCLAIM k g d 0 1-0"),
    (["XADD k 1-0 f v", "XGROUP CREATE k g 0", "XREADGROUP GROUP g c STREAMS k >"], "XAUTOCLAIM k g d 0 0"),
    (["XADD k 1-0 f v"], "XREAD STREAMS k 0"), (["XADD k 1-0 f v"], "XRANGE k - +"),
]


@pytest.mark.parametrize("setup,command", WATCH_CASES, ids=[c for _, c in WATCH_CASES])
def test_watch_touched_by_stream_commands(diff, new_diff, setup, command):
    """Another client's command aborts EXEC exactly when Redis says the key changed."""
    other = new_diff()
    diff.run(setup + ["WATCH k"])
    other.check_shape(*command.split())
    diff.run(["MULTI", "PING", "EXEC"])
