"""Differential tests for connection, server and introspection commands.

PING/ECHO/HELLO/AUTH/QUIT/RESET/CLIENT/COMMAND/CONFIG/TIME/LASTSAVE/SLOWLOG/
INFO, unknown-command and arity errors. Values that legitimately differ
between two servers (client ids, versions, addresses, timestamps) are compared
by shape only, everything else byte for byte.
"""

import pytest

import resp
from diff import shape


def test_ping_echo(diff):
    diff.run([
        "PING", "PING hello", "PING ''", "PING 'a b'", "PING a b", "ping", "PiNg x",
        "ECHO hi", "ECHO ''", "ECHO", "ECHO a b", ("ECHO", bytes(range(256))),
        ("PING", b"\r\n"),
    ])


HELLO_KEYS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]


def _hello_map(raw: bytes) -> dict:
    v = resp.parse(raw)
    if isinstance(v, list):
        v = dict(zip(v[0::2], v[1::2]))
    return v


@pytest.mark.parametrize("proto", ["2", "3"])
def test_hello_shape(diff, proto):
    r, a = diff.both("HELLO", proto)
    assert r[:1] == a[:1], (r, a)
    rm, am = _hello_map(r), _hello_map(a)
    assert list(rm) == HELLO_KEYS
    assert list(am) == HELLO_KEYS, a
    for key in (b"proto", b"mode", b"role", b"modules"):
        assert rm[key] == am[key], (key, rm[key], am[key])
    assert am[b"proto"] == int(proto)
    assert isinstance(am[b"id"], int) and isinstance(am[b"version"], bytes)
    # The connection now speaks the chosen protocol.
    diff.run(["GET missing", "PING", "SET k v", "CONFIG GET timeout", "MGET k nope"])


def test_hello_no_args_and_errors(diff):
    r, a = diff.both("HELLO")
    assert r[:1] == a[:1] == b"*"
    assert list(_hello_map(a)) == HELLO_KEYS
    diff.run([
        "HELLO 4", "HELLO 1", "HELLO 0", "HELLO -1", "HELLO abc", "HELLO 2.0",
        "HELLO 3 FOO", "HELLO 2 AUTH", "HELLO 2 AUTH default", "HELLO 2 SETNAME",
        "HELLO 2 SETNAME 'a b'", "HELLO 2 SETNAME 'a\nb'", "HELLO 4 SETNAME x",
        "HELLO 2 AUTH nosuchuser pw", "CLIENT GETNAME",
        # Without requirepass the default user is "nopass": any password works.
        shape("HELLO 2 AUTH default wrongpass"),
    ])


def test_hello_auth_and_setname(diff):
    r, a = diff.both("HELLO", "3", "AUTH", "default", "anything", "SETNAME", "myname")
    assert r[:1] == a[:1] == b"%"
    diff.run(["CLIENT GETNAME", "GET nope"])
    r, a = diff.both("HELLO", "2", "SETNAME", "other")
    assert r[:1] == a[:1] == b"*"
    diff.run(["CLIENT GETNAME", "GET nope"])


def test_auth_without_requirepass(diff):
    diff.run([
        "AUTH pass", "AUTH default pass", "AUTH user pass", "AUTH a b c", "AUTH",
        "AUTH ''", "PING",
    ])


def test_quit(diff):
    diff.check("SET", "k", "v")
    diff.check("QUIT")
    for conn in (diff.ref, diff.atoll):
        data, closed = conn.read_until_close(3.0)
        assert (data, closed) == (b"", True), f"port {conn.port}: {data!r} closed={closed}"


def test_quit_in_pipeline_drops_later_commands(ref_port, atoll_port):
    out = []
    for port in (ref_port, atoll_port):
        with resp.Conn(port) as c:
            c.send_raw(resp.encode("PING") + resp.encode("QUIT") + resp.encode("PING"))
            out.append(c.read_until_close(3.0))
    assert out[0] == out[1] == (b"+PONG\r\n+OK\r\n", True), out


