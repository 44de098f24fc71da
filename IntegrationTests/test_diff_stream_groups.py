"""Differential tests for stream consumer groups: XGROUP (CREATE SETID DESTROY CREATECONSUMER
DELCONSUMER), XREADGROUP (`>`, history, COUNT, NOACK), XACK, XPENDING (summary, extended,
IDLE, consumer), XCLAIM (IDLE TIME RETRYCOUNT FORCE JUSTID LASTID), XAUTOCLAIM (COUNT JUSTID,
deleted IDs), XINFO GROUPS / CONSUMERS / STREAM FULL, and XREAD without blocking.

Times are the servers' own clocks: replies that carry them (idle, seen-time, delivery time)
are compared by shape, or pinned with XCLAIM TIME so they are exact.
"""

import pytest

import resp
import stream_info
from diff import shape

SETUP = ["XADD s 1-0 f 1", "XADD s 2-0 f 2", "XADD s 3-0 f 3 g x", "XADD s 4-0 f 4", "XADD s 5-0 f 5",
         "XGROUP CREATE s g 0", "XGROUP CREATE s late $", "SET str v"]
STATE = ["XINFO GROUPS s", "XPENDING s g", shape("XPENDING s g - + 10"), shape("XINFO CONSUMERS s g"),
         "XRANGE s - +", "EXISTS s"]

