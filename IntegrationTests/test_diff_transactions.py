"""Differential tests for transactions: MULTI/EXEC/DISCARD/WATCH/UNWATCH.

Every test runs on fresh connections to freshly flushed servers and compares
raw reply bytes (errors included) with the reference Redis 7.0. Only string and
generic key commands are used inside transactions.

WATCH tests use two connection pairs: ``diff`` is the watching client and a
second pair from ``new_diff()`` is "the other client"; every command goes to
Redis and to Atoll in the same order, so both servers see the same history.
Besides the byte comparison, WATCH tests assert the expected outcome (abort or
not) so the suite documents Redis's semantics and a Redis-vs-Redis run proves
the expectations right.
"""

import shlex
import time

import pytest

import resp

ABORTED_RESP2 = b"*-1\r\n"
ABORTED_RESP3 = b"_\r\n"
EXECABORT = b"-EXECABORT Transaction discarded because of previous errors.\r\n"


def _wait_until(conn: resp.Conn, cmd, want: bytes, timeout: float = 10.0) -> bytes:
    """Poll ``cmd`` on one connection until it replies ``want`` (bounded)."""
    deadline = time.monotonic() + timeout
    last = conn.command(*cmd)
    while last != want and time.monotonic() < deadline:
        time.sleep(0.01)  # short poll interval inside a bounded loop
        last = conn.command(*cmd)
    assert last == want, f"port {conn.port}: {cmd} still replies {last!r} after {timeout}s"
    return last


# --- MULTI / EXEC / DISCARD basics -------------------------------------------------

def test_multi_exec_basic(diff):
    diff.run([
        "MULTI", "SET a 1", "INCR a", "GET a", "APPEND s hello", "GET missing",
        "MGET a s missing", "EXISTS a s", "DEL s", "TTL a", "EXEC",
        "GET a", "EXISTS s",
    ])


def test_lowercase_and_mixed_case(diff):
    diff.run(["multi", "set lc 1", "incrby lc 41", "ExEc", "get lc",
              "MuLtI", "DiScArD", "get lc"])


def test_empty_transaction(diff):
    r = diff.check("MULTI")
    assert r == b"+OK\r\n"
    assert diff.check("EXEC") == b"*0\r\n"
    diff.run(["MULTI", "DISCARD", "EXEC"])


def test_discard_applies_nothing(diff):
    diff.run([
        "SET a old", "MULTI", "SET a new", "SET b 1", "DEL a", "FLUSHALL", "DISCARD",
        "GET a", "GET b", "DBSIZE",
    ])


def test_discard_then_exec(diff):
    diff.run(["MULTI", "SET q 1", "DISCARD", "EXEC", "GET q", "DISCARD", "EXEC"])


def test_state_errors(diff):
    diff.run([
        "EXEC", "DISCARD", "MULTI", "MULTI", "MULTI", "SET a 1", "EXEC", "GET a",
        "EXEC", "DISCARD",
    ])


def test_nested_multi_does_not_abort(diff):
    # "MULTI calls can not be nested" is *not* a queue-time error: EXEC still runs.
    diff.run(["MULTI", "SET a 1", "MULTI", "INCR a", "EXEC", "GET a"])


def test_watch_inside_multi(diff):
    # Refused, but does not flag the transaction either.
    diff.run(["MULTI", "SET a 1", "WATCH a", "WATCH a b c", "GET a", "EXEC", "GET a"])


def test_arity_errors_of_transaction_commands(diff):
    diff.run([
        "MULTI x", "DISCARD x", "WATCH", "UNWATCH x",
        # EXEC with a wrong arity replies EXECABORT even outside MULTI.
        "EXEC x", "EXEC x y",
    ])


@pytest.mark.parametrize("bad", ["DISCARD x", "MULTI x", "WATCH", "UNWATCH x", "RESET x"])
def test_arity_error_inside_multi_flags_transaction(diff, bad):
    diff.run(["MULTI", "SET a 1", bad, "SET b 2", "EXEC", "GET a", "GET b", "EXEC"])


