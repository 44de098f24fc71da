"""A tiny raw RESP client used by the differential tests.

It deliberately does as little as possible: it encodes requests as RESP
multibulk arrays (or sends arbitrary bytes), and reads back exactly one
complete reply, returning the *raw bytes* of that reply so two servers can be
compared byte for byte. ``parse()`` turns raw bytes into Python values for the
few tests that need to look inside a reply.

Both RESP2 and RESP3 reply types are understood:
``+ - : $ *`` and ``_ , # ! = ( % ~ > |``.

Every socket has a timeout, so a misbehaving server can never hang the suite.
"""

from __future__ import annotations

import socket
import time

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 5.0

# Types whose payload is the rest of the line.
_LINE_TYPES = b"+-:_,#("
# Types whose header line is a byte length followed by a payload + CRLF.
_BLOB_TYPES = b"$!="
# Types whose header line is an element count.
_ARRAY_TYPES = b"*~>"
# Types whose header line is a pair count (2 elements per entry).
_MAP_TYPES = b"%|"


class ProtocolError(Exception):
    """The server sent bytes that are not a valid RESP reply."""


class ConnectionClosed(Exception):
    """The server closed the connection before a complete reply arrived."""

    def __init__(self, msg: str, partial: bytes = b""):
        super().__init__(msg)
        self.partial = partial


