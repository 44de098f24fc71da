"""No script freezes the server: every looping shape (and pattern calls that never return),
run by EVAL, EVALSHA and FCALL, leaves the other clients answered with BUSY once it passes
busy-reply-threshold, and each of SCRIPT KILL / FUNCTION KILL, SHUTDOWN NOSAVE and SIGTERM
ends it, whatever the script does (pcall, xpcall, coroutines, error handlers, metamethods).
An unauthenticated client gets NOAUTH for all of it and changes nothing. FUNCTION LOAD of a
looping library (or one stuck in a pattern call) stops after 500 ms.

Atoll only where Redis itself hangs or crashes (Redis 7.0.15 cannot kill a loop inside pcall
or a pattern call, panics on a looping error object, and ignores SIGTERM while a script is
busy); where Redis behaves, the same expectations run against it too."""
import contextlib
import hashlib
import signal
import time

import pytest

import resp
from busy import EVAL_BUSY, FUNCTION_BUSY, wait_busy
from procs import spawn

PASSWORD = "s3cret"
THRESHOLD_MS = "100"
NOAUTH = b"-NOAUTH Authentication required.\r\n"

# Each shape loops for ever when ARGV[1] (or the function's first argument) is '1'; with '0'
# it returns at once, so a script can first be run quick, then slow.
SHAPES = {
    "plain": "while true do end",
    "pcall": "while true do pcall(function() while true do end end) end",
    "xpcall": "while true do xpcall(function() while true do end end, function() while true do end end) end",
    "coroutine": ("while true do local co = coroutine.create(function() while true do end end) "
                  "coroutine.resume(co) end"),
    "nested-coroutines": ("local function inner() while true do end end "
                          "local function mid() while true do coroutine.resume(coroutine.create(inner)) end end "
                          "while true do coroutine.resume(coroutine.create(mid)) end"),
    "wrapped-coroutine": ("while true do pcall(function() coroutine.wrap(function() while true do end end)() end) end"),
    "error-index": "error(setmetatable({}, {__index = function() while true do end end}))",
    "error-newindex": "error(setmetatable({}, {__newindex = function() while true do end end}))",
    "pcall-error-object": ("while true do pcall(error, setmetatable({}, {__index = function() "
                           "while true do end end})) end"),
}
# One C call that runs for ever: string pattern functions backtracking exponentially
# (40 optional a's before 40 a's) or trying every split of a long subject ('.-' four times).
# The count hook never fires inside them; Atoll's matcher polls the same check.
BACKTRACK = "string.rep('a', 40), string.rep('a?', 40) .. string.rep('a', 40)"
LAZY = "string.rep('a', 300000), '.-.-.-.-b'"
PATTERN_SHAPES = {
    "pattern-find": f"string.find({BACKTRACK})",
    "pattern-find-lazy": f"string.find({LAZY})",
    "pattern-match": f"string.match({BACKTRACK})",
    "pattern-gmatch": f"for _ in string.gmatch({LAZY}) do end",
    "pattern-gsub": f"string.gsub({LAZY}, 'x')",
    "pattern-method": "(string.rep('a', 40)):find(string.rep('a?', 40) .. string.rep('a', 40))",
    "pattern-pcall": f"while true do pcall(string.find, {BACKTRACK}) end",
}
SHAPES.update(PATTERN_SHAPES)
# Shapes Redis 7.0.15 itself cannot stop (it keeps running, or panics).
REDIS_CANNOT = {"pcall", "xpcall", "wrapped-coroutine", "error-index", "pcall-error-object", "coroutine",
                "nested-coroutines", *PATTERN_SHAPES}


def eval_body(shape: str) -> str:
    return f"if ARGV[1] == '1' then {SHAPES[shape]} end return 1"


def library(shape: str) -> str:
    return (f"#!lua name=lib_{shape.replace('-', '_')}\n"
            f"redis.register_function('f_{shape.replace('-', '_')}', function(keys, args) "
            f"if args[1] == '1' then {SHAPES[shape]} end return 1 end)")


