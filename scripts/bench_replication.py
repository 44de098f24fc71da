#!/usr/bin/env python3
"""Replication's speed (issue 19), side by side with redis-server: a primary and one replica of
the same server, Redis's pair and Atoll's, run in turn round by round.

For each pair it measures:
- the full sync of KEYS keys (DEBUG POPULATE on the primary, then REPLICAOF on the replica):
  the time from REPLICAOF until the replica's link is up with every key;
- SET throughput on the primary with the replica attached (redis-benchmark, 50 clients), and
  the primary's CPU time per request;
- the replica's lag under that load: the primary's `master_repl_offset` minus the replica's
  acknowledged offset, sampled every 50 ms, and how long the replica takes to catch up once
  the load stops (replicas acknowledge once a second, so both figures include up to a second
  of waiting for the next acknowledgement, for either server).

    python3 scripts/bench_replication.py [--atoll BIN] [--keys 1000000] [--rounds 3] [--markdown]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench import Conn, free_port, run_benchmark, server_cpu_seconds, wait_ready

SYNC_TIMEOUT = 300.0      # a full sync that takes longer fails the run
CATCH_UP_TIMEOUT = 60.0
SAMPLE_INTERVAL = 0.05


def info_fields(conn: Conn, section: str) -> dict:
    text = conn.command("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def replica_offset(primary_info: dict):
    """The first replica's acknowledged offset from the primary's INFO, or None."""
    line = primary_info.get("slave0")
    if not line:
        return None
    fields = dict(part.split("=", 1) for part in line.split(","))
    return int(fields["offset"])


class Pair:
    """A primary and a replica of one server binary, each in a temporary directory."""

    def __init__(self, binary: str):
        self.ports = [free_port(), free_port()]
        self.dirs = [tempfile.mkdtemp(prefix="repl-bench-") for _ in range(2)]
        self.procs = []
        for port, directory in zip(self.ports, self.dirs):
            argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", directory, "--enable-debug-command", "yes",
                    # Redis's default waits 5 s for more replicas before a diskless sync.
                    "--repl-diskless-sync-delay", "0"]
            self.procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_ready(port)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for directory in self.dirs:
            shutil.rmtree(directory, ignore_errors=True)


def one_round(binary: str, keys: int, requests: int, pipeline: int) -> dict:
    pair = Pair(binary)
    primary, replica = Conn(pair.ports[0], timeout=SYNC_TIMEOUT), Conn(pair.ports[1], timeout=SYNC_TIMEOUT)
    try:
        primary.command("DEBUG", "POPULATE", keys)
        started = time.monotonic()
        replica.command("REPLICAOF", "127.0.0.1", pair.ports[0])
        while True:
            if time.monotonic() - started > SYNC_TIMEOUT:
                raise RuntimeError("the full sync did not finish in time")
            if info_fields(replica, "replication").get("master_link_status") == "up" and replica.command("DBSIZE") == keys:
                break
            time.sleep(0.005)  # polling a condition, bounded by SYNC_TIMEOUT
        sync_seconds = time.monotonic() - started

        lags = []
        done = threading.Event()

        def sample() -> None:
            watcher = Conn(pair.ports[0])
            try:
                while not done.is_set():
                    info = info_fields(watcher, "replication")
                    acked = replica_offset(info)
                    if acked is not None:
                        lags.append(int(info["master_repl_offset"]) - acked)
                    done.wait(SAMPLE_INTERVAL)
            finally:
                watcher.close()

        sampler = threading.Thread(target=sample)
        cpu_before = server_cpu_seconds(pair.procs[0].pid)
        sampler.start()
        try:
            ops = run_benchmark(pair.ports[0], "set", 50, requests, pipeline).get("SET", 0.0)
        finally:
            done.set()
            sampler.join(timeout=10)
        cpu = server_cpu_seconds(pair.procs[0].pid) - cpu_before
        target = int(info_fields(primary, "replication")["master_repl_offset"])
        load_end = time.monotonic()
        while (replica_offset(info_fields(primary, "replication")) or 0) < target:
            if time.monotonic() - load_end > CATCH_UP_TIMEOUT:
                raise RuntimeError("the replica did not catch up in time")
            time.sleep(0.005)  # polling a condition, bounded by CATCH_UP_TIMEOUT
        return {"sync": sync_seconds, "ops": ops, "cpu_us": cpu / requests * 1e6,
                "lag_median": statistics.median(lags) if lags else 0, "lag_max": max(lags) if lags else 0,
                "catch_up": time.monotonic() - load_end}
    finally:
        primary.close()
        replica.close()
        pair.stop()


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=500_000)
    ap.add_argument("--pipeline", default="1,16")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    servers = {"redis": shutil.which("redis-server") or "/usr/bin/redis-server", "atoll": args.atoll}
    rows = []
    for pipeline in [int(p) for p in args.pipeline.split(",")]:
        # Unpipelined runs send a fifth as many requests, as bench.py does the other way round.
        requests = args.requests if pipeline > 1 else args.requests // 5
        samples = {"redis": [], "atoll": []}
        for _ in range(args.rounds):
            for kind in ("redis", "atoll"):
                samples[kind].append(one_round(servers[kind], args.keys, requests, pipeline))
                print(f"-P {pipeline} {kind}: {samples[kind][-1]}", file=sys.stderr)
        med = {kind: {field: statistics.median(s[field] for s in samples[kind]) for field in samples[kind][0]}
               for kind in samples}
        rows.append((pipeline, med["redis"], med["atoll"]))
    if args.markdown:
        print(f"Medians of {args.rounds} rounds; {args.keys:,} keys for the full sync.\n")
        print("| -P | redis SET ops/s | atoll SET ops/s | atoll / redis | redis CPU µs/req | atoll CPU µs/req "
              "| redis full sync s | atoll full sync s | redis lag bytes (median / max) | atoll lag bytes "
              "(median / max) | redis catch-up s | atoll catch-up s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for pipeline, r, a in rows:
            print(f"| {pipeline} | {r['ops']:,.0f} | {a['ops']:,.0f} | {a['ops'] / r['ops']:.2f} | {r['cpu_us']:.2f} "
                  f"| {a['cpu_us']:.2f} | {r['sync']:.2f} | {a['sync']:.2f} | {r['lag_median']:,.0f} / {r['lag_max']:,.0f} "
                  f"| {a['lag_median']:,.0f} / {a['lag_max']:,.0f} | {r['catch_up']:.3f} | {a['catch_up']:.3f} |")
    else:
        for pipeline, r, a in rows:
            print(f"-P {pipeline}: redis {r}\n       atoll {a}")


if __name__ == "__main__":
    main()
