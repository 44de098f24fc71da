"""Per-test server processes for tests that need their own flags.

``spawn(kind, *flags, config=None)`` is a context manager that starts either
Atoll (``kind="atoll"``) or the reference redis-server (``kind="redis"``) on a
free 127.0.0.1 port with the given redis-server-style flags, waits (bounded)
until it answers on the socket, yields a ``Proc`` and stops it afterwards
(SIGTERM, then SIGKILL after a grace period).

Readiness accepts ``+PONG`` and ``-NOAUTH`` so servers started with
``--requirepass`` are supported; the probe connection is closed before the
test starts, and ``Proc.wait_clients`` lets a test wait until the server has
noticed that.

stdout and stderr go to separate files (``Proc.stdout_text()`` /
``Proc.stderr_text()``) so tests can check the ready line and error messages.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time

import resp
from diff import Diff
from servers import REDIS_SERVER, atoll_argv, free_port, redis_argv, terminate

READY_TIMEOUT = 10.0
STOP_GRACE = 5.0


def atoll_binary() -> str:
    # atoll_argv() resolves $ATOLL_SERVER_BIN relative to the repo root.
    return atoll_argv(0)[0]


def build_argv(kind: str, port: int, flags, config: str | None = None) -> list[str]:
    flags = [str(f) for f in flags]
    if kind == "atoll":
        head = [atoll_binary()]
        if config is not None:
            head.append(config)
        return [*head, "--port", str(port), "--bind", "127.0.0.1", *flags]
    if kind == "redis":
        base = redis_argv(port)
        if config is not None:
            base = [base[0], config, *base[1:]]
        return [*base, *flags]
    raise ValueError(f"unknown server kind {kind!r}")


class Proc:
    """One server process with its own temp directory and log files."""

    def __init__(self, kind: str, argv: list[str], port: int):
        self.kind = kind
        self.argv = argv
        self.port = port
        self.dir = tempfile.TemporaryDirectory(prefix=f"atoll-beh-{kind}-")
        self.out_path = os.path.join(self.dir.name, "stdout.log")
        self.err_path = os.path.join(self.dir.name, "stderr.log")
        self.proc: subprocess.Popen | None = None
        self._files = []

    @property
    def pid(self) -> int:
        return self.proc.pid

    def launch(self) -> "Proc":
        if not os.path.exists(self.argv[0]):
            raise FileNotFoundError(
                f"binary {self.argv[0]!r} not found (build it or set ATOLL_SERVER_BIN)")
        out = open(self.out_path, "wb")
        err = open(self.err_path, "wb")
        self._files = [out, err]
        self.proc = subprocess.Popen(self.argv, cwd=self.dir.name, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=err)
        return self

    def _read(self, path: str) -> str:
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout_text(self) -> str:
        return self._read(self.out_path)

    def stderr_text(self) -> str:
        return self._read(self.err_path)

    def logs(self) -> str:
        return f"--- stdout ---\n{self.stdout_text()[-3000:]}\n" \
               f"--- stderr ---\n{self.stderr_text()[-3000:]}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} "
                                   f"during startup ({self.argv});\n{self.logs()}")
            try:
                with resp.Conn(self.port, timeout=1.0) as c:
                    reply = c.command("PING")
                    if reply == b"+PONG\r\n" or reply.startswith(b"-NOAUTH"):
                        return
                    last = reply
            except (OSError, resp.ConnectionClosed, resp.ProtocolError) as e:
                last = e
            time.sleep(0.02)  # short poll interval inside a bounded loop
        raise RuntimeError(f"{self.kind} not ready on port {self.port} within {timeout}s "
                           f"(last: {last!r});\n{self.logs()}")

    def wait_exit(self, timeout: float) -> int | None:
        """Exit status, or None if still running after ``timeout`` seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def connect(self, password: str | None = None, timeout: float = 5.0) -> resp.Conn:
        c = resp.Conn(self.port, timeout=timeout)
        if password is not None:
            reply = c.command("AUTH", password)
            assert reply == b"+OK\r\n", reply
        return c

    def connected_clients(self, conn: resp.Conn) -> int:
        info = resp.parse(conn.command("INFO", "clients")).decode()
        for line in info.splitlines():
            if line.startswith("connected_clients:"):
                return int(line.split(":", 1)[1])
        raise AssertionError(f"no connected_clients in {info!r}")

    def wait_clients(self, conn: resp.Conn, n: int, timeout: float = 5.0) -> int:
        """Poll INFO clients (bounded) until connected_clients == n."""
        deadline = time.monotonic() + timeout
        seen = self.connected_clients(conn)
        while seen != n and time.monotonic() < deadline:
            time.sleep(0.02)  # short poll interval inside a bounded loop
            seen = self.connected_clients(conn)
        return seen

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS line")

    def stop(self) -> None:
        terminate(self.proc, STOP_GRACE)
        for f in self._files:
            f.close()
        self._files = []
        self.dir.cleanup()


@contextlib.contextmanager
def spawn(kind: str, *flags, config: str | None = None, ready: bool = True):
    """Start a server of ``kind`` ("atoll" or "redis") with ``flags``; yield a Proc."""
    port = free_port()
    p = Proc(kind, build_argv(kind, port, flags, config), port)
    try:
        p.launch()
        if ready:
            p.wait_ready()
        yield p
    finally:
        p.stop()


@contextlib.contextmanager
def spawn_both(*flags, config: str | None = None):
    """A redis-server and an Atoll with the same flags (and configuration file); yields both Procs."""
    with spawn("redis", *flags, config=config) as r, spawn("atoll", *flags, config=config) as a:
        yield r, a


@contextlib.contextmanager
def diff_of(r: Proc, a: Proc, source: str | None = None):
    """A `Diff` over new connections to both, from the local address `source` if given."""
    ref, atoll = resp.Conn(r.port, source=source), resp.Conn(a.port, source=source)
    try:
        yield Diff(ref, atoll)
    finally:
        ref.close()
        atoll.close()


def redis_available() -> bool:
    return os.path.exists(REDIS_SERVER)
