"""`repl-timeout` on both sides, each checked on Atoll and on redis-server alike: a replica
whose master sends nothing (not even PINGs) drops the link after `repl-timeout` seconds, logs
Redis's line and continues by a partial resync; one whose master never answers the handshake
gives up on it and tries again; a primary drops a replica whose REPLCONF ACKs
stopped (with Redis's log line) but keeps one attached by the old SYNC, which sends none."""

from __future__ import annotations

import socket

import pytest

import resp
from procs import redis_available
from replication_checks import spawn, client, info, wait_link_up, wait_until

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")


@pytest.mark.parametrize("replica_kind", ["atoll", "redis"])
@pytest.mark.parametrize("primary_kind", ["atoll", "redis"])
def test_a_silent_master_is_dropped_and_reconnected(primary_kind, replica_kind):
    # The primary PINGs every 100 s: once the stream is idle it sends nothing.
    with spawn(primary_kind, "--repl-ping-replica-period", "100") as p, \
            spawn(replica_kind, "--repl-timeout", "2", "--replicaof", "127.0.0.1", p.port) as r:
        primary, replica = client(p.port), client(r.port)
        wait_link_up(replica)
        primary.set("before", "1")
        wait_until(lambda: "MASTER timeout: no data nor PING received..." in r.logs(), timeout=15,
                   what="the replica to time out its master")
        wait_until(lambda: info(primary, "stats")["sync_partial_ok"] >= 1, what="the partial resync")
        wait_link_up(replica)
        assert info(primary, "stats")["sync_full"] == 1
        primary.set("after", "2")
        wait_until(lambda: replica.get("after") == b"2", what="the stream after the reconnection")
        assert replica.get("before") == b"1"


@pytest.mark.parametrize("replica_kind", ["atoll", "redis"])
def test_a_master_that_never_answers_the_handshake_times_out(replica_kind):
    # The kernel accepts the connection; nobody ever reads or answers on it.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with spawn(replica_kind, "--repl-timeout", "1", "--replicaof", "127.0.0.1", port) as r:
            wait_until(lambda: r.logs().count("Timeout connecting to the MASTER...") >= 2, timeout=15,
                       what="two handshakes to time out")


def start_fake_replica(port: int, command: bytes, listening_port: int) -> resp.Conn:
    """A replica that says its port, asks for a full sync, reads the snapshot, then sends
    nothing more (no ACKs)."""
    c = resp.Conn(port, timeout=10)
    c.send_raw(resp.encode("REPLCONF", "listening-port", str(listening_port)))
    assert c.read_reply() == b"+OK\r\n"
    c.send_raw(command)
    line = c._line()
    if line.startswith(b"+FULLRESYNC"):
        line = c._line()
    while line == b"\n" or line.startswith(b"\n"):
        # A disk-based sync sends newlines while the snapshot is made.
        line = line.lstrip(b"\n") or c._line()
    assert line.startswith(b"$"), line
    c._exact(int(line[1:-2]))
    return c


@pytest.mark.parametrize("primary_kind", ["atoll", "redis"])
def test_a_replica_without_acks_is_dropped(primary_kind):
    with spawn(primary_kind, "--repl-timeout", "2", "--repl-diskless-sync", "no") as p:
        primary = client(p.port)
        primary.set("k", "v")
        old = start_fake_replica(p.port, b"SYNC\r\n", 4320)
        silent = start_fake_replica(p.port, b"PSYNC ? -1\r\n", 4321)
        wait_until(lambda: info(primary, "replication")["connected_slaves"] == 2, what="both replicas attached")
        _, closed = silent.read_until_close(timeout=10)
        assert closed, "the primary kept a replica that sent no ACK"
        wait_until(lambda: "Disconnecting timedout replica (streaming sync): 127.0.0.1:4321" in p.logs(),
                   what="the log line")
        repl = info(primary, "replication")
        assert repl["connected_slaves"] == 1
        assert repl["slave0"]["port"] == 4320
        assert "Disconnecting timedout replica (streaming sync): 127.0.0.1:4320" not in p.logs()
        old.close()
        silent.close()
