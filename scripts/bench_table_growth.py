#!/usr/bin/env python3
"""How long one command waits when the key table grows: both servers side by side (ServerPair),
each filled by DEBUG POPULATE to just below a power of two of keys, then SET one new key at a
time past the doubling; the slowest of those SETs is what a client saw while the table grew.
Redis rehashes its dict incrementally; the figure shows whether Atoll does too.

Usage: scripts/bench_table_growth.py [--atoll PATH] [--sizes 1048576,2097152] [--markdown]
"""
import argparse
import os
import time

from bench import Conn, ServerPair


def slowest_set(port: int, size: int) -> float:
    """The longest single SET (seconds) of the 64 around the table's doubling at `size` keys."""
    conn = Conn(port, timeout=300)
    conn.command("FLUSHALL")
    conn.command("DEBUG", "POPULATE", size - 32, "fill")
    worst = 0.0
    for i in range(64):
        started = time.monotonic()
        conn.command("SET", f"new:{i}", "v")
        worst = max(worst, time.monotonic() - started)
    return worst


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--sizes", default="1048576,2097152")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    pair = ServerPair(args.atoll, server_args=("--enable-debug-command", "yes"))
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append((size, slowest_set(pair.rport, size), slowest_set(pair.aport, size)))
    finally:
        pair.stop()
    if args.markdown:
        print("| keys at the doubling | redis slowest SET ms | atoll slowest SET ms |")
        print("| ---: | ---: | ---: |")
    for size, redis, atoll in rows:
        if args.markdown:
            print(f"| {size:,} | {redis * 1000:.1f} | {atoll * 1000:.1f} |")
        else:
            print(f"{size:,} keys: redis {redis * 1000:.1f} ms, atoll {atoll * 1000:.1f} ms")


if __name__ == "__main__":
    main()
