"""The command table as data: the generated Swift is what the data gives, the data is what
redis-server 7.0.15 reports, and Atoll answers COMMAND INFO and COMMAND DOCS byte for byte as
redis-server does, in RESP2 and RESP3, for every command it serves."""
import json
import os
import subprocess
import sys

import pytest

import resp

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
DATA = os.path.join(ROOT, "data", "redis-7.0.15-commands.json")


def _names(conn) -> list[str]:
    return [n.decode() for n in resp.parse(conn.command("COMMAND", "LIST"))]


def _reference_names() -> set[str]:
    with open(DATA) as f:
        commands = json.load(f)["commands"]
    return {c["name"] for c in commands} | {s["name"] for c in commands for s in c["subcommands"]}


def test_generated_swift_is_what_the_data_gives():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "dev", "gen-command-table.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_data_is_what_redis_server_reports(tmp_path):
    out = tmp_path / "commands.json"
    done = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "dev", "dump-redis-commands.py"),
                           "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with open(DATA) as f:
        checked_in = json.load(f)
    assert json.loads(out.read_text()) == checked_in


def _containers(conn) -> set[str]:
    return {n.split("|")[0] for n in _names(conn) if "|" in n}


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("what", ["INFO", "DOCS"])
def test_every_command_answers_as_redis(ref_conn, atoll_conn, protocol, what):
    """Containers are left out here: Redis lists their subcommands in its hash order, and Atoll
    serves some of them only; their subcommands are compared one by one."""
    for conn in (ref_conn, atoll_conn):
        conn.command("HELLO", str(protocol))
    reference = _reference_names()
    containers = _containers(atoll_conn)
    compared, mismatches = 0, []
    for name in _names(atoll_conn):
        if name not in reference or name in containers:
            continue
        ours, theirs = atoll_conn.command("COMMAND", what, name), ref_conn.command("COMMAND", what, name)
        compared += 1
        if ours != theirs:
            mismatches.append(f"{name}:\n  atoll: {ours[:300]!r}\n  redis: {theirs[:300]!r}")
    assert compared > 200
    assert not mismatches, "\n".join(mismatches[:10])


@pytest.mark.parametrize("what", ["INFO", "DOCS"])
def test_containers_answer_as_redis_for_the_subcommands_atoll_serves(ref_conn, atoll_conn, what):
    """Subcommands newer than Redis 7.0 (CLIENT NO-TOUCH) have nothing to compare with."""
    for conn in (ref_conn, atoll_conn):
        conn.command("HELLO", "3")
    reference = _reference_names()
    served = set(_names(atoll_conn)) & reference
    for container in sorted(_containers(atoll_conn)):
        ours = resp.parse(atoll_conn.command("COMMAND", what, container))
        theirs = resp.parse(ref_conn.command("COMMAND", what, container))
        if what == "INFO":
            (ours,), (theirs,) = ours, theirs
            assert ours[:9] == theirs[:9], container
            ours_subs = {s[0]: s for s in ours[9] if s[0].decode() in reference}
            theirs_subs = {s[0]: s for s in theirs[9] if s[0].decode() in served}
        else:
            ours, theirs = ours[container.encode()], theirs[container.encode()]
            ours_subs, theirs_subs = ours.pop(b"subcommands"), theirs.pop(b"subcommands")
            ours_subs = {k: v for k, v in ours_subs.items() if k.decode() in reference}
            theirs_subs = {k: v for k, v in theirs_subs.items() if k.decode() in served}
            assert ours == theirs, container
        assert ours_subs == theirs_subs, container


def test_commands_without_a_handler_are_absent(atoll_conn):
    """Atoll lists only what it serves (a container when it serves one of its subcommands):
    a reference command nobody binds is not in COMMAND LIST, and COMMAND INFO gives it null."""
    names = set(_names(atoll_conn))
    reference = _reference_names()
    assert names <= reference | {"client|no-touch", "delex", "digest"}
    unserved = sorted(reference - names)
    assert unserved
    replies = resp.parse(atoll_conn.command("COMMAND", "INFO", *unserved))
    assert replies == [None] * len(unserved)
