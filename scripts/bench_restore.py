#!/usr/bin/env python3
"""RESTORE side by side: atoll-server and Debian's redis-server in one run, alternating server
by server for several rounds, printing the median ops/s and server CPU per request of each.

redis-benchmark cannot send a DUMP payload (it takes its arguments from argv, and every payload
holds NUL bytes: the RDB version's high byte, at least), so this script drives the load itself:
`--clients` connections, each sending `--pipeline` commands per write and waiting for all their
replies before the next write, as redis-benchmark -P does. The writes are built before the timed
part (`--variants` of them per connection, each with its own random keys over `--keyspace`), so
what the client spends per request is a send, a receive and a count.

Each value kind is DUMPed from redis-server once and the same payload goes to both servers
(`RESTORE key 0 PAYLOAD REPLACE`; the keys are replaced from the second round on, in both).

Usage: scripts/bench_restore.py [--atoll PATH] [--requests N] [--rounds 5] [--clients 50]
                                [--pipeline 16] [--keyspace 100000] [--kinds list,intset] [--markdown]
"""
import argparse
import os
import random
import selectors
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Conn, ServerPair, encode, server_cpu_seconds  # noqa: E402

# The value kinds: a name, and commands that make key `v` on redis-server to DUMP.
KINDS = [
    ("string (hello)", [("SET", "v", "hello")]),
    ("integer string", [("SET", "v", "12345")]),
    ("hash, 4 fields (listpack)", [("HSET", "v", "a", "1", "b", "2", "c", "3", "d", "4")]),
    ("list, 8 items (quicklist)", [("RPUSH", "v", *[f"item{i}" for i in range(8)])]),
    ("sorted set, 4 members (listpack)", [("ZADD", "v", "1", "a", "2.5", "b", "3", "c", "4", "d")]),
    ("set, 4 integers (intset)", [("SADD", "v", "1", "2", "3", "4")]),
]

# Every reply of a successful RESTORE.
OK = b"+OK\r\n"


def payload(port: int, setup) -> bytes:
    conn = Conn(port)
    try:
        conn.command("DEL", "v")
        for command in setup:
            conn.command(*command)
        return conn.command("DUMP", "v")
    finally:
        conn.close()


def run_load(port: int, writes_by_client, requests: int, pipeline: int) -> float:
    """Sends `requests` commands (rounded up to whole writes) over the connections; returns
    ops/s. Each connection waits for its write's replies, all `+OK`, before the next."""
    expected = len(OK) * pipeline
    socks = []
    selector = selectors.DefaultSelector()
    try:
        for i in range(len(writes_by_client)):
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
            socks.append(s)
        writes_left = -(-requests // pipeline)
        state = {}
        start = time.perf_counter()
        for i, s in enumerate(socks):
            if writes_left == 0:
                break
            writes_left -= 1
            s.sendall(writes_by_client[i][0])
            state[s] = [i, 1, 0]
            selector.register(s, selectors.EVENT_READ)
        deadline = time.monotonic() + 600
        while state:
            if time.monotonic() > deadline:
                raise TimeoutError("RESTORE load did not finish in 600 s")
            for key, _ in selector.select(timeout=10):
                s = key.fileobj
                entry = state[s]
                data = s.recv(65536)
                if not data:
                    raise ConnectionError("server closed a connection")
                entry[2] += len(data)
                if entry[2] < expected:
                    continue
                if entry[2] > expected or not data.endswith(OK):
                    raise RuntimeError(f"unexpected reply: {data[:200]!r}")
                entry[2] = 0
                if writes_left == 0:
                    selector.unregister(s)
                    del state[s]
                    continue
                writes_left -= 1
                variants = writes_by_client[entry[0]]
                s.sendall(variants[entry[1] % len(variants)])
                entry[1] += 1
        elapsed = time.perf_counter() - start
        return -(-requests // pipeline) * pipeline / elapsed
    finally:
        selector.close()
        for s in socks:
            s.close()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--requests", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--keyspace", type=int, default=100000)
    ap.add_argument("--variants", type=int, default=64, help="prepared writes per connection")
    ap.add_argument("--kinds", help="only the value kinds whose names contain one of these words (comma-separated)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    kinds = [(kind, setup) for kind, setup in KINDS
             if not args.kinds or any(word in kind for word in args.kinds.split(","))]

    servers = ServerPair(args.atoll)
    try:
        rng = random.Random(1)
        lines = []
        for kind, setup in kinds:
            dumped = payload(servers.rport, setup)
            writes = [[b"".join(encode("RESTORE", f"key:{rng.randrange(args.keyspace):012d}", 0, dumped, "REPLACE")
                                for _ in range(args.pipeline))
                       for _ in range(args.variants)]
                      for _ in range(args.clients)]
            ops = {"redis": [], "atoll": []}
            cpu = {"redis": [], "atoll": []}
            for _ in range(args.rounds):
                for name, port, proc in (("redis", servers.rport, servers.redis), ("atoll", servers.aport, servers.atoll)):
                    before = server_cpu_seconds(proc.pid)
                    ops[name].append(run_load(port, writes, args.requests, args.pipeline))
                    cpu[name].append((server_cpu_seconds(proc.pid) - before) / args.requests * 1e6)
            r, a = statistics.median(ops["redis"]), statistics.median(ops["atoll"])
            rc, ac = statistics.median(cpu["redis"]), statistics.median(cpu["atoll"])
            lines.append((kind, len(dumped), r, a, a / r, rc, ac, rc / ac if ac else 0.0))
        if args.markdown:
            print(f"| RESTORE at -P {args.pipeline} of | payload bytes | redis ops/s | atoll ops/s | atoll / redis "
                  "| redis CPU µs/req | atoll CPU µs/req | redis CPU / atoll CPU |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for kind, size, r, a, ratio, rc, ac, cpu_ratio in lines:
                print(f"| {kind} | {size} | {r:,.0f} | {a:,.0f} | {ratio:.2f} | {rc:.2f} | {ac:.2f} | {cpu_ratio:.2f} |")
        else:
            for kind, size, r, a, ratio, rc, ac, cpu_ratio in lines:
                print(f"{kind:<28} {size:>5} B  redis {r:>12,.0f}  atoll {a:>12,.0f}  ratio {ratio:.2f}  "
                      f"CPU µs {rc:.2f} / {ac:.2f} ({cpu_ratio:.2f})")
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
