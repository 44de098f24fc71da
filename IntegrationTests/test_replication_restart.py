"""The replication history kept in the RDB, as Redis 7.0 keeps it: a snapshot saved while the
server has a stream to continue carries the `repl-stream-db`, `repl-id` and `repl-offset`
auxiliary fields (after `ctime`, as Redis writes them); a primary restarted from it takes the
saved ID as `master_replid2` up to the saved offset and streams the DELs of the keys that
expired while it was down, so its replica continues by a partial resync; a replica restarted
from its snapshot asks its master to continue too. Atoll and redis-server in each role."""

from __future__ import annotations

import os
import time

import pytest

import resp
from procs import Proc, redis_available
from replication_checks import (spawn, assert_same_data, client, info, mixed_workload, wait_caught_up, wait_link_up,
                                wait_until)

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

FLAGS = ("--enable-debug-command", "yes", "--repl-ping-replica-period", "3600", "--save", "")


def stop_saving(proc: Proc, how: str = "SHUTDOWN") -> None:
    """Saves (SHUTDOWN SAVE, or DEBUG RELOAD then SIGKILL) and waits for the server's end."""
    c = proc.connect()
    if how == "SHUTDOWN":
        c.send_raw(resp.encode("SHUTDOWN", "SAVE"))
    else:
        assert c.command("DEBUG", "RELOAD") == b"+OK\r\n"
        proc.proc.kill()
    assert proc.wait_exit(10) is not None, "the server did not stop"
    c.close()


def start_again(proc: Proc, not_before_ms: int = 0) -> None:
    """Starts the server again on its port, in its directory, once the clock passed
    `not_before_ms` (Unix ms)."""
    wait_until(lambda: time.time() * 1000 > not_before_ms, what="the clock")
    proc.launch()
    proc.wait_ready()


def aux_fields(path: str) -> dict:
    """The auxiliary fields of an RDB file (names and values that are plain strings or small
    integers)."""
    data = open(path, "rb").read()
    out, pos = {}, 9

    def length():
        nonlocal pos
        first = data[pos]
        kind = first >> 6
        if kind == 0:
            pos += 1
            return first & 0x3F, False
        if kind == 1:
            pos += 2
            return ((first & 0x3F) << 8) | data[pos - 1], False
        if kind == 2 and first == 0x80:
            pos += 5
            return int.from_bytes(data[pos - 4:pos], "big"), False
        pos += 1
        return first & 0x3F, True

    def string():
        nonlocal pos
        n, encoded = length()
        if encoded:
            size = {0: 1, 1: 2, 2: 4}[n]
            value = int.from_bytes(data[pos:pos + size], "little", signed=True)
            pos += size
            return str(value).encode()
        pos += n
        return data[pos - n:pos]

    while data[pos] == 0xFA:
        pos += 1
        key = string().decode()
        out[key] = string().decode()
    return out


@pytest.mark.parametrize("how", ["SHUTDOWN", "DEBUG RELOAD"])
@pytest.mark.parametrize("primary_kind,replica_kind", [("atoll", "atoll"), ("atoll", "redis"), ("redis", "atoll")])
def test_a_restarted_primary_lets_its_replica_continue(primary_kind, replica_kind, how):
    with spawn(primary_kind, *FLAGS) as p, spawn(replica_kind, *FLAGS, "--replicaof", "127.0.0.1", p.port) as r:
        primary, replica = client(p.port), client(r.port)
        wait_link_up(replica)
        mixed_workload(primary, rounds=100)
        # Expires while the primary is down: its DEL must reach the replica.
        primary.set("gone-while-down", "1", px=1200)
        expiry = primary.pexpiretime("gone-while-down")
        wait_caught_up(primary, replica)
        old = info(primary, "replication")
        stop_saving(p, how)
        # What the replica got is the whole stream (redis-server's SHUTDOWN adds a GETACK).
        wait_until(lambda: info(replica, "replication")["master_link_status"] == "down", what="the link to drop")
        saved = info(replica, "replication")["master_repl_offset"]
        assert saved >= old["master_repl_offset"]
        start_again(p, not_before_ms=expiry + 50)
        fields = aux_fields(os.path.join(p.dir.name, "dump.rdb"))
        assert fields["repl-id"] == old["master_replid"]
        assert int(fields["repl-offset"]) == saved
        assert fields["repl-stream-db"] == "0"
        names = [name for name in fields if name not in ("used-mem", "aof-base", "atoll-ver", "atoll-script")]
        assert names == ["redis-ver", "redis-bits", "ctime", "repl-stream-db", "repl-id", "repl-offset"]
        primary = client(p.port)
        new = info(primary, "replication")
        assert new["master_replid2"] == old["master_replid"]
        assert new["second_repl_offset"] == saved + 1
        assert new["master_replid"] != old["master_replid"]
        assert new["repl_backlog_active"] == 1
        wait_until(lambda: info(primary, "stats")["sync_partial_ok"] == 1, what="the partial resync")
        wait_link_up(replica)
        assert info(primary, "stats")["sync_full"] == 0
        # Loading dropped the key: SELECT 0 and its DEL were streamed after the saved offset.
        streamed = len(resp.encode("SELECT", "0")) + len(resp.encode("DEL", "gone-while-down"))
        assert new["master_repl_offset"] == saved + streamed
        mixed_workload(primary, rounds=30, prefix="after")
        wait_caught_up(primary, replica)
        assert_same_data(primary, replica)