CASES = [
    # XGROUP CREATE
    "XGROUP CREATE s g2 0", "XGROUP CREATE s g2 $", "XGROUP CREATE s g 0", "XGROUP CREATE s g2 3",
    "XGROUP CREATE s g2 3-0 ENTRIESREAD 2", "XGROUP CREATE s g2 0 ENTRIESREAD -1",
    "XGROUP CREATE s g2 0 ENTRIESREAD -2", "XGROUP CREATE s g2 0 ENTRIESREAD x", "XGROUP CREATE s g2 x",
    "XGROUP CREATE s g2 -", "XGROUP CREATE s g2 +", "XGROUP CREATE s g2 0 FOO", "XGROUP CREATE s g2 0 MKSTREAM",
    "XGROUP CREATE new g 0", "XGROUP CREATE new g $ MKSTREAM", "XGROUP CREATE new g x MKSTREAM",
    "XGROUP CREATE new g 5 MKSTREAM ENTRIESREAD 3", "XGROUP CREATE str g 0", "XGROUP CREATE str g 0 MKSTREAM",
    "XGROUP CREATE s g2 9-0", "XGROUP CREATE s g2 0 ENTRIESREAD", "xgroup create s G2 0",
    # XGROUP SETID
    "XGROUP SETID s g 3", "XGROUP SETID s g $", "XGROUP SETID s g -", "XGROUP SETID s g +", "XGROUP SETID s g x",
    "XGROUP SETID s g 3 ENTRIESREAD 2", "XGROUP SETID s g 3 ENTRIESREAD -5", "XGROUP SETID s g 3 FOO",
    "XGROUP SETID s nog 3", "XGROUP SETID new g 3", "XGROUP SETID str g 3", "XGROUP SETID s g 3 MKSTREAM",
    # XGROUP DESTROY / CREATECONSUMER / DELCONSUMER
    "XGROUP DESTROY s g", "XGROUP DESTROY s nog", "XGROUP DESTROY new g", "XGROUP DESTROY str g",
    "XGROUP CREATECONSUMER s g c", "XGROUP CREATECONSUMER s nog c", "XGROUP CREATECONSUMER new g c",
    "XGROUP DELCONSUMER s g c", "XGROUP DELCONSUMER s nog c", "XGROUP DELCONSUMER new g c",
    "XGROUP HELP", "XGROUP FOO", "XGROUP CREATE s", "XGROUP DESTROY s g x", "XGROUP SETID s g",
    # XREADGROUP: new entries
    "XREADGROUP GROUP g c STREAMS s >", "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
    "XREADGROUP GROUP g c COUNT 0 STREAMS s >", "XREADGROUP GROUP g c COUNT -1 STREAMS s >",
    "XREADGROUP GROUP g c NOACK STREAMS s >", "XREADGROUP GROUP late c STREAMS s >",
    "XREADGROUP GROUP g c STREAMS s 0", "XREADGROUP GROUP g c STREAMS s $",
    "XREADGROUP GROUP g c STREAMS s x", "XREADGROUP GROUP nog c STREAMS s >",
    "XREADGROUP GROUP g c STREAMS new >", "XREADGROUP GROUP g c STREAMS str >",
    "XREADGROUP GROUP g c STREAMS s", "XREADGROUP GROUP g c STREAMS s s > >",
    "XREADGROUP GROUP g c COUNT 1 STREAMS s s > >", "XREADGROUP STREAMS s >", "XREADGROUP GROUP g STREAMS s >",
    "XREADGROUP GROUP g c COUNT x STREAMS s >", "XREADGROUP GROUP g c BLOCK x STREAMS s >",
    "XREADGROUP GROUP g c BLOCK -1 STREAMS s >", "XREADGROUP GROUP g c FOO STREAMS s >",
    "XREADGROUP GROUP g c BLOCK 10 STREAMS s >", "xreadgroup group g c count 1 noack streams s >",
    "XREADGROUP GROUP late c BLOCK 10 STREAMS s >",
    # XREAD
    "XREAD STREAMS s 0", "XREAD COUNT 2 STREAMS s 0", "XREAD STREAMS s 3", "XREAD STREAMS s $",
    "XREAD STREAMS s 5", "XREAD STREAMS s new 0 0", "XREAD STREAMS new 0", "XREAD STREAMS str 0",
    "XREAD STREAMS s >", "XREAD STREAMS s x", "XREAD STREAMS s", "XREAD GROUP g c STREAMS s 0",
    "XREAD NOACK STREAMS s 0", "XREAD COUNT 1", "XREAD", "XREAD STREAMS s s 0 3", "XREAD BLOCK 10 STREAMS s $",
    "XREAD BLOCK 10 STREAMS s 0", "XREAD BLOCK 9223372036854775807 STREAMS s 0", "XREAD STREAMS s -",
    "XREAD STREAMS s 18446744073709551615-18446744073709551615", "XREAD COUNT 0 STREAMS s 2",
    # XACK
    "XACK s g 1-0", "XACK s g x", "XACK s nog 1-0", "XACK new g 1-0", "XACK str g 1-0",
    # XPENDING forms and errors
    shape("XPENDING s g - + 10 c"), "XPENDING s g - + 10 nobody", shape("XPENDING s g IDLE 0 - + 10"),
    "XPENDING s g IDLE 100000 - + 10", "XPENDING s g IDLE x - + 10", "XPENDING s g IDLE 0 - +",
    "XPENDING s g - + x", "XPENDING s g - + -1", "XPENDING s g x + 10", shape("XPENDING s g (1-0 (5 10"),
    "XPENDING s g - + 10 c extra", "XPENDING s g -", "XPENDING s nog", "XPENDING new g", "XPENDING str g",
    "XPENDING s nog - + 10", "XPENDING s g (18446744073709551615-18446744073709551615 + 10",
]


@pytest.mark.parametrize("command", CASES)
def test_group_command(diff, command):
    diff.run(SETUP + [command] + STATE)


@pytest.mark.parametrize("command", CASES)
def test_group_command_after_deliveries(diff, command):
    """The same commands after entries were delivered to two consumers and one deleted."""
    diff.run(SETUP + [shape("XREADGROUP GROUP g alice COUNT 2 STREAMS s >"),
                      shape("XREADGROUP GROUP g bob COUNT 2 STREAMS s >"), "XDEL s 2-0", command] + STATE)


def test_history_and_deleted_entries(diff):
    diff.run(SETUP + [shape("XREADGROUP GROUP g alice STREAMS s >"), "XDEL s 2-0 4-0",
                      "XREADGROUP GROUP g alice STREAMS s 0", "XREADGROUP GROUP g alice COUNT 2 STREAMS s 0",
                      "XREADGROUP GROUP g alice STREAMS s 3", "XREADGROUP GROUP g bob STREAMS s 0",
                      "XACK s g 1-0 2-0 9-0", "XREADGROUP GROUP g alice STREAMS s 0", "XPENDING s g",
                      shape("XPENDING s g - + 10 alice"), "XINFO GROUPS s"])
    check_full_info(diff, "s", delivery_times=True)


