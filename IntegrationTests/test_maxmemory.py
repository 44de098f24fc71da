"""maxmemory's settings and refusals, differential against redis-server: CONFIG SET/GET of
``maxmemory``, ``maxmemory-policy``, ``maxmemory-samples``, ``maxmemory-eviction-tenacity``,
``lfu-log-factor`` and ``lfu-decay-time`` (ranges, errors, INFO's fields); the OOM error of a
server over its limit with ``noeviction`` for plain commands, inside MULTI/EXEC, in scripts
(with and without a shebang and its flags) and functions; OBJECT IDLETIME and OBJECT FREQ
under LRU and LFU policies; and used_memory not creeping up as clients come and go.
"""

from __future__ import annotations

import contextlib
import time

import diff as diff_mod
from diff import unordered
import resp
from procs import spawn

# One byte: any server is over it, so every eviction and refusal is deterministic.
TINY = ("--maxmemory", "1", "--maxmemory-policy", "noeviction")

LIBRARY = (
    "#!lua name=memlib\n"
    "redis.register_function('plain', function() return redis.call('set','q','1') end)\n"
    "redis.register_function{function_name='oomok', callback=function() return redis.call('set','q','2') end,"
    " flags={'allow-oom'}}\n"
    "redis.register_function{function_name='reader', callback=function() return redis.call('get','q') end,"
    " flags={'no-writes'}}\n"
)


@contextlib.contextmanager
def pair(*flags):
    """A redis-server and an Atoll started with the same flags: a Diff over a connection to
    each, and the two processes."""
    with spawn("redis", *flags) as r, spawn("atoll", *flags) as a:
        d = diff_mod.Diff(r.connect(), a.connect())
        try:
            yield d, (r, a)
        finally:
            d.ref.close()
            d.atoll.close()


def info_lines(conn, section, prefixes):
    text = resp.parse(conn.command("INFO", section)).decode()
    return [line for line in text.splitlines() if line.startswith(prefixes)]


def test_config_set_get_match_redis(diff):
    try:
        diff.run([
            "CONFIG GET maxmemory",
            "CONFIG GET maxmemory-policy",
            "CONFIG GET maxmemory-samples",
            "CONFIG GET maxmemory-eviction-tenacity",
            "CONFIG GET lfu-log-factor",
            "CONFIG GET lfu-decay-time",
            "CONFIG SET maxmemory -1",
            "CONFIG SET maxmemory abc",
            "CONFIG SET maxmemory 1.5gb",
            "CONFIG SET maxmemory 18446744073709551615",
            "CONFIG GET maxmemory",
            "CONFIG SET maxmemory 18446744073709551616",
            "CONFIG GET maxmemory",
            "CONFIG SET maxmemory 3gb",
            "CONFIG GET maxmemory",
            "CONFIG SET maxmemory 100k",
            "CONFIG GET maxmemory",
            "CONFIG SET maxmemory 0",
            "CONFIG SET maxmemory-policy foo",
            "CONFIG SET maxmemory-policy ''",
            "CONFIG SET maxmemory-samples 0",
            "CONFIG SET maxmemory-samples 2147483648",
            "CONFIG SET maxmemory-samples x",
            "CONFIG SET maxmemory-samples 64",
            "CONFIG SET maxmemory-eviction-tenacity -1",
            "CONFIG SET maxmemory-eviction-tenacity 101",
            "CONFIG SET maxmemory-eviction-tenacity 100",
            "CONFIG SET lfu-log-factor -1",
            "CONFIG SET lfu-log-factor 2147483648",
            "CONFIG SET lfu-log-factor 0",
            "CONFIG SET lfu-decay-time -1",
            "CONFIG SET lfu-decay-time 0",
            unordered("CONFIG GET maxmemory-*"),
            unordered("CONFIG GET lfu-*"),
        ])
        for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
                       "ALLKEYS-LFU", "allkeys-random", "noeviction"):
            diff.check("CONFIG", "SET", "maxmemory-policy", policy)
            diff.check("CONFIG", "GET", "maxmemory-policy")
        diff.check("CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lru")
        prefixes = ("maxmemory", "mem_not_counted_for_evict")
        assert info_lines(diff.atoll, "memory", prefixes) == info_lines(diff.ref, "memory", prefixes)
        assert info_lines(diff.atoll, "memory", ("maxmemory",)) == [
            "maxmemory:1073741824", "maxmemory_human:1.00G", "maxmemory_policy:allkeys-lru"]
    finally:
        for conn in (diff.ref, diff.atoll):
            conn.command("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction",
                         "maxmemory-samples", "5", "maxmemory-eviction-tenacity", "10",
                         "lfu-log-factor", "10", "lfu-decay-time", "1")


