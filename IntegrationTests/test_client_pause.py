"""CLIENT PAUSE and CLIENT UNPAUSE, side by side with redis-server 7.0.

Argument errors are compared byte for byte (``diff``). Scenarios with several clients run
the same function against the reference Redis and against Atoll (the ``port`` fixture), each
with exact expectations. A postponed command is shown not to be answered by a read with a
short bounded timeout that must find nothing; a client is known to be postponed by polling
``INFO clients`` (bounded). Every test ends the pause it started: WRITE pauses with CLIENT
UNPAUSE, ALL pauses (which hold CLIENT UNPAUSE back too) are short and waited out.
"""

import contextlib
import signal
import time

import pytest

import resp
from procs import spawn
# The scenario fixtures (`port`: each server in turn, `conns`: connections to it) and the waits.
from test_blocking_lists import conns, no_reply_within, port, wait_blocked  # noqa: F401


@pytest.fixture
def clients(conns, port):
    """`conns`, and the pause ends with the test: an ALL pause is waited out (it holds CLIENT
    UNPAUSE back too), a WRITE pause is lifted."""
    yield conns
    with resp.Conn(port, timeout=5.0) as last:
        assert last.command("CLIENT", "UNPAUSE") == b"+OK\r\n"


def send(conn, *args) -> None:
    conn.send_raw(resp.encode(*args))


# --- Differential: replies and errors ------------------------------------------------------

def test_arguments_and_errors(diff):
    for args in [["CLIENT", "PAUSE"], ["CLIENT", "PAUSE", "abc"], ["CLIENT", "PAUSE", "-1"],
                 ["CLIENT", "PAUSE", "1.5"], ["CLIENT", "PAUSE", "10", "foo"],
                 ["CLIENT", "PAUSE", "abc", "foo"], ["CLIENT", "PAUSE", "-1", "all"],
                 ["CLIENT", "PAUSE", "10", "write", "x"], ["client", "pause", "10", "all", "x"],
                 ["CLIENT", "UNPAUSE", "x"], ["CLIENT", "PAUSE", "0"], ["CLIENT", "PAUSE", "0", "write"],
                 ["CLIENT", "UNPAUSE"], ["PING"], ["CLIENT", "PAUSE", "100000", "WrItE"], ["GET", "k"],
                 ["CLIENT", "UNPAUSE"], ["SET", "k", "v"]]:
        r = diff.check(*args)
        assert not r.startswith(b"<timeout"), f"{args} was held back"


def test_huge_timeout_wraps_and_ends_at_once(clients):
    """A deadline past the 64-bit clock wraps around in Redis 7.0: the pause is over at once."""
    a, b = clients(), clients()
    assert a.command("CLIENT", "PAUSE", "9223372036854775807") == b"+OK\r\n"
    assert b.command("SET", "k", "v") == b"+OK\r\n"


# --- Scenarios, run against both servers ------------------------------------------------

