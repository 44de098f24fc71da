"""Raw-byte protocol tests: inline commands, pipelining, malformed input, RESP3.

Malformed inputs are each sent on a fresh connection to both servers; the
reply bytes *and* whether the server closed the connection are compared.
Also covers RESP3 reply encodings after HELLO 3 and `redis-cli --pipe`.
"""

import subprocess

import pytest

import resp
from diff import shape

PING = resp.encode("PING")


def _session(port: int, data: bytes, mode: str):
    """Send ``data`` on a new connection; return (reply bytes, closed).

    mode "close":    the server is expected to answer and close; wait up to 3 s.
    mode "sentinel": a PING is appended; read until its +PONG (or close/3 s).
    mode "partial":  the input is incomplete; collect what comes in 0.3 s.
    """
    with resp.Conn(port) as c:
        if mode == "sentinel":
            c.send_raw(data + PING)
            return c.read_until_close(3.0, stop=lambda d: d.endswith(b"+PONG\r\n"))
        c.send_raw(data)
        return c.read_until_close(3.0 if mode == "close" else 0.3)


def _compare(ref_port, atoll_port, data, mode):
    r = _session(ref_port, data, mode)
    a = _session(atoll_port, data, mode)
    assert r == a, f"input {data[:200]!r}:\n  redis: {r!r}\n  atoll: {a!r}"
    expect_closed = mode == "close"
    assert r[1] == expect_closed, f"reference behaved unexpectedly for {data!r}: {r!r}"
    return r


# --- inline commands -----------------------------------------------------------

INLINE_OK = [
    b"PING\r\n",
    b"PING\n",
    b"ping hello\r\n",
    b"  PING   \r\n",
    b"\r\n",
    b"\n\n\r\n",
    b"SET a \"hello world\"\r\nGET a\r\n",
    b"SET a 'single quoted'\r\nGET a\r\n",
    b"ECHO \"\\x41\\x42\\x7a\"\r\n",
    b"ECHO \"\\x4\"\r\n",
    b"ECHO \"\\xZZ\"\r\n",
    b"ECHO \"\\n\\t\\r\\b\\a\\\\\\\"q\"\r\n",
    b"ECHO 'a\\'b'\r\n",
    b"ECHO 'no \\n escape'\r\n",
    b"ECHO \"\"\r\n",
    b"ECHO ''\r\n",
    b"\"ECHO\" x\r\n",
    b"ECHO a\tb\r\n",
    b"ECHO \"a\tb\"\r\n",
    b"SET k v\r\nGET k\r\nDEL k\r\nGET k\r\n",
    b"SET k\r\n",
    b"nosuchcommand a b\r\n",
    b"GET\r\n",
    b"$3\r\nfoo\r\n",
    b"+PING\r\n",
    b":1\r\n",
    b"MSET a 1 b 2\r\nMGET a b c\r\n",
    b"PING\r\n*1\r\n$4\r\nPING\r\nPING\r\n",
]


@pytest.mark.parametrize("data", INLINE_OK, ids=[repr(d)[:40] for d in INLINE_OK])
def test_inline_commands(ref_port, atoll_port, data):
    _compare(ref_port, atoll_port, data, "sentinel")


INLINE_CLOSE = [
    b"ECHO \"abc\r\n",
    b"ECHO 'abc\r\n",
    b"ECHO \"abc\"def\r\n",
    b"ECHO 'abc'def\r\n",
    b"ECHO 'it''s'\r\n",
    b"SET k \"unterminated\\\"\r\n",
    b"PING\r\nECHO \"open\r\nPING\r\n",
    b"ECHO \"quoted\"\"adjacent\"\r\n",
    b"x" * 66000,
]


@pytest.mark.parametrize("data", INLINE_CLOSE, ids=[repr(d)[:40] for d in INLINE_CLOSE])
def test_inline_errors_close_connection(ref_port, atoll_port, data):
    _compare(ref_port, atoll_port, data, "close")


# --- pipelining ---------------------------------------------------------------------

def test_pipeline_100_commands(diff):
    cmds = []
    for i in range(100):
        cmds.append(["SET", f"k{i}", f"v{i}"] if i % 3 else ["INCR", "counter"])
    cmds += [["MGET"] + [f"k{i}" for i in range(100)], ["GET", "counter"], ["DBSIZE"]]
    diff.check_pipeline(cmds)


def test_pipeline_mixed_with_errors(diff):
    cmds = []
    for i in range(100):
        cmds.append(("SET", "x", "y", "NX", "XX") if i % 10 == 0 else ("INCR", "c"))
        cmds.append(("GET", "c"))
        if i % 25 == 0:
            cmds.append(("nosuch", i))
    diff.check_pipeline(cmds)


def test_pipeline_single_write_raw(diff):
    data = b"".join(resp.encode("SET", f"k{i}", "x" * i) for i in range(100))
    data += b"".join(resp.encode("STRLEN", f"k{i}") for i in range(100))
    diff.check_raw(data, replies=200)


def test_request_split_into_single_bytes(diff):
    data = resp.encode("SET", "key", "a value\r\nwith crlf") + resp.encode("GET", "key")
    for conn in (diff.ref, diff.atoll):
        for i in range(len(data)):
            conn.send_raw(data[i:i + 1])
    r = diff.ref.read_reply() + diff.ref.read_reply()
    a = diff.atoll.read_reply() + diff.atoll.read_reply()
    assert r == a
    diff.check("GET", "key")


