"""Users from the configuration file (`user` directives) and from an ACL file (`aclfile`,
ACL SAVE, ACL LOAD), each server started with the same settings and compared with
redis-server 7.0.15."""
import pytest

import resp
from acl_support import norm_rules
from procs import redis_available, spawn

pytestmark = pytest.mark.skipif(not redis_available(), reason="needs redis-server")


def _list(conn):
    return [norm_rules(line.decode()) for line in resp.parse(conn.command("ACL", "LIST"))]


def _closed(conn) -> bool:
    _, closed = conn.read_until_close(timeout=3.0)
    return closed


def test_user_directives_in_the_configuration_file(tmp_path):
    config = tmp_path / "acl.conf"
    config.write_text("user alice on >pw ~a* +get (~b* +set)\nuser default on nopass ~* &* +@all -flushall\n"
                      "user bob off\nrequirepass ignored-by-the-default-line\n")
    with spawn("redis", config=str(config)) as r, spawn("atoll", config=str(config)) as a:
        rc, ac = r.connect(), a.connect()
        assert _list(rc) == _list(ac)
        for args in (["AUTH", "ignored-by-the-default-line"], ["FLUSHALL"], ["AUTH", "alice", "pw"], ["GET", "a1"],
                     ["GET", "x"], ["SET", "b1", "v"], ["SET", "a1", "v"], ["AUTH", "bob", "x"]):
            assert rc.command(*args) == ac.command(*args), args


@pytest.mark.parametrize("line", ["user alice on >pw +nosuchcommand", "user alice on %X~k", "user alice (~a",
                                  "user alice on\nuser alice off"])
def test_bad_user_directives_stop_the_start(tmp_path, line):
    config = tmp_path / "bad.conf"
    config.write_text(line + "\n")
    for kind in ("redis", "atoll"):
        with spawn(kind, config=str(config), ready=False) as p:
            assert p.wait_exit(10.0) not in (None, 0), (kind, p.logs())


def test_users_in_the_configuration_and_an_acl_file_refuse_to_start(tmp_path):
    acl_file = tmp_path / "users.acl"
    acl_file.write_text("user alice on nopass +@all ~*\n")
    config = tmp_path / "both.conf"
    config.write_text(f"aclfile {acl_file}\nuser bob on nopass\n")
    for kind in ("redis", "atoll"):
        with spawn(kind, config=str(config), ready=False) as p:
            assert p.wait_exit(10.0) not in (None, 0), kind


def test_acl_file_load_and_save(tmp_path):
    files = {}
    for kind in ("redis", "atoll"):
        files[kind] = tmp_path / f"{kind}.acl"
        files[kind].write_text("user default on nopass ~* &* +@all\nuser alice on >pw ~a* &ch +@read -keys\n\n")
    with spawn("redis", "--aclfile", files["redis"]) as r, spawn("atoll", "--aclfile", files["atoll"]) as a:
        rc, ac = r.connect(), a.connect()
        assert _list(rc) == _list(ac)
        for conn in (rc, ac):
            assert conn.command("ACL", "SETUSER", "carol", "on", "nopass", "+@hash", "(~x +get)") == b"+OK\r\n"
            assert conn.command("ACL", "SAVE") == b"+OK\r\n"
        saved = {kind: [norm_rules(line) for line in files[kind].read_text().splitlines()] for kind in files}
        assert saved["redis"] == saved["atoll"] and len(saved["atoll"]) == 3

        # A user authenticated as alice is disconnected by ACL LOAD, even though alice stays.
        alice = {kind: p.connect() for kind, p in (("redis", r), ("atoll", a))}
        for conn in alice.values():
            assert conn.command("AUTH", "alice", "pw") == b"+OK\r\n"
        for kind in files:
            files[kind].write_text("user alice on >pw ~* +@all\nuser dave on nopass\n")
        assert rc.command("ACL", "LOAD") == ac.command("ACL", "LOAD") == b"+OK\r\n"
        assert all(_closed(conn) for conn in alice.values())
        assert _list(rc) == _list(ac)

        # A broken file changes nothing and names every error.
        for kind in files:
            files[kind].write_text("user eve on +nosuch >x\nnot a user line\nuser eve on\nuser frank (~a +get\n  \n"
                                   "\tuser gina on %X~a #abc <x allkeys ~a\nuser\n")
        replies = [conn.command("ACL", "LOAD") for conn in (rc, ac)]
        assert replies[0].replace(str(files["redis"]).encode(), b"F") == replies[1].replace(str(files["atoll"]).encode(), b"F")
        assert _list(rc) == _list(ac)
        files["redis"].unlink()
        files["atoll"].unlink()
        replies = [conn.command("ACL", "LOAD") for conn in (rc, ac)]
        assert replies[0].replace(str(files["redis"]).encode(), b"F") == replies[1].replace(str(files["atoll"]).encode(), b"F")


def _user_lines(path):
    """The file's `user` lines in order (where other appended parameters fall may differ)."""
    return [norm_rules(line) for line in path.read_text().splitlines() if line.startswith("user ")]


def test_config_rewrite_writes_the_users(tmp_path):
    rewritten = {}
    for kind in ("redis", "atoll"):
        config = tmp_path / f"{kind}.conf"
        config.write_text("# users\nuser zed on nopass +@all ~*\nhz 10\nuser alice on >pw ~a* +get\nuser old off\n")
        with spawn(kind, config=str(config)) as p:
            c = p.connect()
            for args in (["ACL", "DELUSER", "old"], ["ACL", "SETUSER", "bob", "on", "nopass", "+@hash", "(~x +get)"],
                         ["CONFIG", "REWRITE"]):
                assert c.command(*args) in (b"+OK\r\n", b":1\r\n"), args
        rewritten[kind] = _user_lines(config)
    assert rewritten["redis"] == rewritten["atoll"] and len(rewritten["atoll"]) == 4


def test_config_rewrite_leaves_users_to_the_acl_file(tmp_path):
    lines = {}
    for kind in ("redis", "atoll"):
        acl_file = tmp_path / f"{kind}.acl"
        acl_file.write_text("user default on nopass ~* &* +@all\n")
        config = tmp_path / f"{kind}.conf"
        config.write_text(f"aclfile {acl_file}\nhz 10\n")
        with spawn(kind, config=str(config)) as p:
            assert p.connect().command("CONFIG", "REWRITE") == b"+OK\r\n"
        lines[kind] = _user_lines(config)
    assert lines["redis"] == lines["atoll"] == []
