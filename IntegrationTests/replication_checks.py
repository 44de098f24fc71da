"""What the replication tests share: a mixed workload, bounded waits for a replica to catch
up, and the comparison of two datasets (DEBUG DIGEST, then key by key)."""

from __future__ import annotations

import contextlib
import time

import redis

import procs

SYNC_TIMEOUT = 20.0


def spawn(kind: str, *flags, **options):
    """`procs.spawn` for replication tests: a diskless sync starts at once (both servers wait
    5 s for more replicas by default); `flags` may still set a delay of their own."""
    return procs.spawn(kind, "--repl-diskless-sync-delay", "0", *flags, **options)


def client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)


def info(r: redis.Redis, section: str) -> dict:
    return r.info(section)


def wait_until(predicate, timeout: float = SYNC_TIMEOUT, what: str = "condition"):
    """Polls `predicate` until it returns a true value (returned) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # short poll interval inside a bounded loop


def wait_link_up(replica: redis.Redis, timeout: float = SYNC_TIMEOUT) -> None:
    wait_until(lambda: info(replica, "replication").get("master_link_status") == "up", timeout,
               "the replica's link to come up")


def wait_caught_up(primary: redis.Redis, replica: redis.Redis, timeout: float = SYNC_TIMEOUT) -> int:
    """Waits until the replica processed the primary's whole stream; returns the offset."""
    def caught_up():
        offset = info(primary, "replication")["master_repl_offset"]
        seen = info(replica, "replication").get("slave_repl_offset")
        return offset if seen == offset else None
    return wait_until(caught_up, timeout, "the replica to catch up")


def mixed_workload(r: redis.Redis, rounds: int = 200, prefix: str = "w") -> None:
    """Strings with expiries, hashes, lists, sets, sorted sets, MULTI/EXEC and EVAL, in two
    databases."""
    pipe = r.pipeline(transaction=False)
    for i in range(rounds):
        pipe.set(f"{prefix}:s:{i}", f"v{i}" * (i % 7 + 1))
        if i % 3 == 0:
            pipe.set(f"{prefix}:ttl:{i}", i, ex=1000 + i)
        if i % 5 == 0:
            pipe.pexpire(f"{prefix}:s:{i}", 500000)
        pipe.incrby(f"{prefix}:counter", i)
        pipe.hset(f"{prefix}:h:{i % 10}", mapping={f"f{i}": i, "g": "x" * (i % 50)})
        pipe.rpush(f"{prefix}:l:{i % 8}", *[f"e{i}-{j}" for j in range(i % 4 + 1)])
        if i % 6 == 0:
            pipe.lpop(f"{prefix}:l:{i % 8}")
        pipe.sadd(f"{prefix}:set:{i % 5}", i, f"m{i}")
        if i % 9 == 0:
            pipe.srem(f"{prefix}:set:{i % 5}", i)
        pipe.zadd(f"{prefix}:z:{i % 4}", {f"z{i}": i * 1.5, f"y{i % 13}": -i})
        if i % 11 == 0:
            pipe.zincrby(f"{prefix}:z:{i % 4}", 3.25, f"y{i % 13}")
    pipe.execute()
    tx = r.pipeline(transaction=True)
    tx.set(f"{prefix}:tx:a", "1")
    tx.incr(f"{prefix}:tx:a")
    tx.lpush(f"{prefix}:tx:list", "a", "b", "c")
    tx.getex(f"{prefix}:s:3", ex=700)
    tx.execute()
    script = ("redis.call('set', KEYS[1], ARGV[1]); redis.call('hincrby', KEYS[2], 'n', 5); "
              "redis.call('expire', KEYS[1], 900); return redis.call('get', KEYS[1])")
    for i in range(20):
        r.eval(script, 2, f"{prefix}:lua:{i}", f"{prefix}:h:{i % 10}", f"lua{i}")
    r.delete(f"{prefix}:s:1", f"{prefix}:l:0")
    r.rename(f"{prefix}:s:2", f"{prefix}:renamed")
    other = r.pipeline(transaction=False)
    other.execute_command("SELECT", 3)
    other.set(f"{prefix}:db3", "three")
    other.hset(f"{prefix}:db3:h", "a", "b")
    other.execute_command("SELECT", 0)
    other.execute()


def dataset(r: redis.Redis, databases=(0, 3)) -> dict:
    """Every key of `databases` with its type, value digest and absolute expiry."""
    out = {}
    for db in databases:
        r.execute_command("SELECT", db)
        for key in r.scan_iter(count=1000):
            digest = r.execute_command("DEBUG", "DIGEST-VALUE", key)
            out[(db, key)] = (r.type(key), digest, r.execute_command("PEXPIRETIME", key))
    r.execute_command("SELECT", 0)
    return out


def assert_same_data(primary: redis.Redis, replica: redis.Redis) -> None:
    assert primary.execute_command("DEBUG", "DIGEST") == replica.execute_command("DEBUG", "DIGEST")
    expected = dataset(primary)
    assert len(expected) > 100
    assert dataset(replica) == expected


@contextlib.contextmanager
def linked(primary_kind: str, replica_kind: str, primary_flags=(), replica_flags=()):
    """A primary and a replica following it (started with --replicaof), the link up; yields
    clients of both and the two processes."""
    with spawn(primary_kind, *primary_flags) as p, \
            spawn(replica_kind, *replica_flags, "--replicaof", "127.0.0.1", p.port) as r:
        primary, replica = client(p.port), client(r.port)
        wait_link_up(replica)
        yield primary, replica, p, r


def assert_partial_resync(primary: redis.Redis, replica: redis.Redis, kill, prefix: str) -> None:
    """Drops the link with `kill()` (which must close one client), writes meanwhile, and checks
    that the replica continued by a partial resync: the primary's sync_partial_ok up by one,
    sync_full unchanged, the same data."""
    before = info(primary, "stats")
    # The workload left the stream in database 3: the first write after the resync goes there
    # with no SELECT before it, so the replica must keep the stream's database across the drop.
    assert kill() == 1
    first = primary.pipeline(transaction=False)
    first.execute_command("SELECT", 3)
    first.set(f"{prefix}:first-in-db3", "1")
    first.execute_command("SELECT", 0)
    first.execute()
    mixed_workload(primary, rounds=30, prefix=prefix)
    wait_until(lambda: info(primary, "stats")["sync_partial_ok"] == before["sync_partial_ok"] + 1,
               what="the partial resync")
    wait_caught_up(primary, replica)
    assert info(primary, "stats")["sync_full"] == before["sync_full"]
    assert_same_data(primary, replica)
