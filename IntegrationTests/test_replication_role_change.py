"""Clients blocked when the server turns replica (REPLICAOF host port): those parked in BLPOP
and WAIT get Redis's `-UNBLOCKED ... (master -> replica?)` and are closed after it; one held by
CLIENT PAUSE is not, and its write runs (and is refused) when the pause ends; the errors count
against REPLICAOF in the statistics — all compared with redis-server."""

from __future__ import annotations

import time

import pytest

import resp
from procs import redis_available, spawn_both
from servers import free_port

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server not installed")

UNBLOCKED = b"-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n"


def stat_fields(info: bytes, name: str) -> dict:
    for line in resp.parse(info).decode().splitlines():
        if line.startswith(f"cmdstat_{name}:"):
            fields = dict(pair.split("=") for pair in line.split(":", 1)[1].split(","))
            return {k: fields[k] for k in ("calls", "rejected_calls", "failed_calls")}
    return {}


def wait_blocked(admin: resp.Conn, count: int) -> None:
    deadline = time.monotonic() + 5
    while b"blocked_clients:%d\r\n" % count not in resp.parse(admin.command("INFO", "clients")):
        assert time.monotonic() < deadline, "the clients did not block"
        time.sleep(0.02)  # polling INFO, bounded


def turn_replica(proc, master_port: int) -> dict:
    admin, blpop, wait, paused = (proc.connect() for _ in range(4))
    try:
        blpop.send_raw(resp.encode("BLPOP", "list", "0"))
        wait.send_raw(resp.encode("WAIT", "1", "0"))
        wait_blocked(admin, 2)
        # BLPOP writes: it is parked before the pause, or the pause would hold it instead.
        assert admin.command("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
        paused.send_raw(resp.encode("SET", "k", "v"))
        wait_blocked(admin, 3)
        out = {"replicaof": admin.command("REPLICAOF", "127.0.0.1", str(master_port)),
               "blpop": blpop.read_reply(), "wait": wait.read_reply(),
               "blpop_closed": blpop.read_until_close(timeout=5)[1],
               "wait_closed": wait.read_until_close(timeout=5)[1]}
        out["unpause"] = admin.command("CLIENT", "UNPAUSE")
        out["paused_set"] = paused.read_reply()
        out["paused_ping"] = paused.command("PING")
        out["errorstats"] = admin.command("INFO", "errorstats")
        stats = admin.command("INFO", "commandstats")
        out["stats"] = {name: stat_fields(stats, name) for name in ("replicaof", "blpop", "wait", "set")}
        return out
    finally:
        for c in (admin, blpop, wait, paused):
            c.close()


def test_blocked_clients_get_unblocked_when_the_server_turns_replica():
    dead = free_port()
    with spawn_both() as (r, a):
        ours, theirs = turn_replica(a, dead), turn_replica(r, dead)
        assert theirs["blpop"] == theirs["wait"] == UNBLOCKED
        assert theirs["blpop_closed"] and theirs["wait_closed"]
        assert ours == theirs
