"""Atoll as a replica: of redis-server 7.0.15 (full sync from a disk or a diskless snapshot,
the stream under a mixed workload, a partial resync after the link is killed) and of another
Atoll; REPLICAOF's replies, READONLY (scripts' writes included), ROLE and INFO replication as
a replica compared with a redis-server replica of the same primary."""

from __future__ import annotations

import pytest

from procs import diff_of, redis_available, spawn_both
from replication_checks import (spawn, assert_partial_resync, assert_same_data, client, info, linked, mixed_workload,
                                wait_caught_up, wait_link_up)
from servers import free_port

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

DEBUG = ("--enable-debug-command", "yes")


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_atoll_replica_follows_redis_primary(diskless):
    with spawn("redis", *DEBUG, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0") as rp:
        primary = client(rp.port)
        mixed_workload(primary, rounds=100, prefix="before")
        with spawn("atoll", *DEBUG, "--replicaof", "127.0.0.1", rp.port) as ar, \
                spawn("redis", "--replicaof", "127.0.0.1", rp.port) as rr:
            replica, reference = client(ar.port), client(rr.port)
            wait_link_up(replica)
            wait_link_up(reference)
            mixed_workload(primary, rounds=300, prefix="after")
            wait_caught_up(primary, replica)
            assert_same_data(primary, replica)

            # Writes from normal clients are refused as redis-server's replica refuses them.
            for conn in (replica, reference):
                with pytest.raises(Exception) as refused:
                    conn.set("x", "1")
                assert str(refused.value) == "You can't write against a read only replica."
            assert replica.get("after:tx:a") == b"2"

            role = replica.execute_command("ROLE")
            assert role[:4] == [b"slave", b"127.0.0.1", rp.port, b"connected"]
            assert role[4] > 0 and role[4] == info(replica, "replication")["slave_repl_offset"]
            ours, theirs = info(replica, "replication"), info(reference, "replication")
            assert list(ours) == list(theirs)
            for field in ("role", "master_host", "master_port", "master_link_status", "master_sync_in_progress",
                          "slave_priority", "slave_read_only", "replica_announced", "connected_slaves",
                          "master_replid"):
                assert ours[field] == theirs[field], field

            # The primary sees the ACKs: WAIT counts both replicas.
            primary.set("acked", "1")
            assert primary.execute_command("WAIT", 2, 5000) == 2


def test_partial_resync_of_an_atoll_replica():
    with linked("redis", "atoll", (*DEBUG, "--repl-diskless-sync-delay", "0"), DEBUG) as (primary, replica, _, _):
        mixed_workload(primary, rounds=50, prefix="one")
        wait_caught_up(primary, replica)
        assert_partial_resync(primary, replica, lambda: primary.execute_command("CLIENT", "KILL", "TYPE", "replica"),
                              "two")
        # The replica's side of the link: CLIENT KILL TYPE master closes it, and it continues.
        assert len([c for c in replica.client_list() if "M" in c["flags"]]) == 1
        assert_partial_resync(primary, replica, lambda: replica.execute_command("CLIENT", "KILL", "TYPE", "master"),
                              "three")


def test_atoll_replica_of_atoll_and_replicaof_replies():
    with spawn("atoll", *DEBUG) as ap, spawn("atoll", *DEBUG) as ar:
        primary, replica = client(ap.port), client(ar.port)
        mixed_workload(primary, rounds=80, prefix="pre")
        assert replica.execute_command("REPLICAOF", "127.0.0.1", ap.port) == b"OK"
        again = replica.execute_command("REPLICAOF", "127.0.0.1", ap.port)
        assert again == b"OK Already connected to specified master"
        wait_link_up(replica)
        mixed_workload(primary, rounds=200, prefix="post")
        wait_caught_up(primary, replica)
        assert_same_data(primary, replica)
        old_id = info(replica, "replication")["master_replid"]
        offset = info(replica, "replication")["master_repl_offset"]
        assert replica.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        repl = info(replica, "replication")
        assert repl["role"] == "master"
        assert repl["master_replid2"] == old_id
        assert repl["second_repl_offset"] == offset + 1
        assert replica.set("now", "writable")
        assert replica.execute_command("ROLE")[0] == b"master"


def test_replicaof_replies_match_redis():
    with spawn("redis") as r, spawn("atoll") as a:
        with diff_of(r, a) as d:
            for cmd in (("REPLICAOF", "127.0.0.1"), ("REPLICAOF", "127.0.0.1", "x"),
                        ("REPLICAOF", "127.0.0.1", "70000"), ("REPLICAOF", "127.0.0.1", "-1"),
                        ("REPLICAOF", "NO", "ONE"), ("SLAVEOF", "no", "one"), ("ROLE",)):
                d.check(*cmd)


def test_scripts_cannot_write_on_a_read_only_replica():
    """A script's writes are refused on a read-only replica as redis-server refuses them: one
    that declares writes (shebang) before it runs, one without a shebang at its first write
    (through redis.call and redis.pcall), also inside MULTI; the data stays as it was."""
    dead = free_port()
    with spawn_both("--replicaof", "127.0.0.1", str(dead)) as (r, a), diff_of(r, a) as d:
        for cmd in (("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k"),
                    ("EVAL", "return redis.pcall('set', KEYS[1], 'x')", "1", "k"),
                    ("EVAL", "#!lua\nreturn redis.call('set', KEYS[1], 'x')", "1", "k"),
                    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "k"),
                    ("EVAL", "return redis.call('get', KEYS[1])", "1", "k"),
                    ("MULTI",), ("EVAL", "#!lua\nreturn redis.call('set', KEYS[1], 'x')", "1", "k"), ("EXEC",),
                    ("MULTI",), ("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k"), ("EXEC",),
                    ("GET", "k"), ("DBSIZE",),
                    ("CONFIG", "SET", "replica-read-only", "no"),
                    ("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k"), ("GET", "k")):
            d.check(*cmd)
        d.check("INFO", "errorstats")
