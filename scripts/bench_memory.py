#!/usr/bin/env python3
"""Memory per element: loads 1,000,000 small elements into each server as many small
collections (100,000 keys x 10 elements: the listpack/intset-sized case) and as one big
collection (a stream of 1,000,000 entries of 3 small fields too), and prints the growth of
each server's resident set size per element, and of its INFO `used_memory` (what the
allocator hands out, without fragmentation). Issue 15's values are measured the same way,
per what a user counts: bytes per bitmap key, per set bit of one large bitmap, per
HyperLogLog key (sparse and dense), per geo member.

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


def used_memory(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(30)
        s.sendall(encode("INFO", "memory"))
        data = b""
        while b"used_memory:" not in data or not data.endswith(b"\r\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                raise RuntimeError("connection closed")
            data += chunk
    return int(data.split(b"used_memory:")[1].split(b"\r\n")[0])


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


def geo_point(i: int):
    """A spread of valid coordinates (longitude, latitude) for member i."""
    return ((i * 7919) % 359_000) / 1000 - 179.5, ((i * 104_729) % 169_000) / 1000 - 84.5


def geoadd(key: str, members: range):
    return ("GEOADD", key, *[x for m in members for x in (*geo_point(m), f"member{m}")])


HLL_DENSE_KEYS = 1_000
# Workload name -> (commands, how many elements they store, replies' lines per command).
WORKLOADS = {
    "hash, 100k keys x 10 fields": (lambda: (("HSET", f"h:{k}", *[x for f in range(10) for x in (f"field{f}", f"value{f}")])
                                             for k in range(ELEMENTS // 10)), ELEMENTS),
    "set, 100k keys x 10 members": (lambda: (("SADD", f"s:{k}", *[f"member{m}" for m in range(10)])
                                             for k in range(ELEMENTS // 10)), ELEMENTS),
    "zset, 100k keys x 10 members": (lambda: (("ZADD", f"z:{k}", *[x for m in range(10) for x in (m, f"member{m}")])
                                              for k in range(ELEMENTS // 10)), ELEMENTS),
    "hash, 1 key x 1M fields": (lambda: (("HSET", "bigh", *[x for f in range(i, i + 100) for x in (f"field{f}", f"v{f}")])
                                         for i in range(0, ELEMENTS, 100)), ELEMENTS),
    "set, 1 key x 1M members": (lambda: (("SADD", "bigs", *[f"member{m}" for m in range(i, i + 100)])
                                         for i in range(0, ELEMENTS, 100)), ELEMENTS),
    "zset, 1 key x 1M members": (lambda: (("ZADD", "bigz", *[x for m in range(i, i + 100) for x in (m, f"member{m}")])
                                          for i in range(0, ELEMENTS, 100)), ELEMENTS),
    "stream, 1 key x 1M entries of 3 small fields": (lambda: (("XADD", "bigx", "*", "a", str(i % 1000), "b", "x",
                                                               "c", str(i)) for i in range(ELEMENTS)), ELEMENTS, 2),
    # Issue 15: per key for many small values, per member or set bit for one big one.
    "bitmap, 100k keys x SETBIT at 4 offsets below 1000 (per key)": (
        lambda: (("SETBIT", f"b:{k}", off, 1) for k in range(ELEMENTS // 10) for off in (3, 250, 600, 999)), ELEMENTS // 10),
    "bitmap, 1 key of 8 MB, SETBIT at every 64th bit (per byte)": (
        lambda: (("SETBIT", "bigb", i * 64, 1) for i in range(ELEMENTS)), ELEMENTS * 8),
    "HyperLogLog sparse, 100k keys x 10 elements (per key)": (
        lambda: (("PFADD", f"hll:{k}", *[f"e{k}:{e}" for e in range(10)]) for k in range(ELEMENTS // 10)), ELEMENTS // 10),
    "HyperLogLog sparse, 10k keys x 200 elements (per key)": (
        lambda: (("PFADD", f"hm:{k}", *[f"e{k}:{e}" for e in range(200)]) for k in range(ELEMENTS // 100)), ELEMENTS // 100),
    "HyperLogLog dense, 1k keys x 3,000 elements (per key)": (
        lambda: (("PFADD", f"hd:{k}", *[f"e{e}" for e in range(i, i + 100)])
                 for k in range(HLL_DENSE_KEYS) for i in range(0, 3000, 100)), HLL_DENSE_KEYS),
    "geo, 100k keys x 10 members (per member)": (
        lambda: (geoadd(f"g:{k}", range(k * 10, k * 10 + 10)) for k in range(ELEMENTS // 10)), ELEMENTS),
    "geo, 1 key x 1M members (per member)": (
        lambda: (geoadd("bigg", range(i, i + 100)) for i in range(0, ELEMENTS, 100)), ELEMENTS),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default="", help="run only the workloads whose name contains this")
    args = ap.parse_args()
    rows = []
    for name, (workload, elements, *lines) in WORKLOADS.items():
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
                before = rss_bytes(proc.pid), used_memory(port)
                send_all(port, workload(), lines[0] if lines else 1)
                after = rss_bytes(proc.pid), used_memory(port)
                result[server] = [(a - b) / elements for a, b in zip(after, before)]
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        rows.append((name, result["redis"], result["atoll"]))
    if args.markdown:
        print("| workload | redis RSS bytes/element | atoll RSS bytes/element | atoll / redis "
              "| redis used_memory bytes/element | atoll used_memory bytes/element | atoll / redis |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r, a in rows:
        cells = [f"{r[0]:.1f}", f"{a[0]:.1f}", f"{a[0] / r[0]:.2f}", f"{r[1]:.1f}", f"{a[1]:.1f}", f"{a[1] / r[1]:.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |" if args.markdown else f"{name:<60} " + " ".join(f"{x:>8}" for x in cells))


if __name__ == "__main__":
    sys.exit(main())
