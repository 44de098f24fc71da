"""Chained replication, with Atoll and redis-server mixed: a replica serves replicas of its
own (SYNC/PSYNC accepted while its link is up, `-NOMASTERLINK` while it is not), a full sync
from its dataset under its master's replication ID and offset (the snapshot says which
database the stream is in), then its master's stream forwarded byte for byte; a partial
resync from the middle of the chain; DEBUG DIGEST equal at the end of the chain."""

from __future__ import annotations

import socket
import time

import pytest
import redis

import resp
from procs import redis_available
from replication_checks import (spawn, assert_same_data, client, info, mixed_workload, wait_caught_up, wait_link_up,
                                wait_until)

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

# No wait for more replicas before a diskless sync (5 s by default in both servers).
FLAGS = ("--enable-debug-command", "yes", "--repl-ping-replica-period", "3600", "--repl-diskless-sync-delay", "0")

# Every mix but redis-server alone.
CHAINS = [("atoll", "atoll", "atoll"), ("redis", "atoll", "redis"), ("atoll", "redis", "atoll"),
          ("redis", "atoll", "atoll"), ("atoll", "atoll", "redis"), ("redis", "redis", "atoll"),
          ("atoll", "redis", "redis")]


@pytest.mark.parametrize("top_kind,middle_kind,end_kind", CHAINS)
def test_a_chain_of_three_ends_with_the_same_data(top_kind, middle_kind, end_kind):
    with spawn(top_kind, *FLAGS) as t, spawn(middle_kind, *FLAGS, "--replicaof", "127.0.0.1", t.port) as m:
        top, middle = client(t.port), client(m.port)
        wait_link_up(middle)
        # The workload's last write leaves the stream in database 3: the end of the chain
        # syncs from the middle's dataset in the middle of that stream.
        mixed_workload(top, rounds=150, prefix="before")
        wait_caught_up(top, middle)
        with spawn(end_kind, *FLAGS, "--replicaof", "127.0.0.1", m.port) as e:
            end = client(e.port)
            wait_link_up(end)
            assert info(middle, "stats")["sync_full"] == 1
            ours = info(middle, "replication")
            assert ours["connected_slaves"] == 1 and ours["slave0"]["port"] == e.port
            # The end of the chain knows the top's ID and offset.
            assert info(end, "replication")["master_replid"] == info(top, "replication")["master_replid"]
            # No SELECT comes before this write (the stream is in database 3 already): it must
            # land in database 3 at the end too.
            in_db3 = redis.Redis(host="127.0.0.1", port=t.port, db=3, socket_timeout=10)
            in_db3.set("in-db3-without-select", "1")
            in_db3.close()
            mixed_workload(top, rounds=100, prefix="after")
            offset = wait_caught_up(top, middle)
            wait_until(lambda: info(end, "replication")["slave_repl_offset"] == offset, what="the end to catch up")
            assert info(end, "replication")["master_repl_offset"] == offset
            end.execute_command("SELECT", 3)
            assert end.get("in-db3-without-select") == b"1"
            end.execute_command("SELECT", 0)
            assert_same_data(top, end)
            assert_same_data(top, middle)

            # The end's link drops: it continues partially from the middle.
            before = info(middle, "stats")
            assert middle.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
            mixed_workload(top, rounds=30, prefix="during")
            wait_until(lambda: info(middle, "stats")["sync_partial_ok"] == before["sync_partial_ok"] + 1,
                       what="the partial resync from the middle")
            assert info(middle, "stats")["sync_full"] == before["sync_full"]
            offset = wait_caught_up(top, middle)
            wait_until(lambda: info(end, "replication")["slave_repl_offset"] == offset, what="the end to catch up")
            assert_same_data(top, end)


def read_for(sock: socket.socket, count: int, timeout: float = 10.0) -> bytes:
    """Reads until `count` bytes came (bounded by `timeout`)."""
    sock.settimeout(0.5)
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < count and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    return data


def continued_stream(port: int, replid: str, offset: int, count: int) -> bytes:
    """What a PSYNC from `offset` is sent: `+CONTINUE` and `count` bytes of stream."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(resp.encode("REPLCONF", "capa", "psync2"))
        assert read_for(s, 5) == b"+OK\r\n"
        s.sendall(resp.encode("PSYNC", replid, str(offset)))
        head = read_for(s, 11 + 40 + 2 + count)
        line, _, rest = head.partition(b"\r\n")
        assert line == b"+CONTINUE " + replid.encode()
        # A PING may have followed since (an Atoll primary's first one).
        return rest[:count]


@pytest.mark.parametrize("top_kind", ["atoll", "redis"])
def test_a_replica_forwards_its_masters_stream_byte_for_byte(top_kind):
    with spawn(top_kind, *FLAGS) as t, \
            spawn("atoll", *FLAGS, "--replicaof", "127.0.0.1", t.port) as a, \
            spawn("redis", *FLAGS, "--replicaof", "127.0.0.1", t.port) as r:
        top = client(t.port)
        wait_link_up(client(a.port))
        wait_link_up(client(r.port))
        start = info(top, "replication")["master_repl_offset"] + 1
        mixed_workload(top, rounds=40, prefix="fwd")
        offset = wait_caught_up(top, client(a.port))
        assert wait_caught_up(top, client(r.port)) == offset
        replid = info(top, "replication")["master_replid"]
        count = offset - start + 1
        expected = continued_stream(t.port, replid, start, count)
        assert len(expected) == count
        assert continued_stream(a.port, replid, start, count) == expected
        assert continued_stream(r.port, replid, start, count) == expected


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_a_replica_without_its_master_refuses_sync(kind):
    # A master that never answers (the port stays ours: no other server can take it).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        with spawn(kind, "--replicaof", "127.0.0.1", silent.getsockname()[1]) as s:
            c = s.connect()
            try:
                assert c.command("PSYNC", "?", "-1") == b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n"
                assert c.command("SYNC") == b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n"
            finally:
                c.close()
