"""Atoll as a replication primary, followed by Debian's redis-server 7.0.15: the full sync
(PSYNC's +FULLRESYNC and the snapshot), the command stream under a mixed workload, a partial
resync after the link is killed, REPLCONF, ROLE, INFO replication and WAIT; the replies with
no replica attached compared byte for byte with redis-server."""

from __future__ import annotations

import time

import pytest

import resp
from procs import redis_available, spawn_both, diff_of
from replication_checks import (spawn, assert_partial_resync, assert_same_data, client, info, linked, mixed_workload,
                                wait_caught_up, wait_link_up, wait_until)

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

DEBUG = ("--enable-debug-command", "yes")


def test_no_replica_means_no_stream():
    with spawn("atoll") as a:
        r = client(a.port)
        r.set("k", "v")
        repl = info(r, "replication")
        assert repl["role"] == "master"
        assert repl["connected_slaves"] == 0
        assert repl["master_repl_offset"] == 0
        assert repl["repl_backlog_active"] == 0


def test_redis_replica_syncs_and_follows_atoll_primary():
    with spawn("atoll", *DEBUG) as a:
        primary = client(a.port)
        mixed_workload(primary, rounds=100, prefix="before")
        with spawn("redis", *DEBUG, "--replicaof", "127.0.0.1", a.port) as rr:
            replica = client(rr.port)
            wait_link_up(replica)
            mixed_workload(primary, rounds=300, prefix="after")
            offset = wait_caught_up(primary, replica)
            assert offset > 0
            assert_same_data(primary, replica)

            repl = info(primary, "replication")
            assert repl["connected_slaves"] == 1
            assert repl["slave0"]["port"] == rr.port
            assert repl["slave0"]["state"] == "online"
            assert repl["repl_backlog_active"] == 1
            assert repl["repl_backlog_first_byte_offset"] == 1
            assert repl["repl_backlog_histlen"] == repl["master_repl_offset"] >= offset
            assert info(replica, "replication")["master_replid"] == repl["master_replid"]
            assert info(primary, "stats")["sync_full"] == 1

            # The replica acknowledges every second: ROLE shows its offset once it did (the
            # stream may have grown by a PING meanwhile).
            def role_acked():
                role = primary.execute_command("ROLE")
                return role if role[2] and int(role[2][0][2]) == role[1] else None
            role = wait_until(role_acked, what="the replica's ACK in ROLE")
            assert role[0] == b"master" and role[1] >= offset
            assert role[2][0][:2] == [b"127.0.0.1", str(rr.port).encode()]

            # Expiry on the primary reaches the replica as a DEL.
            primary.set("short", "x", px=50)
            wait_until(lambda: primary.get("short") is None, what="the key to expire")
            wait_caught_up(primary, replica)
            assert replica.exists("short") == 0


def test_partial_resync_after_the_link_is_killed():
    with linked("atoll", "redis", DEBUG, DEBUG) as (primary, replica, _, _):
        mixed_workload(primary, rounds=50, prefix="one")
        wait_caught_up(primary, replica)
        assert info(primary, "stats")["sync_full"] == 1
        assert_partial_resync(primary, replica, lambda: primary.execute_command("CLIENT", "KILL", "TYPE", "replica"),
                              "two")


def test_wait_counts_acknowledging_replicas():
    with linked("atoll", "redis") as (primary, replica, _, _):
        primary.set("a", "1")
        assert primary.execute_command("WAIT", 1, 5000) == 1
        started = time.monotonic()
        assert primary.execute_command("WAIT", 2, 300) == 1
        assert time.monotonic() - started >= 0.25
        # Inside MULTI WAIT answers at once.
        tx = primary.pipeline(transaction=True)
        tx.set("b", "2")
        tx.execute_command("WAIT", 5, 0)
        assert tx.execute()[1] == 1
        wait_caught_up(primary, replica)
        assert replica.get("b") == b"2"


