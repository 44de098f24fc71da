"""Shared pieces of the ACL tests: putting both servers' users back as they start, connections
authenticated as a user, and the normalisation of rule descriptions (Redis lists a user's
single-command rules in its hash table's order, so that part is compared as a set)."""
from __future__ import annotations

import re

import pytest

import diff as diff_mod
import resp

RESTORE_DEFAULT = ("ACL", "SETUSER", "default", "on", "nopass", "allkeys", "allchannels", "allcommands", "clearselectors")


# The default user's passwords the tests set: a test that fails halfway may leave one.
TEST_PASSWORDS = ("secret",)


def reset_users(port: int) -> None:
    """Deletes every user but default, gives default its start-up rules, empties ACL LOG."""
    with resp.Conn(port) as c:
        if c.command("PING").startswith(b"-NOAUTH"):
            for password in TEST_PASSWORDS:
                c.command("AUTH", password)
        assert c.command(*RESTORE_DEFAULT) == b"+OK\r\n"
        for name in resp.parse(c.command("ACL", "USERS")):
            if name != b"default":
                c.command("ACL", "DELUSER", name)
        assert c.command("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
        assert c.command("ACL", "LOG", "RESET") == b"+OK\r\n"


@pytest.fixture
def acl(ref_port, atoll_port, diff):
    """`diff` on servers whose users are put back as they start, before and after the test."""
    reset_users(ref_port)
    reset_users(atoll_port)
    yield diff
    reset_users(ref_port)
    reset_users(atoll_port)


def authed(port: int, user: str, password: str) -> resp.Conn:
    c = resp.Conn(port, timeout=5.0)
    reply = c.command("AUTH", user, password)
    assert reply == b"+OK\r\n", reply
    return c


def plain_pair(ref_port: int, atoll_port: int) -> diff_mod.Diff:
    """New connections that have not authenticated."""
    return diff_mod.Diff(resp.Conn(ref_port, timeout=5.0), resp.Conn(atoll_port, timeout=5.0))


def user_pair(ref_port: int, atoll_port: int, user: str, password: str) -> diff_mod.Diff:
    return diff_mod.Diff(authed(ref_port, user, password), authed(atoll_port, user, password))


_SINGLE = re.compile(r"^[+-][^@]")


def norm_rules(text: str):
    """A description with its single-command rules as a sorted list after everything else,
    selector by selector (parenthesised parts)."""
    parts = re.split(r" \(|\)", text)
    out = []
    for part in parts:
        tokens = part.split()
        out.append((tuple(t for t in tokens if not _SINGLE.match(t)), tuple(sorted(t for t in tokens if _SINGLE.match(t)))))
    return out


def both(d: diff_mod.Diff, *args):
    return resp.parse(d.ref.command(*args)), resp.parse(d.atoll.command(*args))


def norm_getuser(value):
    """ACL GETUSER's reply (RESP2 flat list) with every `commands` field normalised."""
    if not isinstance(value, list):
        return value
    out = []
    for i, item in enumerate(value):
        if isinstance(item, list):
            out.append(norm_getuser(item))
        elif i > 0 and value[i - 1] == b"commands":
            out.append(norm_rules(item.decode()))
        else:
            out.append(item)
    return out


def log_entries(conn: resp.Conn, count: int = 50):
    """ACL LOG's entries without the fields that depend on time and connections: age-seconds
    and client-info (only its `user=` and `cmd=` are kept)."""
    entries = []
    for entry in resp.parse(conn.command("ACL", "LOG", str(count))):
        fields = dict(zip(entry[::2], entry[1::2]))
        info = dict(kv.split(b"=", 1) for kv in fields.pop(b"client-info").split(b" ") if b"=" in kv)
        age = fields.pop(b"age-seconds")
        assert 0 <= float(age) < 60
        fields[b"client-user"] = info[b"user"]
        fields[b"client-cmd"] = info[b"cmd"]
        entries.append(fields)
    return entries
