"""`min-replicas-to-write` / `min-replicas-max-lag`: writes refused with `-NOREPLICAS` while
too few replicas acknowledged within the lag — plain writes, writes queued in MULTI and EXEC,
scripts with and without a shebang, functions — compared byte for byte with redis-server; INFO
replication's `min_slaves_good_slaves`; and with a real replica in every pairing of Atoll and
redis-server, the count following the replica's ACKs (stopped with SIGSTOP, resumed with
SIGCONT) and its disconnection."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

import resp
from procs import diff_of, redis_available, spawn_both
from replication_checks import spawn, info, linked, wait_until

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

WRITE_SCRIPT = "return redis.call('set', KEYS[1], ARGV[1])"
SHEBANG_WRITE = "#!lua\nreturn redis.call('set', KEYS[1], ARGV[1])"
SHEBANG_READ = "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])"
LIBRARY = ("#!lua name=lib\n"
           "redis.register_function('put', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n"
           "redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, "
           "flags={'no-writes'}}")


def info_names(raw: bytes) -> list[str]:
    return [line.split(":")[0] for line in resp.parse(raw).decode().splitlines()]


def test_refusals_without_replicas_match_redis():
    with spawn_both() as (r, a), diff_of(r, a) as d:
        d.check("SET", "k", "v")
        d.check("FUNCTION", "LOAD", LIBRARY)
        # A transaction queued while writes were allowed, then refused at EXEC.
        d.check("MULTI")
        d.check("SET", "queued", "1")
        for proc in (r, a):
            with proc.connect() as other:
                assert other.command("CONFIG", "SET", "min-replicas-to-write", "1") == b"+OK\r\n"
        d.check("EXEC")
        assert info_names(d.atoll.command("INFO", "replication")) == info_names(d.ref.command("INFO", "replication"))
        assert b"min_slaves_good_slaves:0" in d.atoll.command("INFO", "replication")
        for cmd in (("SET", "k", "w"), ("GET", "k"), ("INCR", "n"), ("DEL", "k"), ("PING",),
                    ("EVAL", WRITE_SCRIPT, "1", "k", "x"),
                    ("EVAL", "return redis.pcall('set', KEYS[1], ARGV[1])", "1", "k", "x"),
                    ("EVAL", SHEBANG_WRITE, "1", "k", "x"), ("EVAL", SHEBANG_READ, "1", "k"),
                    ("EVAL", "return redis.call('get', KEYS[1])", "1", "k"),
                    ("FCALL", "put", "1", "k", "x"), ("FCALL", "peek", "1", "k"), ("FCALL_RO", "peek", "1", "k"),
                    ("MULTI",), ("SET", "k", "1"), ("GET", "k"), ("EXEC",),
                    ("MULTI",), ("GET", "k"), ("EVAL", SHEBANG_WRITE, "1", "k", "x"), ("EXEC",),
                    ("MULTI",), ("GET", "k"), ("EXEC",),
                    ("MULTI",), ("EVAL", WRITE_SCRIPT, "1", "k", "x"), ("EXEC",),
                    ("CONFIG", "GET", "min-slaves-to-write"),
                    # No lag limit: the setting is off.
                    ("CONFIG", "SET", "min-replicas-max-lag", "0"), ("SET", "k", "lagless"),
                    ("CONFIG", "SET", "min-replicas-max-lag", "10"), ("SET", "k", "again"),
                    ("CONFIG", "SET", "min-replicas-to-write", "0"), ("SET", "k", "free"), ("GET", "k")):
            d.check(*cmd)
        assert info_names(d.atoll.command("INFO", "replication")) == info_names(d.ref.command("INFO", "replication"))
        assert b"min_slaves_good_slaves" not in d.atoll.command("INFO", "replication")
        d.check("INFO", "errorstats")


@contextlib.contextmanager
def stopped(proc):
    """The process paused with SIGSTOP (it sends nothing, ACKs included) until the block ends."""
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(proc.pid, signal.SIGCONT)


def refused(r) -> bool:
    try:
        r.set("probe", "1")
    except Exception as error:  # redis-py raises its ResponseError
        assert str(error) == "NOREPLICAS Not enough good replicas to write."
        return True
    return False


@pytest.mark.parametrize("primary_kind,replica_kind", [("atoll", "redis"), ("redis", "atoll"), ("atoll", "atoll"),
                                                       ("redis", "redis")])
def test_good_replicas_follow_the_acks(primary_kind, replica_kind):
    with linked(primary_kind, replica_kind) as (primary, replica, _, replica_proc):
        primary.config_set("min-replicas-max-lag", 2)
        primary.config_set("min-replicas-to-write", 1)
        wait_until(lambda: info(primary, "replication")["min_slaves_good_slaves"] == 1, what="one good replica")
        assert primary.set("a", "1")
        primary.config_set("min-replicas-to-write", 2)
        assert refused(primary)
        assert info(primary, "replication")["min_slaves_good_slaves"] == 1
        primary.config_set("min-replicas-to-write", 1)
        # A replica that stops acknowledging stops counting once its lag passes the limit.
        with stopped(replica_proc):
            wait_until(lambda: info(primary, "replication")["min_slaves_good_slaves"] == 0, timeout=10,
                       what="the silent replica to stop counting")
            assert refused(primary)
        wait_until(lambda: not refused(primary), timeout=10, what="writes accepted again after the ACKs resume")
        assert info(primary, "replication")["min_slaves_good_slaves"] == 1
        # A replica that goes stops counting at once.
        replica.execute_command("REPLICAOF", "NO", "ONE")
        wait_until(lambda: info(primary, "replication")["connected_slaves"] == 0, what="the replica to go")
        assert info(primary, "replication")["min_slaves_good_slaves"] == 0
        assert refused(primary)
