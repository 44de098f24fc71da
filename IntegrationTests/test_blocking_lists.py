"""Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.

Argument errors, immediate answers and short timeouts are compared byte for
byte with the reference (``diff``). Scenarios with several clients run the
same function against the reference Redis and against Atoll (the ``port``
fixture), each with exact expectations, so every expectation is checked
against Redis 7.0 itself. A client is known to be parked by polling
``INFO clients`` (bounded); every socket read has a timeout.
"""

import shlex
import time

import pytest

import resp
from diff import Step, shape

LIST_BLOCKERS = [
    ["BLPOP", "q", "{t}"], ["BRPOP", "q", "{t}"], ["BLMOVE", "q", "dst", "LEFT", "RIGHT", "{t}"],
    ["BRPOPLPUSH", "q", "dst", "{t}"], ["BLMPOP", "{t}", "1", "q", "LEFT"],
]
BLOCKER_IDS = ["blpop", "brpop", "blmove", "brpoplpush", "blmpop"]


def with_timeout(command, timeout):
    return [timeout if a == "{t}" else a for a in command]


@pytest.fixture(params=["redis", "atoll"])
def port(request):
    """The scenario's server: the reference Redis, then Atoll (both flushed)."""
    return request.getfixturevalue("ref_port" if request.param == "redis" else "atoll_port")


@pytest.fixture
def conns(port):
    """Factory for connections to `port`, all closed at the end of the test."""
    made = []

    def make(timeout=5.0):
        c = resp.Conn(port, timeout=timeout)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def info_field(conn, field: str) -> int:
    info = conn.command("INFO", "clients")
    return int(info.split(field.encode() + b":")[1].split(b"\r\n")[0])


def wait_blocked(conn, n: int) -> None:
    """Polls (bounded) until exactly `n` clients are blocked."""
    for _ in range(500):
        if info_field(conn, "blocked_clients") == n:
            return
        time.sleep(0.01)
    raise AssertionError(f"blocked_clients never became {n}")


def transaction(conn, *commands) -> bytes:
    """MULTI, the commands (each a list of arguments), EXEC; returns EXEC's reply."""
    assert conn.command("MULTI") == b"+OK\r\n"
    for command in commands:
        assert conn.command(*command) == b"+QUEUED\r\n"
    return conn.command("EXEC")


def client_id(conn) -> str:
    return conn.command("CLIENT", "ID")[1:-2].decode()


def no_reply_within(conn, seconds: float) -> bool:
    data, closed = conn.read_until_close(timeout=seconds)
    return data == b"" and not closed


# --- Differential: arguments, immediate replies, short timeouts -------------------------

def answered(diff, *args) -> bytes:
    """``diff.check`` for a command that must answer at once: two equal socket timeouts (the
    command blocked on both servers) fail instead of comparing equal."""
    r = diff.check(*args)
    assert not r.startswith(b"<timeout"), f"{args} blocked"
    return r


def run_answered(diff, steps) -> None:
    for step in steps:
        if isinstance(step, Step):
            diff.check_shape(*step.args, **step.kw)
        else:
            answered(diff, *shlex.split(step))


BAD_TIMEOUTS = ["-1", "abc", "inf", "-inf", "infinity", "nan", "-nan", "1e400", "1e20",
                "9223372036854776", " 1", "1 ", "\t1", "", "1e", "0x", "0x10x", "1e4933",
                "1e-5000", "-0.001x", "-0.002", "1,5"]


@pytest.mark.parametrize("command", LIST_BLOCKERS, ids=BLOCKER_IDS)
def test_timeout_argument_errors(diff, command):
    for t in BAD_TIMEOUTS:
        answered(diff, *with_timeout(command, t))


@pytest.mark.parametrize("command", LIST_BLOCKERS, ids=BLOCKER_IDS)
def test_fractional_timeouts_expire(diff, command):
    """Short timeouts, including ones that round up to 1 ms, answer with the null array (BLMOVE
    and BRPOPLPUSH too in 7.0), `_` in RESP3; nothing is created."""
    for t in ["0.1", "0.0001", "0.001", "1e-400", "+0.01", "0x0.01", "00.05"]:
        answered(diff, *with_timeout(command, t))
    diff.check_shape("HELLO", "3")
    answered(diff, *with_timeout(command, "0.05"))
    diff.check_shape("HELLO", "2")
    answered(diff, "EXISTS", "q", "dst")


