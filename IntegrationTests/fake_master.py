"""A fake replication master for replica tests: it answers one replica's handshake, then sends
a chosen payload (a PSYNC reply, a snapshot, a stream) and records what the replica sends back
and whether it closed the link; and a way to get a valid snapshot from a running server."""

from __future__ import annotations

import socket
import threading
import time

import resp
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
    """Listens on a free port, answers a replica's handshake, then sends `payload`; records
    whether the replica closed the link, what it sent after the payload and the arguments of
    every PSYNC. With `connections` > 1 it takes the replica's next connections too, answering
    their handshakes but sending nothing after PSYNC."""

    def __init__(self, payload: bytes, connections: int = 1):
        self.payload = payload
        self.connections = connections
        self.psyncs: list[list[bytes]] = []
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(10)
        self.closed_by_replica = threading.Event()
        self._after_payload = b""
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for number in range(self.connections):
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed, or no connection within the timeout
                return
            self._serve_one(conn, self.payload if number == 0 else b"")

    def _serve_one(self, conn, payload: bytes) -> None:
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
                    self.psyncs.append(args)
                    try:
                        conn.sendall(payload)
                    except OSError:  # the replica closed the link while it was sent
                        self.closed_by_replica.set()
                        return
                    self._hold(conn, deadline)
                    return
                conn.sendall(b"+PONG\r\n" if args[0].upper() == b"PING" else b"+OK\r\n")

    def after_payload(self) -> bytes:
        """What the replica sent after the payload (its ACKs)."""
        with self._lock:
            return self._after_payload

    def _hold(self, conn, deadline) -> None:
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
                if not chunk:
                    self.closed_by_replica.set()
                    return
                with self._lock:
                    self._after_payload += chunk
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
