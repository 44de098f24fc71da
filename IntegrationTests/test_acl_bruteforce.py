"""Brute force: 10,000 wrong passwords are each answered with WRONGPASS and logged (one ACL LOG
entry counting them all, as redis-server merges them), while another client's PING keeps being
answered quickly, and the server lives on: against a user from an authenticated connection, and
against the default user's `requirepass` from a connection that never authenticated (which
Atoll reads one command at a time)."""
import threading
import time

import pytest

import resp
from acl_support import reset_users

ATTEMPTS = 10_000
# Pipelined in batches small enough for a connection that has not authenticated (both servers
# close one that sends much more before AUTH succeeds).
BATCH = 100
# Another client's PING must be answered within this many seconds while the attack runs.
PING_BOUND = 1.0


def _attack(port: int, user: str) -> int:
    """Sends the wrong passwords in pipelined batches; returns how many WRONGPASS came back."""
    wrong = 0
    with resp.Conn(port, timeout=30.0) as c:
        for start in range(0, ATTEMPTS, BATCH):
            replies = c.pipeline([("AUTH", user, f"guess-{i}") for i in range(start, start + BATCH)])
            wrong += sum(r == b"-WRONGPASS invalid username-password pair or user is disabled.\r\n" for r in replies)
    return wrong


def _entries(port: int):
    with resp.Conn(port) as c:
        assert c.command("AUTH", "victim", "right") == b"+OK\r\n"
        return resp.parse(c.command("ACL", "LOG"))


@pytest.mark.parametrize("user", ["victim", "default"])
def test_ten_thousand_wrong_passwords(ref_port, atoll_port, user):
    for port in (ref_port, atoll_port):
        reset_users(port)
        with resp.Conn(port) as c:
            assert c.command("ACL", "SETUSER", "victim", "on", ">right", "+@all", "~*") == b"+OK\r\n"
            assert c.command("ACL", "SETUSER", "default", ">secret") == b"+OK\r\n"
    try:
        result = {}
        attacker = threading.Thread(target=lambda: result.update(wrong=_attack(atoll_port, user)))
        slowest, pings = 0.0, 0
        with resp.Conn(atoll_port, timeout=5.0) as bystander:
            assert bystander.command("AUTH", "victim", "right") == b"+OK\r\n"
            attacker.start()
            deadline = time.monotonic() + 120
            while attacker.is_alive() and time.monotonic() < deadline:
                started = time.monotonic()
                assert bystander.command("PING") == b"+PONG\r\n"
                slowest = max(slowest, time.monotonic() - started)
                pings += 1
            attacker.join(timeout=max(0.0, deadline - time.monotonic()))
            assert not attacker.is_alive(), "the attack did not finish in time"
        assert result["wrong"] == ATTEMPTS
        assert pings > 0 and slowest < PING_BOUND, f"{pings} PINGs, the slowest waited {slowest:.3f}s during the attack"

        assert _attack(ref_port, user) == ATTEMPTS
        ref, atoll = _entries(ref_port), _entries(atoll_port)
        assert len(ref) == len(atoll) == 1
        ref_fields, atoll_fields = dict(zip(ref[0][::2], ref[0][1::2])), dict(zip(atoll[0][::2], atoll[0][1::2]))
        for field in (b"count", b"reason", b"context", b"object", b"username"):
            assert ref_fields[field] == atoll_fields[field], field
        assert atoll_fields[b"count"] == ATTEMPTS
    finally:
        reset_users(ref_port)
        reset_users(atoll_port)