def test_argument_errors(diff):
    run_answered(diff, [
        "BLPOP q", "BRPOP", "BLMOVE q dst LEFT RIGHT", "BRPOPLPUSH q dst", "BLMPOP 0 1 q",
        "BLMOVE q dst UP RIGHT 0", "BLMOVE q dst LEFT UP abc", "BLMOVE q dst UP LEFT -1",
        "BLMPOP 0 0 q LEFT", "BLMPOP 0 -1 q LEFT", "BLMPOP 0 abc q LEFT", "BLMPOP 0 2 q LEFT",
        "BLMPOP 0 1 q UP", "BLMPOP 0 1 q LEFT COUNT 0", "BLMPOP 0 1 q LEFT COUNT -1",
        "BLMPOP 0 1 q LEFT COUNT abc", "BLMPOP 0 1 q LEFT COUNT 1 COUNT 1", "BLMPOP 0 1 q LEFT FOO",
        "BLMPOP abc 1 q UP", "BLMPOP abc 0 q LEFT", "BLMPOP -1 1 q LEFT", "BLMPOP abc 1 q LEFT",
        "BLMPOP 0 9223372036854775807 q LEFT",
    ])


def test_immediate_replies_when_data_exists(diff):
    run_answered(diff, [
        "RPUSH a 1 2 3", "RPUSH b x y z w", "SET s str",
        "BLPOP a 0", "BRPOP a 0", "BLPOP missing b 0", "BLPOP a a 0", "BLPOP s a 0", "BLPOP a s 0",
        "BLPOP missing s 0", "BRPOP s 0.01", "LRANGE a 0 -1", "EXISTS a",
        "RPUSH a 1 2 3", "BLMOVE a d LEFT RIGHT 0", "BLMOVE a d RIGHT LEFT 0", "BLMOVE a a LEFT RIGHT 0",
        "BRPOPLPUSH b d 0", "BRPOPLPUSH b b 0", "LRANGE d 0 -1", "LRANGE a 0 -1", "LRANGE b 0 -1",
        "BLMOVE a s LEFT LEFT 0", "BRPOPLPUSH a s 0", "BLMOVE s a LEFT LEFT 0", "LRANGE a 0 -1",
        "BLMPOP 0 2 missing a LEFT", "RPUSH a 4 5", "BLMPOP 0 2 a b RIGHT COUNT 10", "BLMPOP 0 2 s b LEFT",
        "BLMPOP 0 2 b s LEFT COUNT 2", "EXISTS a b", "BLMOVE d d RIGHT RIGHT 0", "LRANGE d 0 -1",
    ])


def test_blocking_commands_inside_multi_answer_at_once(diff):
    queue = ["BLPOP q 0", "BRPOP q 0", "BLMOVE q dst LEFT RIGHT 0", "BRPOPLPUSH q dst 0",
             "BLMPOP 0 1 q LEFT", "BLPOP q 100", "BLMPOP 0 2 q r RIGHT COUNT 3"]
    run_answered(diff, ["MULTI"] + queue + ["EXEC", "RPUSH r v", "MULTI"] + queue + ["EXEC", "EXISTS q r dst"])
    run_answered(diff, [shape("HELLO 3"), "MULTI"] + queue + ["EXEC", shape("HELLO 2")])


# --- Scenarios, run against the reference and against Atoll -----------------------------

def test_blmove_worker_receives_a_later_job(conns):
    worker, producer = conns(), conns()
    worker.send_raw(resp.encode("BLMOVE", "jobs", "processing", "LEFT", "RIGHT", "0"))
    wait_blocked(producer, 1)
    assert producer.command("LPUSH", "jobs", "job-1") == b":1\r\n"
    assert worker.read_reply() == b"$5\r\njob-1\r\n"
    assert producer.command("LRANGE", "processing", "0", "-1") == b"*1\r\n$5\r\njob-1\r\n"
    assert producer.command("EXISTS", "jobs") == b":0\r\n"
    assert info_field(producer, "blocked_clients") == 0


def test_waiters_on_one_key_are_served_in_blocking_order(conns):
    control = conns()
    waiters = [conns() for _ in range(3)]
    for n, w in enumerate(waiters, start=1):
        w.send_raw(resp.encode("BLPOP", "q", "0"))
        wait_blocked(control, n)
    assert control.command("RPUSH", "q", "a", "b", "c") == b":3\r\n"
    for w, element in zip(waiters, [b"a", b"b", b"c"]):
        assert w.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\n" + element + b"\r\n"
    assert control.command("EXISTS", "q") == b":0\r\n"


def test_more_waiters_than_elements(conns):
    control = conns()
    waiters = [conns() for _ in range(3)]
    for n, w in enumerate(waiters, start=1):
        w.send_raw(resp.encode("BRPOP", "q", "0"))
        wait_blocked(control, n)
    control.command("RPUSH", "q", "a", "b")
    assert waiters[0].read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nb\r\n"
    assert waiters[1].read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    assert info_field(control, "blocked_clients") == 1
    control.command("LPUSH", "q", "c")
    assert waiters[2].read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nc\r\n"


