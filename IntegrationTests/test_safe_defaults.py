"""Redis 7's safe defaults, compared with a private redis-server started with the same flags (or
the same configuration file): protected mode, the MODULE commands behind
`enable-module-command`, and `rename-command`.

Protected mode refuses clients that are not local (127.0.0.1, ::1, a Unix socket) while the
default user has no password; Redis 7 does so whatever `bind` says. The tests connect from
127.0.0.2, another address of the loopback interface that Redis does not count as local, so
the traffic never leaves this machine.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time

import pytest

import resp
from diff import shape, unordered
from procs import diff_of, spawn, spawn_both

NOT_LOCAL = "127.0.0.2"


servers = spawn_both


def everything_sent(port: int, source: str, timeout: float = 5.0) -> bytes:
    """All the bytes the server sends, unasked, to a client from `source` until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as s:
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                return received
            received += chunk
        raise AssertionError(f"the server did not close the connection; got {received!r}")


def stat(conn: resp.Conn, name: str) -> str:
    info = resp.parse(conn.command("INFO", "stats")).decode()
    return next(line.split(":", 1)[1] for line in info.splitlines() if line.startswith(name + ":"))


# MARK: - Protected mode

@pytest.mark.parametrize("flags", [[], ["--bind", "0.0.0.0"], ["--protected-mode", "yes"]],
                         ids=["default", "bind-all", "explicit"])
def test_a_non_local_client_is_denied_and_closed(flags):
    with servers(*flags) as (r, a):
        ref = everything_sent(r.port, NOT_LOCAL)
        atoll = everything_sent(a.port, NOT_LOCAL)
        assert atoll == ref, (atoll, ref)
        assert ref.startswith(b"-DENIED Redis is running in protected mode")
        with diff_of(r, a) as d:
            d.run(["PING", "CONFIG GET protected-mode"])
            assert stat(d.ref, "rejected_connections") == stat(d.atoll, "rejected_connections") == "1"


@pytest.mark.parametrize("flags", [["--protected-mode", "no"], ["--requirepass", "pw"]], ids=["off", "password"])
def test_a_non_local_client_is_served_when_protected_mode_is_off_or_a_password_is_set(flags):
    with servers(*flags) as (r, a), diff_of(r, a, source=NOT_LOCAL) as d:
        d.run(["PING", "AUTH pw", "PING", "CLIENT SETNAME remote", "CLIENT GETNAME"])


def test_config_set_protected_mode_applies_to_new_connections():
    with servers() as (r, a):
        with diff_of(r, a) as local:
            local.run(["CONFIG SET protected-mode no", "CONFIG GET protected-mode"])
            with diff_of(r, a, source=NOT_LOCAL) as remote:
                remote.run(["PING", "SET k v"])
            local.run(["CONFIG SET protected-mode yes", "CONFIG SET requirepass pw"])
            with diff_of(r, a, source=NOT_LOCAL) as remote:
                remote.run(["PING", "AUTH pw", "GET k"])
            local.run(["AUTH pw", "CONFIG SET requirepass ''"])
        assert everything_sent(a.port, NOT_LOCAL) == everything_sent(r.port, NOT_LOCAL)


# MARK: - MODULE

MODULE_SCRIPT = [
    "MODULE HELP",
    "MODULE LIST",
    "MODULE LOAD /nonexistent/module.so",
    "MODULE LOAD /nonexistent/module.so arg1 arg2",
    "MODULE LOADEX /nonexistent/module.so",
    "MODULE LOADEX /nonexistent/module.so CONFIG name value ARGS a b",
    "MODULE UNLOAD nosuch",
    "MODULE",
    "MODULE NOSUCH",
    "MODULE LOAD",
    "MODULE LIST extra",
    "MODULE UNLOAD",
    "MODULE HELP extra",
    "MULTI", "MODULE LOAD /x.so", "EXEC",
    "COMMAND INFO module|load module|list",
    unordered("COMMAND LIST FILTERBY PATTERN module*"),
]


@pytest.mark.parametrize("setting", ["no", "yes", "local"])
def test_module_commands(setting):
    with servers("--enable-module-command", setting) as (r, a), diff_of(r, a) as d:
        d.run(["CONFIG GET enable-module-command", "CONFIG SET enable-module-command yes", *MODULE_SCRIPT])


def test_module_commands_local_refuses_a_non_local_client():
    with servers("--enable-module-command", "local", "--protected-mode", "no") as (r, a), \
            diff_of(r, a, source=NOT_LOCAL) as d:
        d.run(["MODULE LIST", "MODULE LOAD /nonexistent/module.so", "MODULE UNLOAD nosuch"])