def test_reset(diff):
    diff.run([
        "SELECT 3", "SET k v", "CLIENT SETNAME named", "CLIENT REPLY ON",
        "RESET", "GET k", "CLIENT GETNAME", "RESET extra",
    ])
    r, a = diff.both("HELLO", "3")
    diff.run(["GET nope", "RESET", "GET nope"])  # RESET goes back to RESP2


# --- CLIENT ----------------------------------------------------------------------

def test_client_id_and_names(diff):
    diff.run([
        shape("CLIENT ID"), "CLIENT GETNAME", "CLIENT SETNAME x", "CLIENT GETNAME",
        "CLIENT SETNAME ''", "CLIENT GETNAME", "CLIENT SETNAME 'a b'",
        "CLIENT SETNAME 'a\nb'", ("CLIENT", "SETNAME", b"\x7f"), ("CLIENT", "SETNAME", "é"),
        "CLIENT SETNAME name-with_punct!@#", "CLIENT GETNAME", "CLIENT SETNAME",
        "CLIENT SETNAME a b", "CLIENT GETNAME x", "CLIENT ID x", "client getname",
    ])


def test_client_id_is_unique_and_increasing(atoll_port):
    with resp.Conn(atoll_port) as a, resp.Conn(atoll_port) as b:
        ia, ib = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
        assert isinstance(ia, int) and isinstance(ib, int) and ib > ia
        hello = _hello_map(a.command("HELLO", "2"))
        assert hello[b"id"] == ia


def test_client_info_and_list_shape(diff):
    diff.check("CLIENT", "SETNAME", "me")
    for cmd in (("CLIENT", "INFO"), ("CLIENT", "LIST"), ("CLIENT", "LIST", "TYPE", "normal")):
        r, a = diff.both(*cmd)
        assert r[:1] == a[:1] == b"$", (cmd, r, a)
        text = resp.parse(a).decode()
        for field in ("id=", "addr=127.0.0.1:", "name=me", "db=0", "cmd="):
            assert field in text, (cmd, field, text)
    diff.run([
        "CLIENT LIST ID 999999", "CLIENT LIST foo", "CLIENT LIST ID abc",
        "CLIENT LIST TYPE foo", "CLIENT INFO x",
    ])


def test_client_no_evict(diff):
    diff.run([
        "CLIENT NO-EVICT on", "CLIENT NO-EVICT off", "CLIENT NO-EVICT ON",
        "CLIENT NO-EVICT maybe", "CLIENT NO-EVICT", "CLIENT NO-EVICT on off",
    ])


def test_client_no_touch(diff):
    """CLIENT NO-TOUCH appeared in Redis 7.2; the 7.0.15 reference rejects it.

    Atoll may either match the reference byte for byte or implement the 7.2
    semantics exactly (+OK for ON/OFF, syntax error otherwise).
    """
    cases = [("ON", b"+OK\r\n"), ("off", b"+OK\r\n"), ("maybe", b"-ERR syntax error\r\n")]
    for arg, v72 in cases:
        r, a = diff.both("CLIENT", "NO-TOUCH", arg)
        assert a in (r, v72), (arg, r, a)


def test_client_reply(diff):
    # OFF: nothing comes back until ON (which replies +OK).
    diff.check_raw(resp.encode("CLIENT", "REPLY", "OFF") + resp.encode("PING")
                   + resp.encode("SET", "k", "v") + resp.encode("CLIENT", "REPLY", "ON"))
    diff.check("GET", "k")
    # SKIP: only the command right after SKIP is silenced.
    diff.check_raw(resp.encode("CLIENT", "REPLY", "SKIP") + resp.encode("PING", "a")
                   + resp.encode("PING", "b"))
    diff.run(["CLIENT REPLY maybe", "CLIENT REPLY", "CLIENT REPLY ON ON", "CLIENT REPLY on"])


