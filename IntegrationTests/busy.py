"""Helpers for tests of busy scripts: Redis's BUSY replies, and waiting until a server gives
one (PING, bounded)."""
import time

import pytest

import resp

EVAL_BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
FUNCTION_BUSY = b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"


def wait_busy(conn: resp.Conn, busy: bytes = EVAL_BUSY, deadline_s: float = 10.0) -> None:
    """PING until the server answers `busy`; anything but PONG or `busy` fails the test."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        reply = conn.command("PING")
        if reply == busy:
            return
        assert reply == b"+PONG\r\n", reply
    pytest.fail("the server never answered BUSY")