def test_exec_arity_error_inside_multi_discards(diff):
    diff.run(["MULTI", "SET a 1", "EXEC x", "EXEC", "GET a", "DISCARD"])


def test_queue_time_errors_abort(diff):
    diff.run([
        "SET a 0", "MULTI", "SET a 1", "NOSUCHCMD", "INCR a", "EXEC", "GET a", "EXEC",
        "MULTI", "INCR a", "FOO bar 'baz qux'", "EXEC", "GET a",
        "MULTI", "GET", "EXEC",
        "MULTI", "SET k", "INCR a", "EXEC", "GET a",
        "MULTI", "SELECT", "MSET a", "GETEX", "EXPIRE a", "EXEC", "GET a",
        "MULTI", "CLIENT FOO", "CONFIG GET", "OBJECT FOO k", "COMMAND FOO", "CLIENT",
        "EXEC", "GET a",
    ])


def test_queue_error_then_discard_resets_flag(diff):
    diff.run(["MULTI", "NOSUCH", "DISCARD", "MULTI", "SET d 1", "EXEC", "GET d"])


def test_runtime_errors_are_in_their_slot(diff):
    diff.run([
        "SET s foo", "MULTI", "INCR s", "SET a 1", "INCR a", "SET s bar", "GET s", "EXEC",
        "GET a", "GET s",
        "MULTI", "SET k v NX XX", "SET k v EX 0", "SET k v EX abc",
        "SETRANGE k 536870912 x", "RENAME nope x", "SET m 1", "MOVE m 0", "COPY m m",
        "GETEX m EX -1", "EXPIRE m x", "INCR m", "INCRBY m 9223372036854775807",
        "DECRBY m abc", "INCRBYFLOAT m abc", "MSET a 1 b", "SELECT 99", "SELECT x",
        "OBJECT ENCODING m", "GET m", "EXEC",
        "GET m", "EXISTS k",
    ])


def test_select_inside_multi(diff):
    diff.run([
        "MULTI", "SET a 0", "SELECT 1", "SET a 1", "SELECT 99", "GET a", "EXEC",
        # The SELECT inside the transaction stays in effect afterwards.
        "GET a", "SELECT 0", "GET a",
        "MULTI", "SELECT 2", "SET b 2", "SELECT 0", "EXEC", "GET b", "SELECT 2", "GET b",
    ])


def test_keyspace_commands_inside_multi(diff):
    diff.run([
        "SET x 1", "MULTI", "FLUSHDB", "SET a 1", "COPY a b DB 2", "COPY a c", "MOVE a 3",
        "SWAPDB 0 3", "DBSIZE", "KEYS *", "RENAME a z", "SELECT 2", "GET b", "EXPIRE b 100",
        "TTL b", "PERSIST b", "SELECT 0", "FLUSHALL", "DBSIZE", "EXEC", "DBSIZE",
    ])


def test_later_commands_see_earlier_effects(diff):
    diff.run([
        "MULTI", "MSET a 1 b 2", "SET a 2", "RENAME a c", "GETSET c 3", "GETDEL c",
        "INCR n", "INCR n", "DECRBY n 5", "INCRBYFLOAT n 0.5", "APPEND n x",
        "STRLEN n", "GETRANGE n 0 2", "SETRANGE n 1 YY", "GET n", "SETNX n z", "MSETNX n 1 o 2",
        "GETEX n PX 100000", "PERSIST n", "TTL n", "UNLINK n b", "EXEC", "DBSIZE",
    ])


def test_connection_and_server_commands_inside_multi(diff):
    diff.run(["MULTI", "PING", "PING x", "ECHO hi", "CLIENT SETNAME tx", "CLIENT GETNAME",
              "CONFIG SET timeout 0", "CONFIG GET timeout", "DBSIZE", "SET a 1", "DBSIZE",
              "EXEC", "CLIENT GETNAME"])
    diff.run(["MULTI", "TIME", "LASTSAVE", "CLIENT ID", "COMMAND COUNT", "INFO keyspace"])
    diff.check_shape("EXEC")


