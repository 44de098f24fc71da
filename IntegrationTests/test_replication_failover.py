"""FAILOVER, compared with redis-server 7.0.15: its errors (byte for byte, with and without
replicas, on a replica), a coordinated failover to a replica (the old primary continues as
its replica by a partial resync, writes held meanwhile and then refused as a replica's),
ABORT while it waits for its replica, and TIMEOUT with and without FORCE; INFO
`master_failover_state` at each step."""

from __future__ import annotations

import contextlib
import socket

import pytest

import resp
from procs import redis_available
from replication_checks import (spawn, assert_same_data, client, info, mixed_workload, wait_caught_up, wait_link_up,
                                wait_until)
from servers import free_port
from test_replication_timeout import start_fake_replica

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

FLAGS = ("--enable-debug-command", "yes", "--repl-diskless-sync", "no")

ALONE = [(), ("abort",), ("to",), ("to", "127.0.0.1"), ("to", "127.0.0.1", "x"), ("to", "127.0.0.1", "70000"),
         ("timeout", "0"), ("timeout", "-1"), ("timeout", "x"), ("force",), ("to", "127.0.0.1", "1", "force"),
         ("timeout", "10", "force"), ("abort", "timeout", "10"), ("abort", "force"), ("foo",),
         ("to", "127.0.0.1", "1", "to", "127.0.0.1", "2"), ("timeout", "5", "timeout", "6"), ("abort", "abort"),
         ("TIMEOUT", "99999999999999999999")]
WITH_REPLICA = [("force",), ("to", "127.0.0.1", "1"), ("to", "127.0.0.1", "1", "force"), ("timeout", "10", "force"),
                ("to", "127.0.0.1", "1", "timeout", "10", "force"), ("abort",)]


def replies(port: int, cases) -> list[bytes]:
    c = resp.Conn(port, timeout=5)
    try:
        return [c.command("FAILOVER", *args) for args in cases]
    finally:
        c.close()


def test_failover_errors_match_redis():
    with spawn("redis", *FLAGS) as r, spawn("atoll", *FLAGS) as a:
        assert replies(a.port, ALONE) == replies(r.port, ALONE)
        # With a replica attached (one that sends no ACKs: nothing fails over meanwhile).
        fakes = [start_fake_replica(p.port, b"PSYNC ? -1\r\n", 4400) for p in (r, a)]
        try:
            assert replies(a.port, WITH_REPLICA) == replies(r.port, WITH_REPLICA)
        finally:
            for fake in fakes:
                fake.close()
    dead = free_port()
    with spawn("redis", "--replicaof", "127.0.0.1", dead) as r, spawn("atoll", "--replicaof", "127.0.0.1", dead) as a:
        assert replies(a.port, [(), ("abort",)]) == replies(r.port, [(), ("abort",)])


@contextlib.contextmanager
def pair(primary_kind: str, replica_kind: str):
    with spawn(primary_kind, *FLAGS) as p, spawn(replica_kind, *FLAGS, "--replicaof", "127.0.0.1", p.port) as r:
        primary, replica = client(p.port), client(r.port)
        wait_link_up(replica)
        mixed_workload(primary, rounds=100)
        wait_caught_up(primary, replica)
        yield (p, primary), (r, replica)


