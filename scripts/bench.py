#!/usr/bin/env python3
"""Side-by-side throughput: redis-benchmark against atoll-server and Debian's redis-server in
one run, alternating server by server for several rounds, printing the median ops/s of each
and Atoll's ratio per test. Both servers listen on free loopback ports; nothing else is hit.

Usage: scripts/bench.py [--atoll PATH] [--tests set,get,...] [--clients 50] [--requests N]
                        [--pipeline 1,16] [--rounds 3] [--markdown]
                        [--command 'NAME=COMMAND ARGS...'] [--setup 'COMMAND ARGS...']
                        [--server-args '--appendonly yes --appendfsync always'] [--tls]
                        [--keyspace 100000]
                        [--user NAME:PASSWORD [--user-rules '~key:* +@all']]
--command benchmarks any command line (repeatable; redis-benchmark's __rand_int__ works);
--setup runs a command on both servers first (repeatable), e.g. to SCRIPT LOAD a script.
--server-args go to both servers (each works in its own temporary directory), e.g. to compare
write throughput with the append-only file on, or with a memory limit.
--keyspace sets how many distinct keys redis-benchmark's random keys come from (its -r), e.g.
enough for a data set twice `--maxmemory` in the server arguments.
--user runs redis-benchmark as that ACL user (`--user NAME -a PASSWORD`), created on both servers
first with `ACL SETUSER NAME on >PASSWORD` and --user-rules (default `~key:* +@all`: every command,
only the keys redis-benchmark's tests use), to measure the cost of ACL checks.
--tls runs every benchmark over TLS: both servers also listen on a TLS port with certificates
made by openssl for the run (IntegrationTests/tls_certs.py) and redis-benchmark connects with
--tls --cacert.
--cpu also reads each server's user and system CPU time from /proc/PID/stat around every run
(one redis-benchmark run per test then) and prints the server CPU per request and Redis's CPU
per request divided by Atoll's (above 1: Atoll spends less), which machine noise moves far less
than ops/s.
"""
import argparse
import csv
import io
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "IntegrationTests"))
from tls_certs import make_certificates  # noqa: E402  (the test suite's certificate maker)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not answer PING")


def server_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(argv, port):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port)
    return proc


def encode(*args) -> bytes:
    """A command in RESP (bytes as they are, anything else as its text)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A minimal RESP client for the benchmark scripts' own commands (not the measured load)."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        if kind == b":":
            return int(rest)
        if kind == b"-":
            raise RuntimeError(rest.decode())
        return rest

    def call(self, *commands):
        """Sends the commands (each a tuple of arguments) in one write; returns their replies."""
        self.sock.sendall(b"".join(encode(*c) for c in commands))
        return [self.reply() for _ in commands]

    def command(self, *args):
        """One command's reply."""
        return self.call(args)[0]


class ServerPair:
    """Debian's redis-server and atoll-server side by side on free loopback ports, each in a
    temporary directory of its own; `stop()` stops both and removes the directories."""

    def __init__(self, atoll: str, server_args=(), atoll_args=(), pin=(), certs=None):
        self.rport, self.aport = free_port(), free_port()
        self.dirs = [tempfile.mkdtemp(prefix="redis-bench-"), tempfile.mkdtemp(prefix="atoll-bench-")]
        # With certificates, each server also gets a TLS port, and the benchmarks use it.
        self.rtls, self.atls = (free_port(), free_port()) if certs else (0, 0)
        tls = ["--tls-cert-file", certs.server_cert, "--tls-key-file", certs.server_key,
               "--tls-auth-clients", "no"] if certs else []
        self.redis = start([*pin, "redis-server", "--port", str(self.rport), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", self.dirs[0], "--tls-port", str(self.rtls), *tls,
                            *server_args], self.rport)
        try:
            self.atoll = start([*pin, atoll, "--port", str(self.aport), "--bind", "127.0.0.1", "--dir", self.dirs[1],
                                "--tls-port", str(self.atls), *tls, *atoll_args, *server_args], self.aport)
        except BaseException:
            stop_all((self.redis,), self.dirs)
            raise

    def benchmark_ports(self) -> tuple[int, int]:
        """Where redis-benchmark connects: the TLS ports when there are some."""
        return (self.rtls, self.atls) if self.rtls else (self.rport, self.aport)

    def stop(self) -> None:
        stop_all((self.redis, self.atoll), self.dirs)


def stop_all(procs, directories) -> None:
    """Stops the servers (SIGTERM, then SIGKILL after 10 s) and removes their directories."""
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)


PIN_SERVER: list = []
PIN_CLIENT: list = []
# redis-benchmark's `--user NAME -a PASSWORD` when --user is given.
AUTH_ARGS: list = []
# redis-benchmark's TLS flags (--tls --cacert CA) when benchmarking over TLS.
TLS_CLIENT: list = []


