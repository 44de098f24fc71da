"""Pytest fixtures for the Atoll integration / differential suite.

Session fixtures start the servers on free 127.0.0.1 ports:

* ``redis_ref`` – the reference ``/usr/bin/redis-server`` (no persistence);
* ``atoll``     – the Atoll binary from ``$ATOLL_SERVER_BIN`` (default
  ``.build/release/atoll-server``), or, when ``ATOLL_DIFF_AGAINST_REDIS=1``,
  a second redis-server so the suite itself can be validated Redis vs Redis.
  Extra server arguments can be passed with ``$ATOLL_SERVER_ARGS``.

Per-test fixtures flush both servers and hand out fresh connections:
``diff`` (a ``Diff`` over fresh connections to both), ``ref_conn``,
``atoll_conn`` and ``atoll_port``. If Atoll died during a test it is restarted
(and the test that killed it fails) so one crash does not cascade.

Set ``ATOLL_ERRORS_OUT=path`` to write every distinct error reply Redis gave
during the run to ``path`` (a catalogue of exact error strings to match).
"""

from __future__ import annotations

import os

import pytest

import diff as diff_mod
import resp
from servers import Server, ServerStartError, atoll_argv, redis_argv

DIFF_AGAINST_REDIS = os.environ.get("ATOLL_DIFF_AGAINST_REDIS") == "1"


def _start(name, argv_fn) -> Server:
    try:
        return Server(name, argv_fn).start()
    except ServerStartError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def redis_ref():
    srv = _start("redis-ref", redis_argv)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def atoll():
    if DIFF_AGAINST_REDIS:
        srv = _start("atoll-as-redis", redis_argv)
    else:
        srv = _start("atoll", atoll_argv)
    holder = {"srv": srv}
    yield _ServerHandle(holder)
    holder["srv"].stop()


class _ServerHandle:
    """Stable handle to a server that may be restarted after a crash."""

    def __init__(self, holder):
        self._h = holder

    @property
    def port(self) -> int:
        return self._h["srv"].port

    @property
    def server(self) -> Server:
        return self._h["srv"]

    def alive(self) -> bool:
        return self._h["srv"].alive()

    def restart(self) -> None:
        old = self._h["srv"]
        old.stop()
        argv_fn = redis_argv if DIFF_AGAINST_REDIS else atoll_argv
        self._h["srv"] = _start(old.name, argv_fn)


def _flush(port: int) -> None:
    with resp.Conn(port) as c:
        reply = c.command("FLUSHALL")
        assert reply == b"+OK\r\n", f"FLUSHALL on port {port} replied {reply!r}"


@pytest.fixture
def atoll_port(atoll):
    """Flushed Atoll; yields its port and fails the test if Atoll crashed."""
    if not atoll.alive():
        atoll.restart()
    _flush(atoll.port)
    yield atoll.port
    if not atoll.alive():
        rc = atoll.server.proc.returncode
        log = atoll.server.log_tail()
        atoll.restart()
        pytest.fail(f"Atoll exited (code {rc}) during this test; log tail:\n{log}",
                    pytrace=False)


@pytest.fixture
def ref_port(redis_ref):
    _flush(redis_ref.port)
    return redis_ref.port


def _fresh(port: int) -> resp.Conn:
    c = resp.Conn(port)
    assert c.command("SELECT", "0") == b"+OK\r\n"
    return c


@pytest.fixture
def atoll_conn(atoll_port):
    c = _fresh(atoll_port)
    yield c
    c.close()


@pytest.fixture
def ref_conn(ref_port):
    c = _fresh(ref_port)
    yield c
    c.close()


@pytest.fixture
def diff(ref_conn, atoll_conn):
    """A Diff over fresh connections to freshly flushed servers."""
    return diff_mod.Diff(ref_conn, atoll_conn)


@pytest.fixture
def new_diff(ref_port, atoll_port):
    """Factory for additional Diff pairs on new connections (closed at teardown)."""
    made = []

    def make() -> diff_mod.Diff:
        d = diff_mod.Diff(_fresh(ref_port), _fresh(atoll_port))
        made.append(d)
        return d

    yield make
    for d in made:
        d.ref.close()
        d.atoll.close()


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("ATOLL_ERRORS_OUT")
    if out and diff_mod.ERRORS_SEEN:
        with open(out, "wb") as f:
            for e in sorted(diff_mod.ERRORS_SEEN):
                f.write(e)


def pytest_terminal_summary(terminalreporter):
    n = diff_mod.STATS["commands"]
    if n:
        mode = "redis vs redis" if DIFF_AGAINST_REDIS else "redis vs atoll"
        terminalreporter.write_line(f"differential comparisons ({mode}): {n}")
