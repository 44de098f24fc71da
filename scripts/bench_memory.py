#!/usr/bin/env python3
"""Memory per element: loads 1,000,000 small elements into each server as many small
collections (100,000 keys x 10 elements: the listpack/intset-sized case) and as one big
collection (a stream of 1,000,000 entries of 3 small fields too), and prints the growth of
each server's resident set size per element.

Usage: scripts/bench_memory.py [--atoll PATH] [--markdown] [--only TEXT]
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import encode, free_port, start  # noqa: E402

ELEMENTS = 1_000_000


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def send_all(port: int, commands, lines_per_reply: int = 1) -> None:
    """Pipelines the commands in chunks and reads (and counts) every reply, each
    `lines_per_reply` lines long."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(120)
        chunk, pending = [], 0
        for cmd in commands:
            chunk.append(encode(*cmd))
            if len(chunk) == 1000:
                s.sendall(b"".join(chunk))
                pending += len(chunk)
                chunk = []
                pending = drain(s, pending, leave=2000, lines_per_reply=lines_per_reply)
        if chunk:
            s.sendall(b"".join(chunk))
            pending += len(chunk)
        drain(s, pending, leave=0, lines_per_reply=lines_per_reply)


def drain(s, pending, leave, lines_per_reply=1, buf=[b""]):
    pending *= lines_per_reply
    leave *= lines_per_reply
    while pending > leave:
        data = s.recv(1 << 20)
        if not data:
            raise RuntimeError("connection closed")
        buf[0] += data
        lines = buf[0].count(b"\r\n")
        # Every reply here is one line (integers or +OK), or two (XADD's ID as a bulk string).
        pending -= lines
        buf[0] = buf[0][buf[0].rfind(b"\r\n") + 2:] if lines else buf[0]
    return pending // lines_per_reply


WORKLOADS = {
    "hash, 100k keys x 10 fields": lambda: (("HSET", f"h:{k}", *[x for f in range(10) for x in (f"field{f}", f"value{f}")])
                                            for k in range(ELEMENTS // 10)),
    "set, 100k keys x 10 members": lambda: (("SADD", f"s:{k}", *[f"member{m}" for m in range(10)]) for k in range(ELEMENTS // 10)),
    "zset, 100k keys x 10 members": lambda: (("ZADD", f"z:{k}", *[x for m in range(10) for x in (m, f"member{m}")])
                                             for k in range(ELEMENTS // 10)),
    "hash, 1 key x 1M fields": lambda: (("HSET", "bigh", *[x for f in range(i, i + 100) for x in (f"field{f}", f"v{f}")])
                                        for i in range(0, ELEMENTS, 100)),
    "set, 1 key x 1M members": lambda: (("SADD", "bigs", *[f"member{m}" for m in range(i, i + 100)]) for i in range(0, ELEMENTS, 100)),
    "zset, 1 key x 1M members": lambda: (("ZADD", "bigz", *[x for m in range(i, i + 100) for x in (m, f"member{m}")])
                                         for i in range(0, ELEMENTS, 100)),
    "stream, 1 key x 1M entries of 3 small fields": lambda: (("XADD", "bigx", "*", "a", str(i % 1000), "b", "x",
                                                              "c", str(i)) for i in range(ELEMENTS)),
}
LINES_PER_REPLY = {"stream, 1 key x 1M entries of 3 small fields": 2}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default="", help="run only the workloads whose name contains this")
    args = ap.parse_args()
    rows = []
    for name, workload in WORKLOADS.items():
        if args.only not in name:
            continue
        result = {}
        for server in ("redis", "atoll"):
            port = free_port()
            if server == "redis":
                tmp = tempfile.mkdtemp(prefix="atoll-mem-")
                proc = start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", tmp], port)
            else:
                proc = start([args.atoll, "--port", str(port), "--bind", "127.0.0.1"], port)
            try:
                before = rss_bytes(proc.pid)
                send_all(port, workload(), LINES_PER_REPLY.get(name, 1))
                after = rss_bytes(proc.pid)
                result[server] = (after - before) / ELEMENTS
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        rows.append((name, result["redis"], result["atoll"]))
    if args.markdown:
        print("| workload (1,000,000 elements) | redis bytes/element | atoll bytes/element | atoll / redis |")
        print("| --- | ---: | ---: | ---: |")
    for name, r, a in rows:
        print(f"| {name} | {r:.1f} | {a:.1f} | {a / r:.2f} |" if args.markdown else f"{name:<32} {r:8.1f} {a:8.1f} {a / r:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