def test_auth_inside_multi(diff):
    diff.run(["MULTI", "AUTH x", "AUTH default x", "AUTH a b c", "PING", "EXEC"])


def test_shutdown_refused_inside_multi(diff):
    diff.run([
        "MULTI", "SET a 1", "SHUTDOWN", "SHUTDOWN NOSAVE", "SHUTDOWN x y z", "EXEC", "GET a",
        "MULTI", "SHUTDOWN", "DISCARD", "PING",
    ])


def test_monitor_queued_but_refused_at_exec(diff):
    diff.run(["MULTI", "SET a 3", "MONITOR", "GET a", "EXEC", "GET a", "PING"])


def test_hello_inside_multi_switches_protocol(diff):
    diff.run(["MULTI", "GET nope", "HELLO 3", "GET nope"])
    diff.check_shape("EXEC")
    diff.run(["GET nope", "MULTI", "GET nope", "EXEC"])


def test_unwatch_inside_multi_is_queued(diff):
    diff.run(["UNWATCH", "WATCH a b c", "MULTI", "UNWATCH", "SET a 1", "EXEC", "UNWATCH"])


def test_large_transaction(diff):
    cmds = ["MULTI"] + ["INCR n"] * 1000 + [("SET", "big", "x" * 100000), "STRLEN big",
                                             "EXEC"]
    replies = diff.check_pipeline(cmds)
    assert replies[-1].startswith(b"*1002\r\n:1\r\n:2\r\n")
    diff.run(["GET n"])


# --- pipelining / framing -------------------------------------------------------------

def test_whole_transaction_in_one_write(diff):
    diff.check_pipeline(["MULTI", "SET a 1", "INCR a", "GET a", "EXEC", "GET a"])
    diff.check_pipeline(["MULTI", "SET b 1", "NOSUCH", "INCR b", "EXEC", "GET b", "EXEC"])
    diff.check_pipeline(["MULTI", "SET c 1", "DISCARD", "GET c", "MULTI", "EXEC"])
    diff.check_pipeline(["WATCH w", "SET w 1", "MULTI", "GET w", "EXEC", "GET w"])


def test_inline_transaction(diff):
    diff.check_raw(b"MULTI\r\nSET i 1\r\nINCR i\r\nEXEC\r\n", replies=4)
    diff.check_raw(b"MULTI\r\nbogus\r\nEXEC\r\n", replies=3)