def test_replies_without_replicas_match_redis():
    with spawn_both() as (r, a), diff_of(r, a) as d:
        for cmd in (("WAIT", "0", "0"), ("WAIT", "x", "0"), ("WAIT", "1", "-1"), ("WAIT", "1", "abc"),
                    ("WAIT", "1", "50"), ("WAIT", "1"), ("ROLE",), ("ROLE", "x"),
                    ("REPLCONF",), ("REPLCONF", "listening-port"), ("REPLCONF", "listening-port", "x"),
                    ("REPLCONF", "listening-port", "7000"), ("REPLCONF", "capa", "eof", "capa", "psync2"),
                    ("REPLCONF", "nosuch", "1"), ("REPLCONF", "ip-address", "x" * 300),
                    ("REPLCONF", "ack", "10"), ("PSYNC", "?"), ("SYNC", "x"),
                    # An offset that is not a number is an error (not a full resync): the
                    # connection stays an ordinary client.
                    ("PSYNC", "?", "abc"), ("PSYNC", "x" * 40, "1x"), ("PSYNC", "?", "99999999999999999999"),
                    ("PING",)):
            d.check(*cmd)
        names = [line.split(":")[0] for line in resp.parse(d.atoll.command("INFO", "replication")).decode().splitlines()]
        ref_names = [line.split(":")[0] for line in resp.parse(d.ref.command("INFO", "replication")).decode().splitlines()]
        assert names == ref_names


def test_psync_sends_the_snapshot_then_the_stream():
    with spawn("atoll") as a:
        writer = client(a.port)
        writer.set("before", "1")
        c = resp.Conn(a.port)
        c.send_raw(b"REPLCONF listening-port 1234\r\n")
        assert c.read_reply() == b"+OK\r\n"
        c.send_raw(b"PSYNC ? -1\r\n")
        head = c._line().split()
        assert head[0] == b"+FULLRESYNC" and len(head[1]) == 40 and head[2] == b"0"
        size = c._line()
        assert size.startswith(b"$")
        payload = c._exact(int(size[1:-2]))
        assert payload.startswith(b"REDIS") and b"before" in payload
        writer.set("after", "2")
        assert c.read_reply() == b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
        assert c.read_reply() == b"*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n"
        repl = info(writer, "replication")
        assert repl["master_replid"] == head[1].decode()
        assert repl["master_repl_offset"] == 23 + 31
        assert repl["slave0"]["port"] == 1234
        # PSYNC from the offset the stream reached: +CONTINUE with nothing to send.
        c.close()
        wait_until(lambda: info(writer, "replication")["connected_slaves"] == 0, what="the replica to go")
        again = resp.Conn(a.port)
        again.send_raw(b"REPLCONF capa psync2\r\n")
        assert again.read_reply() == b"+OK\r\n"
        again.send_raw(f"PSYNC {head[1].decode()} 24\r\n".encode())
        assert again.read_reply() == f"+CONTINUE {head[1].decode()}\r\n".encode()
        assert again.read_reply() == b"*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n"
        assert info(writer, "stats")["sync_partial_ok"] == 1
        again.close()


def test_append_only_file_and_replicas_share_the_stream():
    with linked("atoll", "redis", (*DEBUG, "--appendonly", "yes"), DEBUG) as (primary, replica, _, _):
        mixed_workload(primary, rounds=100, prefix="one")
        assert primary.execute_command("BGREWRITEAOF")
        wait_until(lambda: info(primary, "persistence")["aof_rewrite_in_progress"] == 0, what="the rewrite")
        mixed_workload(primary, rounds=100, prefix="two")
        wait_caught_up(primary, replica)
        assert_same_data(primary, replica)
        # What the file recorded is the same dataset the replica built from the stream.
        assert primary.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert_same_data(primary, replica)
        primary.set("after-reload", "1")
        wait_caught_up(primary, replica)
        assert replica.get("after-reload") == b"1"
