"""A replica's ACK offset counts the bytes it received from its master, as redis-server's
replicas count them — a blank line and an empty multibulk (no command) with the command after
them, each command by its own bytes, not by a re-encoding — before the GETACK it answers, and
the GETACK itself after; an inline command from the master drops the link and discards the
cached master (the next sync is a full one). Each checked on an Atoll replica and a
redis-server replica of the same fake master."""

from __future__ import annotations

import re
import time

import pytest

import resp
from fake_master import FakeMaster, snapshot_of
from procs import redis_available
from replication_checks import spawn

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

GETACK = resp.encode("REPLCONF", "GETACK", "*")
# A 2-byte blank line, a 4-byte empty multibulk, 27 bytes of SET, 14 bytes of PING; GETACK takes 37.
STREAM = b"\r\n" + b"*0\r\n" + resp.encode("SET", "b", "2") + resp.encode("PING")
BEFORE_GETACK = len(STREAM)
AFTER_GETACK = BEFORE_GETACK + len(GETACK)


def snapshot() -> bytes:
    with spawn("atoll") as source:
        c = source.connect()
        assert c.command("SET", "seed", "1") == b"+OK\r\n"
        c.close()
        return snapshot_of(source)


def full_sync(rdb: bytes) -> bytes:
    return b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n$" + str(len(rdb)).encode() + b"\r\n" + rdb


def acks(master: FakeMaster) -> list[int]:
    return [int(n) for n in re.findall(rb"\$3\r\nACK\r\n\$\d+\r\n(\d+)\r\n", master.after_payload())]


@pytest.mark.parametrize("replica_kind", ["atoll", "redis"])
def test_ack_counts_the_bytes_received(replica_kind):
    assert (BEFORE_GETACK, AFTER_GETACK) == (47, 84)
    master = FakeMaster(full_sync(snapshot()) + STREAM + GETACK)
    try:
        with spawn(replica_kind, "--replicaof", "127.0.0.1", master.port) as replica:
            c = replica.connect()
            deadline = time.monotonic() + 8
            while AFTER_GETACK not in acks(master):
                assert time.monotonic() < deadline, f"ACKs seen: {acks(master)}"
                time.sleep(0.05)  # polling what the replica sent, bounded
            seen = acks(master)
            assert BEFORE_GETACK in seen
            assert set(seen) <= {0, BEFORE_GETACK, AFTER_GETACK}, seen
            assert c.command("GET", "seed") == b"$1\r\n1\r\n"
            assert c.command("GET", "b") == b"$1\r\n2\r\n"
            c.close()
    finally:
        master.close()


@pytest.mark.parametrize("replica_kind", ["atoll", "redis"])
def test_an_inline_command_from_the_master_drops_the_link(replica_kind):
    master = FakeMaster(full_sync(snapshot()) + resp.encode("SET", "b", "2") + b"SET a 1\r\n", connections=2)
    try:
        with spawn(replica_kind, "--replicaof", "127.0.0.1", master.port) as replica:
            assert master.closed_by_replica.wait(8), "the replica kept the link"
            c = replica.connect()
            assert c.command("GET", "b") == b"$1\r\n2\r\n"
            assert c.command("GET", "a") == b"$-1\r\n"
            deadline = time.monotonic() + 5
            while "Receiving inline protocol from master" not in replica.logs():
                assert time.monotonic() < deadline, "no log line"
                time.sleep(0.05)  # polling the log, bounded
            # The cached master is discarded: the next attempt asks for a full sync.
            while len(master.psyncs) < 2:
                assert time.monotonic() < deadline, "the replica did not come back"
                time.sleep(0.05)  # polling the fake master, bounded
            assert master.psyncs[1] == [b"PSYNC", b"?", b"-1"]
            c.close()
    finally:
        master.close()