def test_all_holds_every_command_until_the_deadline(clients):
    """ALL holds reads, the pausing client's own commands and CLIENT UNPAUSE back, but not
    unknown commands or arity errors; everything runs once the deadline passes by itself."""
    a, b, c = clients(), clients(), clients()
    assert a.command("SET", "k", "v") == b"+OK\r\n"
    assert a.command("CLIENT", "PAUSE", "400", "ALL") == b"+OK\r\n"
    started = time.monotonic()
    send(b, "GET", "k")
    send(a, "CLIENT", "UNPAUSE")
    assert c.command("NOSUCH") == b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
    assert c.command("GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert no_reply_within(b, 0.1)
    assert no_reply_within(a, 0.05)
    assert b.read_reply() == b"$1\r\nv\r\n"
    assert a.read_reply() == b"+OK\r\n"
    assert time.monotonic() - started >= 0.35


def test_short_pause_ends_by_itself(clients):
    a, b = clients(), clients()
    assert a.command("CLIENT", "PAUSE", "200", "WRITE") == b"+OK\r\n"
    started = time.monotonic()
    send(b, "SET", "k", "v")
    assert b.read_reply() == b"+OK\r\n"
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 2.0


def test_write_lets_reads_through_and_holds_writes(clients):
    a, b, c = clients(), clients(), clients()
    assert a.command("SET", "k", "1") == b"+OK\r\n"
    assert a.command("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
    assert b.command("GET", "k") == b"$1\r\n1\r\n"
    assert b.command("SELECT", "1") == b"+OK\r\n"
    assert b.command("SELECT", "0") == b"+OK\r\n"
    send(b, "INCR", "k")
    wait_blocked(c, 1)
    assert no_reply_within(b, 0.2)
    # The postponed client shows as blocked, with the command it waits on.
    line = [ln for ln in c.command("CLIENT", "LIST").split(b"\n") if b"cmd=incr" in ln]
    assert len(line) == 1 and b" flags=b " in line[0]
    # Commands that may replicate are held too (PFCOUNT, DEL of nothing), and the pausing
    # client is not exempt.
    d = clients()
    send(c, "PFCOUNT", "h")
    send(a, "DEL", "nothing")
    wait_blocked(d, 3)
    assert no_reply_within(c, 0.05)
    assert d.command("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert b.read_reply() == b":2\r\n"
    assert c.read_reply() == b":0\r\n"
    assert a.read_reply() == b":0\r\n"
    assert d.command("INFO", "clients").count(b"blocked_clients:0") == 1


def test_pipeline_keeps_its_order(clients):
    """Commands after a postponed one wait with it, and run in order after the pause."""
    a, b = clients(), clients()
    assert a.command("SET", "x", "1") == b"+OK\r\n"
    assert a.command("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
    b.send_raw(resp.encode("GET", "x") + resp.encode("SET", "x", "2") + resp.encode("GET", "x")
               + resp.encode("PING"))
    assert b.read_reply() == b"$1\r\n1\r\n"
    wait_blocked(a, 1)
    assert no_reply_within(b, 0.2)
    assert a.command("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert [b.read_reply() for _ in range(3)] == [b"+OK\r\n", b"$1\r\n2\r\n", b"+PONG\r\n"]


def test_extension_rules(clients):
    """A longer pause extends the deadline, a shorter one does not shorten it, ALL after
    WRITE makes it ALL, WRITE after ALL does not lower it."""
    a, b = clients(), clients()
    assert a.command("CLIENT", "PAUSE", "600", "WRITE") == b"+OK\r\n"
    assert a.command("CLIENT", "PAUSE", "100", "ALL") == b"+OK\r\n"
    started = time.monotonic()
    send(b, "GET", "k")  # a read: held only because the pause became ALL
    assert no_reply_within(b, 0.25)
    assert b.read_reply() == b"$-1\r\n"
    assert time.monotonic() - started >= 0.5


def test_multi_exec_under_write_pause(clients):
    """MULTI is not held; a queued write is held as it is queued; EXEC of reads runs; EXEC
    with a write queued before the pause is held."""
    a, b, c = clients(), clients(), clients()
    assert c.command("MULTI") == b"+OK\r\n"
    assert c.command("SET", "y", "1") == b"+QUEUED\r\n"
    assert a.command("SET", "x", "1") == b"+OK\r\n"
    assert a.command("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
    assert b.command("MULTI") == b"+OK\r\n"
    assert b.command("GET", "x") == b"+QUEUED\r\n"
    assert b.command("PING") == b"+QUEUED\r\n"
    assert b.command("EXEC") == b"*2\r\n$1\r\n1\r\n+PONG\r\n"
    assert b.command("MULTI") == b"+OK\r\n"
    send(b, "SET", "x", "2")
    send(c, "EXEC")
    wait_blocked(a, 2)
    assert no_reply_within(b, 0.1)
    assert no_reply_within(c, 0.05)
    assert a.command("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert b.read_reply() == b"+QUEUED\r\n"
    assert c.read_reply() == b"*1\r\n+OK\r\n"
    assert b.command("EXEC") == b"*1\r\n+OK\r\n"


def test_scripts_by_their_declared_flags(clients):
    """Under WRITE: EVAL without flags is held (it may replicate), EVAL_RO and a script
    declaring no-writes run, a function not declaring no-writes is held even by FCALL_RO."""
    a, b = clients(), clients()
    assert a.command("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)") \
        == b"$3\r\nlib\r\n"
    assert a.command("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
    assert b.command("EVAL_RO", "return 1", "0") == b":1\r\n"
    assert b.command("EVAL", "#!lua flags=no-writes\nreturn 2", "0") == b":2\r\n"
    send(b, "EVAL", "return 3", "0")
    wait_blocked(a, 1)
    assert no_reply_within(b, 0.2)
    assert a.command("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert b.read_reply() == b":3\r\n"
    assert a.command("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
    send(b, "FCALL_RO", "f", "0")
    wait_blocked(a, 1)
    assert a.command("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert b.read_reply() == b"-ERR Can not execute a script with write flag using *_ro command.\r\n"


def test_keys_do_not_expire_while_paused(clients):
    """An expired key reads as missing but is not deleted until the pause ends."""
    a = clients()
    assert a.command("SET", "f", "v") == b"+OK\r\n"
    # The key and the pause come together, so nothing can expire the key in between.
    assert a.command("MULTI") == b"+OK\r\n"
    assert a.command("SET", "e", "v", "PX", "1") == b"+QUEUED\r\n"
    assert a.command("CLIENT", "PAUSE", "100000", "WRITE") == b"+QUEUED\r\n"
    assert a.command("EXEC") == b"*2\r\n+OK\r\n+OK\r\n"
    time.sleep(0.01)  # past the key's 1 ms, not a synchronisation
    assert a.command("GET", "e") == b"$-1\r\n"
    assert a.command("EXISTS", "e") == b":0\r\n"
    assert a.command("DBSIZE") == b":2\r\n"
    assert a.command("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert a.command("GET", "e") == b"$-1\r\n"
    assert a.command("DBSIZE") == b":1\r\n"


# --- The process: signals and SHUTDOWN during a pause ------------------------------------

@contextlib.contextmanager
def shutdown_sent_while_paused(kind, mode):
    """A private server paused in `mode` by one client, SHUTDOWN NOSAVE sent by another."""
    with spawn(kind) as p:
        a, b = p.connect(), p.connect()
        try:
            assert a.command("CLIENT", "PAUSE", "100000", mode) == b"+OK\r\n"
            b.send_raw(resp.encode("SHUTDOWN", "NOSAVE"))
            yield p, b
        finally:
            a.close()
            b.close()


@pytest.mark.parametrize("kind", ["redis", "atoll"])
def test_sigterm_during_all_pause_exits(kind):
    """SHUTDOWN is held back by an ALL pause (as in Redis), but SIGTERM still stops the server."""
    with shutdown_sent_while_paused(kind, "ALL") as (p, b):
        assert no_reply_within(b, 0.3)
        assert p.proc.poll() is None
        p.proc.send_signal(signal.SIGTERM)
        assert p.wait_exit(10.0) == 0, p.logs()


@pytest.mark.parametrize("kind", ["redis", "atoll"])
def test_shutdown_passes_a_write_pause(kind):
    with shutdown_sent_while_paused(kind, "WRITE") as (p, _):
        assert p.wait_exit(10.0) == 0, p.logs()
