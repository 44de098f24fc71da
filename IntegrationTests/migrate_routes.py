"""The four routes MIGRATE is tested on: redis-server → redis-server (the reference),
Atoll → redis-server, redis-server → Atoll and Atoll → Atoll.

The sources are the suite's two session servers; the targets are one redis-server and one
Atoll started for the module (``targets`` fixture). ``run_routes`` flushes a route's source and
target, runs a scenario on it and returns what the scenario observed, for every route; the
observations must be the same on all four, so Redis's route fixes the expected bytes.
"""
from __future__ import annotations

import pytest

import resp
import stream_info
from procs import spawn

HOST = "127.0.0.1"
ROUTES = [("redis", "redis"), ("atoll", "redis"), ("redis", "atoll"), ("atoll", "atoll")]


@pytest.fixture(scope="module")
def targets():
    """A redis-server and an Atoll to migrate to: {"redis": port, "atoll": port}."""
    with spawn("redis") as r, spawn("atoll") as a:
        yield {"redis": r.port, "atoll": a.port}


class Route:
    """One source connection and its target (port and a connection to it)."""

    def __init__(self, name: str, source_port: int, target_port: int, password: str | None = None):
        self.name = name
        self.source = resp.Conn(source_port, timeout=10.0)
        self.target = resp.Conn(target_port, timeout=10.0)
        self.target_port = target_port
        if password is not None:
            assert self.target.command("AUTH", password) == b"+OK\r\n"
        for c in (self.source, self.target):
            assert c.command("FLUSHALL") == b"+OK\r\n"

    def migrate(self, key, *options, db=0, timeout=5000, port=None) -> bytes:
        """MIGRATE to this route's target (or to `port`)."""
        return self.source.command("MIGRATE", HOST, port or self.target_port, key, db, timeout, *options)

    def close(self) -> None:
        self.source.close()
        self.target.close()


def run_routes(ref_port: int, atoll_port: int, targets: dict, scenario, routes=ROUTES,
               password: str | None = None):
    """Runs `scenario(route)` on each route (`password` opens the target connections); asserts
    every route observed the same as the first (redis → redis) and returns that observation."""
    sources = {"redis": ref_port, "atoll": atoll_port}
    seen = []
    for source, target in routes:
        route = Route(f"{source}->{target}", sources[source], targets[target], password)
        try:
            seen.append((route.name, scenario(route)))
        finally:
            route.close()
    first_name, first = seen[0]
    for name, observed in seen[1:]:
        assert observed == first, f"{name} differs from {first_name}:\n  {first_name}: {first!r}\n  {name}: {observed!r}"
    return first


def snapshot(c: resp.Conn, key) -> tuple:
    """A key's type, encoding and contents in a form that does not depend on hash order."""
    kind = resp.parse(c.command("TYPE", key))
    if kind == "none":
        return (kind,)
    encoding = resp.parse(c.command("OBJECT", "ENCODING", key))
    if kind == "string":
        content = resp.parse(c.command("GET", key))
    elif kind == "list":
        content = resp.parse(c.command("LRANGE", key, 0, -1))
    elif kind == "hash":
        flat = resp.parse(c.command("HGETALL", key))
        content = sorted(zip(flat[::2], flat[1::2]))
    elif kind == "set":
        content = sorted(resp.parse(c.command("SMEMBERS", key)))
    elif kind == "zset":
        content = resp.parse(c.command("ZRANGE", key, 0, -1, "WITHSCORES"))
    elif kind == "stream":
        content = stream_info.blank(resp.parse(c.command("XINFO", "STREAM", key, "FULL")))
    else:
        raise AssertionError(f"unexpected type {kind!r}")
    return (kind, encoding, content)