def test_claims_with_fixed_times(diff):
    t = "1700000000000"
    steps = SETUP + [shape("XREADGROUP GROUP g alice STREAMS s >")]
    steps += ["XCLAIM s g bob 0 1-0 2-0 TIME " + t, shape("XPENDING s g - + 10"), "XCLAIM s g bob 0 3-0 JUSTID TIME " + t,
              "XCLAIM s g carol 0 4-0 RETRYCOUNT 7 TIME " + t, "XCLAIM s g carol 0 9-0 FORCE TIME " + t,
              "XDEL s 5-0", "XCLAIM s g carol 0 5-0 TIME " + t, shape("XPENDING s g - + 10"),
              "XCLAIM s g dave 0 3-0 LASTID 9-0 JUSTID TIME " + t, "XINFO GROUPS s",
              "XCLAIM s g dave 0 1-0 IDLE 5", shape("XPENDING s g - + 10"), "XCLAIM s g dave 0 1-0 TIME -5",
              "XCLAIM s g bob 99999999999 2-0", "XCLAIM s g bob x 2-0", "XCLAIM s g bob 0 2-0 IDLE x",
              "XCLAIM s g bob 0 2-0 TIME x", "XCLAIM s g bob 0 2-0 RETRYCOUNT x", "XCLAIM s g bob 0 2-0 FOO",
              "XCLAIM s g bob 0 2-0 LASTID x", "XCLAIM s nog bob 0 2-0", "XCLAIM new g bob 0 2-0",
              "XCLAIM str g bob 0 2-0", "XCLAIM s g bob 0 x", "XCLAIM s g erin 0 1-0 FORCE JUSTID TIME " + t,
              "XADD s 6-0 f 6", "XCLAIM s g erin 0 6-0 FORCE TIME " + t, "XCLAIM s g erin 0 6-0 FORCE JUSTID TIME " + t,
              shape("XPENDING s g - + 10")]
    diff.run(steps)
    check_full_info(diff, "s")
    diff.run(["XGROUP DELCONSUMER s g carol", "XPENDING s g"])
    check_full_info(diff, "s")


def test_autoclaim(diff):
    t = "1700000000000"
    steps = SETUP + [shape("XREADGROUP GROUP g alice STREAMS s >")]
    steps += ["XCLAIM s g alice 0 1-0 2-0 3-0 4-0 5-0 JUSTID TIME " + t, "XDEL s 2-0 4-0",
              shape("XAUTOCLAIM s g bob 0 0 COUNT 1"), shape("XAUTOCLAIM s g bob 0 0 COUNT 2 JUSTID"),
              "XPENDING s g", shape("XAUTOCLAIM s g carol 0 (1-0"), "XPENDING s g",
              "XAUTOCLAIM s g dave 99999999999 0", "XAUTOCLAIM s g dave 0 0 COUNT 0", "XAUTOCLAIM s g dave 0 0 COUNT x",
              "XAUTOCLAIM s g dave 0 0 FOO", "XAUTOCLAIM s g dave x 0", "XAUTOCLAIM s g dave 0 x",
              "XAUTOCLAIM s nog dave 0 0", "XAUTOCLAIM new g dave 0 0", "XAUTOCLAIM str g dave 0 0",
              "XAUTOCLAIM s g dave -5 (18446744073709551615-18446744073709551615",
              f"XAUTOCLAIM s g dave 0 0 COUNT {2**63 // 16}", f"XAUTOCLAIM s g dave 0 0 COUNT {2**63 // 16 + 1}",
              "XPENDING s g", "XINFO GROUPS s"]
    diff.run(steps)


