"""What Redis Sentinel sends and reads, byte-compared with redis-server: the transaction by
which it promotes a replica or points it at a new primary (`MULTI`, `SLAVEOF`, `CONFIG
REWRITE`, `CLIENT KILL TYPE normal`, `CLIENT KILL TYPE pubsub`, `EXEC`, as sentinel.c's
`sentinelSendSlaveOf` sends it) with what it leaves behind (the configuration file's
`replicaof` line, CONFIG GET replicaof, the clients it closed), the INFO fields it parses on a
replica that has not reached its new master yet, its connection names, the
`__sentinel__:hello` channel on a read-only replica, and hellos published on a primary reaching
its replicas' subscribers through the replication stream."""

from __future__ import annotations

import contextlib
import os
import tempfile

import pytest

import resp
from diff import Diff
from procs import redis_available
from replication_checks import spawn
from servers import free_port

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

HELLO = "__sentinel__:hello"


@contextlib.contextmanager
def configured_pair(*flags):
    """A redis-server and an Atoll, each started from its own (nearly empty) configuration
    file so that CONFIG REWRITE has a file to write; yields both Procs and the two paths."""
    with tempfile.TemporaryDirectory(prefix="atoll-sentinel-cmds-") as d:
        paths = []
        for kind in ("redis", "atoll"):
            path = os.path.join(d, f"{kind}.conf")
            with open(path, "w") as f:
                f.write("# the Sentinel commands test\n")
            paths.append(path)
        with spawn("redis", *flags, config=paths[0]) as r, spawn("atoll", *flags, config=paths[1]) as a:
            yield (r, a), paths


def replicaof_lines(path: str) -> list[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.lower().startswith(("replicaof", "slaveof"))]


def sentinel_transaction(conn: resp.Conn, host: str, port: str) -> list[bytes]:
    """sentinelSendSlaveOf's six commands in one write, as hiredis sends them; their replies."""
    commands = [("MULTI",), ("SLAVEOF", host, port), ("CONFIG", "REWRITE"),
                ("CLIENT", "KILL", "TYPE", "normal"), ("CLIENT", "KILL", "TYPE", "pubsub"), ("EXEC",)]
    conn.send_raw(b"".join(resp.encode(*c) for c in commands))
    return [conn.read_reply() for _ in commands]


def bystanders(port: int) -> list[resp.Conn]:
    """Two normal clients and a subscriber: what CLIENT KILL TYPE normal / pubsub close."""
    conns = [resp.Conn(port) for _ in range(3)]
    assert conns[0].command("PING") == b"+PONG\r\n"
    assert conns[1].command("CLIENT", "SETNAME", "app") == b"+OK\r\n"
    assert conns[2].command("SUBSCRIBE", "news").startswith(b"*3\r\n")
    return conns


def all_closed(conns: list[resp.Conn]) -> list[bool]:
    out = []
    for c in conns:
        out.append(c.read_until_close(timeout=5)[1])
        c.close()
    return out


def info_fields(conn: resp.Conn, *names: str) -> dict:
    text = resp.parse(conn.command("INFO", "replication")).decode()
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {n: fields.get(n) for n in names}


def test_sentinel_reconfigures_a_replica_to_a_new_master():
    """The follower's side of a failover: a replica told to follow another (here unreachable)
    master inside Sentinel's transaction."""
    old_master, new_master = free_port(), free_port()
    with configured_pair("--replicaof", "127.0.0.1", old_master) as ((r, a), (rpath, apath)):
        results = {}
        for proc, path in ((r, rpath), (a, apath)):
            others = bystanders(proc.port)
            sentinel = proc.connect()
            assert sentinel.command("CLIENT", "SETNAME", "sentinel-1a2b3c4d-cmd") == b"+OK\r\n"
            replies = sentinel_transaction(sentinel, "127.0.0.1", str(new_master))
            results[proc.kind] = {
                "replies": replies,
                "closed": all_closed(others),
                "still_open": sentinel.command("PING"),
                "config_get": sentinel.command("CONFIG", "GET", "replicaof"),
                "config_get_alias": sentinel.command("CONFIG", "GET", "slaveof"),
                "file": replicaof_lines(path),
                "info": info_fields(sentinel, "role", "master_host", "master_port", "master_link_status",
                                    "master_link_down_since_seconds", "slave_priority", "replica_announced"),
                "name": sentinel.command("CLIENT", "GETNAME"),
            }
            sentinel.close()
        assert results["redis"]["replies"][-1] == b"*4\r\n+OK\r\n+OK\r\n:2\r\n:1\r\n"
        assert results["redis"]["file"] == [f"replicaof 127.0.0.1 {new_master}"]
        assert results["redis"]["info"]["master_link_down_since_seconds"] == "-1"
        assert results["atoll"] == results["redis"]


