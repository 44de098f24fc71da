"""maxmemory is not implemented yet, so Atoll accepts only its default (0, noeviction) and refuses
a limit, at start and with CONFIG SET, instead of ignoring it; INFO and CONFIG GET agree with
Redis's defaults.
"""

from __future__ import annotations

import resp
from procs import spawn


def test_maxmemory_defaults_match_redis(diff):
    diff.run([
        "CONFIG GET maxmemory",
        "CONFIG GET maxmemory-policy",
        "CONFIG SET maxmemory 0",
        "CONFIG SET maxmemory 0mb maxmemory-policy NOEVICTION",
        "CONFIG SET maxmemory -1",
        "CONFIG SET maxmemory abc",
        "CONFIG SET maxmemory-policy foo",
        "CONFIG GET maxmemory",
    ])
    lines = {}
    for name, conn in (("redis", diff.ref), ("atoll", diff.atoll)):
        info = resp.parse(conn.command("INFO", "memory")).decode()
        lines[name] = [line for line in info.splitlines() if line.startswith("maxmemory")]
    assert lines["redis"] == ["maxmemory:0", "maxmemory_human:0B", "maxmemory_policy:noeviction"]
    assert lines["atoll"] == lines["redis"]


def test_a_memory_limit_is_refused_not_ignored(atoll_conn):
    assert atoll_conn.command("CONFIG", "SET", "maxmemory", "100mb") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
        b"Atoll does not implement maxmemory yet; only 0 (no limit) is accepted\r\n")
    assert atoll_conn.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
        b"Atoll does not implement eviction yet; only noeviction is accepted\r\n")
    assert atoll_conn.command("CONFIG", "GET", "maxmemory") == b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    with spawn("atoll", "--maxmemory", "100mb", ready=False) as p:
        assert p.wait_exit(10.0) == 1
        assert "Atoll does not implement maxmemory yet; only 0 (no limit) is accepted" in p.stderr_text()
    with spawn("atoll", "--maxmemory", "0", "--maxmemory-policy", "noeviction") as p:
        c = p.connect()
        assert c.command("PING") == b"+PONG\r\n"
        c.close()
