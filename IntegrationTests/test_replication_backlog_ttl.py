"""`repl-backlog-ttl`: a primary whose last replica went frees its backlog after that many
seconds (INFO `repl_backlog_active:0`), with a new replication ID and no previous one, and logs
Redis's line — checked on Atoll and on redis-server alike; a replica that comes later gets a
full resync from the new ID."""

from __future__ import annotations

import pytest

from procs import redis_available
from replication_checks import spawn, client, info, wait_link_up, wait_until

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")


@pytest.mark.parametrize("primary_kind", ["atoll", "redis"])
def test_backlog_freed_after_its_ttl(primary_kind):
    with spawn(primary_kind, "--repl-backlog-ttl", "1") as p:
        primary = client(p.port)
        with spawn("redis", "--replicaof", "127.0.0.1", p.port) as r:
            wait_link_up(client(r.port))
            primary.set("k", "v")
            before = info(primary, "replication")
            assert before["repl_backlog_active"] == 1
        wait_until(lambda: info(primary, "replication")["connected_slaves"] == 0, what="the replica to go")
        wait_until(lambda: info(primary, "replication")["repl_backlog_active"] == 0, timeout=10,
                   what="the backlog to be freed")
        after = info(primary, "replication")
        assert after["master_replid"] != before["master_replid"]
        assert str(after["master_replid2"]).strip("0") == ""  # redis-py reads 40 zeros as 0
        assert after["second_repl_offset"] == -1
        assert after["repl_backlog_first_byte_offset"] == 0 and after["repl_backlog_histlen"] == 0
        wait_until(lambda: "Replication backlog freed after 1 seconds without connected replicas." in p.logs(),
                   what="the log line")
        # A replica arriving later syncs in full from the new ID.
        with spawn("redis", "--replicaof", "127.0.0.1", p.port) as r:
            replica = client(r.port)
            wait_link_up(replica)
            assert replica.get("k") == b"v"
            assert info(replica, "replication")["master_replid"] == info(primary, "replication")["master_replid"]
            assert info(primary, "stats")["sync_full"] == 2
