"""`replica-serve-stale-data no`: while its link is down, a replica answers `-MASTERDOWN` to
commands without the `stale` flag (EXEC by its queued commands, scripts by their declared
flags; scripts without a shebang refused as they start, and `allow-stale` scripts limited to
`stale` commands) — compared byte for byte with a redis-server replica of the same dead master;
then, with real primaries, the refusals start when the primary dies and stop when the setting
is switched back, in both directions between Atoll and redis-server."""

from __future__ import annotations

import pytest

from procs import diff_of, redis_available, spawn_both
from replication_checks import spawn, client, info, linked, wait_until
from servers import free_port

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

LIBRARY = ("#!lua name=lib\n"
           "redis.register_function{function_name='stale_echo', callback=function(keys, args) "
           "return redis.call('echo', args[1]) end, flags={'no-writes', 'allow-stale'}}\n"
           "redis.register_function{function_name='stale_get', callback=function(keys) "
           "return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-stale'}}\n"
           "redis.register_function{function_name='fresh_get', callback=function(keys) "
           "return redis.call('get', keys[1]) end, flags={'no-writes'}}")
ALLOW_STALE_ECHO = "#!lua flags=allow-stale,no-writes\nreturn redis.call('echo', ARGV[1])"


def test_stale_replica_replies_match_redis():
    dead = free_port()
    with spawn_both("--replica-serve-stale-data", "no") as (r, a), diff_of(r, a) as d:
        d.check("SET", "k", "v")
        d.check("FUNCTION", "LOAD", LIBRARY)
        d.check("SCRIPT", "LOAD", ALLOW_STALE_ECHO)
        d.check("REPLICAOF", "127.0.0.1", str(dead))
        for cmd in (("GET", "k"), ("SET", "k", "w"), ("PING",), ("ECHO", "hi"), ("DBSIZE",), ("EXISTS", "k"),
                    ("CONFIG", "GET", "replica-serve-stale-data"), ("SELECT", "1"), ("SELECT", "0"),
                    ("CLIENT", "SETNAME", "n"), ("CLIENT", "GETNAME"), ("COMMAND", "INFO", "echo"),
                    ("MULTI",), ("GET", "k"), ("EXEC",),
                    ("MULTI",), ("ECHO", "x"), ("CONFIG", "GET", "maxmemory"), ("EXEC",),
                    ("EVAL", "return 1", "0"),
                    ("EVAL", "return redis.call('get', KEYS[1])", "1", "k"),
                    ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
                    ("EVAL", "#!lua flags=allow-stale,no-writes\nreturn 1", "0"),
                    ("EVAL", "#!lua flags=allow-stale,no-writes\nreturn redis.call('get', KEYS[1])", "1", "k"),
                    ("EVAL", "#!lua flags=allow-stale,no-writes\nreturn redis.pcall('dbsize')", "0"),
                    ("EVAL", ALLOW_STALE_ECHO, "0", "foobar"),
                    ("EVALSHA", "7f7a5e1c5d9d1d6f7e06ae8d2ac2b22cf6c1f2d4", "0"),
                    ("FCALL", "stale_echo", "0", "hello"), ("FCALL_RO", "stale_echo", "0", "hello"),
                    ("FCALL", "stale_get", "1", "k"), ("FCALL", "fresh_get", "1", "k"),
                    ("MULTI",), ("FCALL", "stale_echo", "0", "in-multi"), ("EXEC",),
                    ("CONFIG", "SET", "replica-serve-stale-data", "yes"), ("GET", "k"), ("PING",),
                    ("CONFIG", "SET", "replica-serve-stale-data", "no"), ("GET", "k"),
                    ("REPLICAOF", "NO", "ONE"), ("GET", "k")):
            d.check(*cmd)
        sha = d.ref.call("SCRIPT", "LOAD", ALLOW_STALE_ECHO)
        d.check("REPLICAOF", "127.0.0.1", str(dead))
        d.check("EVALSHA", sha, "0", "by-sha")
        d.check("INFO", "errorstats")


@pytest.mark.parametrize("primary_kind,replica_kind", [("redis", "atoll"), ("atoll", "redis"), ("atoll", "atoll")])
def test_refusals_start_when_the_primary_dies(primary_kind, replica_kind):
    with linked(primary_kind, replica_kind, (), ("--replica-serve-stale-data", "no")) as (primary, replica, p, _):
        primary.set("k", "v")
        wait_until(lambda: replica.get("k") == b"v", what="the write to arrive")
        p.stop()
        wait_until(lambda: info(replica, "replication")["master_link_status"] == "down", what="the link to drop")
        with pytest.raises(Exception) as refused:
            replica.get("k")
        assert str(refused.value) == "Link with MASTER is down and replica-serve-stale-data is set to 'no'."
        assert replica.execute_command("ECHO", "still") == b"still"
        replica.config_set("replica-serve-stale-data", "yes")
        assert replica.get("k") == b"v"
