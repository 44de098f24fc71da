"""Redis 7.0's protected configs, compared with a private redis-server started with the same flags.

``dir`` and ``dbfilename`` can only be changed at run time by the clients
``enable-protected-configs`` allows (nobody by default), and DEBUG only runs for the
clients ``enable-debug-command`` allows; both settings come from the file or flags only.
``local`` admits clients on 127.0.0.1 (or ::1): the tests connect from 127.0.0.2, which is
still the loopback interface, to be a non-local client.
"""

from __future__ import annotations

import os
import tempfile

from diff import shape
from procs import diff_of, spawn, spawn_both

NOT_LOCAL = "127.0.0.2"


servers = spawn_both


def test_the_cron_escape_is_refused_by_default():
    target = tempfile.mkdtemp(prefix="atoll-protected-")
    try:
        with servers() as (r, a), diff_of(r, a) as d:
            d.run([
                "CONFIG GET enable-protected-configs",
                "CONFIG GET enable-debug-command",
                "SET payload '\n* * * * * root touch /tmp/owned\n'",
                ("CONFIG", "SET", "dir", target),
                "CONFIG SET dbfilename evil.sh",
                "CONFIG SET dbfilename ../x.rdb",
                ("CONFIG", "SET", "dir", target, "dbfilename", "evil.sh"),
                "SAVE",
                "CONFIG GET dbfilename",
                # Every name is checked before any value, as in Redis.
                "CONFIG SET hz abc dir /tmp",
                "CONFIG SET nosuch 1 dir /tmp",
                "CONFIG SET dir /tmp nosuch 1",
                "CONFIG SET hz 5 hz abc",
                "CONFIG GET hz",
                "CONFIG SET enable-protected-configs yes",
                "CONFIG SET enable-debug-command yes",
                "CONFIG SET appenddirname x",
                "CONFIG SET appendfilename x",
                "DEBUG HELP",
                "DEBUG RELOAD",
                "DEBUG",
                "MULTI", "DEBUG RELOAD", "EXEC",
            ])
        assert os.listdir(target) == []
    finally:
        os.rmdir(target)


def test_debug_is_refused_before_authentication():
    with servers("--requirepass", "pw") as (r, a), diff_of(r, a) as d:
        d.run(["DEBUG HELP", "CONFIG SET dir /tmp", "AUTH pw", "CONFIG SET dir /tmp"])


def test_allowed_dir_and_dbfilename_still_follow_redis_rules():
    target = tempfile.mkdtemp(prefix="atoll-protected-")
    try:
        with servers("--enable-protected-configs", "yes", "--enable-debug-command", "yes") as (r, a), \
                diff_of(r, a) as d:
            d.run([
                "CONFIG GET enable-protected-configs",
                "CONFIG GET enable-debug-command",
                ("CONFIG", "SET", "dir", target + "/../" + os.path.basename(target)),
                "CONFIG GET dir",
                "CONFIG SET dir /nonexistent-atoll-dir",
                "CONFIG SET dir /etc/passwd",
                "CONFIG SET dir ''",
                "CONFIG GET dir",
                "CONFIG SET dbfilename ../x.rdb",
                "CONFIG SET dbfilename /etc/cron.d/x",
                ("CONFIG", "SET", "dbfilename", "a\\b"),
                "CONFIG SET dbfilename ..",
                "CONFIG SET dbfilename x.rdb",
                "CONFIG GET dbfilename",
                "CONFIG SET enable-debug-command no",
                shape("DEBUG HELP", deep=False),
            ])
    finally:
        os.rmdir(target)


def test_local_admits_loopback_clients_only():
    # A password, so that protected mode lets 127.0.0.2 in.
    flags = ["--enable-protected-configs", "local", "--enable-debug-command", "local", "--requirepass", "pw"]
    with servers(*flags) as (r, a):
        with diff_of(r, a) as local:
            local.run([
                "AUTH pw",
                "CONFIG GET enable-protected-configs",
                "CONFIG SET dbfilename x.rdb",
                "CONFIG GET dbfilename",
                shape("DEBUG HELP", deep=False),
            ])
        with diff_of(r, a, source=NOT_LOCAL) as remote:
            remote.run([
                "AUTH pw",
                "CONFIG SET dbfilename y.rdb",
                "CONFIG GET dbfilename",
                "DEBUG HELP",
            ])


def test_the_directives_in_a_config_file():
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("enable-protected-configs LOCAL\nenable-debug-command Yes\ndbfilename other.rdb\n")
    try:
        with servers(config=f.name) as (r, a), diff_of(r, a) as d:
            d.run([
                "CONFIG GET enable-protected-configs",
                "CONFIG GET enable-debug-command",
                "CONFIG GET dbfilename",
                "CONFIG SET dbfilename x.rdb",
            ])
    finally:
        os.unlink(f.name)


def startup_refusal(kind: str, *flags) -> tuple[int | None, str]:
    """Exit status and the reason (last stderr line) of a server that must refuse to start."""
    with spawn(kind, *flags, ready=False) as p:
        rc = p.wait_exit(10.0)
        lines = [line for line in p.stderr_text().splitlines() if line.strip()]
        return rc, lines[-1] if lines else ""


def test_bad_values_stop_the_server_at_start_as_in_redis():
    for flags in (["--enable-protected-configs", "maybe"], ["--enable-debug-command", "sometimes"],
                  ["--dbfilename", "../x.rdb"], ["--dbfilename", "a\\b"],
                  ["--appendfilename", "a/b"], ["--appenddirname", "a/b"],
                  ["--dir", "/nonexistent-atoll-dir"]):
        redis = startup_refusal("redis", *flags)
        assert redis[0] == 1, (flags, redis)
        assert startup_refusal("atoll", *flags) == redis, flags
