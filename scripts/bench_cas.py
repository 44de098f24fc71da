#!/usr/bin/env python3
"""Contended compare-and-set throughput: many clients increment ONE counter with optimistic
concurrency, against atoll-server and Debian's redis-server in one run, alternating.

Three ways to do the same check-and-set:
  watch  - WATCH k, GET k, MULTI, SET k v+1, EXEC; retry when EXEC returns null
  lua    - GET k, then EVALSHA of a CAS script (SET only if the value is still what was read)
  ifeq   - GET k, then SET k v+1 IFEQ v (Redis 8.4's native CAS; Redis 7.0 lacks it: n/a)
Each worker process holds one connection and sends each step's commands in one write. The
counter's final value must equal the successes counted, or the run fails.

Usage: scripts/bench_cas.py [--atoll PATH] [--workers 16] [--seconds 3] [--rounds 3] [--pin] [--markdown]
"""
import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Conn, ServerPair  # noqa: E402

CAS_SCRIPT = b"if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0"


def worker(port, mode, sha, seconds, result, cpus):
    if cpus:
        os.sched_setaffinity(0, cpus)
    c = Conn(port)
    ok = attempts = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        attempts += 1
        if mode == "watch":
            _, value = c.call(("WATCH", "cas:k"), ("GET", "cas:k"))
            new = int(value) + 1
            replies = c.call(("MULTI",), ("SET", "cas:k", new), ("EXEC",))
            ok += replies[2] is not None
        elif mode == "lua":
            value = c.call(("GET", "cas:k"))[0]
            ok += c.call(("EVALSHA", sha, 1, "cas:k", value, int(value) + 1))[0] == 1
        else:
            value = c.call(("GET", "cas:k"))[0]
            ok += c.call(("SET", "cas:k", int(value) + 1, "IFEQ", value))[0] is not None
    result.put((ok, attempts))


def measure(port, mode, workers, seconds, cpus):
    c = Conn(port)
    c.call(("SET", "cas:k", 0))
    sha = c.call(("SCRIPT", "LOAD", CAS_SCRIPT))[0]
    if mode == "ifeq":
        try:
            c.call(("SET", "cas:probe", "x", "IFEQ", "x"))
        except RuntimeError:
            return None  # the server has no native CAS
    queue = mp.Queue()
    procs = [mp.Process(target=worker, args=(port, mode, sha, seconds, queue, cpus)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    ok = sum(r[0] for r in results)
    attempts = sum(r[1] for r in results)
    final = int(c.call(("GET", "cas:k"))[0])
    if final != ok:
        raise SystemExit(f"lost update on port {port} ({mode}): counter {final}, successes {ok}")
    return ok / seconds, attempts / seconds


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--pin", action="store_true", help="servers on CPU 0, client workers on CPU 1")
    args = ap.parse_args()
    pin = ["taskset", "-c", "0"] if args.pin else []

    servers = ServerPair(args.atoll, pin=pin)
    rport, aport = servers.rport, servers.aport
    try:
        samples = {}
        for _ in range(args.rounds):
            for mode in ("watch", "lua", "ifeq"):
                for name, port in (("redis", rport), ("atoll", aport)):
                    r = measure(port, mode, args.workers, args.seconds, {1} if args.pin else None)
                    samples.setdefault((mode, name), []).append(r)
        rows = []
        for mode in ("watch", "lua", "ifeq"):
            cells = []
            for name in ("redis", "atoll"):
                runs = [r for r in samples[(mode, name)] if r is not None]
                cells.append((statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)) if runs else None)
            rows.append((mode, *cells))
        if args.markdown:
            print("| CAS style | redis successes/s (attempts/s) | atoll successes/s (attempts/s) | atoll / redis |")
            print("| --- | ---: | ---: | ---: |")
        for mode, r, a in rows:
            rtext = f"{r[0]:,.0f} ({r[1]:,.0f})" if r else "n/a"
            atext = f"{a[0]:,.0f} ({a[1]:,.0f})" if a else "n/a"
            ratio = f"{a[0] / r[0]:.2f}" if r and a else "n/a"
            print(f"| {mode} | {rtext} | {atext} | {ratio} |" if args.markdown else f"{mode:<6} {rtext:>26} {atext:>26} {ratio:>6}")
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