def run_benchmark(port, tests, clients, requests, pipeline, command=None, keyspace=100000):
    argv = [*PIN_CLIENT, "redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients),
            "-n", str(requests), "-P", str(pipeline), "-r", str(keyspace), "--csv", "-q", *AUTH_ARGS, *TLS_CLIENT]
    argv += shlex.split(command) if command else ["-t", tests]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    rows = list(csv.reader(io.StringIO(out)))
    result = {}
    for row in rows[1:] if rows and rows[0][0] == "test" else rows:
        if len(row) >= 2:
            result[row[0]] = float(row[1])
    return result


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoll", default=os.path.join(here, "..", ".build", "release", "atoll-server"))
    ap.add_argument("--tests", default="ping_inline,ping_mbulk,set,get,incr,mset")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=200000,
                    help="requests per test without pipelining; pipelined runs send 5 times as many")
    ap.add_argument("--pipeline", default="1,16")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--cpu", action="store_true", help="also report each server's CPU time per request")
    ap.add_argument("--atoll-args", default="", help="extra atoll-server flags, e.g. '--io-threads 1'")
    ap.add_argument("--server-args", default="", help="flags for both servers, e.g. '--appendonly yes'")
    ap.add_argument("--command", action="append", default=[], help="NAME=COMMAND ARGS... to benchmark")
    ap.add_argument("--setup", action="append", default=[], help="command run on both servers before the runs")
    ap.add_argument("--user", help="NAME:PASSWORD of an ACL user to run redis-benchmark as (created on both servers)")
    ap.add_argument("--user-rules", default="~key:* +@all", help="the ACL rules of --user's user")
    ap.add_argument("--keyspace", type=int, default=100000,
                    help="redis-benchmark's -r: how many distinct keys __rand_int__ picks from")
    ap.add_argument("--pin", action="store_true",
                    help="pin both servers to CPU 0 and redis-benchmark to CPU 1 (taskset), the same for both")
    ap.add_argument("--tls", action="store_true", help="benchmark over TLS (certificates made for the run)")
    args = ap.parse_args()

    if args.pin:
        PIN_SERVER.extend(["taskset", "-c", "0"])
        PIN_CLIENT.extend(["taskset", "-c", "1"])
    if args.user:
        name, password = args.user.split(":", 1)
        AUTH_ARGS.extend(["--user", name, "-a", password])
    certs = make_certificates() if args.tls else None
    if certs:
        TLS_CLIENT.extend(["--tls", "--cacert", certs.ca])
    try:
        servers = ServerPair(args.atoll, shlex.split(args.server_args), args.atoll_args.split(), PIN_SERVER, certs)
    except BaseException:
        if certs:
            certs.cleanup()
        raise
    (rport, aport), redis, atoll = servers.benchmark_ports(), servers.redis, servers.atoll
    try:
        for port in (servers.rport, servers.aport):
            if args.user:
                name, password = args.user.split(":", 1)
                subprocess.run(["redis-cli", "-p", str(port), "ACL", "SETUSER", name, "on", ">" + password,
                                *shlex.split(args.user_rules)], check=True, capture_output=True, timeout=60)
            for line in args.setup:
                subprocess.run(["redis-cli", "-p", str(port), *shlex.split(line)], check=True, capture_output=True, timeout=60)
        custom = [tuple(spec.split("=", 1)) for spec in args.command]
        lines = []
        for pipeline in [int(p) for p in args.pipeline.split(",")]:
            samples = {"redis": {}, "atoll": {}}
            cpu = {"redis": {}, "atoll": {}}
            requests = args.requests * (5 if pipeline > 1 else 1)
            # With --cpu each test runs alone, so that the CPU time read around it is its own.
            runs = [(test, test, None) for test in args.tests.split(",") if test] if args.cpu \
                else ([(None, args.tests, None)] if args.tests else [])
            runs += [(label, None, command) for label, command in custom]
            for _ in range(args.rounds):
                for name, port, proc in (("redis", rport, redis), ("atoll", aport, atoll)):
                    for label, tests, command in runs:
                        before = server_cpu_seconds(proc.pid)
                        results = run_benchmark(port, tests, args.clients, requests, pipeline, command, args.keyspace)
                        spent = server_cpu_seconds(proc.pid) - before
                        for test, ops in results.items():
                            key = label if command else test
                            samples[name].setdefault(key, []).append(ops)
                            if label is not None:
                                cpu[name].setdefault(key, []).append(spent / requests * 1e6)
            for test in samples["redis"]:
                r = statistics.median(samples["redis"][test])
                a = statistics.median(samples["atoll"].get(test, [0.0]))
                rc = statistics.median(cpu["redis"].get(test, [0.0]))
                ac = statistics.median(cpu["atoll"].get(test, [0.0]))
                lines.append((pipeline, test, r, a, a / r if r else 0.0, rc, ac, rc / ac if ac else 0.0))
        if args.markdown:
            if args.cpu:
                print("| -P | test | redis ops/s | atoll ops/s | atoll / redis | redis CPU µs/req | atoll CPU µs/req | redis CPU / atoll CPU |")
                print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            else:
                print("| -P | test | redis ops/s | atoll ops/s | atoll / redis |")
                print("| --- | --- | ---: | ---: | ---: |")
            for p, t, r, a, ratio, rc, ac, cpu_ratio in lines:
                extra = f" {rc:.2f} | {ac:.2f} | {cpu_ratio:.2f} |" if args.cpu else ""
                print(f"| {p} | {t} | {r:,.0f} | {a:,.0f} | {ratio:.2f} |{extra}")
        else:
            extra = f" {'redis µs':>9} {'atoll µs':>9} {'cpu ratio':>9}" if args.cpu else ""
            print(f"{'-P':>3} {'test':<28} {'redis ops/s':>14} {'atoll ops/s':>14} {'ratio':>7}{extra}")
            for p, t, r, a, ratio, rc, ac, cpu_ratio in lines:
                extra = f" {rc:>9.2f} {ac:>9.2f} {cpu_ratio:>9.2f}" if args.cpu else ""
                print(f"{p:>3} {t:<28} {r:>14,.0f} {a:>14,.0f} {ratio:>7.2f}{extra}")
    finally:
        servers.stop()
        if certs:
            certs.cleanup()


if __name__ == "__main__":
    sys.exit(main())