def test_module_commands_are_refused_before_authentication():
    with servers("--requirepass", "pw") as (r, a), diff_of(r, a) as d:
        d.run(["MODULE LOAD /x.so", "MODULE LIST", "AUTH pw", "MODULE LIST", "MODULE UNLOAD x"])


# MARK: - rename-command

RENAMES = ["--rename-command", "get", "myget", "--rename-command", "flushall", "", "--rename-command", "CONFIG", "cfg"]


def test_rename_command_on_the_command_line():
    with servers(*RENAMES) as (r, a), diff_of(r, a) as d:
        d.run([
            "SET k v",
            "MYGET k",
            "myget nosuch",
            "GET k",
            "FLUSHALL",
            "cfg GET hz",
            "CONFIG GET hz",
            "COMMAND INFO get myget flushall config config|get cfg|get",
            shape("COMMAND INFO cfg", deep=False),  # its subcommands come in Redis's hash order
            "COMMAND DOCS myget",
            unordered("COMMAND LIST FILTERBY PATTERN get*"),
            unordered("COMMAND LIST FILTERBY PATTERN flush*"),
            unordered("COMMAND LIST FILTERBY PATTERN config*"),
            "COMMAND GETKEYS myget k",
            "COMMAND GETKEYS get k",
            "myget",
            "MULTI", "myget k", "EXEC",
            "EVAL \"return redis.call('myget', 'k')\" 0",
            "EVAL \"return redis.pcall('get', 'k')\" 0",
        ])
        for conn in (d.ref, d.atoll):
            assert conn.command("COMMAND", "INFO", "cfg").startswith(b"*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n")
        # Statistics keep the original name; a removed command leaves COMMAND COUNT, a renamed one stays.
        for conn in (d.ref, d.atoll):
            assert "cmdstat_get:calls=" in resp.parse(conn.command("INFO", "commandstats")).decode()
        with spawn("redis") as r0, spawn("atoll") as a0, resp.Conn(r0.port) as ref0, resp.Conn(a0.port) as atoll0:
            for renamed, plain in ((d.ref, ref0), (d.atoll, atoll0)):
                assert resp.parse(renamed.command("COMMAND", "COUNT")) == resp.parse(plain.command("COMMAND", "COUNT")) - 1


@pytest.mark.parametrize("flags, reason", [
    (["--rename-command", "nosuch", "foo"], "No such command in rename-command"),
    (["--rename-command", "get", "set"], "Target command name already exists"),
    (["--rename-command", "get"], "Bad directive or wrong number of arguments"),
    (["--rename-command", "get", "a", "b"], "Bad directive or wrong number of arguments"),
    (["--rename-command", "get", "x", "--rename-command", "get", "y"], "No such command in rename-command"),
])
def test_rename_command_errors_stop_the_start(flags, reason):
    outputs = []
    for kind in ("redis", "atoll"):
        with spawn(kind, *flags, ready=False) as p:
            assert p.wait_exit(20.0) == 1, p.logs()
            assert "FATAL CONFIG FILE ERROR" in p.stderr_text(), p.logs()
            outputs.append(p.stderr_text().strip().splitlines()[-1])
    assert outputs == [reason, reason]


def test_a_redis_conf_with_these_directives_starts_both_alike():
    text = "\n".join([
        "# Redis 7.0 safe defaults, spelled out",
        "protected-mode yes",
        "enable-protected-configs no",
        "enable-debug-command local",
        "enable-module-command local",
        'rename-command flushdb ""',
        "rename-command keys LISTKEYS",
        'rename-command "debug" "dbg"',
        "tls-port 0",
        "tls-auth-clients optional",
        "tls-protocols \"TLSv1.2 TLSv1.3\"",
        "tls-session-caching no",
        "",
    ])
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(text)
    try:
        with servers(config=f.name) as (r, a):
            with diff_of(r, a) as d:
                d.run([
                    "SET a 1",
                    "LISTKEYS *",
                    "KEYS *",
                    "FLUSHDB",
                    "DBG SET-ACTIVE-EXPIRE 1",
                    shape("DBG HELP", deep=False),
                    "DEBUG HELP",
                    "MODULE LIST",
                    "MODULE UNLOAD x",
                    "CONFIG GET protected-mode",
                    unordered("CONFIG GET enable-*"),
                    "CONFIG GET tls-auth-clients",
                    "CONFIG GET tls-protocols",
                    "CONFIG GET tls-session-caching",
                    "CONFIG GET rename-command",
                    unordered("COMMAND LIST FILTERBY PATTERN flush*"),
                ])
            assert everything_sent(a.port, NOT_LOCAL) == everything_sent(r.port, NOT_LOCAL)
    finally:
        os.unlink(f.name)