def test_client_errors(diff):
    diff.run([
        "CLIENT", "CLIENT FOO", "CLIENT FOO bar", shape("CLIENT HELP", deep=False),
    ])


# --- COMMAND ---------------------------------------------------------------------

def test_command_info_exact(diff):
    diff.run([
        "COMMAND INFO get set", "COMMAND INFO GET", "COMMAND INFO nosuch",
        "COMMAND INFO get nosuch set",
    ])


@pytest.mark.parametrize("name", [
    "get", "set", "setnx", "setex", "psetex", "getset", "getdel", "getex", "mget",
    "mset", "msetnx", "incr", "decr", "incrby", "decrby", "incrbyfloat", "append",
    "strlen", "getrange", "setrange", "substr", "lcs", "del", "unlink", "exists",
    "type", "rename", "renamenx", "copy", "move", "expire", "pexpire", "expireat",
    "pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist", "keys",
    "scan", "randomkey", "dbsize", "flushdb", "flushall", "swapdb", "touch",
    "select", "ping", "echo", "quit", "hello", "auth", "reset", "time", "lastsave",
])
def test_command_info_per_command(diff, name):
    diff.check("COMMAND", "INFO", name)


def test_command_getkeys(diff):
    diff.run([
        "COMMAND GETKEYS get k", "COMMAND GETKEYS set a b", "COMMAND GETKEYS set a b EX 10",
        "COMMAND GETKEYS mset a 1 b 2", "COMMAND GETKEYS mget a b c",
        "COMMAND GETKEYS del a b", "COMMAND GETKEYS rename a b", "COMMAND GETKEYS copy a b",
        "COMMAND GETKEYS lcs a b", "COMMAND GETKEYS GET K", "COMMAND GETKEYS nosuch a",
        "COMMAND GETKEYS get", "COMMAND GETKEYS ping", "COMMAND GETKEYS",
        "COMMAND GETKEYS mset a", "COMMAND GETKEYS select 1", "COMMAND GETKEYS keys *",
    ])


MOVABLE_KEYS = [
    "zunionstore d 2 a b WEIGHTS 1 2", "zunion 2 a b", "zunion 0 a b", "zunion 5 a b", "zunion x a b",
    "zinterstore d 1 a", "zdiffstore d 1 a", "zinter 2 a b", "zdiff 1 a", "zintercard 3 a b c LIMIT 1",
    "zmpop 1 z MIN", "bzmpop 0 1 z MIN", "lmpop 2 a b LEFT", "lmpop 3 a b LEFT", "blmpop 0 2 a b LEFT",
    "sintercard 2 a b", "eval x 2 k1 k2 a", "eval x 0", "eval_ro x 1 k", "evalsha x 1 k a", "fcall f 1 k a",
    "fcall_ro f 0", "blpop a b 0", "brpop a 0", "blmove a b LEFT RIGHT 0", "lmove a b LEFT LEFT", "smove a b m",
    "hset h f v", "sadd s m", "zadd z 1 m", "zrangestore d s 0 1", "sunionstore d a b",
]


@pytest.mark.parametrize("command", MOVABLE_KEYS)
def test_command_getkeys_by_key_specs(diff, command):
    diff.check("COMMAND", "GETKEYS", *command.split())


