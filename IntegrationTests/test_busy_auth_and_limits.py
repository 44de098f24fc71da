"""The same checks on every path, and numbers from configuration that cannot trap: while a
script is busy, clients that have not authenticated get NOAUTH and are read with the
unauthenticated limits, also before the server registered them; AUTH in the same write as a
long command lifts the limits for that command; busy-reply-threshold and proto-max-bulk-len
accept their whole range (up to 2^63-1) without an overflow anywhere. Each against Atoll and
redis-server with the same expectations, except where Redis itself misbehaves."""
import socket
import time

import pytest

import resp
from busy import EVAL_BUSY as BUSY, wait_busy
from procs import spawn

PASSWORD = "s3cret"
LOOP = "while true do end"


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_auth_then_a_long_command_in_one_write(kind):
    """The unauthenticated limits apply only to what is read before AUTH has run."""
    with spawn(kind, "--requirepass", PASSWORD) as p:
        with p.connect(timeout=10) as c:
            c.send_raw(resp.encode("AUTH", PASSWORD) + resp.encode("MSET", *[f"k{i}" for i in range(10)])
                       + resp.encode("SET", "big", "x" * 20000) + resp.encode("STRLEN", "big"))
            assert c.read_reply() == b"+OK\r\n"
            assert c.read_reply() == b"+OK\r\n"
            assert c.read_reply() == b"+OK\r\n"
            assert c.read_reply() == b":20000\r\n"


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_unauthenticated_limits_hold_before_auth(kind):
    with spawn(kind, "--requirepass", PASSWORD) as p:
        with p.connect(timeout=10) as c:
            c.send_raw(resp.encode("MSET", *[f"k{i}" for i in range(10)]))
            assert c.read_reply() == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
        with p.connect(timeout=10) as c:
            c.send_raw(b"*2\r\n$4\r\nECHO\r\n$200000000\r\n")
            assert c.read_reply() == b"-ERR Protocol error: unauthenticated bulk length\r\n"


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_busy_server_checks_auth_first(kind):
    """While a script is busy: NOAUTH for a client that has not authenticated (also one that
    connected during the script), unknown command and arity errors as always, BUSY for the
    rest; the unauthenticated limits hold for the new client; SCRIPT KILL from it changes
    nothing."""
    with spawn(kind, "--requirepass", PASSWORD, "--busy-reply-threshold", "100") as p:
        runner, other = p.connect(PASSWORD, timeout=10), p.connect(PASSWORD, timeout=10)
        stranger = None
        try:
            runner.send_raw(resp.encode("EVAL", LOOP, "0"))
            wait_busy(other)
            stranger = p.connect(timeout=10)
            for command in (("PING",), ("SCRIPT", "KILL"), ("SHUTDOWN", "NOSAVE"), ("GET", "k")):
                assert stranger.command(*command) == b"-NOAUTH Authentication required.\r\n", command
            assert stranger.command("NOSUCH") == \
                b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
            assert other.command("GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
            assert other.command("GET", "k") == BUSY
            assert other.command("SHUTDOWN") == BUSY
            # A big bulk from the unauthenticated client is refused, not buffered.
            stranger.send_raw(b"*2\r\n$4\r\nECHO\r\n$200000000\r\n")
            assert stranger.read_reply() == b"-ERR Protocol error: unauthenticated bulk length\r\n"
            assert p.alive()
            assert other.command("SCRIPT", "KILL") == b"+OK\r\n"
            assert runner.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        finally:
            for c in (runner, other, stranger):
                if c is not None:
                    c.close()


def test_busy_transaction_is_doomed():
    """Inside MULTI a command refused with BUSY makes EXEC fail and SCRIPT KILL is queued (it
    kills nothing), as in Redis."""
    for kind in ("atoll", "redis"):
        with spawn(kind, "--busy-reply-threshold", "100") as p:
            runner, other, killer = p.connect(timeout=10), p.connect(timeout=10), p.connect(timeout=10)
            try:
                assert other.command("MULTI") == b"+OK\r\n"
                runner.send_raw(resp.encode("EVAL", LOOP, "0"))
                end = time.monotonic() + 10
                while other.command("SET", "k", "v") != BUSY:
                    assert time.monotonic() < end, "never BUSY"
                assert other.command("SCRIPT", "KILL") == b"+QUEUED\r\n"
                assert killer.command("PING") == BUSY
                assert killer.command("SCRIPT", "KILL") == b"+OK\r\n"
                assert runner.read_reply().startswith(b"-ERR Script killed")
                assert other.command("EXEC") == \
                    b"-EXECABORT Transaction discarded because of previous errors.\r\n"
            finally:
                for c in (runner, other, killer):
                    c.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_largest_busy_reply_threshold(kind):
    """2^63-1 ms is accepted; a script that runs a while then leaves no one BUSY, nothing traps."""
    with spawn(kind) as p:
        runner, other = p.connect(timeout=20), p.connect(timeout=20)
        try:
            assert other.command("CONFIG", "SET", "busy-reply-threshold", "9223372036854775807") == b"+OK\r\n"
            assert other.command("CONFIG", "GET", "busy-reply-threshold") == \
                b"*2\r\n$20\r\nbusy-reply-threshold\r\n$19\r\n9223372036854775807\r\n"
            runner.send_raw(resp.encode("EVAL", "local t = 0 for i = 1, 2e7 do t = t + i end return 1", "0"))
            assert other.command("PING") == b"+PONG\r\n"
            assert runner.read_reply() == b":1\r\n"
            assert p.alive()
        finally:
            runner.close()
            other.close()


def test_largest_proto_max_bulk_len():
    """With proto-max-bulk-len at 2^63-1 a header announcing 2^63-1 bytes cannot overflow:
    the server waits for the bytes (bounded by client-query-buffer-limit) and serves others.
    (Not compared with Redis, which sizes its buffer from the header.)"""
    with spawn("atoll") as p:
        with p.connect(timeout=10) as admin:
            assert admin.command("CONFIG", "SET", "proto-max-bulk-len", "9223372036854775807") == b"+OK\r\n"
            sock = socket.create_connection(("127.0.0.1", p.port), timeout=10)
            try:
                sock.sendall(b"*2\r\n$4\r\nECHO\r\n$9223372036854775807\r\nabc")
                assert admin.command("PING") == b"+PONG\r\n"
                sock.sendall(b"\r\n" * 1000)
                assert admin.command("PING") == b"+PONG\r\n"
            finally:
                sock.close()
            assert admin.command("CONFIG", "SET", "proto-max-bulk-len", "512mb") == b"+OK\r\n"
            assert admin.command("ECHO", "x") == b"$1\r\nx\r\n"
        assert p.alive()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_transactions_and_connection_commands_while_busy(kind):
    """Redis's allow_busy commands that touch only the client run while a script is busy:
    MULTI, DISCARD, UNWATCH, AUTH, HELLO, QUIT; EXEC is refused with EXECABORT and discards
    the transaction (its WATCHes go too)."""
    with spawn(kind, "--requirepass", PASSWORD, "--busy-reply-threshold", "100") as p:
        runner, other = p.connect(PASSWORD, timeout=10), p.connect(PASSWORD, timeout=10)
        late_auth, quitter = p.connect(timeout=10), p.connect(PASSWORD, timeout=10)
        try:
            assert other.command("SET", "w", "1") == b"+OK\r\n"
            assert other.command("WATCH", "w") == b"+OK\r\n"
            runner.send_raw(resp.encode("EVAL", LOOP, "0"))
            wait_busy(other)
            assert late_auth.command("AUTH", PASSWORD) == b"+OK\r\n"
            assert late_auth.command("PING") == BUSY
            assert late_auth.command("HELLO", "2").startswith(b"*14\r\n$6\r\nserver\r\n")
            assert other.command("MULTI") == b"+OK\r\n"
            assert other.command("INCR", "n") == BUSY
            assert other.command("SCRIPT", "KILL") == b"+QUEUED\r\n"
            assert other.command("EXEC") == b"-EXECABORT Transaction discarded because of: " + BUSY[1:]
            assert other.command("DISCARD") == b"-ERR DISCARD without MULTI\r\n"
            assert other.command("UNWATCH") == b"+OK\r\n"
            assert quitter.command("QUIT") == b"+OK\r\n"
            assert other.command("SCRIPT", "KILL") == b"+OK\r\n"
            assert runner.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
            # The WATCH on w went with the discarded transaction: a change to w no longer
            # aborts this client's next transaction.
            assert runner.command("SET", "w", "2") == b"+OK\r\n"
            assert other.command("MULTI") == b"+OK\r\n"
            assert other.command("INCR", "n") == b"+QUEUED\r\n"
            assert other.command("EXEC") == b"*1\r\n:1\r\n"
        finally:
            for c in (runner, other, late_auth, quitter):
                c.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_blocked_client_times_out_while_busy(kind):
    """A blocked client's timeout falls while a script is busy: the server still answers
    BUSY and takes SCRIPT KILL, and the blocked client gets its timeout reply afterwards."""
    with spawn(kind, "--busy-reply-threshold", "100") as p:
        blocked, runner, other = p.connect(timeout=10), p.connect(timeout=10), p.connect(timeout=10)
        try:
            blocked.send_raw(resp.encode("BLPOP", "nokey", "0.3"))
            runner.send_raw(resp.encode("EVAL", LOOP, "0"))
            wait_busy(other)
            time.sleep(0.5)  # let the blocked client's deadline pass while the script runs
            for _ in range(20):
                assert other.command("PING") == BUSY
            assert other.command("SCRIPT", "KILL") == b"+OK\r\n"
            assert runner.read_reply().startswith(b"-ERR Script killed")
            assert blocked.read_reply() == b"*-1\r\n"
            assert other.command("PING") == b"+PONG\r\n"
        finally:
            for c in (blocked, runner, other):
                c.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
@pytest.mark.parametrize("churn", ["open", "close"])
def test_connections_opening_and_closing_while_busy(kind, churn):
    """Connections that open (and send nothing) or close during a busy script must not stop
    the server answering BUSY and SCRIPT KILL at once."""
    with spawn(kind, "--busy-reply-threshold", "100") as p:
        runner, other = p.connect(timeout=10), p.connect(timeout=10)
        idle = [] if churn == "open" else [socket.create_connection(("127.0.0.1", p.port), timeout=10)
                                           for _ in range(20)]
        try:
            if idle:
                assert other.command("PING") == b"+PONG\r\n"  # the idle ones are registered by now
            runner.send_raw(resp.encode("EVAL", LOOP, "0"))
            wait_busy(other)
            if churn == "open":
                idle = [socket.create_connection(("127.0.0.1", p.port), timeout=10) for _ in range(20)]
            else:
                for s in idle:
                    s.close()
                idle = []
            started = time.monotonic()
            for _ in range(20):
                assert other.command("PING") == BUSY
            assert other.command("SCRIPT", "KILL") == b"+OK\r\n"
            assert time.monotonic() - started < 2
            assert runner.read_reply().startswith(b"-ERR Script killed")
        finally:
            for s in idle:
                s.close()
            runner.close()
            other.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_script_kill_pipelined_behind_the_script_waits_its_turn(kind):
    """SCRIPT KILL sent on the script's own connection, right behind it, runs only after the
    script (that client's input waits, as in Redis); another client's kill ends the script."""
    with spawn(kind, "--busy-reply-threshold", "100") as p:
        runner, other = p.connect(timeout=10), p.connect(timeout=10)
        try:
            runner.send_raw(resp.encode("EVAL", LOOP, "0") + resp.encode("SCRIPT", "KILL") + resp.encode("PING"))
            wait_busy(other)
            assert other.command("SCRIPT", "KILL") == b"+OK\r\n"
            assert runner.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
            assert runner.read_reply() == b"-NOTBUSY No scripts in execution right now.\r\n"
            assert runner.read_reply() == b"+PONG\r\n"
        finally:
            runner.close()
            other.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_new_connection_authenticates_and_kills_while_busy(kind):
    """With a password, a connection opened while the script is busy can AUTH (and HELLO) and
    then kill it: the way `redis-cli -a pw SCRIPT KILL` stops a runaway script."""
    with spawn(kind, "--requirepass", PASSWORD, "--busy-reply-threshold", "100") as p:
        runner, other = p.connect(PASSWORD, timeout=10), p.connect(PASSWORD, timeout=10)
        late = None
        try:
            runner.send_raw(resp.encode("EVAL", LOOP, "0"))
            wait_busy(other)
            late = p.connect(timeout=10)
            assert late.command("SCRIPT", "KILL") == b"-NOAUTH Authentication required.\r\n"
            assert late.command("AUTH", PASSWORD) == b"+OK\r\n"
            assert late.command("HELLO", "2").startswith(b"*14\r\n$6\r\nserver\r\n")
            assert late.command("PING") == BUSY
            assert late.command("SCRIPT", "KILL") == b"+OK\r\n"
            assert runner.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
            assert late.command("PING") == b"+PONG\r\n"
            assert late.command("CLIENT", "SETNAME", "late") == b"+OK\r\n"
            assert b"name=late" in resp.parse(other.command("CLIENT", "LIST"))
        finally:
            for c in (runner, other, late):
                if c is not None:
                    c.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_script_queued_behind_a_busy_script_gets_busy(kind):
    """Two scripts sent at the same moment from two connections: while the first is busy the
    second is answered BUSY (it does not wait silently behind it)."""
    with spawn(kind, "--busy-reply-threshold", "100") as p:
        first, second, other = p.connect(timeout=10), p.connect(timeout=10), p.connect(timeout=10)
        try:
            replies = []
            # The second script may now and then be read first and simply run (":7"): then
            # try again; it must be answered BUSY, never left waiting, when it comes second.
            for _ in range(5):
                first.send_raw(resp.encode("EVAL", "local i = 0 while true do i = i + 1 end", "0"))
                second.send_raw(resp.encode("EVAL", "return 7", "0"))
                started = time.monotonic()
                replies.append(second.read_reply())
                assert time.monotonic() - started < 5
                assert replies[-1] in (BUSY, b":7\r\n")
                wait_busy(other)
                assert other.command("SCRIPT", "KILL") == b"+OK\r\n"
                assert first.read_reply().startswith(b"-ERR Script killed")
                if replies[-1] == BUSY:
                    break
            assert replies[-1] == BUSY, replies
            assert second.command("EVAL", "return 7", "0") == b":7\r\n"
        finally:
            for c in (first, second, other):
                c.close()
