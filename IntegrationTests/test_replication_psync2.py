"""PSYNC2 after a promotion, with Atoll and redis-server in every role: a replica keeps a
backlog of its master's stream (its offset is the master's), REPLICAOF NO ONE shifts its
replication ID to `master_replid2` up to `second_repl_offset`, and then a former sibling that
follows it, and the former primary too, continue by a partial resync (`+CONTINUE`: the
promoted server's `sync_partial_ok` goes up, `sync_full` does not)."""

from __future__ import annotations

import contextlib

import pytest

from procs import redis_available
from replication_checks import (spawn, assert_same_data, client, info, mixed_workload, wait_caught_up, wait_link_up,
                                wait_until)

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

# No PING from a primary in the middle of a test (it would move its offset past the promoted
# replica's): the first one goes out as the first replica attaches, the next an hour later.
FLAGS = ("--enable-debug-command", "yes", "--repl-ping-replica-period", "3600")


@contextlib.contextmanager
def three(primary_kind: str, promoted_kind: str, sibling_kind: str):
    """A primary with two replicas, the links up and the workload applied on both."""
    with spawn(primary_kind, *FLAGS) as p, \
            spawn(promoted_kind, *FLAGS, "--replicaof", "127.0.0.1", p.port) as a, \
            spawn(sibling_kind, *FLAGS, "--replicaof", "127.0.0.1", p.port) as b:
        primary, promoted, sibling = client(p.port), client(a.port), client(b.port)
        wait_link_up(promoted)
        wait_link_up(sibling)
        mixed_workload(primary, rounds=150, prefix="before")
        offset = wait_caught_up(primary, promoted)
        assert wait_caught_up(primary, sibling) == offset
        yield (p, primary), (a, promoted), (b, sibling)


def assert_follows_partially(new_master, follower, follower_port_of_master: int, before: dict) -> None:
    """`follower` turns to `new_master` and must continue by a partial resync."""
    assert follower.execute_command("REPLICAOF", "127.0.0.1", follower_port_of_master) == b"OK"
    wait_until(lambda: info(new_master, "stats")["sync_partial_ok"] == before["sync_partial_ok"] + 1,
               what="the partial resync")
    wait_link_up(follower)
    assert info(new_master, "stats")["sync_full"] == before["sync_full"]


KINDS = [("atoll", "atoll", "atoll"), ("redis", "atoll", "redis"), ("redis", "atoll", "atoll"),
         ("atoll", "redis", "atoll"), ("atoll", "atoll", "redis")]


@pytest.mark.parametrize("primary_kind,promoted_kind,sibling_kind", KINDS)
def test_siblings_and_the_old_primary_continue_partially_after_a_promotion(primary_kind, promoted_kind,
                                                                           sibling_kind):
    with three(primary_kind, promoted_kind, sibling_kind) as ((p, primary), (a, promoted), (b, sibling)):
        old = info(primary, "replication")
        mine = info(promoted, "replication")
        # A replica's backlog holds its master's stream: its offset and ID are the master's.
        assert mine["master_replid"] == old["master_replid"]
        assert mine["master_repl_offset"] == old["master_repl_offset"]
        assert mine["repl_backlog_active"] == 1

        assert promoted.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        shifted = info(promoted, "replication")
        assert shifted["role"] == "master"
        assert shifted["master_replid2"] == old["master_replid"]
        assert shifted["second_repl_offset"] == old["master_repl_offset"] + 1
        assert shifted["master_replid"] not in (old["master_replid"], "0" * 40)
        assert shifted["master_repl_offset"] == old["master_repl_offset"]
        assert shifted["repl_backlog_active"] == 1

        before = info(promoted, "stats")
        assert_follows_partially(promoted, sibling, a.port, before)
        # The sibling takes the new ID and keeps the old one up to where it was.
        theirs = info(sibling, "replication")
        assert theirs["master_replid"] == shifted["master_replid"]
        assert theirs["master_replid2"] == old["master_replid"]
        assert theirs["second_repl_offset"] == old["master_repl_offset"] + 1

        # The stream the promoted server writes starts with a SELECT: the workload's last
        # write left the old stream in database 3.
        mixed_workload(promoted, rounds=60, prefix="after")
        wait_caught_up(promoted, sibling)
        assert_same_data(promoted, sibling)

        # The old primary, which wrote nothing since, follows the promoted one partially too.
        before = info(promoted, "stats")
        assert_follows_partially(promoted, primary, a.port, before)
        mixed_workload(promoted, rounds=30, prefix="later")
        wait_caught_up(promoted, primary)
        wait_caught_up(promoted, sibling)
        assert_same_data(promoted, primary)
        assert_same_data(promoted, sibling)


@pytest.mark.parametrize("primary_kind,promoted_kind", [("atoll", "atoll"), ("redis", "atoll"), ("atoll", "redis")])
def test_a_primary_that_wrote_after_the_promotion_syncs_in_full(primary_kind, promoted_kind):
    with three(primary_kind, promoted_kind, "atoll") as ((p, primary), (a, promoted), _):
        assert promoted.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        # Its stream went past the point where the promoted server's history of it ends.
        primary.set("written-after-the-promotion", "1")
        before = info(promoted, "stats")
        assert primary.execute_command("REPLICAOF", "127.0.0.1", a.port) == b"OK"
        wait_until(lambda: info(promoted, "stats")["sync_full"] == before["sync_full"] + 1, what="the full sync")
        wait_link_up(primary)
        assert info(promoted, "stats")["sync_partial_ok"] == before["sync_partial_ok"]
        assert info(promoted, "stats")["sync_partial_err"] == before["sync_partial_err"] + 1
        wait_caught_up(promoted, primary)
        assert primary.get("written-after-the-promotion") is None
        assert_same_data(promoted, primary)