def test_sentinel_promotes_a_replica():
    """The promoted replica's side: SLAVEOF NO ONE in Sentinel's transaction; the file's
    `replicaof` line goes, the server is a master that takes writes."""
    dead = free_port()
    with configured_pair("--replicaof", "127.0.0.1", dead) as ((r, a), (rpath, apath)):
        results = {}
        for proc, path in ((r, rpath), (a, apath)):
            sentinel = proc.connect()
            first = sentinel.command("CONFIG", "REWRITE"), replicaof_lines(path)
            others = bystanders(proc.port)
            replies = sentinel_transaction(sentinel, "NO", "ONE")
            results[proc.kind] = {
                "before": first,
                "replies": replies,
                "closed": all_closed(others),
                "config_get": sentinel.command("CONFIG", "GET", "replicaof"),
                "file": replicaof_lines(path),
                "role": info_fields(sentinel, "role", "master_host", "connected_slaves"),
                "write": sentinel.command("SET", "k", "v"),
            }
            sentinel.close()
        assert results["redis"]["before"] == (b"+OK\r\n", [f"replicaof 127.0.0.1 {dead}"])
        assert results["redis"]["file"] == []
        assert results["atoll"] == results["redis"]


def test_sentinel_hello_channel_on_a_read_only_replica():
    """Sentinel subscribes to `__sentinel__:hello` on every server and publishes its hello there,
    replicas included (PUBLISH is not a write); the message arrives unchanged."""
    dead = free_port()
    hello = f"127.0.0.1,{dead},{'a' * 40},0,mymaster,127.0.0.1,{dead},0"
    with configured_pair("--replicaof", "127.0.0.1", dead) as ((r, a), _):
        subs = resp.Conn(r.port), resp.Conn(a.port)
        pubs = resp.Conn(r.port), resp.Conn(a.port)
        try:
            names = Diff(*subs)
            names.check("CLIENT", "SETNAME", "sentinel-1a2b3c4d-pubsub")
            names.check("SUBSCRIBE", HELLO)
            d = Diff(*pubs)
            d.check("CLIENT", "SETNAME", "sentinel-1a2b3c4d-cmd")
            d.check("PUBLISH", HELLO, hello)
            assert subs[0].read_reply() == subs[1].read_reply() == resp.encode("message", HELLO, hello)
            d.check("PUBSUB", "NUMSUB", HELLO)
            d.check("CLIENT", "KILL", "TYPE", "pubsub")
            assert all(s.read_until_close(timeout=5)[1] for s in subs)
            d.check("PING")
        finally:
            for c in (*subs, *pubs):
                c.close()


def test_publish_reaches_the_replicas_subscribers():
    """Outside a cluster Redis sends PUBLISH and SPUBLISH down the replication stream (not to
    the append-only file): a sentinel subscribed on a replica hears the hellos published on the
    primary. The stream goes on intact after them (the replica's offset meets the primary's)."""
    from replication_checks import client, wait_caught_up, wait_link_up

    heard = {}
    for kind in ("redis", "atoll"):
        with spawn(kind, "--repl-diskless-sync-delay", 0) as p, \
                spawn(kind, "--replicaof", "127.0.0.1", p.port) as r:
            primary, replica = client(p.port), client(r.port)
            wait_link_up(replica)
            sub = resp.Conn(r.port)
            try:
                assert sub.command("SUBSCRIBE", HELLO).startswith(b"*3\r\n")
                assert sub.command("SSUBSCRIBE", "shard-news").startswith(b"*3\r\n")
                primary.publish(HELLO, "127.0.0.1,26379,hello-from-the-primary")
                primary.execute_command("SPUBLISH", "shard-news", "to-the-shard")
                primary.set("after", "1")
                heard[kind] = [sub.read_reply(), sub.read_reply()]
                wait_caught_up(primary, replica)
                assert replica.get("after") == b"1"
            finally:
                sub.close()
    assert heard["redis"] == [resp.encode("message", HELLO, "127.0.0.1,26379,hello-from-the-primary"),
                              resp.encode("smessage", "shard-news", "to-the-shard")]
    assert heard["atoll"] == heard["redis"]
