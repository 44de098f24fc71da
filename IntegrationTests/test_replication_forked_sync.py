"""Full syncs from a forked snapshot, as Redis 7.0's primaries run them, for an Atoll primary and
(the same checks) a redis-server one, with replicas of both kinds:

- replicas wait for the snapshot (INFO `state=wait_bgsave`, the link down on the replica) while
  the primary goes on serving, and what is written meanwhile reaches them after the snapshot;
- on disk (`repl-diskless-sync no`): a background save writes `dbfilename`, and replicas are
  sent the file;
- diskless: the child writes into the replicas' sockets, after `repl-diskless-sync-delay`, or
  as soon as `repl-diskless-sync-max-replicas` replicas wait (one fork for both);
- a replica that goes away during the transfer leaves the primary able to serve the next.

`rdb-key-save-delay` (microseconds per key, a setting Redis keeps for its own tests) makes the
child slow enough to be seen at work without any timing in the test."""

from __future__ import annotations

import os

import pytest

from procs import redis_available
from replication_checks import (spawn, assert_same_data, client, info, mixed_workload, wait_caught_up, wait_link_up,
                                wait_until)

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

DEBUG = ("--enable-debug-command", "yes")
KINDS = ["atoll", "redis"]
# With `populate`'s 400 keys or more at 5 ms each, the child writes for 2 s or more.
SLOW_SAVE = ("--rdb-key-save-delay", "5000")


def populate(primary) -> None:
    mixed_workload(primary, rounds=60, prefix="before")
    primary.execute_command("DEBUG", "POPULATE", 400, "pop")


def replica_states(primary) -> list[str]:
    replication = info(primary, "replication")
    return [replication[f"slave{i}"]["state"] for i in range(replication["connected_slaves"])]


def wait_for_states(primary, wanted: list[str]) -> None:
    wait_until(lambda: replica_states(primary) == wanted, what=f"replica states {wanted}")


def check_serves_meanwhile(primary, replica_port: int) -> None:
    """While the replica waits for its snapshot: its link is down, and the primary takes writes."""
    assert info(client(replica_port), "replication")["master_link_status"] == "down"
    for i in range(50):
        assert primary.set(f"meanwhile:{i}", i)
    assert primary.incrby("meanwhile:counter", 7) == 7


@pytest.mark.parametrize("diskless", ["no", "yes"])
@pytest.mark.parametrize("primary_kind", KINDS)
@pytest.mark.parametrize("replica_kind", KINDS)
def test_full_sync_from_a_child_while_serving(diskless, primary_kind, replica_kind):
    with spawn(primary_kind, *DEBUG, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0",
               *SLOW_SAVE) as p:
        primary = client(p.port)
        populate(primary)
        saves = info(primary, "persistence")["rdb_saves"]
        with spawn(replica_kind, *DEBUG, "--replicaof", "127.0.0.1", p.port) as r:
            wait_for_states(primary, ["wait_bgsave"])
            assert info(primary, "persistence")["rdb_bgsave_in_progress"] == 1
            # The child is Redis's "RDB child", to a file or to sockets: no other save meanwhile.
            with pytest.raises(Exception, match="Background save already in progress"):
                primary.bgsave()
            check_serves_meanwhile(primary, r.port)
            replica = client(r.port)
            wait_link_up(replica)
            wait_for_states(primary, ["online"])
            mixed_workload(primary, rounds=20, prefix="after")
            wait_caught_up(primary, replica)
            assert_same_data(primary, replica)
            assert replica.get("meanwhile:49") == b"49"
            if diskless == "yes":
                # Nothing was saved: the snapshot went into the socket.
                assert info(primary, "persistence")["rdb_saves"] == saves
            else:
                # The sync's save is a background save of the primary's own file.
                assert info(primary, "persistence")["rdb_saves"] == saves + 1
                directory, name = (primary.config_get(k)[k] for k in ("dir", "dbfilename"))
                assert os.path.getsize(os.path.join(directory, name)) > 0


@pytest.mark.parametrize("primary_kind", KINDS)
def test_diskless_sync_waits_for_enough_replicas(primary_kind):
    # A delay no test waits for: only the second replica's arrival starts the snapshot.
    with spawn(primary_kind, *DEBUG, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "600",
               "--repl-diskless-sync-max-replicas", "2") as p:
        primary = client(p.port)
        populate(primary)
        forks = info(primary, "stats")["total_forks"]
        with spawn("atoll", *DEBUG, "--replicaof", "127.0.0.1", p.port) as first:
            wait_for_states(primary, ["wait_bgsave"])
            check_serves_meanwhile(primary, first.port)
            assert info(primary, "persistence")["rdb_bgsave_in_progress"] == 0
            assert info(primary, "stats")["total_forks"] == forks
            with spawn("redis", *DEBUG, "--replicaof", "127.0.0.1", p.port) as second:
                replicas = [client(first.port), client(second.port)]
                for replica in replicas:
                    wait_link_up(replica)
                wait_for_states(primary, ["online", "online"])
                mixed_workload(primary, rounds=20, prefix="after")
                for replica in replicas:
                    wait_caught_up(primary, replica)
                    assert_same_data(primary, replica)
                # One child served both.
                assert info(primary, "stats")["total_forks"] == forks + 1
                assert info(primary, "stats")["sync_full"] == 2


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_replica_gone_mid_transfer_leaves_the_primary_serving(diskless):
    with spawn("atoll", *DEBUG, "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0",
               *SLOW_SAVE) as p:
        primary = client(p.port)
        populate(primary)
        with spawn("redis", "--replicaof", "127.0.0.1", p.port) as doomed:
            wait_for_states(primary, ["wait_bgsave"])
            doomed.proc.kill()
            doomed.proc.wait(timeout=10)
        wait_until(lambda: info(primary, "replication")["connected_slaves"] == 0, what="the replica to be dropped")
        wait_until(lambda: info(primary, "persistence")["rdb_bgsave_in_progress"] == 0, what="the child to end")
        assert primary.ping()
        primary.config_set("rdb-key-save-delay", 0)
        with spawn("atoll", *DEBUG, "--replicaof", "127.0.0.1", p.port) as r:
            replica = client(r.port)
            wait_link_up(replica)
            mixed_workload(primary, rounds=10, prefix="after")
            wait_caught_up(primary, replica)
            assert_same_data(primary, replica)


def test_hidden_setting_is_named_only():
    """`rdb-key-save-delay` answers CONFIG GET by its name, never a pattern, as in Redis."""
    for kind in KINDS:
        with spawn(kind) as s:
            r = client(s.port)
            assert r.config_get("rdb-key-save-delay") == {"rdb-key-save-delay": "0"}
            assert "rdb-key-save-delay" not in r.config_get("*")
            assert "rdb-key-save-delay" not in r.config_get("rdb-*")
            assert r.config_set("rdb-key-save-delay", -5)
            assert r.config_get("rdb-key-save-delay") == {"rdb-key-save-delay": "-5"}
