"""Differential harness: run the same command on Redis and on Atoll, compare.

``Diff(ref_conn, atoll_conn)`` offers:

* ``check(*args)``           raw reply bytes must be identical;
* ``check_unordered(*args)`` aggregate replies compared as multisets of raw
                             elements (KEYS, SMEMBERS-like replies);
* ``check_shape(*args)``     same RESP type and, recursively, the same
                             aggregate lengths/element types (TIME, PTTL...);
                             ``deep=False`` compares only the top-level type;
* ``check_raw(data)``        send arbitrary bytes, compare the next reply;
* ``check_pipeline(cmds)``   many commands in one write, replies compared;
* ``scan_keys(*opts)``       full SCAN iteration on both, key sets compared;
* ``run(script)``            a test as a list of commands (see ``run``).

Failures raise ``AssertionError`` with the command, both replies and the
recent command history. Every error reply Redis produced is recorded in
``ERRORS_SEEN`` so the suite can dump a catalogue of exact error strings.
"""

from __future__ import annotations

import shlex
import socket
from collections import Counter

import resp

ERRORS_SEEN: set[bytes] = set()
STATS = {"commands": 0}


def fmt_args(args) -> str:
    out = []
    for a in args:
        if isinstance(a, bytes):
            try:
                s = a.decode()
                if s.isprintable() and " " not in s and s:
                    out.append(s)
                    continue
            except UnicodeDecodeError:
                pass
            out.append(repr(a))
        else:
            s = str(a)
            out.append(s if s and " " not in s else repr(s))
    return " ".join(out)


def _short(raw: bytes, limit: int = 600) -> str:
    r = repr(raw)
    return r if len(r) <= limit else r[:limit] + f"... ({len(raw)} bytes)"


class Step:
    """A script step with a non-default comparison mode."""

    def __init__(self, mode: str, args, **kw):
        self.mode = mode
        self.args = _to_args(args)
        self.kw = kw


def unordered(cmd) -> Step:
    return Step("unordered", cmd)


def shape(cmd, deep: bool = True) -> Step:
    return Step("shape", cmd, deep=deep)


def _to_args(cmd):
    if isinstance(cmd, str):
        return shlex.split(cmd)
    return list(cmd)


def shape_of(raw: bytes, deep: bool = True):
    """A comparable description of a reply's structure (not its values)."""
    t = raw[:1]
    if not deep or t not in b"*~>%|" or raw[:3] in (b"*-1",):
        return t.decode()
    return (t.decode(), tuple(shape_of(e) for e in resp.elements(raw)))


