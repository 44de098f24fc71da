"""With `appendfsync always`, nothing that tells of a write leaves the server before that
write is on disk, as in Redis (which writes replies only after its fsync, before it sleeps).
Besides the writer's own reply, three other paths carry news of a write: a keyspace event sent
to a subscriber, the reply of a client that a push released from BLPOP, and a MONITOR line.

The order is checked from the server's system calls, traced with strace: every socket write
that carries such news must come after an fdatasync that started after the append-only file's
last write.
"""
import os
import re
import shutil

import pytest

import resp
from procs import Proc, build_argv
from servers import free_port

STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed (scripts/setup.sh installs it)")

WRITES = 150            # keyspace events to check
RELEASES = 30           # BLPOP clients released by a push
READ_TIMEOUT = 10.0     # every read below is bounded by this

LINE = re.compile(r"^(\d+) +(.*)$")
CALL = re.compile(r"^(\w+)\((.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")


class SyncOrder:
    """Replays the trace: which file descriptors are the append-only file, whether a write to
    it still awaits a sync, and which socket writes went out while one did."""

    def __init__(self):
        self.aof_fds = set()
        self.seq = 0
        self.last_aof_write = -1      # sequence number of the file's last write
        self.synced_through = -1      # the last file write a finished sync covers
        self.sync_started = {}        # pid -> sequence number where its sync began
        self.unfinished = {}          # pid -> (name, text before "<unfinished ...>")
        self.checked = 0
        self.early = []

    def feed(self, line: str, marker: bytes) -> None:
        m = LINE.match(line)
        if not m:
            return
        pid, rest = m.group(1), m.group(2)
        self.seq += 1
        resumed = RESUMED.match(rest)
        if resumed:
            name, head = self.unfinished.pop(pid, (resumed.group(1), ""))
            self.finish(pid, name, head + resumed.group(2))
            return
        call = CALL.match(rest)
        if not call:
            return
        name, body = call.group(1), call.group(2)
        if body.endswith("<unfinished ...>"):
            self.unfinished[pid] = (name, body[: -len("<unfinished ...>")])
            self.start(pid, name, body, marker)
            return
        self.start(pid, name, body, marker)
        self.finish(pid, name, body)

    def start(self, pid, name, body, marker: bytes) -> None:
        fd = first_int(body)
        if name in ("fdatasync", "fsync") and fd in self.aof_fds:
            self.sync_started[pid] = self.last_aof_write
        elif name in ("write", "writev", "sendmsg", "sendto") and fd not in self.aof_fds:
            if marker.decode() in body:
                self.checked += 1
                if self.synced_through < self.last_aof_write:
                    self.early.append(body[:120])

    def finish(self, pid, name, text) -> None:
        result = text.rsplit("=", 1)[-1].strip().split(" ")[0]
        fd = first_int(text)
        if name == "openat" and ".aof" in text and result.isdigit():
            self.aof_fds.add(int(result))
        elif name == "close" and fd in self.aof_fds:
            self.aof_fds.discard(fd)
        elif name in ("write", "writev", "pwrite64") and fd in self.aof_fds and result.isdigit() and int(result) > 0:
            self.last_aof_write = self.seq
        elif name in ("fdatasync", "fsync") and pid in self.sync_started and result == "0":
            self.synced_through = max(self.synced_through, self.sync_started.pop(pid))


def first_int(text: str):
    m = re.match(r"\s*(\d+)", text)
    return int(m.group(1)) if m else None


def traced(kind, tmp_path, *flags):
    port = free_port()
    trace = os.path.join(tmp_path, "trace.log")
    argv = [STRACE, "-f", "-qq", "-s", "200", "-o", trace,
            "-e", "trace=openat,close,write,writev,pwrite64,sendmsg,sendto,fdatasync,fsync",
            *build_argv(kind, port, flags)]
    return Proc(kind, argv, port), trace