def test_settings_given_at_start_match_redis():
    flags = ("--maxmemory", "64mb", "--maxmemory-policy", "volatile-ttl", "--maxmemory-samples", "7",
             "--maxmemory-eviction-tenacity", "20", "--lfu-log-factor", "3", "--lfu-decay-time", "9")
    with pair(*flags) as (d, _):
        d.run([unordered("CONFIG GET maxmemory*"), unordered("CONFIG GET lfu-*")])


def test_oom_refusals_match_redis():
    with pair() as (d, _):
        d.run([("FUNCTION", "LOAD", LIBRARY), "SET k v", "SET q 0"])
        d.run(["CONFIG SET maxmemory 1"])
        d.run([
            "SET a 1",
            "GET k",
            "APPEND k x",
            "DEL q",
            "PING",
            "MULTI",
            "GET k",
            "SET b 2",
            "EXEC",
            "MULTI",
            "DISCARD",
            ("EVAL", "return redis.call('set','x','y')", "0"),
            ("EVAL", "return redis.pcall('set','x','y')", "0"),
            ("EVAL", "return redis.call('get','k')", "0"),
            ("EVAL", "redis.call('del','nothing') return redis.call('set','x','y')", "0"),
            ("EVAL", "#!lua\nreturn redis.call('set','x','y')", "0"),
            ("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','y')", "0"),
            ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"),
            ("EVAL_RO", "return redis.call('get','x')", "0"),
            "FCALL plain 0",
            "FCALL oomok 0",
            "FCALL reader 0",
            "FCALL_RO reader 0",
            ("FUNCTION", "LOAD", "REPLACE", LIBRARY),
            "SCRIPT FLUSH",
        ])
        prefixes = ("errorstat_OOM", "errorstat_EXECABORT", "evicted_keys", "total_error_replies")
        assert info_lines(d.atoll, "errorstats", prefixes) == info_lines(d.ref, "errorstats", prefixes)
        assert info_lines(d.atoll, "stats", prefixes) == info_lines(d.ref, "stats", prefixes)


def settled_used_memory(conn) -> int:
    """used_memory once two readings in a row agree: Atoll's moves by tens of kB over the
    first replies after a start, which would otherwise count against a tight limit."""
    readings = []
    for _ in range(20):
        readings.append(int(info_lines(conn, "memory", ("used_memory:",))[0].split(":")[1]))
        if len(readings) >= 2 and readings[-1] == readings[-2]:
            return readings[-1]
    raise AssertionError(f"used_memory did not settle: {readings}")


def test_a_full_key_table_waits_to_grow_while_memory_is_short_like_redis():
    """Redis's "Don't rehash if used memory exceeds maxmemory after rehash": 4,096 keys fill
    the key table's buckets, the limit is set 10 kB above the memory used, and the two keys that
    would double the buckets are stored with nothing evicted: the doubling waits."""
    with pair("--maxmemory-policy", "allkeys-random", "--latency-tracking", "no",
              "--enable-debug-command", "yes") as (d, _):
        for conn in (d.ref, d.atoll):
            assert conn.command("DEBUG", "POPULATE", "4096", "key", "1") == b"+OK\r\n"
            used = settled_used_memory(conn)
            assert conn.command("CONFIG", "SET", "maxmemory", str(used + 10 * 1024)) == b"+OK\r\n"
        d.run(["SET k1 v1", "SET k2 v2", "DBSIZE"])
        assert resp.parse(d.atoll.command("DBSIZE")) == 4098
        assert info_lines(d.atoll, "stats", ("evicted_keys",)) == ["evicted_keys:0"]


