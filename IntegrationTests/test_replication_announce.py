"""What a replica says about itself, as redis-server's replicas say it: `replica-announce-ip`
and `replica-announce-port` (REPLCONF ip-address / listening-port) shown by the primary in INFO
replication's `slaveN` lines and in ROLE, whichever of Atoll and redis-server is the primary;
`replica-priority` and `replica-announced` in the replica's INFO, after CONFIG SET too."""

from __future__ import annotations

import pytest

from procs import redis_available
from replication_checks import spawn, client, info, wait_link_up, wait_until

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")


def announced(kind: str, primary_port: int, ip: str, port: int):
    return spawn(kind, "--replica-announce-ip", ip, "--replica-announce-port", port, "--replica-priority", 7,
                 "--replicaof", "127.0.0.1", primary_port)


@pytest.mark.parametrize("primary_kind", ["atoll", "redis"])
def test_announced_address_reaches_the_primary(primary_kind):
    with spawn(primary_kind) as p, announced("atoll", p.port, "10.1.2.3", 7777) as a, \
            announced("redis", p.port, "10.1.2.4", 7778) as r:
        primary, ours, theirs = client(p.port), client(a.port), client(r.port)
        wait_link_up(ours)
        wait_link_up(theirs)
        wait_until(lambda: info(primary, "replication")["connected_slaves"] == 2, what="both replicas attached")
        repl = info(primary, "replication")
        seen = {(repl[f"slave{i}"]["ip"], repl[f"slave{i}"]["port"]) for i in range(2)}
        assert seen == {("10.1.2.3", 7777), ("10.1.2.4", 7778)}
        # redis-server lists a replica in ROLE once its first ACK after the sync put it online.
        def role_with_both():
            role = primary.execute_command("ROLE")
            return role if len(role[2]) == 2 else None
        role = wait_until(role_with_both, what="both replicas in ROLE")
        assert {tuple(entry[:2]) for entry in role[2]} == {(b"10.1.2.3", b"7777"), (b"10.1.2.4", b"7778")}

        for field in ("slave_priority", "replica_announced"):
            assert info(ours, "replication")[field] == info(theirs, "replication")[field], field
        assert info(ours, "replication")["slave_priority"] == 7
        for replica in (ours, theirs):
            replica.config_set("replica-priority", 0)
            replica.config_set("replica-announced", "no")
        for field in ("slave_priority", "replica_announced"):
            assert info(ours, "replication")[field] == info(theirs, "replication")[field] == 0, field