def shut_down(proc: Proc) -> None:
    """Stops the server itself first: strace, stopped by a signal, would detach and leave it running."""
    try:
        with resp.Conn(proc.port, timeout=5.0) as c:
            c.send_raw(resp.encode("SHUTDOWN", "NOSAVE"))
            c.read_until_close(timeout=5.0)
    except (OSError, resp.ConnectionClosed):
        pass
    proc.wait_exit(10.0)
    proc.stop()


def replay(trace: str, marker: bytes) -> SyncOrder:
    order = SyncOrder()
    with open(trace, errors="replace") as f:
        for line in f:
            order.feed(line.rstrip("\n"), marker)
    return order


# Redis too, to show that what is checked is what Redis does.
KINDS = pytest.mark.parametrize("kind", ["atoll", "redis"])


def run_traced(kind, tmp_path, flags, scenario, marker: bytes) -> SyncOrder:
    """Runs `scenario(port)` against a traced server with `appendfsync always` and `flags`;
    returns the trace replayed for socket writes carrying `marker`."""
    proc, trace = traced(kind, str(tmp_path), "--appendonly", "yes", "--appendfsync", "always", *flags)
    proc.launch()
    try:
        proc.wait_ready(timeout=30.0)
        scenario(proc.port)
    finally:
        shut_down(proc)
    order = replay(trace, marker)
    assert order.last_aof_write >= 0, "the trace shows no write to the append-only file"
    return order


def write_keys(conn: resp.Conn) -> None:
    for i in range(WRITES):
        assert conn.command("SET", f"syncorder:{i}", "v") == b"+OK\r\n"


@KINDS
def test_keyspace_events_leave_after_the_sync(kind, tmp_path):
    def scenario(port):
        with resp.Conn(port, timeout=READ_TIMEOUT) as sub, resp.Conn(port, timeout=READ_TIMEOUT) as writer:
            assert resp.parse(sub.command("PSUBSCRIBE", "__keyspace@0__:syncorder:*"))[0] == b"psubscribe"
            write_keys(writer)
            for i in range(WRITES):
                message = resp.parse(sub.read_reply())
                assert message[2] == f"__keyspace@0__:syncorder:{i}".encode() and message[3] == b"set"

    order = run_traced(kind, tmp_path, ["--notify-keyspace-events", "K$"], scenario, b"__keyspace@0__:syncorder:")
    assert order.checked >= WRITES
    assert order.early == [], f"{len(order.early)} of {order.checked} events left before their sync: {order.early[:3]}"


@KINDS
def test_released_blpop_replies_leave_after_the_sync(kind, tmp_path):
    def scenario(port):
        with resp.Conn(port, timeout=READ_TIMEOUT) as waiter, resp.Conn(port, timeout=READ_TIMEOUT) as pusher:
            for i in range(RELEASES):
                waiter.send_raw(resp.encode("BLPOP", "syncorder:q", "0"))
                # The waiter is parked once the server lists it as blocked (bounded poll).
                for _ in range(500):
                    if b"blocked_clients:1" in pusher.command("INFO", "clients"):
                        break
                else:
                    pytest.fail("BLPOP never blocked")
                assert pusher.command("RPUSH", "syncorder:q", f"released-{i}") == b":1\r\n"
                assert resp.parse(waiter.read_reply()) == [b"syncorder:q", f"released-{i}".encode()]

    order = run_traced(kind, tmp_path, [], scenario, b"released-")
    assert order.checked == RELEASES
    assert order.early == [], f"{len(order.early)} of {order.checked} writes left before their sync: {order.early[:3]}"


@KINDS
def test_monitor_lines_leave_after_the_sync(kind, tmp_path):
    def scenario(port):
        with resp.Conn(port, timeout=READ_TIMEOUT) as monitor, resp.Conn(port, timeout=READ_TIMEOUT) as writer:
            assert monitor.command("MONITOR") == b"+OK\r\n"
            write_keys(writer)
            for i in range(WRITES):
                line = monitor.read_reply()
                assert f'"syncorder:{i}"'.encode() in line, line

    order = run_traced(kind, tmp_path, [], scenario, b"syncorder:")
    assert order.checked >= WRITES
    assert order.early == [], f"{len(order.early)} of {order.checked} lines left before their sync: {order.early[:3]}"