@pytest.mark.parametrize("named", [True, False])
@pytest.mark.parametrize("primary_kind,replica_kind", [("atoll", "atoll"), ("atoll", "redis"), ("redis", "atoll")])
def test_a_coordinated_failover(primary_kind, replica_kind, named):
    with pair(primary_kind, replica_kind) as ((p, primary), (r, replica)):
        before = info(replica, "stats")
        args = ("TO", "127.0.0.1", r.port) if named else ()
        writer = p.connect()
        try:
            assert primary.execute_command("FAILOVER", *args) == b"OK"
            # A write after FAILOVER is held, then refused once the server is a replica.
            assert writer.command("SET", "during", "1") == b"-READONLY You can't write against a read only replica.\r\n"
        finally:
            writer.close()
        wait_until(lambda: info(primary, "replication")["master_failover_state"] == "no-failover",
                   what="the failover to end")
        assert info(primary, "replication")["role"] == "slave"
        assert info(replica, "replication")["role"] == "master"
        wait_link_up(primary)
        # The old primary continued by a partial resync.
        assert info(replica, "stats")["sync_partial_ok"] == before["sync_partial_ok"] + 1
        assert info(replica, "stats")["sync_full"] == before["sync_full"]
        mixed_workload(replica, rounds=30, prefix="after")
        wait_caught_up(replica, primary)
        assert_same_data(replica, primary)


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_abort_while_waiting_for_the_replica(kind):
    with spawn(kind, *FLAGS) as p:
        primary = client(p.port)
        primary.set("k", "v")
        port = free_port()
        fake = start_fake_replica(p.port, b"PSYNC ? -1\r\n", port)
        # The stream goes past what the replica acknowledged (nothing: it sends no ACKs).
        primary.set("after-the-sync", "1")
        writer = p.connect()
        try:
            assert primary.execute_command("FAILOVER", "TO", "127.0.0.1", port, "TIMEOUT", 60000) == b"OK"
            assert info(primary, "replication")["master_failover_state"] == "waiting-for-sync"
            admin = p.connect()
            try:
                assert admin.command("FAILOVER") == b"-ERR FAILOVER already in progress.\r\n"
                assert admin.command("REPLICAOF", "NO", "ONE") == b"-ERR REPLICAOF not allowed while failing over.\r\n"
                assert admin.command("PSYNC", "?", "-1") == b"-NOMASTERLINK Can't SYNC while failing over\r\n"
            finally:
                admin.close()
            writer.send_raw(resp.encode("SET", "held", "1"))
            wait_until(lambda: info(primary, "clients")["blocked_clients"] == 1, what="the write to be held")
            assert primary.execute_command("FAILOVER", "ABORT") == b"OK"
            assert writer.read_reply() == b"+OK\r\n"
            assert info(primary, "replication")["master_failover_state"] == "no-failover"
            assert info(primary, "replication")["role"] == "master"
        finally:
            writer.close()
            fake.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_a_timeout_aborts_without_force_and_fails_over_with_it(kind):
    # The port the fake replica announces: held by a socket that never answers, so the
    # forced failover's link stays in its handshake.
    with spawn(kind, *FLAGS) as p, socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        primary = client(p.port)
        port = silent.getsockname()[1]
        fake = start_fake_replica(p.port, b"PSYNC ? -1\r\n", port)
        # The stream goes past what the replica acknowledged (nothing: it sends no ACKs).
        primary.set("after-the-sync", "1")
        try:
            assert primary.execute_command("FAILOVER", "TO", "127.0.0.1", port, "TIMEOUT", 300) == b"OK"
            wait_until(lambda: info(primary, "replication")["master_failover_state"] == "no-failover",
                       what="the timeout")
            assert info(primary, "replication")["role"] == "master"
            assert primary.set("after-timeout", "1")
            assert primary.execute_command("FAILOVER", "TO", "127.0.0.1", port, "TIMEOUT", 300, "FORCE") == b"OK"
            # Failing over anyway: it follows the target (which is not there) until ABORT.
            wait_until(lambda: info(primary, "replication")["master_failover_state"] == "failover-in-progress",
                       what="the forced failover")
            assert info(primary, "replication")["role"] == "slave"
            assert info(primary, "replication")["master_port"] == port
            assert primary.execute_command("FAILOVER", "ABORT") == b"OK"
            assert info(primary, "replication")["role"] == "master"
            assert info(primary, "replication")["master_failover_state"] == "no-failover"
            assert primary.set("after-abort", "1")
        finally:
            fake.close()