def start_script(conn: resp.Conn, runner: str, shape: str) -> bytes:
    """Runs the shape quick three times, then sends the looping run; returns its BUSY text."""
    body = eval_body(shape)
    sha = hashlib.sha1(body.encode()).hexdigest()
    fname = f"f_{shape.replace('-', '_')}"
    if runner == "fcall":
        assert conn.command("FUNCTION", "LOAD", "REPLACE", library(shape)).startswith(b"$")
        call = ("FCALL", fname, "0")
    elif runner == "evalsha":
        assert conn.command("SCRIPT", "LOAD", body) == b"$40\r\n" + sha.encode() + b"\r\n"
        call = ("EVALSHA", sha, "0")
    else:
        call = ("EVAL", body, "0")
    for _ in range(3):
        assert conn.command(*call, "0") == b":1\r\n"
    conn.send_raw(resp.encode(*call, "1"))
    return FUNCTION_BUSY if runner == "fcall" else EVAL_BUSY


def check_unauthenticated_changes_nothing(p, busy: bytes) -> None:
    """A client that never authenticated: NOAUTH for everything, the script goes on."""
    stranger = p.connect(timeout=10)
    try:
        for command in (("PING",), ("SCRIPT", "KILL"), ("FUNCTION", "KILL"), ("SHUTDOWN", "NOSAVE"),
                        ("GET", "k")):
            assert stranger.command(*command) == NOAUTH, command
    finally:
        stranger.close()
    assert p.alive()


RUNNERS = ["eval", "evalsha", "fcall"]


@contextlib.contextmanager
def busy_server(kind: str, runner: str, shape: str):
    """A server with a password whose script `shape` (run by `runner`) is busy; checks that an
    unauthenticated client changes nothing, then yields (proc, the script's connection,
    another authenticated one, the BUSY text)."""
    with spawn(kind, "--busy-reply-threshold", THRESHOLD_MS, "--requirepass", PASSWORD) as p:
        conn, other = p.connect(PASSWORD, timeout=10), p.connect(PASSWORD, timeout=10)
        try:
            busy = start_script(conn, runner, shape)
            wait_busy(other, busy)
            check_unauthenticated_changes_nothing(p, busy)
            yield p, conn, other, busy
        finally:
            conn.close()
            other.close()


def kinds_for(shape: str) -> list[str]:
    return ["atoll"] if shape in REDIS_CANNOT else ["atoll", "redis"]


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_kill_ends_every_shape(shape, runner):
    for kind in kinds_for(shape):
        with busy_server(kind, runner, shape) as (p, conn, other, busy):
            assert other.command("GET", "k") == busy
            # The other kind of KILL is refused with the BUSY text, as in Redis.
            wrong, right = (("SCRIPT", "KILL"), ("FUNCTION", "KILL")) if runner == "fcall" \
                else (("FUNCTION", "KILL"), ("SCRIPT", "KILL"))
            assert other.command(*wrong) == busy
            assert other.command(*right) == b"+OK\r\n"
            reply = conn.read_reply()
            assert reply.startswith(b"-ERR Script killed by user with SCRIPT KILL..."), (kind, reply)
            assert other.command("PING") == b"+PONG\r\n"
            assert conn.command("PING") == b"+PONG\r\n"


@pytest.mark.parametrize("stopper", ["shutdown-nosave", "sigterm", "sigint"])
@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("shape", ["plain", "pcall", "xpcall", "error-index", "nested-coroutines", "pattern-find"])
def test_shutdown_and_signals_stop_a_busy_server(shape, runner, stopper):
    # Redis 7.0.15 does not act on SIGTERM or SIGINT while a script is busy.
    for kind in kinds_for(shape) if stopper == "shutdown-nosave" else ["atoll"]:
        with busy_server(kind, runner, shape) as (p, conn, other, busy):
            if stopper == "shutdown-nosave":
                other.send_raw(resp.encode("SHUTDOWN", "NOSAVE"))
            else:
                p.proc.send_signal(signal.SIGTERM if stopper == "sigterm" else signal.SIGINT)
            assert p.wait_exit(10) is not None, f"{kind} did not exit after {stopper}"