def test_client_blocked_on_two_keys_is_served_by_the_key_that_gets_data(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLPOP", "a", "b", "0"))
    wait_blocked(control, 1)
    control.command("RPUSH", "b", "x")
    assert waiter.read_reply() == b"*2\r\n$1\r\nb\r\n$1\r\nx\r\n"
    # Both keys get data in one transaction: the key pushed first serves, although BLPOP
    # would take from `a` first had both been there when it ran.
    waiter.send_raw(resp.encode("BLPOP", "a", "b", "0"))
    wait_blocked(control, 1)
    assert transaction(control, ["RPUSH", "b", "x"], ["RPUSH", "a", "y"]) == b"*2\r\n:1\r\n:1\r\n"
    assert waiter.read_reply() == b"*2\r\n$1\r\nb\r\n$1\r\nx\r\n"
    assert control.command("LRANGE", "a", "0", "-1") == b"*1\r\n$1\r\ny\r\n"


def test_blmpop_waiter_is_served_by_the_key_that_gets_data(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "5"))
    wait_blocked(control, 1)
    transaction(control, ["RPUSH", "b", "x", "y"], ["RPUSH", "a", "z"])
    assert waiter.read_reply() == b"*2\r\n$1\r\nb\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n"
    assert control.command("LRANGE", "a", "0", "-1") == b"*1\r\n$1\r\nz\r\n"


def test_blmpop_count_served_when_data_arrives(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "3"))
    wait_blocked(control, 1)
    control.command("RPUSH", "b", "1", "2", "3", "4", "5")
    assert waiter.read_reply() == b"*2\r\n$1\r\nb\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    assert control.command("LRANGE", "b", "0", "-1") == b"*2\r\n$1\r\n4\r\n$1\r\n5\r\n"
    waiter.send_raw(resp.encode("BLMPOP", "0", "1", "c", "RIGHT"))
    wait_blocked(control, 1)
    control.command("RPUSH", "c", "1", "2")
    assert waiter.read_reply() == b"*2\r\n$1\r\nc\r\n*1\r\n$1\r\n2\r\n"


def test_wakeups_from_multi_happen_after_exec(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLPOP", "q", "0"))
    wait_blocked(control, 1)
    assert transaction(control, ["RPUSH", "q", "a"], ["DEL", "q"]) == b"*2\r\n:1\r\n:1\r\n"
    assert control.command("EXISTS", "q") == b":0\r\n"
    assert info_field(control, "blocked_clients") == 1
    assert transaction(control, ["RPUSH", "q", "a"], ["RPUSH", "q", "b"]) == b"*2\r\n:1\r\n:2\r\n"
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    assert control.command("LRANGE", "q", "0", "-1") == b"*1\r\n$1\r\nb\r\n"


def test_disconnect_while_blocked_is_forgotten(conns):
    control = conns()
    waiter = conns()
    waiter.send_raw(resp.encode("BLPOP", "q", "0"))
    wait_blocked(control, 1)
    waiter.close()
    wait_blocked(control, 0)
    assert control.command("RPUSH", "q", "kept") == b":1\r\n"
    assert control.command("LRANGE", "q", "0", "-1") == b"*1\r\n$4\r\nkept\r\n"


@pytest.mark.parametrize("command", LIST_BLOCKERS, ids=BLOCKER_IDS)
def test_client_unblock(conns, command):
    waiter, control = conns(), conns()
    wid = client_id(waiter)
    assert control.command("CLIENT", "UNBLOCK", wid) == b":0\r\n"
    waiter.send_raw(resp.encode(*with_timeout(command, "0")))
    wait_blocked(control, 1)
    assert info_field(control, "clients_in_timeout_table") == 0
    assert control.command("CLIENT", "UNBLOCK", wid) == b":1\r\n"
    assert waiter.read_reply() == b"*-1\r\n"
    waiter.send_raw(resp.encode(*with_timeout(command, "100")))
    wait_blocked(control, 1)
    assert info_field(control, "clients_in_timeout_table") == 1
    assert control.command("CLIENT", "UNBLOCK", wid, "error") == b":1\r\n"
    assert waiter.read_reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert info_field(control, "clients_in_timeout_table") == 0
    waiter.command("HELLO", "3")
    waiter.send_raw(resp.encode(*with_timeout(command, "0")))
    wait_blocked(control, 1)
    assert control.command("CLIENT", "UNBLOCK", wid, "TIMEOUT") == b":1\r\n"
    assert waiter.read_reply() == b"_\r\n"
    assert waiter.command("PING") == b"+PONG\r\n"
    assert control.command("EXISTS", "q", "dst") == b":0\r\n"


def test_client_unblock_arguments(diff):
    run_answered(diff, ["CLIENT UNBLOCK 999999", "CLIENT UNBLOCK 999999 TIMEOUT", "CLIENT UNBLOCK 999999 error",
              "CLIENT UNBLOCK 999999 FOO", "CLIENT UNBLOCK abc", "CLIENT UNBLOCK abc FOO",
              "CLIENT UNBLOCK abc ERROR", "CLIENT UNBLOCK 1 TIMEOUT extra", "client unblock 1 a b",
              "CLIENT UNBLOCK", "CLIENT UNBLOCK -1", "CLIENT UNBLOCK 1.5"])


@pytest.mark.parametrize("t", ["0", "-0", "-0.0001", "-0.001", "0x0", "0.0"])
def test_zero_timeouts_block_for_ever(conns, t):
    waiter, control = conns(), conns()
    wid = client_id(waiter)
    waiter.send_raw(resp.encode("BLPOP", "q", t))
    wait_blocked(control, 1)
    assert info_field(control, "clients_in_timeout_table") == 0
    assert control.command("CLIENT", "UNBLOCK", wid) == b":1\r\n"
    assert waiter.read_reply() == b"*-1\r\n"


def test_timeout_beyond_int64_blocks(conns):
    """ceil(t * 1000) fits in a long long but the deadline overflows: Redis keeps it waiting."""
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLPOP", "q", "9223372036854775"))
    wait_blocked(control, 1)
    assert control.command("RPUSH", "q", "v") == b":1\r\n"
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"


@pytest.mark.parametrize("command", LIST_BLOCKERS, ids=BLOCKER_IDS)
def test_timeout_expires_with_null_array(conns, command):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode(*with_timeout(command, "0.2")))
    wait_blocked(control, 1)
    assert waiter.read_reply() == b"*-1\r\n"
    assert info_field(control, "blocked_clients") == 0
    waiter.command("HELLO", "3")
    assert waiter.command(*with_timeout(command, "0.05")) == b"_\r\n"