@pytest.mark.parametrize("primary_kind,replica_kind", [("atoll", "atoll"), ("redis", "atoll"), ("atoll", "redis")])
def test_a_restarted_replica_continues_partially(primary_kind, replica_kind):
    with spawn(primary_kind, *FLAGS) as p, spawn(replica_kind, *FLAGS, "--replicaof", "127.0.0.1", p.port) as r:
        primary, replica = client(p.port), client(r.port)
        wait_link_up(replica)
        mixed_workload(primary, rounds=100)
        offset = wait_caught_up(primary, replica)
        stop_saving(r)
        start_again(r)
        fields = aux_fields(os.path.join(r.dir.name, "dump.rdb"))
        assert fields["repl-id"] == info(primary, "replication")["master_replid"]
        assert int(fields["repl-offset"]) == offset
        assert fields["repl-stream-db"] == "3"
        replica = client(r.port)
        wait_until(lambda: info(primary, "stats")["sync_partial_ok"] == 1, what="the partial resync")
        wait_link_up(replica)
        assert info(primary, "stats")["sync_full"] == 1
        # The stream goes on in database 3 with no SELECT before it.
        primary.set("db3-after-restart", "1")
        mixed_workload(primary, rounds=30, prefix="after")
        wait_caught_up(primary, replica)
        assert_same_data(primary, replica)


def test_a_primary_without_a_backlog_saves_no_history():
    with spawn("redis", *FLAGS) as r, spawn("atoll", *FLAGS) as a:
        for proc in (r, a):
            c = proc.connect()
            assert c.command("SET", "k", "v") == b"+OK\r\n"
            assert c.command("SAVE") == b"+OK\r\n"
            c.close()
        names = [set(aux_fields(os.path.join(proc.dir.name, "dump.rdb"))) for proc in (r, a)]
        assert not any(name.startswith("repl-") for name in names[0] | names[1])


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_a_save_read_with_writes_records_the_offset_after_them(kind):
    with spawn(kind, *FLAGS) as p, spawn("atoll", *FLAGS, "--replicaof", "127.0.0.1", p.port) as r:
        primary = client(p.port)
        wait_link_up(client(r.port))
        # redis-server's child that sent the snapshot may outlive the sync by a cron tick, and
        # SAVE is refused while it runs.
        wait_until(lambda: info(primary, "persistence")["rdb_bgsave_in_progress"] == 0, what="the sync's child to end")
        # One read holds the writes and the SAVE: the offset saved covers the writes.
        c = p.connect()
        try:
            c.send_raw(resp.encode("SET", "a", "1") + resp.encode("INCR", "n") + resp.encode("SAVE"))
            assert [c.read_reply() for _ in range(3)] == [b"+OK\r\n", b":1\r\n", b"+OK\r\n"]
        finally:
            c.close()
        fields = aux_fields(os.path.join(p.dir.name, "dump.rdb"))
        assert int(fields["repl-offset"]) == info(primary, "replication")["master_repl_offset"]
        assert fields["repl-id"] == info(primary, "replication")["master_replid"]
