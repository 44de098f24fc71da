"""Start/stop helpers for the server processes under test.

``Server`` launches a process listening on a free 127.0.0.1 port, waits for it
to answer PING (polling with a deadline, never a bare sleep), and stops it
with SIGTERM followed by SIGKILL after a grace period. Its stdout/stderr go to
a log file whose tail is shown when startup fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time

import resp

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIS_SERVER = os.environ.get("REDIS_SERVER_BIN", "/usr/bin/redis-server")
READY_TIMEOUT = 10.0
STOP_GRACE = 5.0


_handed_out: set[int] = set()


def free_port() -> int:
    """A currently unused TCP port on 127.0.0.1 (bind to port 0 and release), never one this
    run handed out before: the kernel may offer a just-released port again, and a test that
    takes a TLS port and then spawns a server on another would see the two collide."""
    for _ in range(1000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no unused port left")


def redis_argv(port: int) -> list[str]:
    return [
        REDIS_SERVER,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
    ]


def atoll_argv(port: int) -> list[str]:
    binary = os.environ.get("ATOLL_SERVER_BIN",
                            os.path.join(REPO_ROOT, ".build", "release", "atoll-server"))
    if not os.path.isabs(binary):
        binary = os.path.join(REPO_ROOT, binary)
    extra = os.environ.get("ATOLL_SERVER_ARGS", "").split()
    return [binary, "--port", str(port), "--bind", "127.0.0.1", *extra]


def terminate(proc, grace: float) -> None:
    """SIGTERM a still-running process, then SIGKILL it if it has not exited within `grace` s."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)


class ServerStartError(RuntimeError):
    pass


class Server:
    """One server process on a free loopback port."""

    def __init__(self, name: str, argv_for_port):
        self.name = name
        self.port = free_port()
        self.argv = argv_for_port(self.port)
        self.dir = tempfile.TemporaryDirectory(prefix=f"atoll-it-{name}-")
        self.log_path = os.path.join(self.dir.name, "server.log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        if not os.path.exists(self.argv[0]):
            raise ServerStartError(
                f"{self.name}: binary {self.argv[0]!r} not found "
                "(build it with `bash scripts/build_release.sh atoll-server` or set ATOLL_SERVER_BIN)")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv, cwd=self.dir.name, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def log_tail(self, n: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with {self.proc.returncode} during startup; "
                    f"log:\n{self.log_tail()}")
            try:
                with resp.Conn(self.port, timeout=1.0) as c:
                    if c.command("PING") == b"+PONG\r\n":
                        return
            except (OSError, resp.ConnectionClosed, resp.ProtocolError) as e:
                last = e
            time.sleep(0.02)  # short poll interval inside a bounded loop
        self.stop()
        raise ServerStartError(
            f"{self.name} did not answer PING on port {self.port} within "
            f"{READY_TIMEOUT}s (last error: {last!r}); log:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        terminate(self.proc, STOP_GRACE)
        if getattr(self, "_log", None):
            self._log.close()
        self.dir.cleanup()