def test_served_before_timeout_gets_no_second_reply(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLPOP", "q", "0.3"))
    wait_blocked(control, 1)
    control.command("RPUSH", "q", "v")
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
    assert no_reply_within(waiter, 0.5)
    assert waiter.command("PING") == b"+PONG\r\n"


def test_pipelined_command_after_blpop_waits_for_it(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLPOP", "q", "0") + resp.encode("PING") + resp.encode("LLEN", "q"))
    wait_blocked(control, 1)
    assert no_reply_within(waiter, 0.2)
    control.command("RPUSH", "q", "a", "b")
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    assert waiter.read_reply() == b"+PONG\r\n"
    assert waiter.read_reply() == b":1\r\n"


def test_client_list_and_info_show_the_blocked_client(conns):
    waiter, control = conns(), conns()
    wid = client_id(waiter)
    assert info_field(control, "blocked_clients") == 0
    waiter.send_raw(resp.encode("BLPOP", "q", "0"))
    wait_blocked(control, 1)
    line = control.command("CLIENT", "LIST", "ID", wid)
    assert b" flags=b " in line and b" cmd=blpop " in line
    control.command("LPUSH", "q", "v")
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
    assert info_field(control, "blocked_clients") == 0
    assert b" flags=N " in control.command("CLIENT", "LIST", "ID", wid)


@pytest.mark.parametrize("command", [["BLMOVE", "q", "s", "LEFT", "LEFT", "0"], ["BRPOPLPUSH", "q", "s", "0"]],
                         ids=["blmove", "brpoplpush"])
def test_blocked_move_into_a_string_destination(conns, command):
    """When served, the wrong-type destination ends the wait with WRONGTYPE; the element stays."""
    waiter, control = conns(), conns()
    control.command("SET", "s", "v")
    waiter.send_raw(resp.encode(*command))
    wait_blocked(control, 1)
    assert control.command("RPUSH", "q", "job") == b":1\r\n"
    assert waiter.read_reply() == b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    assert info_field(control, "blocked_clients") == 0
    assert control.command("LRANGE", "q", "0", "-1") == b"*1\r\n$3\r\njob\r\n"
    assert control.command("GET", "s") == b"$1\r\nv\r\n"


def test_a_move_wakes_the_waiter_on_its_destination(conns):
    mover, popper, control = conns(), conns(), conns()
    mover.send_raw(resp.encode("BLMOVE", "q", "r", "LEFT", "LEFT", "0"))
    wait_blocked(control, 1)
    popper.send_raw(resp.encode("BLPOP", "r", "0"))
    wait_blocked(control, 2)
    control.command("RPUSH", "q", "j")
    assert mover.read_reply() == b"$1\r\nj\r\n"
    assert popper.read_reply() == b"*2\r\n$1\r\nr\r\n$1\r\nj\r\n"
    assert control.command("EXISTS", "q", "r") == b":0\r\n"


def test_blmove_rotating_one_list(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLMOVE", "q", "q", "LEFT", "RIGHT", "0"))
    wait_blocked(control, 1)
    control.command("RPUSH", "q", "1", "2")
    assert waiter.read_reply() == b"$1\r\n1\r\n"
    assert control.command("LRANGE", "q", "0", "-1") == b"*2\r\n$1\r\n2\r\n$1\r\n1\r\n"


def test_other_types_and_databases_do_not_wake(conns):
    waiter, control = conns(), conns()
    waiter.command("SELECT", "1")
    waiter.send_raw(resp.encode("BLPOP", "q", "0"))
    wait_blocked(control, 1)
    control.command("RPUSH", "q", "db0")          # database 0: not the waiter's
    control.command("SELECT", "1")
    control.command("SET", "q", "string")         # the right key, the wrong type
    assert info_field(control, "blocked_clients") == 1
    control.command("DEL", "q")
    control.command("RPUSH", "tmp", "renamed")
    control.command("RENAME", "tmp", "q")         # a list arriving by RENAME wakes it
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$7\r\nrenamed\r\n"
    control.command("SELECT", "0")
    assert control.command("LRANGE", "q", "0", "-1") == b"*1\r\n$3\r\ndb0\r\n"


def test_same_key_twice_is_one_wait(conns):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLPOP", "q", "q", "0"))
    wait_blocked(control, 1)
    control.command("RPUSH", "q", "1", "2")
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\n1\r\n"
    assert control.command("LRANGE", "q", "0", "-1") == b"*1\r\n$1\r\n2\r\n"


def test_serving_a_waiter_touches_watched_keys(conns):
    mover, watcher, control = conns(), conns(), conns()
    mover.send_raw(resp.encode("BLMOVE", "q", "r", "LEFT", "LEFT", "0"))
    wait_blocked(control, 1)
    watcher.command("RPUSH", "r", "old")
    watcher.command("WATCH", "r")
    control.command("RPUSH", "q", "j")
    assert mover.read_reply() == b"$1\r\nj\r\n"
    assert transaction(watcher, ["PING"]) == b"*-1\r\n"


def test_client_reply_applies_to_the_reply_given_on_release(conns):
    """CLIENT REPLY SKIP/OFF before a blocking command drops its reply when it comes."""
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("CLIENT", "REPLY", "SKIP") + resp.encode("BLPOP", "q", "0"))
    wait_blocked(control, 1)
    control.command("RPUSH", "q", "a")
    assert waiter.command("PING", "after-skip") == b"$10\r\nafter-skip\r\n"
    waiter.send_raw(resp.encode("CLIENT", "REPLY", "OFF") + resp.encode("BLPOP", "q", "0"))
    wait_blocked(control, 1)
    control.command("RPUSH", "q", "b")
    waiter.send_raw(resp.encode("BLMOVE", "q", "d", "LEFT", "LEFT", "0.05") + resp.encode("CLIENT", "REPLY", "ON"))
    assert waiter.read_reply() == b"+OK\r\n"
    assert control.command("EXISTS", "q", "d") == b":0\r\n"


@pytest.mark.parametrize("arrival", [
    [["SELECT", "1"], ["RPUSH", "q", "v"], ["SWAPDB", "0", "1"]],
    [["SELECT", "1"], ["RPUSH", "q", "v"], ["MOVE", "q", "0"]],
    [["RPUSH", "src", "v"], ["COPY", "src", "q"]],
    [["RPUSH", "src", "v"], ["RENAME", "src", "q"]],
    [["SELECT", "1"], ["RPUSH", "src", "v"], ["COPY", "src", "q", "DB", "0"]],
], ids=["swapdb", "move", "copy", "rename", "copy-db"])
def test_a_list_arriving_whole_wakes_the_waiter(conns, arrival):
    waiter, control = conns(), conns()
    waiter.send_raw(resp.encode("BLPOP", "q", "0"))
    wait_blocked(control, 1)
    for command in arrival:
        control.command(*command)
    assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
    assert waiter.command("EXISTS", "q") == b":0\r\n"
