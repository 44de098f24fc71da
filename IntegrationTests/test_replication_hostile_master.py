"""A replica facing a hostile master (found by attacking the first replication slice): a
full-resync offset near the 64-bit limit is refused instead of overflowing as the stream is
counted; a script sent in the stream is not run (Redis 7 masters send scripts' effects, and a
looping script would otherwise hold the event loop for good); an endless reply line drops the
link instead of being buffered and searched without end (the buffer goes at once; the close
itself can come later). Throughout, the replica answers.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import resp
from procs import spawn
from servers import free_port


def snapshot_of(server) -> bytes:
    """A valid RDB payload: what `server` sends a new replica."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(resp.encode("PSYNC", "?", "-1"))
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            data += s.recv(65536)
            header_end = data.find(b"\r\n", data.find(b"$"))
            if data.find(b"$") >= 0 and header_end > 0:
                start = data.find(b"$")
                length = int(data[start + 1:header_end])
                if len(data) >= header_end + 2 + length:
                    return data[header_end + 2:header_end + 2 + length]
        raise AssertionError("no snapshot")


class FakeMaster:
    """Listens on a free port, answers one replica's handshake, then sends `payload`; records
    whether the replica closed the link."""

    def __init__(self, payload: bytes):
        self.payload = payload
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(10)
        self.closed_by_replica = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(0.2)
        received = b""
        deadline = time.monotonic() + 10
        # Each handshake command gets its reply; PSYNC gets the payload.
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                self.closed_by_replica.set()
                return
            received += chunk
            while b"\r\n" in received and received.startswith(b"*"):
                parsed = _one_command(received)
                if parsed is None:
                    break
                args, received = parsed
                if args[0].upper() == b"PSYNC":
                    try:
                        conn.sendall(self.payload)
                    except OSError:  # the replica closed the link while it was sent
                        self.closed_by_replica.set()
                        return
                    self._hold(conn, deadline)
                    return
                conn.sendall(b"+PONG\r\n" if args[0].upper() == b"PING" else b"+OK\r\n")

    def _hold(self, conn, deadline) -> None:
        while time.monotonic() < deadline:
            try:
                if not conn.recv(65536):
                    self.closed_by_replica.set()
                    return
            except socket.timeout:
                continue
            except OSError:
                self.closed_by_replica.set()
                return

    def close(self) -> None:
        self.listener.close()


def _one_command(data: bytes):
    head = data.index(b"\r\n")
    count, pos, args = int(data[1:head]), head + 2, []
    for _ in range(count):
        end = data.find(b"\r\n", pos)
        if end < 0:
            return None
        length = int(data[pos + 1:end])
        if len(data) < end + 2 + length + 2:
            return None
        args.append(data[end + 2:end + 2 + length])
        pos = end + 2 + length + 2
    return args, data[pos:]


@contextlib.contextmanager
def replica_of(payload: bytes):
    master = FakeMaster(payload)
    with spawn("atoll") as replica:
        c = replica.connect()
        assert c.command("REPLICAOF", "127.0.0.1", str(master.port)) == b"+OK\r\n"
        yield replica, c, master
        c.close()
    master.close()


def wait_for(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)  # polling the replica, bounded


def test_an_offset_near_the_limit_is_refused():
    with spawn("atoll") as source:
        rdb = snapshot_of(source)
    payload = (b"+FULLRESYNC " + b"a" * 40 + b" 9223372036854775807\r\n$" + str(len(rdb)).encode() + b"\r\n" + rdb
               + resp.encode("SET", "a", "b"))
    with replica_of(payload) as (replica, c, master):
        wait_for(master.closed_by_replica.is_set, "the replica kept the link")
        assert c.command("PING") == b"+PONG\r\n"
        assert c.command("GET", "a") == b"$-1\r\n"
        assert replica.alive()


def test_a_script_from_the_master_is_not_run():
    with spawn("atoll") as source:
        rdb = snapshot_of(source)
    payload = (b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n$" + str(len(rdb)).encode() + b"\r\n" + rdb
               + resp.encode("EVAL", "while true do end", "0") + resp.encode("SET", "after", "1"))
    with replica_of(payload) as (replica, c, master):
        wait_for(lambda: c.command("GET", "after") == b"$1\r\n1\r\n", "the stream stopped at the script")
        assert c.command("PING") == b"+PONG\r\n"


def test_an_endless_reply_line_drops_the_link():
    with replica_of(b"+" + b"x" * 200_000) as (replica, c, master):
        wait_for(lambda: "reply line longer than" in replica.logs(), "the replica kept buffering the line")
        assert c.command("PING") == b"+PONG\r\n"
        assert replica.alive()