def test_large_multibulk(diff):
    args = []
    for i in range(5000):
        args += [f"key:{i}", f"value:{i}"]
    diff.check("MSET", *args)
    diff.check("DBSIZE")
    diff.check("MGET", *[f"key:{i}" for i in range(0, 5000, 7)])
    big = b"\x00\r\n" * 200_000
    diff.check("SET", "big", big)
    diff.check("STRLEN", "big")


# --- malformed multibulk input ------------------------------------------------------

MALFORMED_CLOSE = [
    b"*1\r\nx3\r\n",
    b"*1\r\n*1\r\n",
    b"*1\r\n:1\r\n",
    b"*2\r\n$3\r\nGET\r\n+k\r\n",
    b"*abc\r\n",
    b"*\r\n",
    b"*1x\r\n",
    b"*2147483648\r\n",
    b"*99999999999999999999\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$abc\r\n",
    b"*1\r\n$\r\n",
    b"*1\r\n$1x\r\n",
    b"*1\r\n$999999999999\r\n",
    b"*1\r\n$536870913\r\n",
    b"*1\r\n$-1\r\n",
    b"PING\r\n*1\r\n$-5\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\nx\r\n",
]


@pytest.mark.parametrize("data", MALFORMED_CLOSE, ids=[repr(d)[:40] for d in MALFORMED_CLOSE])
def test_malformed_input_closes(ref_port, atoll_port, data):
    _compare(ref_port, atoll_port, data, "close")


MALFORMED_OPEN = [
    b"*-1\r\n",
    b"*0\r\n",
    b"*-5\r\n",
    b"*1\r\n$0\r\n\r\n",
    b"*1\r\n$3\r\nfooXX\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
]


@pytest.mark.parametrize("data", MALFORMED_OPEN, ids=[repr(d)[:40] for d in MALFORMED_OPEN])
def test_odd_but_accepted_input(ref_port, atoll_port, data):
    _compare(ref_port, atoll_port, data, "sentinel")


PARTIAL = [
    b"*1\r\n$3\r\nfoo",
    b"*2\r\n$3\r\nGET\r\n",
    b"*1048577\r\n",
    b"*1\r\n$536870912\r\n",
    b"*1\r",
    b"PING",
]


@pytest.mark.parametrize("data", PARTIAL, ids=[repr(d)[:40] for d in PARTIAL])
def test_incomplete_input_waits(ref_port, atoll_port, data):
    _compare(ref_port, atoll_port, data, "partial")


def test_incomplete_then_completed(diff):
    diff.ref.send_raw(b"*1\r\n$3\r\nfoo")
    diff.atoll.send_raw(b"*1\r\n$3\r\nfoo")
    diff.check_raw(b"\r\n")
    diff.ref.send_raw(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
    diff.atoll.send_raw(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
    diff.check_raw(b"lo\r\n")
    diff.check("PING")


# --- RESP3 ------------------------------------------------------------------------------

def test_resp3_replies(diff):
    diff.check_shape("HELLO", "3")
    diff.run([
        "GET missing", "RANDOMKEY", "SET k v", "GET k", "SET k v2 GET", "SET n v NX GET",
        "MGET k missing n", "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 1e3", "INCR i",
        "EXISTS k", "TTL k", "GETEX missing", "GETDEL missing",
        "KEYS nomatch*", "SCAN 0 MATCH nomatch*", "PING", "PING x", "ECHO e",
        "SET k v NX XX", "nosuch", "CONFIG GET timeout", "CONFIG GET nosuch",
        "LCS k n IDX", "LCS k n", "COMMAND INFO get", "COMMAND INFO nosuch",
        "COMMAND GETKEYS set a b", "OBJECT ENCODING k", "OBJECT ENCODING missing",
        "CLIENT GETNAME", "CLIENT SETNAME r3", "CLIENT GETNAME", "DBSIZE",
        shape("TIME"), shape("CLIENT INFO"), shape("CLIENT ID"), "EXPIRETIME k",
        # Reset first: every command is timed, and an earlier one may have been slow on
        # either server (the debug build's MSET of 10,000 keys was).
        "SLOWLOG RESET", "SLOWLOG GET", shape("OBJECT HELP", deep=False), shape("HELLO 2 SETNAME x"),
        "GET missing",
    ])


def test_resp3_client_info_is_verbatim(diff):
    diff.check_shape("HELLO", "3")
    r, a = diff.both("CLIENT", "INFO")
    assert r[:1] == a[:1] == b"="
    assert a.split(b"\r\n", 2)[1].startswith(b"txt:")


# --- redis-cli --pipe mass insert -------------------------------------------------------

def test_redis_cli_pipe_mass_insert(atoll_port):
    data = b"".join(resp.encode("SET", f"key:{i}", f"value:{i}") for i in range(10000))
    proc = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(atoll_port), "--pipe"],
        input=data, capture_output=True, timeout=60)
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, out
    assert "errors: 0, replies: 10000" in out, out
    with resp.Conn(atoll_port) as c:
        assert c.command("DBSIZE") == b":10000\r\n"
        assert c.command("GET", "key:9999") == b"$10\r\nvalue:9999\r\n"
