"""Without `maxmemory`, a client that writes without end makes the server grow until the
system refuses it memory. What the README promises then: the allocation that fails ends the
process (Swift stops with a fatal error on a failed allocation; nothing is acknowledged
after it), and with
`appendfsync always` every write that was acknowledged is in the append-only file, so a
restart brings all of them back. The refusal is made to happen quickly and safely by starting
the server under `prlimit --as` (its own address-space limit), not by exhausting the machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time

import resp
from procs import atoll_binary
from servers import free_port

VALUE_SIZE = 1 << 20
HEADROOM = 160 * 1024 * 1024


def wait_answering(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited while starting"
        try:
            with resp.Conn(port, timeout=1.0) as c:
                if c.command("PING") == b"+PONG\r\n":
                    return
        except OSError:
            time.sleep(0.05)  # not listening yet; bounded by the deadline
    raise AssertionError("server did not answer")


def start(directory: str, port: int, prefix=()) -> subprocess.Popen:
    argv = [*prefix, atoll_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
            "--appendonly", "yes", "--appendfsync", "always", "--auto-aof-rewrite-percentage", "0"]
    log = open(os.path.join(directory, f"server-{port}.log"), "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_answering(port, proc)
    return proc


def virtual_size_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1])
    raise AssertionError("no VmSize")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_writes_past_the_memory_the_system_allows_end_the_server_and_lose_no_acknowledged_write():
    with tempfile.TemporaryDirectory(prefix="atoll-exhaust-") as directory:
        # The address space a freshly started server takes, measured on one without a limit.
        probe_port = free_port()
        probe_dir = tempfile.mkdtemp(dir=directory)
        probe = start(probe_dir, probe_port)
        try:
            base_kb = virtual_size_kb(probe.pid)
        finally:
            stop(probe)
        limit = base_kb * 1024 + HEADROOM
        port = free_port()
        server = start(directory, port, prefix=("prlimit", f"--as={limit}"))
        acknowledged = 0
        value = b"x" * VALUE_SIZE
        try:
            c = resp.Conn(port, timeout=30.0)
            for i in range(2 * HEADROOM // VALUE_SIZE + 100):
                try:
                    reply = c.command("SET", f"k:{i}", value)
                except (OSError, resp.ConnectionClosed):
                    break
                if reply != b"+OK\r\n":
                    break
                acknowledged += 1
            c.close()
            code = server.wait(timeout=30)
        finally:
            stop(server)
        assert acknowledged >= 10
        assert acknowledged < 2 * HEADROOM // VALUE_SIZE + 100, "the limit was never reached"
        assert code != 0
        with open(os.path.join(directory, f"server-{port}.log"), "rb") as f:
            log = f.read()
        # Swift's runtime stops the process on the failed allocation ("failed to allocate"
        # from the runtime, or a nil buffer where NIO grows one) and its backtracer reports the
        # crashed thread. A debug build names the fatal error first; a release build traps
        # without a message, so only the crash report is common to both.
        assert b" crashed" in log, log[-2000:]
        # Restarted without the limit: every acknowledged write is back.
        port = free_port()
        server = start(directory, port)
        try:
            with resp.Conn(port) as c:
                assert resp.parse(c.command("DBSIZE")) >= acknowledged
                for i in range(acknowledged):
                    assert c.command("STRLEN", f"k:{i}") == f":{VALUE_SIZE}\r\n".encode()
        finally:
            stop(server)