def test_script_that_wrote_then_loops_still_leaves_busy_and_shutdown():
    """Quick three times, then it writes and loops: other clients get BUSY (the script no longer
    runs on an event loop because it was quick), KILL is refused, SHUTDOWN NOSAVE works and
    saves nothing."""
    for kind in ("atoll", "redis"):
        with spawn(kind, "--busy-reply-threshold", THRESHOLD_MS, "--save", "3600 1") as p:
            conn, other = p.connect(timeout=10), p.connect(timeout=10)
            try:
                body = "redis.call('INCR', 'n') if ARGV[1] == '1' then while true do end end return 1"
                for _ in range(3):
                    assert conn.command("EVAL", body, "0", "0") == b":1\r\n"
                conn.send_raw(resp.encode("EVAL", body, "0", "1"))
                wait_busy(other, EVAL_BUSY)
                assert other.command("SCRIPT", "KILL").startswith(b"-UNKILLABLE ")
                assert other.command("SHUTDOWN") == EVAL_BUSY
                other.send_raw(resp.encode("SHUTDOWN", "NOSAVE"))
                assert p.wait_exit(10) is not None
                assert "DB saved on disk" not in p.logs()
            finally:
                conn.close()
                other.close()


@pytest.mark.parametrize("kind", ["atoll", "redis"])
def test_function_load_of_a_looping_library_times_out(kind):
    with spawn(kind) as p:
        conn, other = p.connect(timeout=10), p.connect(timeout=10)
        try:
            started = time.monotonic()
            reply = conn.command("FUNCTION", "LOAD", "#!lua name=lib1\nwhile true do end")
            assert reply == b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n"
            assert time.monotonic() - started < 5
            assert other.command("PING") == b"+PONG\r\n"
            assert conn.command("FUNCTION", "LIST") == b"*0\r\n"
        finally:
            conn.close()
            other.close()


# The `string` global does not exist while a library loads; the method forms reach the
# same functions through the string metatable.
@pytest.mark.parametrize("body", [
    "local _ = ('a'):rep(40):find(('a?'):rep(40) .. ('a'):rep(40))",
    "local _ = ('a'):rep(300000):gsub('.-.-.-.-b', 'x')",
    "for _ in ('a'):rep(300000):gmatch('.-.-.-.-b') do end",
])
def test_function_load_of_a_pathological_pattern_times_out(body):
    """A library whose body is stuck in one pattern call fails with the load timeout after
    about 500 ms (Redis 7.0.15 hangs there)."""
    with spawn("atoll") as p:
        conn, other = p.connect(timeout=10), p.connect(timeout=10)
        try:
            started = time.monotonic()
            reply = conn.command("FUNCTION", "LOAD", f"#!lua name=lib1\n{body}")
            elapsed = time.monotonic() - started
            assert reply == b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n"
            assert 0.4 < elapsed < 2, elapsed
            assert other.command("PING") == b"+PONG\r\n"
            assert conn.command("FUNCTION", "LIST") == b"*0\r\n"
        finally:
            conn.close()
            other.close()


def crc64(data: bytes) -> int:
    """Redis's CRC-64 (Jones polynomial, reflected), bit by bit."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5 if crc & 1 else 0)
    return crc


def function_payload(code: bytes) -> bytes:
    """A FUNCTION DUMP payload: the function opcode, the code as an RDB string, the RDB
    version (10) and the CRC-64 of all that."""
    n = len(code)
    length = bytes([n]) if n < 64 else bytes([0x40 | (n >> 8), n & 0xFF]) if n < 16384 \
        else b"\x80" + n.to_bytes(4, "big")
    body = bytes([245]) + length + code + (10).to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def test_function_restore_of_a_looping_library_times_out():
    """FUNCTION RESTORE runs the library's code too, and stops it after 500 ms like FUNCTION
    LOAD (Redis 7.0.15 applies no limit there and hangs for ever)."""
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    quick = b"#!lua name=lib2\nredis.register_function('f', function() return 1 end)"
    looping = b"#!lua name=lib3\nwhile true do end"
    for kind in ("redis", "atoll"):
        with spawn(kind) as p:
            conn, other = p.connect(timeout=10), p.connect(timeout=10)
            try:
                assert conn.command("FUNCTION", "LOAD", quick) == b"$4\r\nlib2\r\n"
                # The builder makes exactly what each server dumps.
                assert resp.parse(conn.command("FUNCTION", "DUMP")) == function_payload(quick)
                if kind == "redis":
                    continue
                started = time.monotonic()
                reply = conn.command("FUNCTION", "RESTORE", function_payload(looping))
                assert reply == b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n"
                assert time.monotonic() - started < 5
                assert other.command("FCALL", "f", "0") == b":1\r\n"
            finally:
                conn.close()
                other.close()