def test_lag_and_entries_read(diff):
    """XINFO GROUPS's entries-read and lag through reads, deletions and SETID, as Redis counts."""
    steps = ["XADD s 1-0 f v", "XADD s 2-0 f v", "XADD s 3-0 f v", "XGROUP CREATE s a 0", "XGROUP CREATE s b $",
             "XGROUP CREATE s c 1-0 ENTRIESREAD 1", "XINFO GROUPS s", shape("XREADGROUP GROUP a x COUNT 1 STREAMS s >"),
             "XINFO GROUPS s", "XDEL s 2-0", "XINFO GROUPS s", shape("XREADGROUP GROUP a x STREAMS s >"),
             "XINFO GROUPS s", shape("XREADGROUP GROUP c x STREAMS s >"), "XINFO GROUPS s", "XADD s 4-0 f v",
             "XINFO GROUPS s", "XGROUP SETID s b 2-0", "XINFO GROUPS s", "XTRIM s MAXLEN 1", "XINFO GROUPS s",
             shape("XREADGROUP GROUP b y STREAMS s >"), "XINFO GROUPS s", "XSETID s 9-0 ENTRIESADDED 20",
             "XINFO GROUPS s", "XDEL s 4-0", "XINFO GROUPS s", "XINFO STREAM s"]
    diff.run(steps)


def test_info_errors(diff):
    diff.run(SETUP + ["XINFO GROUPS new", "XINFO GROUPS str", "XINFO CONSUMERS s nog", "XINFO CONSUMERS new g",
                      "XINFO CONSUMERS str g", "XINFO STREAM new", "XINFO STREAM str", "XINFO STREAM s FOO",
                      "XINFO STREAM s FULL COUNT", "XINFO STREAM s FULL COUNT x", "XINFO STREAM s FULL FOO 1",
                      "XINFO STREAM new FOO", "XINFO HELP", "XINFO FOO", "XINFO GROUPS", "XINFO CONSUMERS s",
                      "xinfo stream s full count -1", "XINFO STREAM s FULL COUNT 2", "XINFO STREAM s FULL COUNT 0"])


def test_resp3_replies(diff):
    diff.run([shape("HELLO 3")] + SETUP + ["XREAD STREAMS s 3", "XREAD STREAMS new 0", shape("XINFO CONSUMERS s g"),
                                           "XINFO GROUPS s", "XINFO STREAM s", "XPENDING s g",
                                           shape("XREADGROUP GROUP g c COUNT 1 STREAMS s >"), shape("XINFO STREAM s FULL COUNT 0")])


def check_full_info(diff, key, delivery_times=False):
    """XINFO STREAM FULL compared whole but for the consumers' seen times (and, when the
    entries were delivered at the servers' own times, the delivery times)."""
    ref, atoll = diff.both("XINFO", "STREAM", key, "FULL")
    assert (stream_info.blank(resp.parse(ref), clock_readings=delivery_times)
            == stream_info.blank(resp.parse(atoll), clock_readings=delivery_times)), (ref, atoll)


def test_full_info_after_a_mixed_history(diff):
    t = "1700000000000"
    diff.run(["CONFIG SET stream-node-max-entries 3"] + [f"XADD s {i}-{j} f {i} g {j}" for i in range(1, 6) for j in range(2)]
             + ["XGROUP CREATE s g1 0", "XGROUP CREATE s g2 3-0 ENTRIESREAD 4", "XGROUP CREATE s g3 $",
                shape("XREADGROUP GROUP g1 a COUNT 4 STREAMS s >"), shape("XREADGROUP GROUP g1 b COUNT 3 STREAMS s >"),
                shape("XREADGROUP GROUP g2 a NOACK COUNT 2 STREAMS s >"), "XDEL s 1-1 3-0",
                f"XCLAIM s g1 c 0 1-0 2-0 TIME {t}", "XACK s g1 2-0", "XTRIM s MAXLEN 7", "XGROUP CREATECONSUMER s g3 z",
                f"XCLAIM s g1 a 0 1-1 2-1 TIME {t} JUSTID", "XGROUP SETID s g3 4-1", "CONFIG SET stream-node-max-entries 100"])
    check_full_info(diff, "s", delivery_times=True)


def test_extreme_read_counters(diff):
    """A read counter at the top of its range: reading on and computing the lag wrap as in
    Redis instead of trapping."""
    diff.run(["XADD s 1-0 f v", "XADD s 2-0 f v", "XGROUP CREATE s g 0 ENTRIESREAD 9223372036854775807",
              "XINFO GROUPS s", shape("XREADGROUP GROUP g c COUNT 1 STREAMS s >"), "XINFO GROUPS s",
              "XSETID s 2-0 ENTRIESADDED 9223372036854775807", "XINFO GROUPS s",
              shape("XREADGROUP GROUP g c STREAMS s >"), "XINFO GROUPS s"])