def test_exec_split_across_writes(diff):
    diff.check_raw(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", replies=2)
    diff.check_raw(b"*1\r\n$4\r\nEX", replies=0)
    diff.check_raw(b"EC\r\n", replies=1)
    diff.check("GET", "k")


# --- RESP3 ---------------------------------------------------------------------------

def test_resp3_exec_replies(diff):
    r, a = diff.both("HELLO", "3")
    assert r[:1] == a[:1] == b"%"
    diff.run([
        "MULTI", "SET a 1", "GET a", "GET missing", "MGET a missing", "INCRBYFLOAT f 1.5",
        "CONFIG GET timeout", "INCR f", "EXEC",
        "MULTI", "EXEC",
        "MULTI", "NOSUCH", "EXEC", "EXEC", "DISCARD",
        "MULTI", "DISCARD",
    ])


def test_resp3_watch_abort_is_null(diff, new_diff):
    other = new_diff()
    diff.both("HELLO", "3")
    diff.check("WATCH", "k")
    other.check("SET", "k", "v")
    diff.run(["MULTI", "GET k"])
    assert diff.check("EXEC") == ABORTED_RESP3
    diff.run(["GET k", "MULTI", "GET k", "EXEC"])


# --- QUIT / RESET ----------------------------------------------------------------------

def test_quit_inside_multi(diff, new_diff):
    diff.run(["MULTI", "SET q 1"])
    assert diff.check("QUIT") == b"+OK\r\n"
    for conn in (diff.ref, diff.atoll):
        data, closed = conn.read_until_close(3.0)
        assert (data, closed) == (b"", True), f"port {conn.port}: {data!r} closed={closed}"
    new_diff().run(["GET q", "DBSIZE"])


def test_quit_with_args_inside_multi(diff, new_diff):
    diff.run(["MULTI", "SET q 1", "QUIT x"])
    for conn in (diff.ref, diff.atoll):
        data, closed = conn.read_until_close(3.0)
        assert (data, closed) == (b"", True), f"port {conn.port}: {data!r} closed={closed}"
    new_diff().run(["GET q"])


def test_reset_inside_multi(diff):
    diff.run(["MULTI", "SET q 1", "RESET", "EXEC", "GET q"])
    diff.both("HELLO", "3")
    diff.run(["MULTI", "SET q 1", "RESET", "GET q", "EXEC"])


def test_reset_clears_watch(diff, new_diff):
    other = new_diff()
    diff.run(["WATCH k", "RESET"])
    other.check("SET", "k", "1")
    diff.run(["MULTI", "GET k"])
    assert diff.check("EXEC") == b"*1\r\n$1\r\n1\r\n"


# --- transactions and other clients -------------------------------------------------------

def test_transactions_are_per_connection(diff, new_diff):
    other = new_diff()
    diff.run(["MULTI", "SET a 1"])
    other.run(["EXEC", "DISCARD", "GET a", "MULTI", "SET b 2"])
    diff.run(["SET c 3", "EXEC"])
    other.run(["GET a", "GET c", "EXEC", "MGET a b c"])


def test_queued_commands_run_at_exec_time(diff, new_diff):
    other = new_diff()
    diff.run(["SET k 1", "MULTI", "GET k", "SET k mine", "INCR n"])
    # Nothing is applied before EXEC: the other client sees the old state.
    other.run(["GET k", "GET n", "SET k 2", "SET n 10"])
    diff.run(["EXEC", "GET k", "GET n"])


# --- WATCH: outcome table --------------------------------------------------------------

# (setup by the watcher, watched keys, commands between WATCH and MULTI, aborts?)
# Commands in "between" run on the other client; an "@" prefix runs them on the
# watcher itself. A setup "SELECT n" makes the watcher watch in db n.
W = [
    ("unchanged", ["SET k v"], "k", ["GET k", "SET other 1", "EXISTS k", "TTL k"], False),
    ("read-only commands", ["SET k v", "SET j x"], "k",
     ["GET k", "MGET k j", "STRLEN k", "GETRANGE k 0 -1", "TOUCH k", "OBJECT ENCODING k",
      "TTL k", "PTTL k", "EXISTS k", "TYPE k", "LCS k j", "DBSIZE", "GETEX k",
      "COPY k j2", "SCAN 0 MATCH nomatch"], False),
    ("set new value", ["SET k v"], "k", ["SET k w"], True),
    ("set same value", ["SET k v"], "k", ["SET k v"], True),
    ("missing then created", [], "k", ["SET k v"], True),
    ("del existing", ["SET k v"], "k", ["DEL k"], True),
    ("unlink existing", ["SET k v"], "k", ["UNLINK k"], True),
    ("del missing", [], "k", ["DEL k"], False),
    ("unlink missing", [], "k", ["UNLINK k"], False),
    ("set nx not set", ["SET k v"], "k", ["SET k w NX"], False),
    ("set xx not set", [], "k", ["SET k w XX"], False),
    ("setnx not set", ["SET k v"], "k", ["SETNX k w"], False),
    ("msetnx refused", ["SET z v"], "k", ["MSETNX k w z 1"], False),
    ("msetnx applied", [], "k", ["MSETNX k w z 1"], True),
    ("set syntax error", ["SET k v"], "k", ["SET k v EX 0", "SET k v NX XX"], False),
    ("set get", ["SET k v"], "k", ["SET k v GET"], True),
    ("set keepttl", ["SET k v EX 100"], "k", ["SET k v KEEPTTL"], True),
    ("setex", [], "k", ["SETEX k 100 v"], True),
    ("psetex", [], "k", ["PSETEX k 100000 v"], True),
    ("getset same value", ["SET k v"], "k", ["GETSET k v"], True),
    ("mset touching one", [], "k", ["MSET a 1 k 2 b 3"], True),
    ("mset touching none", [], "k", ["MSET a 1 b 3"], False),
    ("append", ["SET k v"], "k", ["APPEND k x"], True),
    ("append empty to existing", ["SET k v"], "k", ["APPEND k ''"], True),
    ("append empty to missing creates it", [], "k", ["APPEND k ''"], True),
    ("incr", ["SET k 1"], "k", ["INCR k"], True),
    ("incr on missing", [], "k", ["INCR k"], True),
    ("incr error", ["SET k x"], "k", ["INCR k", "INCRBYFLOAT k 1"], False),
    ("incrby 0", ["SET k 1"], "k", ["INCRBY k 0"], True),
    ("decrby", ["SET k 5"], "k", ["DECRBY k 2"], True),
    ("incrbyfloat 0", ["SET k 1"], "k", ["INCRBYFLOAT k 0"], True),
    ("setrange", ["SET k v"], "k", ["SETRANGE k 0 x"], True),
    ("setrange same bytes", ["SET k v"], "k", ["SETRANGE k 0 v"], True),
    ("setrange empty on existing", ["SET k v"], "k", ["SETRANGE k 0 ''"], False),
    ("setrange empty on missing", [], "k", ["SETRANGE k 5 ''"], False),
    ("getdel", ["SET k v"], "k", ["GETDEL k"], True),
    ("getdel missing", [], "k", ["GETDEL k"], False),
    ("getex ex", ["SET k v"], "k", ["GETEX k EX 100"], True),
    ("getex persist without ttl", ["SET k v"], "k", ["GETEX k PERSIST"], False),
    ("getex persist with ttl", ["SET k v EX 100"], "k", ["GETEX k PERSIST"], True),
    ("getex ex missing", [], "k", ["GETEX k EX 100"], False),
    ("expire", ["SET k v"], "k", ["EXPIRE k 100"], True),
    ("pexpireat", ["SET k v"], "k", ["PEXPIREAT k 4102444800000"], True),
    ("expire missing", [], "k", ["EXPIRE k 100"], False),
    ("expire nx not applied", ["SET k v EX 100"], "k", ["EXPIRE k 200 NX"], False),
    ("expire gt not applied", ["SET k v EX 100"], "k", ["EXPIRE k 50 GT"], False),
    ("expire in the past", ["SET k v"], "k", ["EXPIRE k -1"], True),
    ("persist with ttl", ["SET k v EX 100"], "k", ["PERSIST k"], True),
    ("persist without ttl", ["SET k v"], "k", ["PERSIST k"], False),
    ("rename from watched", ["SET k v"], "k", ["RENAME k j"], True),
    ("rename onto watched", ["SET j v"], "k", ["RENAME j k"], True),
    ("rename onto itself", ["SET k v"], "k", ["RENAME k k"], False),
    ("rename missing source", [], "k", ["RENAME k j"], False),
    ("renamenx refused", ["SET j v", "SET k v"], "k", ["RENAMENX j k", "RENAMENX k j"], False),
    ("renamenx onto watched", ["SET j v"], "k", ["RENAMENX j k"], True),
    ("move away", ["SET k v"], "k", ["MOVE k 1"], True),
    ("move in", [], "k", ["SELECT 1", "SET k v", "MOVE k 0"], True),
    ("move refused", ["SET k v", "SELECT 1", "SET k w", "SELECT 0"], "k", ["MOVE k 1"], False),
    ("move in to watched db 1", ["SELECT 1"], "k", ["SET k v", "MOVE k 1"], True),
    ("copy onto missing", ["SET j v"], "k", ["COPY j k"], True),
    ("copy onto existing refused", ["SET j v", "SET k v"], "k", ["COPY j k"], False),
    ("copy replace onto existing", ["SET j v", "SET k v"], "k", ["COPY j k REPLACE"], True),
    ("copy from watched", ["SET k v"], "k", ["COPY k j"], False),
    ("copy db into watched db", ["SELECT 1"], "k", ["SET k v", "COPY k k DB 1"], True),
    ("copy db replace into watched db",
     ["SET k v", "SELECT 1", "SET k x"], "k", ["COPY k k DB 1 REPLACE"], True),
    ("copy db into other db", ["SET k v"], "k", ["COPY k k DB 1"], False),
    ("flushdb, key existed", ["SET k v"], "k", ["FLUSHDB"], True),
    ("flushdb async, key existed", ["SET k v"], "k", ["FLUSHDB ASYNC"], True),
    ("flushdb, key missing", ["SET z v"], "k", ["FLUSHDB"], False),
    ("flushdb of empty db", [], "k", ["FLUSHDB"], False),
    ("flushdb of another db", ["SELECT 1", "SET k v", "SELECT 0", "SET k v"], "k",
     ["SELECT 1", "FLUSHDB"], False),
    ("flushall, key existed", ["SET k v"], "k", ["FLUSHALL"], True),
    ("flushall sync, key existed", ["SET k v"], "k", ["FLUSHALL SYNC"], True),
    ("flushall, key missing", ["SET z v"], "k", ["FLUSHALL"], False),
    ("flushall, key only in another db", ["SELECT 1", "SET k v", "SELECT 0"], "k",
     ["FLUSHALL"], False),
    ("swapdb, key in watched db", ["SET k v"], "k", ["SWAPDB 0 1"], True),
    ("swapdb, key in the other db", ["SELECT 1", "SET k v", "SELECT 0"], "k",
     ["SWAPDB 1 0"], True),
    ("swapdb, key in both with same value",
     ["SET k v", "SELECT 1", "SET k v", "SELECT 0"], "k", ["SWAPDB 0 1"], True),
    ("swapdb, key nowhere", ["SET z v"], "k", ["SWAPDB 0 1"], False),
    ("swapdb not involving watched db", ["SET k v", "SELECT 1", "SET k v", "SELECT 0"], "k",
     ["SWAPDB 1 2"], False),
    ("swapdb of a db with itself", ["SET k v"], "k", ["SWAPDB 0 0"], False),
    ("swapdb, watching db 1", ["SET k v", "SELECT 1"], "k", ["SWAPDB 0 1"], True),
    ("watch db 1, write db 0", ["SELECT 1"], "k", ["SET k v"], False),
    ("watch db 1, write db 1", ["SELECT 1"], "k", ["SELECT 1", "SET k v"], True),
    ("watch db 0, watcher selects db 1", ["SET k v"], "k", ["@SELECT 1", "SET k w"], True),
    ("watch same key twice, changed", ["SET k v"], "k k", ["SET k w"], True),
    ("watch same key twice, unchanged", ["SET k v"], "k k", [], False),
    ("watch in two calls", [], "k", ["@WATCH j", "SET j 1"], True),
    ("many keys, one changed", [], " ".join(f"k{i}" for i in range(200)), ["SET k157 v"], True),
    ("many keys, none changed", [], " ".join(f"k{i}" for i in range(200)), ["SET k200 v"],
     False),
    ("own write to watched key", ["SET k v"], "k", ["@SET k v"], True),
    ("own delete of watched key", ["SET k v"], "k", ["@DEL k"], True),
    ("own write to another key", ["SET k v"], "k", ["@SET z v"], False),
    ("own read", ["SET k v"], "k", ["@GET k", "@TTL k"], False),
    ("other client's transaction", ["SET k v"], "k", ["MULTI", "SET k 6", "EXEC"], True),
    ("other client's discarded transaction", ["SET k v"], "k",
     ["MULTI", "SET k 6", "DISCARD"], False),
    ("other client's aborted transaction", ["SET k v"], "k",
     ["MULTI", "SET k 6", "NOSUCH", "EXEC"], False),
    ("exec without multi keeps watch", [], "k", ["@EXEC", "SET k 1"], True),
    ("discard without multi keeps watch", [], "k", ["@DISCARD", "SET k 1"], True),
    ("dirty flag survives rewatch", [], "k", ["SET k 2", "@WATCH k", "@WATCH j"], True),
    ("unwatch clears dirty flag", [], "k", ["SET k 2", "@UNWATCH", "@WATCH k"], False),
    ("unwatch then change", [], "k", ["@UNWATCH", "SET k 2"], False),
]


@pytest.mark.parametrize("setup,keys,between,aborts",
                         [pytest.param(*c[1:], id=c[0]) for c in W])
def test_watch(diff, new_diff, setup, keys, between, aborts):
    other = new_diff()
    diff.run(setup)
    assert diff.check("WATCH", *keys.split()) == b"+OK\r\n"
    for cmd in between:
        if cmd.startswith("@"):
            diff.check(*shlex.split(cmd[1:]))
        else:
            other.check(*shlex.split(cmd))
    diff.run(["MULTI", "PING", "SET done 1"])
    r = diff.check("EXEC")
    want = ABORTED_RESP2 if aborts else b"*2\r\n+PONG\r\n+OK\r\n"
    assert r == want, f"EXEC replied {r!r}, expected {'abort' if aborts else 'execution'}"
    diff.run(["GET done", "GET k", "DBSIZE"])
    # EXEC (aborted or not) unwatches everything: a new change does not abort.
    other.check("SET", "k", "after")
    diff.run(["MULTI", "GET done"])
    assert diff.check("EXEC")[:2] == b"*1"


# --- WATCH: lifecycle ---------------------------------------------------------------------

def test_watch_changed_during_queueing(diff, new_diff):
    other = new_diff()
    diff.run(["WATCH k", "MULTI", "SET x 1"])
    other.check("SET", "k", "3")
    assert diff.check("EXEC") == ABORTED_RESP2
    diff.run(["GET x", "GET k"])


def test_own_transaction_writes_watched_key(diff, new_diff):
    other = new_diff()
    diff.run(["WATCH k", "MULTI", "SET k 4", "GET k"])
    assert diff.check("EXEC") == b"*2\r\n+OK\r\n$1\r\n4\r\n"
    other.check("SET", "k", "5")
    diff.run(["MULTI", "GET k", "EXEC"])


def test_exec_clears_watches(diff, new_diff):
    other = new_diff()
    diff.run(["WATCH a b", "MULTI", "PING", "EXEC"])
    other.run(["SET a 1", "SET b 1"])
    diff.run(["MULTI", "GET a"])
    assert diff.check("EXEC") == b"*1\r\n$1\r\n1\r\n"


def test_aborted_exec_clears_watches(diff, new_diff):
    other = new_diff()
    diff.check("WATCH", "a")
    other.check("SET", "a", "1")
    diff.run(["MULTI", "PING"])
    assert diff.check("EXEC") == ABORTED_RESP2
    other.check("SET", "a", "2")
    diff.run(["MULTI", "GET a"])
    assert diff.check("EXEC") == b"*1\r\n$1\r\n2\r\n"


def test_discard_clears_watches(diff, new_diff):
    other = new_diff()
    diff.run(["WATCH a", "MULTI", "SET a mine", "DISCARD"])
    other.check("SET", "a", "theirs")
    diff.run(["MULTI", "GET a"])
    assert diff.check("EXEC") == b"*1\r\n$6\r\ntheirs\r\n"


def test_execabort_clears_watches(diff, new_diff):
    other = new_diff()
    diff.run(["WATCH k", "MULTI", "NOSUCH"])
    assert diff.check("EXEC") == EXECABORT
    other.check("SET", "k", "1")
    diff.run(["MULTI"])
    assert diff.check("EXEC") == b"*0\r\n"


def test_execabort_takes_precedence_over_watch(diff, new_diff):
    other = new_diff()
    diff.check("WATCH", "a")
    other.check("SET", "a", "7")
    diff.run(["MULTI", "GET a", "NOSUCH"])
    assert diff.check("EXEC") == EXECABORT


def test_unwatch(diff, new_diff):
    other = new_diff()
    diff.run(["UNWATCH", "WATCH a b", "UNWATCH", "UNWATCH"])
    other.run(["SET a 1", "SET b 1"])
    diff.run(["MULTI", "MGET a b", "EXEC"])


def test_watch_key_with_ttl_that_does_not_expire(diff):
    diff.run(["SET k v EX 1000", "WATCH k", "MULTI", "TTL k"])
    assert diff.check("EXEC") == b"*1\r\n:1000\r\n"


# --- WATCH and expiry ------------------------------------------------------------------

def _watch_short_lived_key(diff) -> list[int]:
    """SET k with a 100 ms TTL and WATCH it in one write, so the key is certainly
    alive when WATCH runs (EXISTS -> :1). Returns each server's PEXPIRETIME of k."""
    cmds = [("SET", "k", "v"), ("PEXPIRE", "k", "100"), ("WATCH", "k"), ("EXISTS", "k"),
            ("PEXPIRETIME", "k")]
    expiry = []
    for conn in (diff.ref, diff.atoll):
        replies = conn.pipeline(cmds)
        assert replies[:4] == [b"+OK\r\n", b":1\r\n", b"+OK\r\n", b":1\r\n"], \
            f"port {conn.port}: {replies!r}"
        assert replies[4][:1] == b":", f"port {conn.port}: PEXPIRETIME replied {replies[4]!r}"
        expiry.append(int(replies[4][1:-2]))
    return expiry


def _server_ms(conn: resp.Conn) -> int:
    sec, usec = resp.parse(conn.command("TIME"))
    return int(sec) * 1000 + int(usec) // 1000


def test_watched_key_expires_and_is_deleted_by_active_expiry(diff):
    _watch_short_lived_key(diff)
    for conn in (diff.ref, diff.atoll):      # DBSIZE never touches (or expires) k
        _wait_until(conn, ("DBSIZE",), b":0\r\n")
    diff.run(["MULTI", "PING"])
    assert diff.check("EXEC") == ABORTED_RESP2
    diff.run(["EXISTS k", "DBSIZE"])


def test_watched_key_expires_and_is_deleted_by_another_clients_read(diff, new_diff):
    other = new_diff()
    _watch_short_lived_key(diff)
    for conn in (other.ref, other.atoll):    # the lookup deletes the expired key
        _wait_until(conn, ("EXISTS", "k"), b":0\r\n")
    diff.run(["MULTI", "PING"])
    assert diff.check("EXEC") == ABORTED_RESP2


def test_watched_key_logically_expired_at_exec(diff):
    # Wait (by the server's own clock, via TIME) until the TTL has passed without
    # touching the key: it may or may not have been reclaimed by active expiry
    # yet; EXEC must abort either way.
    expiry = _watch_short_lived_key(diff)
    for conn, at in zip((diff.ref, diff.atoll), expiry):
        deadline = time.monotonic() + 10.0
        now = _server_ms(conn)
        while now <= at and time.monotonic() < deadline:
            time.sleep(0.005)  # short poll interval inside a bounded loop
            now = _server_ms(conn)
        assert now > at, f"port {conn.port}: server time {now} never passed {at}"
    diff.run(["MULTI", "PING"])
    assert diff.check("EXEC") == ABORTED_RESP2


def test_watched_key_expired_then_recreated(diff, new_diff):
    other = new_diff()
    _watch_short_lived_key(diff)
    for conn in (diff.ref, diff.atoll):
        _wait_until(conn, ("DBSIZE",), b":0\r\n")
    other.check("SET", "k", "v")
    diff.run(["MULTI", "GET k"])
    assert diff.check("EXEC") == ABORTED_RESP2