def test_exec_of_a_write_queued_before_the_limit_is_refused_like_redis():
    with pair() as (d, servers):
        d.run(["MULTI", "GET k", "SET k v", ("EVAL", "#!lua flags=no-writes\nreturn 1", "0")])
        for server in servers:
            with server.connect() as admin:
                assert admin.command("CONFIG", "SET", "maxmemory", "1") == b"+OK\r\n"
        d.run(["EXEC", "MULTI", "GET k", ("EVAL", "#!lua flags=no-writes\nreturn 1", "0")])
        d.run(["CONFIG SET maxmemory 0", "EXEC"])


def test_object_idletime_and_freq_match_redis():
    with pair() as (d, _):
        d.run(["SET n v"])
        payload = resp.parse(d.ref.command("DUMP", "n"))  # the same payload for both servers
        d.run([
            "SET k v",
            "OBJECT FREQ k",
            "OBJECT FREQ missing",
            "CONFIG SET maxmemory-policy allkeys-lfu",
            "OBJECT IDLETIME k",
            "OBJECT IDLETIME missing",
            "SET n v2",
            # A new key starts at 5; the first read always adds one, later ones by chance.
            "OBJECT FREQ n",
            "GET n",
            "OBJECT FREQ n",
            "OBJECT FREQ n",
            # With lfu-log-factor 0 every read adds one.
            "CONFIG SET lfu-log-factor 0",
            "GET n", "GET n", "GET n", "STRLEN n", "EXISTS n", "TYPE n",
            "OBJECT FREQ n",
            "TOUCH n",
            "OBJECT FREQ n",
            ("RESTORE", "r", "0", payload, "FREQ", "200"),
            "OBJECT FREQ r",
            ("RESTORE", "r2", "0", payload, "IDLETIME", "50"),
            "OBJECT FREQ r2",
            "CONFIG SET maxmemory-policy volatile-lru",
            "OBJECT FREQ n",
            ("RESTORE", "r3", "0", payload, "IDLETIME", "1000"),
            "EXISTS r3",
            "TYPE r3",
            "OBJECT ENCODING r3",
        ])
        # Idle times are in seconds and the clocks tick apart: equal within one second.
        for conn in (d.ref, d.atoll):
            idle = int(resp.parse(conn.command("OBJECT", "IDLETIME", "r3")))
            assert 1000 <= idle <= 1001
            assert conn.command("GET", "r3") == b"$1\r\nv\r\n"  # a read stamps the clock
            assert int(resp.parse(conn.command("OBJECT", "IDLETIME", "r3"))) <= 1


def test_a_key_read_recently_is_idle_for_less_time():
    """Reads stamp the LRU clock (one-second resolution); OBJECT does not."""
    with spawn("atoll") as a:
        c = a.connect()
        assert c.command("SET", "read", "1") == b"+OK\r\n"
        assert c.command("SET", "unread", "1") == b"+OK\r\n"
        deadline = time.monotonic() + 5
        while int(resp.parse(c.command("OBJECT", "IDLETIME", "unread"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the server's own clock, bounded
        assert c.command("GET", "read") == b"$1\r\n1\r\n"
        assert int(resp.parse(c.command("OBJECT", "IDLETIME", "read"))) == 0
        assert int(resp.parse(c.command("OBJECT", "IDLETIME", "unread"))) >= 2
        c.close()


def test_closed_connections_leave_no_memory_behind():
    """used_memory, which maxmemory compares, must not creep up as clients come and go (each
    closed connection once left its handler and channel behind, some 5 KB)."""
    with spawn("atoll") as a:
        c = a.connect()

        def churn(n):
            for _ in range(n):
                with a.connect() as other:
                    assert other.command("PING") == b"+PONG\r\n"
            assert a.wait_clients(c, 1) == 1

        def used():
            text = resp.parse(c.command("INFO", "memory")).decode()
            return int(next(line for line in text.splitlines() if line.startswith("used_memory:")).split(":")[1])

        churn(100)  # first connections warm caches that stay
        before = used()
        churn(300)
        assert used() - before < 300 * 1024
        c.close()
