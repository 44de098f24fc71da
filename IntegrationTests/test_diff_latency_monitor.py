"""The latency monitor against redis-server 7.0.15: with `latency-monitor-threshold` set, a
command that takes at least that long is recorded as a `command` sample (one per second, the
highest), LATENCY LATEST / HISTORY / GRAPH show it, RESET forgets it (names without case), and
the expiry cycle is recorded as `expire-cycle`. Times and milliseconds differ between two
servers, so those replies are compared with every number masked, and the numbers checked on
their own; replies without them are compared byte for byte.
"""

from __future__ import annotations

import re
import time

import pytest

import resp
from procs import diff_of, spawn_both

THRESHOLD = 100


@pytest.fixture
def servers():
    with spawn_both("--enable-debug-command", "yes", "--latency-monitor-threshold", str(THRESHOLD)) as pair:
        yield pair


@pytest.fixture
def d(servers):
    with diff_of(*servers) as d:
        yield d


def masked(raw: bytes) -> bytes:
    """The reply with every number (and so every length prefix) replaced by `N`."""
    return re.sub(rb"\d+", b"N", raw)


def check_masked(d, *args) -> tuple[bytes, bytes]:
    r, a = d.both(*args)
    assert masked(r) == masked(a), (args, r, a)
    return r, a


def test_nothing_is_recorded_below_the_threshold(d):
    for args in [("SET", "k", "v"), ("GET", "k"), ("DEBUG", "SLEEP", "0")]:
        d.both(*args)
    for args in [("LATENCY", "LATEST"), ("LATENCY", "HISTORY", "command"), ("LATENCY", "GRAPH", "command"),
                 ("LATENCY", "RESET"), ("LATENCY", "RESET", "command", "fast-command"), ("LATENCY", "HISTORY"),
                 ("LATENCY", "LATEST", "x"), ("LATENCY", "GRAPH"), ("LATENCY", "NOPE"),
                 ("CONFIG", "GET", "latency-monitor-threshold"), ("CONFIG", "SET", "latency-monitor-threshold", "-1"),
                 ("CONFIG", "SET", "latency-monitor-threshold", "abc")]:
        d.check(*args)


def test_slow_commands_are_sampled_once_a_second(d):
    started = int(time.time())
    d.both("DEBUG", "SLEEP", "0.15")
    # Ends at least a second after the first sample: a second sample.
    d.both("DEBUG", "SLEEP", "1.0")
    r, a = check_masked(d, "LATENCY", "HISTORY", "command")
    for raw in (r, a):
        (t1, ms1), (t2, ms2) = resp.parse(raw)
        assert started <= t1 < t2 <= int(time.time())
        assert 150 <= ms1 < 1000 <= ms2 < 3000
    r, a = check_masked(d, "LATENCY", "LATEST")
    for raw, history in ((r, resp.parse(d.ref.command("LATENCY", "HISTORY", "command"))),
                         (a, resp.parse(d.atoll.command("LATENCY", "HISTORY", "command")))):
        [[event, at, ms, highest]] = resp.parse(raw)
        assert (event, at, ms, highest) == (b"command", history[-1][0], history[-1][1], history[-1][1])
    r, a = check_masked(d, "LATENCY", "GRAPH", "command")
    assert resp.parse(a).startswith(b"command - high ")
    # Case matters for HISTORY and GRAPH, not for RESET.
    d.check("LATENCY", "HISTORY", "COMMAND")
    d.check("LATENCY", "GRAPH", "Command")
    d.check("LATENCY", "RESET", "COMMAND", "command")
    d.check("LATENCY", "LATEST")


def test_a_slow_command_inside_exec_and_the_exec(d):
    for args in [("MULTI",), ("DEBUG", "SLEEP", "0.15"), ("SET", "k", "v"), ("EXEC",)]:
        d.check(*args)
    r, a = check_masked(d, "LATENCY", "HISTORY", "command")
    assert len(resp.parse(a)) in (1, 2)  # DEBUG and EXEC, in one second or two
    d.check("LATENCY", "RESET")


def test_the_highest_of_a_second_is_kept(d):
    d.both("DEBUG", "SLEEP", "0.3")
    d.both("DEBUG", "SLEEP", "0.12")
    for raw in check_masked(d, "LATENCY", "LATEST"):
        [[_, _, ms, highest]] = resp.parse(raw)
        assert highest >= 300 and ms >= 120


def test_turning_the_monitor_off_stops_recording(d):
    d.check("CONFIG", "SET", "latency-monitor-threshold", "0")
    d.both("DEBUG", "SLEEP", "0.15")
    d.check("LATENCY", "LATEST")
    d.check("CONFIG", "SET", "latency-monitor-threshold", str(THRESHOLD))


def test_doctor_reports_each_event(servers):
    _, atoll = servers
    c = atoll.connect()
    assert b"disabled" not in c.command("LATENCY", "DOCTOR")
    c.command("DEBUG", "SLEEP", "0.15")
    report = resp.parse(c.command("LATENCY", "DOCTOR"))
    assert b"1. command: 1 latency spikes (average 1" in report, report
    c.command("CONFIG", "SET", "latency-monitor-threshold", "0")
    c.command("LATENCY", "RESET")
    assert b"disabled" in resp.parse(c.command("LATENCY", "DOCTOR"))
    c.close()


def test_the_expiry_cycle_is_sampled(servers):
    """A set of 200,000 members expiring in the background takes more than a millisecond to
    delete in either server."""
    deadline = time.monotonic() + 20
    for server in servers:
        c = server.connect()
        assert c.command("CONFIG", "SET", "latency-monitor-threshold", "1") == b"+OK\r\n"
        c.command("EVAL", "for i=1,200000 do redis.call('SADD', KEYS[1], 'member:' .. i) end", "1", "big")
        assert c.command("PEXPIRE", "big", "1") == b":1\r\n"
        while c.command("DBSIZE") != b":0\r\n":
            assert time.monotonic() < deadline, "the key did not expire"
            time.sleep(0.05)  # polling the background cycle, bounded
        events = {entry[0] for entry in resp.parse(c.command("LATENCY", "LATEST"))}
        assert b"expire-cycle" in events, (server.kind, events)
        c.close()