def encode(*args) -> bytes:
    """Encode a command as a RESP multibulk request."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        elif isinstance(a, (int, float)):
            b = repr(a).encode() if isinstance(a, float) else str(a).encode()
        else:
            raise TypeError(f"cannot encode {a!r}")
        out.append(b"$%d\r\n" % len(b))
        out.append(b)
        out.append(b"\r\n")
    return b"".join(out)


class Conn:
    """A blocking connection that reads one raw RESP reply at a time."""

    def __init__(self, port: int, host: str = HOST, timeout: float = DEFAULT_TIMEOUT,
                 source: str | None = None):
        """``source``: a local address to connect from (another loopback one, e.g. 127.0.0.2)."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("tests only talk to loopback")
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.settimeout(timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.pos = 0

    # -- plumbing ---------------------------------------------------------
    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionClosed("connection closed by server", self.buf[self.pos:])
        if self.pos:
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += chunk

    def _line(self) -> bytes:
        """Return the next line including its CRLF."""
        while True:
            idx = self.buf.find(b"\r\n", self.pos)
            if idx >= 0:
                line = self.buf[self.pos:idx + 2]
                self.pos = idx + 2
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n:
            self._fill()
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    # -- reading replies --------------------------------------------------
    def read_reply(self) -> bytes:
        """Read exactly one complete reply and return its raw bytes."""
        parts: list[bytes] = []
        self._read_into(parts)
        return b"".join(parts)

    def _read_into(self, parts: list[bytes]) -> None:
        line = self._line()
        parts.append(line)
        t = line[:1]
        if not t:
            raise ProtocolError(f"empty line {line!r}")
        if t in (b"\r",):
            raise ProtocolError(f"empty type line {line!r}")
        tb = t[0]
        if tb in _LINE_TYPES:
            return
        try:
            n = int(line[1:-2])
        except ValueError:
            raise ProtocolError(f"bad length in {line!r}") from None
        if tb in _BLOB_TYPES:
            if n >= 0:
                parts.append(self._exact(n + 2))
            return
        if tb in _ARRAY_TYPES:
            for _ in range(max(n, 0)):
                self._read_into(parts)
            return
        if tb in _MAP_TYPES:
            for _ in range(max(n, 0) * 2):
                self._read_into(parts)
            if tb == ord("|"):
                # An attribute is followed by the reply it annotates.
                self._read_into(parts)
            return
        raise ProtocolError(f"unknown reply type {line!r}")

    def command(self, *args) -> bytes:
        """Send one command and return the raw bytes of its reply."""
        self.send_raw(encode(*args))
        return self.read_reply()

    def pipeline(self, commands) -> list[bytes]:
        """Send many commands in a single write; return their raw replies."""
        self.send_raw(b"".join(encode(*c) for c in commands))
        return [self.read_reply() for _ in commands]

    def call(self, *args):
        """Like command() but return the parsed Python value."""
        return parse(self.command(*args))

    def read_until_close(self, timeout: float = 2.0, stop=None) -> tuple[bytes, bool]:
        """Read everything until EOF or until ``timeout`` elapses.

        Returns ``(data, closed)`` where ``closed`` is True when the peer
        closed (or reset) the connection before the deadline. If ``stop`` is
        given, reading also ends as soon as ``stop(data)`` is true.
        """
        data = self.buf[self.pos:]
        self.buf, self.pos = b"", 0
        deadline = time.monotonic() + timeout
        while True:
            if stop is not None and stop(data):
                return data, False
            left = deadline - time.monotonic()
            if left <= 0:
                return data, False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return data, False
            except (ConnectionResetError, BrokenPipeError):
                return data, True
            finally:
                self.sock.settimeout(self.timeout)
            if not chunk:
                return data, True
            data += chunk


# ---------------------------------------------------------------------------
# Parsing into Python values
# ---------------------------------------------------------------------------

class RespError(Exception):
    """An error reply ('-' or '!'); returned by parse(), never raised by it."""

    def __eq__(self, other):
        return isinstance(other, RespError) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


class Push(list):
    """A RESP3 out-of-band push message ('>')."""


class Verbatim(bytes):
    """A RESP3 verbatim string ('='); ``fmt`` holds the 3-letter format."""

    fmt: bytes = b"txt"


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple((_hashable(k), _hashable(x)) for k, x in v.items())
    if isinstance(v, set):
        return frozenset(v)
    return v


def parse(raw: bytes):
    """Parse one complete raw reply into Python values.

    + simple -> str; - / ! -> RespError; : ( -> int; $ -> bytes|None;
    * -> list|None; _ -> None; , -> float; # -> bool; = -> Verbatim;
    % -> dict; ~ -> set (list if elements are unhashable); > -> Push;
    | (attribute) is skipped and the annotated value returned.
    """
    value, pos = _parse(raw, 0)
    if pos != len(raw):
        raise ProtocolError(f"trailing bytes after reply: {raw[pos:]!r}")
    return value


def _parse(raw: bytes, pos: int):
    end = raw.find(b"\r\n", pos)
    if end < 0:
        raise ProtocolError(f"incomplete reply {raw!r}")
    t = raw[pos:pos + 1]
    body = raw[pos + 1:end]
    pos = end + 2
    if t == b"+":
        return body.decode("utf-8", "replace"), pos
    if t == b"-":
        return RespError(body.decode("utf-8", "replace")), pos
    if t in (b":", b"("):
        return int(body), pos
    if t == b"_":
        return None, pos
    if t == b",":
        return float(body.decode()), pos
    if t == b"#":
        return body == b"t", pos
    if t in (b"$", b"!", b"="):
        n = int(body)
        if n < 0:
            return None, pos
        data = raw[pos:pos + n]
        pos += n + 2
        if t == b"!":
            return RespError(data.decode("utf-8", "replace")), pos
        if t == b"=":
            v = Verbatim(data[4:])
            v.fmt = data[:3]
            return v, pos
        return data, pos
    if t in (b"*", b"~", b">"):
        n = int(body)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n):
            v, pos = _parse(raw, pos)
            items.append(v)
        if t == b">":
            return Push(items), pos
        if t == b"~":
            try:
                return set(_hashable(x) for x in items), pos
            except TypeError:
                return items, pos
        return items, pos
    if t in (b"%", b"|"):
        n = int(body)
        d = {}
        for _ in range(n):
            k, pos = _parse(raw, pos)
            v, pos = _parse(raw, pos)
            d[_hashable(k)] = v
        if t == b"|":
            return _parse(raw, pos)
        return d, pos
    raise ProtocolError(f"unknown reply type {t!r} in {raw!r}")


def reply_type(raw: bytes) -> bytes:
    """The one-byte RESP type of a raw reply."""
    return raw[:1]


def elements(raw: bytes) -> list[bytes]:
    """Split the raw reply of an aggregate into the raw bytes of its elements.

    For maps/attributes the keys and values are returned flattened.
    Returns [] for a null aggregate.
    """
    end = raw.find(b"\r\n")
    n = int(raw[1:end])
    if raw[:1] in (b"%", b"|"):
        n *= 2
    pos = end + 2
    out = []
    for _ in range(max(n, 0)):
        _, nxt = _parse(raw, pos)
        out.append(raw[pos:nxt])
        pos = nxt
    return out
