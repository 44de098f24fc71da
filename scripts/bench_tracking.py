#!/usr/bin/env python3
"""GET with client-side caching on, side by side: atoll-server and Debian's redis-server in
one run, alternating round by round, printing the server CPU per GET of each (with tracking
on, and off for reference) and Redis's CPU divided by Atoll's (above 1: Atoll spends less).

redis-benchmark cannot turn tracking on for its connections, so a small client does: each of
its connections says HELLO 3 and CLIENT TRACKING ON, then sends pipelined GETs over a key
space that was filled first (so every read is remembered), reading every reply. The client's
own speed does not enter the figure: only the server's CPU time per request does.

Usage: scripts/bench_tracking.py [--atoll PATH] [--connections 8] [--requests 200000]
                                 [--pipeline 16] [--keys 100000] [--rounds 3] [--markdown]
"""
import argparse
import os
import random
import socket
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ServerPair, encode, server_cpu_seconds  # noqa: E402


def read_replies(sock, n: int, buffer: bytearray) -> bytearray:
    """Reads until `n` replies of the shapes this benchmark gets (simple lines and bulks) are
    complete; returns what is left over."""
    count = 0
    pos = 0
    while count < n:
        while True:
            end = buffer.find(b"\r\n", pos)
            if end >= 0:
                break
            buffer += sock.recv(1 << 20)
        kind = buffer[pos:pos + 1]
        if kind == b"$":
            length = int(buffer[pos + 1:end])
            need = end + 2 + max(length, 0) + (2 if length >= 0 else 0)
            while len(buffer) < need:
                buffer += sock.recv(1 << 20)
            pos = need
            count += 1
        elif kind == b">":
            raise RuntimeError("unexpected push: the benchmark writes nothing, so nothing is invalidated")
        else:
            pos = end + 2
            count += 1
    return buffer[pos:]


def run(port: int, pid: int, connections: int, requests: int, pipeline: int, keys: int, tracking: bool) -> float:
    socks = []
    for _ in range(connections):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(encode("HELLO", "3"))
        s.recv(4096)
        if tracking:
            s.sendall(encode("CLIENT", "TRACKING", "ON"))
            assert s.recv(64) == b"+OK\r\n"
        socks.append(s)
    rng = random.Random(7)
    batches = requests // (pipeline * connections)
    before = server_cpu_seconds(pid)
    leftovers = [bytearray() for _ in socks]
    for _ in range(batches):
        for s in socks:
            s.sendall(b"".join(encode("GET", f"key:{rng.randrange(keys)}") for _ in range(pipeline)))
        for i, s in enumerate(socks):
            leftovers[i] = read_replies(s, pipeline, leftovers[i])
    spent = server_cpu_seconds(pid) - before
    for s in socks:
        s.close()
    return spent / (batches * pipeline * connections) * 1e6


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    servers = ServerPair(args.atoll)
    rport, aport, redis, atoll = servers.rport, servers.aport, servers.redis, servers.atoll
    try:
        for port in (rport, aport):
            with socket.create_connection(("127.0.0.1", port)) as s:
                script = "for i=0,%d do redis.call('set','key:'..i,'value') end return 1" % (args.keys - 1)
                s.sendall(encode("EVAL", script, "0"))
                assert s.recv(64) == b":1\r\n"
        results = {}
        for tracking in (False, True):
            samples = {"redis": [], "atoll": []}
            for _ in range(args.rounds):
                for name, port, proc in (("redis", rport, redis), ("atoll", aport, atoll)):
                    samples[name].append(run(port, proc.pid, args.connections, args.requests, args.pipeline,
                                             args.keys, tracking))
            results[tracking] = (statistics.median(samples["redis"]), statistics.median(samples["atoll"]))
        rows = [("GET, tracking off", *results[False]), ("GET, tracking on", *results[True])]
        if args.markdown:
            print(f"| -P {args.pipeline} | redis CPU µs/GET | atoll CPU µs/GET | redis CPU / atoll CPU |")
            print("| --- | ---: | ---: | ---: |")
            for label, r, a in rows:
                print(f"| {label} | {r:.2f} | {a:.2f} | {r / a:.2f} |")
        else:
            for label, r, a in rows:
                print(f"{label:<20} redis {r:.2f} µs  atoll {a:.2f} µs  ratio {r / a:.2f}")
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