def test_command_count_list_docs(diff):
    r, a = diff.both("COMMAND", "COUNT")
    assert r[:1] == a[:1] == b":"
    count = resp.parse(a)
    r, a = diff.both("COMMAND", "LIST")
    names = resp.parse(a)
    # COMMAND LIST also names subcommands ("config|get"); COMMAND COUNT does not.
    assert isinstance(names, list) and len(names) >= count
    for n in (b"get", b"set", b"incrbyfloat", b"scan", b"command", b"hello"):
        assert n in names
    r, a = diff.both("COMMAND")
    assert a[:1] == b"*" and len(resp.elements(a)) == count
    # Atoll's COMMAND DOCS carries the group only (no summaries copied from Redis's docs):
    # the same top-level shape, keyed by the command name, with a matching "group".
    diff.check_shape("COMMAND", "DOCS", "get", deep=False)
    r, a = diff.both("COMMAND", "DOCS", "get")
    ref_doc, atoll_doc = resp.parse(r), resp.parse(a)
    assert atoll_doc[0] == ref_doc[0] == b"get"
    ref_fields = dict(zip(ref_doc[1][::2], ref_doc[1][1::2]))
    atoll_fields = dict(zip(atoll_doc[1][::2], atoll_doc[1][1::2]))
    assert atoll_fields[b"group"] == ref_fields[b"group"]
    diff.run([
        "COMMAND DOCS nosuch", "COMMAND LIST FILTERBY foo g*", "COMMAND LIST FILTERBY",
        "COMMAND FOO", "COMMAND COUNT x", shape("COMMAND HELP", deep=False),
    ])
    diff.check_unordered("COMMAND", "LIST", "FILTERBY", "pattern", "getex")


# --- CONFIG -------------------------------------------------------------------------

def test_config_get_set(diff):
    diff.run([
        "CONFIG GET maxclients", "CONFIG GET timeout", "CONFIG GET databases",
        "CONFIG GET nosuch", "CONFIG GET bind", "CONFIG GET save", "CONFIG GET appendonly",
        "CONFIG GET proto-max-bulk-len", "CONFIG GET TIMEOUT",
        shape("CONFIG GET port"), "CONFIG SET timeout 0", "CONFIG GET timeout",
        "CONFIG SET timeout abc", "CONFIG SET timeout -1", "CONFIG SET nosuch 1",
        "CONFIG SET timeout", "CONFIG SET", "CONFIG GET", "CONFIG FOO", "CONFIG",
        "CONFIG RESETSTAT", "CONFIG RESETSTAT x", shape("CONFIG HELP", deep=False),
    ])
    r, a = diff.both("CONFIG", "GET", "*")
    assert r[:1] == a[:1] == b"*"
    cfg = resp.parse(a)
    assert len(cfg) % 2 == 0 and b"timeout" in cfg[0::2]


def test_config_resp3_map(diff):
    diff.both("HELLO", "3")
    diff.run(["CONFIG GET timeout", "CONFIG GET databases", "CONFIG GET nosuch"])


# --- time, lastsave, slowlog, info ------------------------------------------------------

def test_time_lastsave(diff):
    diff.run([shape("TIME"), shape("LASTSAVE"), "TIME x", "LASTSAVE x"])
    t = resp.parse(diff.atoll.command("TIME"))
    assert int(t[0]) > 1_600_000_000 and 0 <= int(t[1]) < 1_000_000


def test_slowlog(diff):
    diff.run([
        "SLOWLOG RESET", "SLOWLOG LEN", "SLOWLOG GET", "SLOWLOG GET 5", "SLOWLOG GET -1",
        "SLOWLOG GET -2", "SLOWLOG GET abc", "SLOWLOG FOO", "SLOWLOG", "SLOWLOG LEN x",
        "SLOWLOG RESET x", shape("SLOWLOG HELP", deep=False),
    ])


def test_slowlog_records_the_commands_exec_runs(diff):
    """Redis's `call` logs each command EXEC runs; EXEC itself is `skip_slowlog`."""
    diff.run(["CONFIG SET slowlog-log-slower-than 0", "SLOWLOG RESET", "MULTI", "SET a 1", "INCR b",
              "EXEC", "CONFIG SET slowlog-log-slower-than 10000"])
    r, a = diff.both("SLOWLOG", "GET", "20")
    logged = [[entry[3] for entry in resp.parse(reply)] for reply in (r, a)]
    assert logged[0] == logged[1], logged
    assert [b"INCR", b"b"] in logged[1] and [b"SET", b"a", b"1"] in logged[1]
    assert not any(args[0] == b"EXEC" for args in logged[1])


