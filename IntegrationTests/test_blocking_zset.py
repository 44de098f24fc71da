"""Blocking sorted-set pops (BZPOPMIN, BZPOPMAX, BZMPOP) against the real server.

A client is known to be parked when INFO clients reports it (polled in a
bounded loop); replies are read with bounded socket timeouts, never after a
sleep. Also runs against a second redis-server with ATOLL_DIFF_AGAINST_REDIS=1.
"""

import time

import pytest

import resp


def connect(port):
    c = resp.Conn(port)
    assert c.command("SELECT", "0") == b"+OK\r\n"
    return c


def blocked_clients(conn) -> int:
    info = resp.parse(conn.command("INFO", "clients")).decode()
    for line in info.splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError(f"no blocked_clients in {info!r}")


def wait_blocked(conn, n: int) -> None:
    """Polls until `n` clients are parked (bounded: 5 s)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if blocked_clients(conn) == n:
            return
    raise AssertionError(f"expected {n} blocked clients, INFO says {blocked_clients(conn)}")


@pytest.fixture
def clients(atoll_port):
    made = []

    def make():
        c = connect(atoll_port)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_blocked_client_gets_member_added_later(clients):
    waiter, writer = clients(), clients()
    waiter.send_raw(resp.encode("BZPOPMIN", "k", "5"))
    wait_blocked(writer, 1)
    assert writer.command("ZADD", "k", "2", "b", "1", "a") == b":2\r\n"
    assert waiter.read_reply() == b"*3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert writer.command("ZRANGE", "k", "0", "-1") == b"*1\r\n$1\r\nb\r\n"
    assert blocked_clients(writer) == 0


def test_bzpopmax_on_several_keys_serves_the_key_that_got_data(clients):
    waiter, writer = clients(), clients()
    waiter.send_raw(resp.encode("BZPOPMAX", "k1", "k2", "k3", "5"))
    wait_blocked(writer, 1)
    writer.command("ZADD", "k2", "1", "x", "7.5", "y")
    assert waiter.read_reply() == b"*3\r\n$2\r\nk2\r\n$1\r\ny\r\n$3\r\n7.5\r\n"


def test_timeout_replies_null_array(clients):
    waiter = clients()
    start = time.monotonic()
    assert waiter.command("BZPOPMIN", "nothing", "0.1") == b"*-1\r\n"
    assert time.monotonic() - start >= 0.09
    assert waiter.command("BZMPOP", "0.1", "1", "nothing", "MIN") == b"*-1\r\n"


def test_timeout_in_resp3_is_null(clients):
    waiter = clients()
    assert waiter.command("HELLO", "3").startswith(b"%")
    assert waiter.command("BZPOPMAX", "nothing", "0.05") == b"_\r\n"


def test_waiters_are_served_first_come_first_served(clients):
    writer = clients()
    waiters = [clients() for _ in range(3)]
    for i, w in enumerate(waiters):
        w.send_raw(resp.encode("BZPOPMIN", "k", "5"))
        wait_blocked(writer, i + 1)
    writer.command("ZADD", "k", "1", "a", "2", "b", "3", "c")
    got = [w.read_reply() for w in waiters]
    assert got == [b"*3\r\n$1\r\nk\r\n$1\r\n%s\r\n$1\r\n%d\r\n" % (m, i + 1)
                   for i, m in enumerate((b"a", b"b", b"c"))]
    assert writer.command("EXISTS", "k") == b":0\r\n"


def test_wake_up_from_multi_happens_after_exec(clients):
    """The waiter sees the key as EXEC left it, not as it was halfway through."""
    waiter, writer = clients(), clients()
    waiter.send_raw(resp.encode("BZPOPMAX", "k", "5"))
    wait_blocked(writer, 1)
    assert writer.command("MULTI") == b"+OK\r\n"
    assert writer.command("ZADD", "k", "1", "a", "2", "b") == b"+QUEUED\r\n"
    assert writer.command("ZREM", "k", "b") == b"+QUEUED\r\n"
    assert writer.command("EXEC") == b"*2\r\n:2\r\n:1\r\n"
    assert waiter.read_reply() == b"*3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\n1\r\n"


def test_key_created_and_emptied_inside_multi_does_not_wake(clients):
    waiter, writer = clients(), clients()
    waiter.send_raw(resp.encode("BZPOPMIN", "k", "5"))
    wait_blocked(writer, 1)
    writer.command("MULTI")
    writer.command("ZADD", "k", "1", "a")
    writer.command("ZPOPMIN", "k")
    assert writer.command("EXEC") == b"*2\r\n:1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert blocked_clients(writer) == 1
    writer.command("ZADD", "k", "9", "z")
    assert waiter.read_reply() == b"*3\r\n$1\r\nk\r\n$1\r\nz\r\n$1\r\n9\r\n"


def test_bzmpop_is_served_with_count(clients):
    waiter, writer = clients(), clients()
    waiter.send_raw(resp.encode("BZMPOP", "5", "2", "a", "b", "MAX", "COUNT", "2"))
    wait_blocked(writer, 1)
    writer.command("ZADD", "b", "1", "x", "2", "y", "3", "z")
    assert waiter.read_reply() == (b"*2\r\n$1\r\nb\r\n*2\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n"
                                   b"*2\r\n$1\r\ny\r\n$1\r\n2\r\n")
    assert writer.command("ZCARD", "b") == b":1\r\n"


@pytest.mark.parametrize("store", [
    ("ZUNIONSTORE", "k", "1", "src"),
    ("ZRANGESTORE", "k", "src", "0", "-1"),
    ("ZINTERSTORE", "k", "2", "src", "src"),
])
def test_store_commands_wake_waiters(clients, store):
    waiter, writer = clients(), clients()
    writer.command("ZADD", "src", "4", "m")
    waiter.send_raw(resp.encode("BZPOPMIN", "k", "5"))
    wait_blocked(writer, 1)
    assert writer.command(*store) == b":1\r\n"
    reply = waiter.read_reply()
    assert reply.startswith(b"*3\r\n$1\r\nk\r\n$1\r\nm\r\n"), reply


def test_zincrby_wakes_waiter(clients):
    waiter, writer = clients(), clients()
    waiter.send_raw(resp.encode("BZPOPMIN", "k", "5"))
    wait_blocked(writer, 1)
    writer.command("ZINCRBY", "k", "1.5", "m")
    assert waiter.read_reply() == b"*3\r\n$1\r\nk\r\n$1\r\nm\r\n$3\r\n1.5\r\n"


def test_wrong_type_key_does_not_serve_waiter(clients):
    waiter, writer = clients(), clients()
    waiter.send_raw(resp.encode("BZPOPMIN", "k", "other", "5"))
    wait_blocked(writer, 1)
    writer.command("SET", "k", "string")
    writer.command("ZADD", "other", "1", "o")
    assert waiter.read_reply() == b"*3\r\n$5\r\nother\r\n$1\r\no\r\n$1\r\n1\r\n"