class Diff:
    def __init__(self, ref: resp.Conn, atoll: resp.Conn, history: int = 15):
        self.ref = ref
        self.atoll = atoll
        self.history: list[str] = []
        self.max_history = history
        self.count = 0

    # -- low level ----------------------------------------------------------
    @staticmethod
    def _reply(conn: resp.Conn, send: bytes, n: int = 1) -> list[bytes]:
        try:
            conn.send_raw(send)
            return [conn.read_reply() for _ in range(n)]
        except resp.ConnectionClosed as e:
            return [b"<connection closed by server; partial=%r>" % e.partial]
        except socket.timeout:
            return [b"<timeout: no complete reply>"]
        except (ConnectionResetError, BrokenPipeError) as e:
            return [b"<connection error: %s>" % str(e).encode()]
        except resp.ProtocolError as e:
            return [b"<protocol error: %s>" % str(e).encode()]

    def _record(self, desc: str) -> None:
        self.count += 1
        STATS["commands"] += 1
        self.history.append(desc)
        if len(self.history) > self.max_history:
            self.history.pop(0)

    def _fail(self, what: str, desc: str, ref, atoll) -> None:
        __tracebackhide__ = True  # show the test, not the harness
        prev = "\n".join(f"    {h}" for h in self.history[:-1]) or "    (none)"
        raise AssertionError(
            f"{what} for: {desc}\n"
            f"  redis: {_short(ref) if isinstance(ref, bytes) else ref}\n"
            f"  atoll: {_short(atoll) if isinstance(atoll, bytes) else atoll}\n"
            f"  previous commands on this connection pair:\n{prev}")

    def both(self, *args) -> tuple[bytes, bytes]:
        """Send a command to both servers; return (redis_raw, atoll_raw)."""
        self._record(fmt_args(args))
        req = resp.encode(*args)
        r = self._reply(self.ref, req)[0]
        a = self._reply(self.atoll, req)[0]
        if r[:1] in (b"-", b"!"):
            ERRORS_SEEN.add(r)
        return r, a

    # -- comparisons ----------------------------------------------------------
    def check(self, *args) -> bytes:
        """Exact byte comparison. Returns the Redis reply (raw)."""
        __tracebackhide__ = True  # show the test, not the harness
        r, a = self.both(*args)
        if r != a:
            self._fail("Reply mismatch", fmt_args(args), r, a)
        return r

    def check_unordered(self, *args) -> bytes:
        __tracebackhide__ = True  # show the test, not the harness
        r, a = self.both(*args)
        if r == a:
            return r
        if r[:1] != a[:1] or r[:1] not in b"*~%":
            self._fail("Reply mismatch (unordered)", fmt_args(args), r, a)
        try:
            re, ae = Counter(resp.elements(r)), Counter(resp.elements(a))
        except Exception as e:  # atoll sent something unparsable
            self._fail(f"Unparsable reply ({e})", fmt_args(args), r, a)
        if re != ae:
            self._fail("Element multiset mismatch", fmt_args(args), r, a)
        return r

    def check_shape(self, *args, deep: bool = True) -> bytes:
        __tracebackhide__ = True  # show the test, not the harness
        r, a = self.both(*args)
        try:
            sa = shape_of(a, deep)
        except Exception as e:
            self._fail(f"Unparsable reply ({e})", fmt_args(args), r, a)
        sr = shape_of(r, deep)
        if sr != sa:
            self._fail(f"Shape mismatch ({sr} vs {sa})", fmt_args(args), r, a)
        return r

    def check_raw(self, data: bytes, replies: int = 1) -> bytes:
        """Send raw bytes to both; compare the next ``replies`` replies."""
        __tracebackhide__ = True  # show the test, not the harness
        desc = f"raw {data[:120]!r}"
        self._record(desc)
        r = b"".join(self._reply(self.ref, data, replies))
        a = b"".join(self._reply(self.atoll, data, replies))
        if r != a:
            self._fail("Reply mismatch", desc, r, a)
        return r

    def check_pipeline(self, commands) -> list[bytes]:
        __tracebackhide__ = True  # show the test, not the harness
        cmds = [_to_args(c) for c in commands]
        req = b"".join(resp.encode(*c) for c in cmds)
        desc = f"pipeline of {len(cmds)} commands, first: {fmt_args(cmds[0])}"
        self._record(desc)
        r = self._reply(self.ref, req, len(cmds))
        a = self._reply(self.atoll, req, len(cmds))
        if r != a:
            for i, (x, y) in enumerate(zip(r, a)):
                if x != y:
                    self._fail(f"Pipeline reply #{i} mismatch", fmt_args(cmds[i]), x, y)
            self._fail("Pipeline reply count mismatch", desc, b"".join(r), b"".join(a))
        return r

    def scan_keys(self, *opts, max_calls: int = 10000) -> set[bytes]:
        """Iterate SCAN to completion on both servers; compare the key sets."""
        __tracebackhide__ = True  # show the test, not the harness
        desc = f"full SCAN {fmt_args(opts)}"
        self._record(desc)
        sets = []
        for conn in (self.ref, self.atoll):
            keys: set[bytes] = set()
            cursor = b"0"
            for _ in range(max_calls):
                raw = self._reply(conn, resp.encode("SCAN", cursor, *opts))[0]
                v = resp.parse(raw) if raw[:1] in b"*-" else raw
                if not isinstance(v, list):
                    if conn is self.ref:
                        ERRORS_SEEN.add(raw)
                    keys = v  # error reply: compare it as-is
                    break
                cursor, batch = v
                keys.update(batch)
                if cursor == b"0":
                    break
            else:
                keys = "<SCAN did not terminate>"
            sets.append(keys)
        if sets[0] != sets[1]:
            self._fail("SCAN key set mismatch", desc, sets[0], sets[1])
        return sets[0]

    # -- scripts ----------------------------------------------------------------
    def run(self, script) -> None:
        """Run a list of steps, each compared with ``check`` unless wrapped.

        A step is a string (split with shlex: ``"SET k 'a b'"``), a tuple/list
        of arguments (for binary or awkward values), or a ``Step`` built with
        ``unordered(...)`` / ``shape(...)``.
        """
        __tracebackhide__ = True  # show the test, not the harness
        for step in script:
            if isinstance(step, Step):
                if step.mode == "unordered":
                    self.check_unordered(*step.args)
                else:
                    self.check_shape(*step.args, **step.kw)
            else:
                self.check(*_to_args(step))
