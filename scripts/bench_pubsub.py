#!/usr/bin/env python3
"""Side-by-side Pub/Sub throughput: atoll-server and Debian's redis-server in one run,
alternating server by server for several rounds, printing the median messages delivered per
second of each, the server CPU per delivered message, and Atoll's ratios.

For each case (1, 10 and 100 subscribers of a channel, or of a pattern matching it), a reader
process subscribes that many connections and counts the bytes they receive; redis-benchmark
publishes (50 clients, pipelined) to the channel; the run ends when every subscriber has
received every message. Delivered per second = messages x subscribers / elapsed.

Usage: scripts/bench_pubsub.py [--atoll PATH] [--subscribers 1,10,100] [--messages N]
                               [--pipeline 16] [--rounds 3] [--markdown]
"""
import argparse
import multiprocessing
import os
import selectors
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ServerPair, server_cpu_seconds  # noqa: E402

CHANNEL = b"bench:channel"
PATTERN = b"bench:*"
PAYLOAD = b"hello"


def frame(kind: str) -> bytes:
    """The bytes one subscriber receives per message."""
    def bulk(b: bytes) -> bytes:
        return b"$%d\r\n%s\r\n" % (len(b), b)
    if kind == "channel":
        return b"*3\r\n" + bulk(b"message") + bulk(CHANNEL) + bulk(PAYLOAD)
    return b"*4\r\n" + bulk(b"pmessage") + bulk(PATTERN) + bulk(CHANNEL) + bulk(PAYLOAD)


def reader(port: int, count: int, kind: str, expected: int, ready, done) -> None:
    """Subscribes `count` connections, reports ready, then counts bytes until each has
    `expected` message bytes (or 120 s pass) and reports the monotonic time it finished."""
    command = b"SUBSCRIBE" if kind == "channel" else b"PSUBSCRIBE"
    target = CHANNEL if kind == "channel" else PATTERN
    request = b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(command), command, len(target), target)
    confirmation = len(b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n:1\r\n" % (len(command), command.lower(), len(target), target))
    selector = selectors.DefaultSelector()
    remaining = {}
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        got = b""
        while len(got) < confirmation:
            got += s.recv(confirmation - len(got))
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        remaining[s] = expected
    ready.send(True)
    deadline = time.monotonic() + 120
    while any(remaining.values()) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            data = key.fileobj.recv(1 << 20)
            remaining[key.fileobj] -= len(data)
    done.send(time.monotonic() if not any(remaining.values()) else None)


def run_case(port: int, pid: int, subscribers: int, kind: str, messages: int, pipeline: int):
    expected = messages * len(frame(kind))
    ready_r, ready_w = multiprocessing.Pipe(False)
    done_r, done_w = multiprocessing.Pipe(False)
    proc = multiprocessing.Process(target=reader, args=(port, subscribers, kind, expected, ready_w, done_w))
    proc.start()
    try:
        assert ready_r.poll(30) and ready_r.recv()
        cpu_before = server_cpu_seconds(pid)
        started = time.monotonic()
        subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-n", str(messages),
                        "-P", str(pipeline), "-q", "publish", CHANNEL.decode(), PAYLOAD.decode()],
                       capture_output=True, timeout=600, check=True)
        assert done_r.poll(130), "reader did not finish"
        finished = done_r.recv()
        assert finished is not None, "not every message arrived"
        cpu = server_cpu_seconds(pid) - cpu_before
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    delivered = messages * subscribers
    return delivered / (finished - started), cpu / delivered * 1e6


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--subscribers", default="1,10,100")
    ap.add_argument("--messages", type=int, default=200000)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    servers = ServerPair(args.atoll)
    rport, aport, redis, atoll = servers.rport, servers.aport, servers.redis, servers.atoll
    try:
        rows = []
        for kind in ("channel", "pattern"):
            for subscribers in [int(n) for n in args.subscribers.split(",")]:
                messages = max(args.messages // subscribers, 2000) if subscribers > 10 else args.messages
                samples = {"redis": [], "atoll": []}
                for _ in range(args.rounds):
                    for name, port, proc in (("redis", rport, redis), ("atoll", aport, atoll)):
                        samples[name].append(run_case(port, proc.pid, subscribers, kind, messages, args.pipeline))
                r_rate = statistics.median(s[0] for s in samples["redis"])
                a_rate = statistics.median(s[0] for s in samples["atoll"])
                r_cpu = statistics.median(s[1] for s in samples["redis"])
                a_cpu = statistics.median(s[1] for s in samples["atoll"])
                rows.append((kind, subscribers, r_rate, a_rate, r_cpu, a_cpu))
        if args.markdown:
            print(f"| subscribed to | subscribers | redis delivered/s | atoll delivered/s | atoll / redis "
                  f"| redis CPU µs/msg | atoll CPU µs/msg | redis CPU / atoll CPU |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for kind, n, r, a, rc, ac in rows:
                print(f"| {kind} | {n} | {r:,.0f} | {a:,.0f} | {a / r:.2f} | {rc:.3f} | {ac:.3f} | {rc / ac:.2f} |")
        else:
            for kind, n, r, a, rc, ac in rows:
                print(f"{kind:<8} {n:>4} redis {r:>12,.0f}/s atoll {a:>12,.0f}/s ratio {a / r:.2f} "
                      f"cpu µs/msg {rc:.3f} vs {ac:.3f} ({rc / ac:.2f})")
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