def test_info_sections(diff):
    diff.run(["MSET a 1 b 2", "SELECT 2", "SET c 3", "SELECT 0"])
    for args in (("INFO",), ("INFO", "server"), ("INFO", "keyspace"), ("INFO", "all"),
                 ("INFO", "default"), ("INFO", "everything")):
        r, a = diff.both(*args)
        assert r[:1] == a[:1] == b"$", (args, a)
    full = resp.parse(diff.atoll.command("INFO")).decode()
    assert "redis_version:" in full and "# Keyspace" in full and "\r\n" in full
    diff.run(["INFO keyspace", "INFO KEYSPACE", "INFO nosuchsection"])


# --- unknown commands and arity ---------------------------------------------------------

def test_unknown_command(diff):
    diff.run([
        "foo a b", "foo", "FOO 'a b' c", "foo a b c d e f g h i j", ("foo", "x" * 200),
        ("foo", "a\r\nb"), ("x" * 200,), "'' a", ("\x00bin",), "CONFIGX GET",
        # the quoted argument list stops once it reaches 128 characters
        ("foo", *[str(i) for i in range(60)]), ("foo", *["a%d" % i * 20 for i in range(20)]),
        ("foo", "y" * 127, "z"), ("foo", "y" * 126, "z", "w"), ("foo", "'quoted'", '"dq"'),
    ])


def test_unknown_subcommand(diff):
    diff.run([
        "CONFIG x", "CONFIG foo bar", "CLIENT x", "COMMAND x", "OBJECT x", "SLOWLOG x",
        ("CONFIG", "x" * 200),
    ])


@pytest.mark.parametrize("cmd", [
    "GET", "GET a b", "SET a", "MGET", "DEL", "EXPIRE a", "TTL", "INCR", "INCRBY a",
    "ECHO", "PING a b", "SELECT", "DBSIZE x", "KEYS", "SCAN", "GETRANGE a 1",
    "CONFIG GET", "CONFIG SET a", "CONFIG RESETSTAT a", "CLIENT SETNAME",
    "CLIENT GETNAME a", "COMMAND GETKEYS", "OBJECT ENCODING",
    "SLOWLOG GET 1 2", "CLIENT ID x", "TIME x", "QUIT x", "HELLO 3 AUTH",
])
def test_arity_errors(diff, cmd):
    diff.check(*cmd.split())


def _last_command(port: int, steps) -> list:
    """CLIENT LIST's `cmd` of a client after each of `steps`, read from a second connection."""
    seen = []
    with resp.Conn(port) as client, resp.Conn(port) as observer:
        cid = client.call("CLIENT", "ID")
        for step in steps:
            client.command(*step)
            line = resp.parse(observer.command("CLIENT", "LIST", "ID", str(cid))).decode()
            seen.append(line.split(" cmd=")[1].split(" ")[0])
    return seen


def test_client_list_cmd_is_the_last_command_looked_up(ref_port, atoll_port):
    """As Redis's `lastcmd`: set when the command is looked up, so a command queued in MULTI or
    refused for its arity shows, and an unknown command or subcommand shows NULL."""
    steps = [("CLIENT", "SETNAME", "a"), ("MULTI",), ("SET", "k", "v"), ("NOSUCH",), ("DISCARD",),
             ("NOSUCH", "x"), ("GET",), ("CONFIG", "NOSUCH"), ("MULTI",), ("SET", "k", "v"), ("EXEC",),
             ("EVAL", "return redis.call('get', 'k')", "0"), ("AUTH", "a", "b")]
    expected = _last_command(ref_port, steps)
    assert expected[2] == "set" and expected[3] == "NULL" and expected[6] == "get"
    assert _last_command(atoll_port, steps) == expected
