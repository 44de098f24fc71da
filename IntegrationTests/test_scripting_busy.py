"""Busy scripts: while a script runs past busy-reply-threshold every other client gets BUSY,
SCRIPT KILL stops a script that has not written (the caller gets Redis's error), a script that
wrote is UNKILLABLE, SHUTDOWN NOSAVE still works, and the server answers PING afterwards.
Each scenario runs against Atoll and the reference with the same expectations."""
import time

import pytest

import resp
from busy import EVAL_BUSY as BUSY, wait_busy
from procs import spawn

LOOP = "while true do end"
LOOP_SHA = "694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7"


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_busy_then_script_kill(kind):
    with spawn(kind, "--busy-reply-threshold", "200") as p:
        runner, other, late = p.connect(timeout=15), p.connect(timeout=15), None
        try:
            runner.send_raw(resp.encode("EVAL", LOOP, "0"))
            wait_busy(other)
            assert other.command("GET", "k") == BUSY
            # A client connecting while the script runs is answered too.
            late = p.connect(timeout=15)
            assert late.command("PING") == BUSY
            assert other.command("SCRIPT", "KILL") == b"+OK\r\n"
            assert runner.read_reply() == (
                b"-ERR Script killed by user with SCRIPT KILL... script: " + LOOP_SHA.encode()
                + b", on @user_script:1.\r\n")
            assert other.command("PING") == b"+PONG\r\n"
            assert late.command("PING") == b"+PONG\r\n"
            assert other.command("SCRIPT", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
        finally:
            for c in (runner, other, late):
                if c is not None:
                    c.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_script_that_wrote_is_unkillable_but_shutdown_nosave_works(kind):
    with spawn(kind, "--busy-reply-threshold", "200") as p:
        runner, other = p.connect(timeout=15), p.connect(timeout=15)
        try:
            runner.send_raw(resp.encode("EVAL", "redis.call('SET', 'k', 'v') " + LOOP, "0"))
            wait_busy(other)
            assert other.command("SCRIPT", "KILL").startswith(b"-UNKILLABLE Sorry the script already executed write commands")
            other.send_raw(resp.encode("SHUTDOWN", "NOSAVE"))
            assert p.wait_exit(15) is not None, "the server did not exit on SHUTDOWN NOSAVE"
        finally:
            runner.close()
            other.close()


def test_scripts_do_not_interleave_with_other_clients():
    """A script that runs a while (not busy) holds everyone else off until it ends."""
    with spawn("atoll") as p:
        runner, other = p.connect(timeout=15), p.connect(timeout=15)
        try:
            script = ("redis.call('SET', 'k', 'start') local t = redis.call('TIME') "
                      "local x = 0 for i = 1, 3000000 do x = x + i end "
                      "redis.call('SET', 'k', 'end') return x")
            runner.send_raw(resp.encode("EVAL", script, "0"))
            # Whenever GET gets in, it sees either no key or the final value, never 'start'.
            seen = other.command("GET", "k")
            assert seen in (b"$-1\r\n", b"$3\r\nend\r\n")
            assert runner.read_reply().startswith(b":")
            assert other.command("GET", "k") == b"$3\r\nend\r\n"
        finally:
            runner.close()
            other.close()


def test_pipelined_script_then_blocking_pop():
    """A new script (run on the script thread) followed in the same write by a blocking pop
    and a PING: the pop parks the client, a push from another client serves it, and the
    replies arrive in order."""
    with spawn("atoll") as p:
        client, pusher = p.connect(timeout=15), p.connect(timeout=15)
        try:
            client.send_raw(resp.encode("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", "k")
                            + resp.encode("BLPOP", "q", "10") + resp.encode("PING"))
            assert client.read_reply() == b"+OK\r\n"
            end = time.monotonic() + 10
            while time.monotonic() < end:
                if b"blocked_clients:1" in pusher.command("INFO", "clients"):
                    break
            else:
                pytest.fail("the client never blocked")
            assert pusher.command("RPUSH", "q", "job") == b":1\r\n"
            assert client.read_reply() == b"*2\r\n$1\r\nq\r\n$3\r\njob\r\n"
            assert client.read_reply() == b"+PONG\r\n"
        finally:
            client.close()
            pusher.close()
