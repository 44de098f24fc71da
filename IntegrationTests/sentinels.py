"""Debian's `redis-sentinel` processes watching servers under test, for the failover tests.

``sentinel_group(primary_port, n)`` starts `n` sentinels (each with its own configuration file
in a temp directory, on a free 127.0.0.1 port) that monitor the primary at `primary_port` as
`mymaster`, and stops them afterwards (also when the test fails). ``SentinelProc`` answers the
questions the tests ask: which address a sentinel gives for the master, which replicas and
other sentinels it knows.

Timings are Sentinel's smallest sensible ones, so that a failover takes seconds:
`down-after-milliseconds` 2000 (the master is subjectively down after two seconds without a
PONG; not 1000: after a switch Sentinel reconnects to the new master at most once a second
and counts its PING from the switch, so with 1000 the new master is often found "down" at
once and failed over again) and `failover-timeout` 5000: a failover step may take that long before it is abandoned,
and when the sentinels split their votes (Sentinel's election can), the next attempt comes
twice that later, so a retried failover still ends within the tests' bounds.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time

import redis

from servers import free_port, terminate

REDIS_SENTINEL = os.environ.get("REDIS_SENTINEL_BIN", "/usr/bin/redis-sentinel")
MASTER_NAME = "mymaster"
DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 5000
READY_TIMEOUT = 10.0
STOP_GRACE = 5.0


def sentinel_available() -> bool:
    return os.path.exists(REDIS_SENTINEL)


def wait_for(predicate, timeout: float, what: str):
    """Polls `predicate` until it returns a true value (returned) or `timeout` passes; an
    exception from `predicate` (a server going away mid-failover) counts as not yet."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (redis.RedisError, OSError) as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f" (last error: {last!r})" if last else ""))
        time.sleep(0.05)  # short poll interval inside a bounded loop


def pairs(flat) -> dict:
    """SENTINEL's `[name, value, name, value, ...]` replies as a dict (redis-py's own parsing of
    them fails on a plain client in redis-py 6.4)."""
    if isinstance(flat, dict):
        return flat
    return dict(zip(flat[0::2], flat[1::2]))


class SentinelProc:
    """One redis-sentinel process with its configuration file and log in a temp directory."""

    def __init__(self, primary_port: int, quorum: int, extra: list[str]):
        self.port = free_port()
        self.dir = tempfile.TemporaryDirectory(prefix="atoll-sentinel-")
        self.config = os.path.join(self.dir.name, "sentinel.conf")
        self.log_path = os.path.join(self.dir.name, "sentinel.log")
        with open(self.config, "w") as f:
            f.write(f"port {self.port}\n"
                    "bind 127.0.0.1\n"
                    "daemonize no\n"
                    "protected-mode no\n"
                    f"dir {self.dir.name}\n"
                    f"logfile {self.log_path}\n"
                    f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} {quorum}\n"
                    f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
                    f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n"
                    f"sentinel parallel-syncs {MASTER_NAME} 1\n"
                    + "".join(f"{line}\n" for line in extra))
        self.proc: subprocess.Popen | None = None
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2,
                                  decode_responses=True)

    def start(self) -> "SentinelProc":
        self.proc = subprocess.Popen([REDIS_SENTINEL, self.config], cwd=self.dir.name,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-sentinel exited with {self.proc.returncode};\n{self.log()}")
            try:
                if self.client.ping():
                    return self
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-sentinel not ready on {self.port};\n{self.log()}")
            time.sleep(0.02)  # short poll interval inside a bounded loop

    def log(self, n: int = 6000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def master_port(self) -> int | None:
        addr = self.client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        return int(addr[1]) if addr else None

    def master_state(self) -> dict:
        return pairs(self.client.execute_command("SENTINEL", "MASTER", MASTER_NAME))

    def replica_ports(self) -> set[int]:
        """The replicas this sentinel knows and is connected to."""
        replicas = [pairs(r) for r in self.client.execute_command("SENTINEL", "REPLICAS", MASTER_NAME)]
        return {int(r["port"]) for r in replicas if "disconnected" not in r["flags"]}

    def stop(self) -> None:
        self.client.close()
        terminate(self.proc, STOP_GRACE)
        self.dir.cleanup()


@contextlib.contextmanager
def sentinel_group(primary_port: int, count: int = 3, quorum: int = 2, extra=()):
    """`count` sentinels monitoring the primary at `primary_port` (`extra`: more lines for
    their configuration files, e.g. `sentinel auth-pass ...`); yields them."""
    group: list[SentinelProc] = []
    try:
        for _ in range(count):
            group.append(SentinelProc(primary_port, quorum, list(extra)).start())
        yield group
    finally:
        for s in group:
            s.stop()


def logs(group) -> str:
    return "\n".join(f"--- sentinel {s.port} ---\n{s.log()}" for s in group)
