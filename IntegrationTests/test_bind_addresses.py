"""`bind` as redis-server reads it, compared with a private redis-server given the same flags:
`*` is every IPv4 address and `::*` every IPv6 one (Redis's stock `bind * -::*`), a leading `-`
marks an address this machine may not have, and an IPv6 address listens for IPv6 only, so
`bind ::` takes no IPv4 client. Clients connect only to 127.0.0.1 and ::1.
"""

from __future__ import annotations

import socket
import time

import pytest

import resp
from procs import spawn


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")


def ping(host: str, port: int) -> bytes | None:
    """The reply to PING from `host`:`port`, or None when the connection is refused."""
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64)
    except ConnectionRefusedError:
        return None


def wait_for(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ping(host, port) == b"+PONG\r\n":
            return
        time.sleep(0.02)  # short poll interval inside a bounded loop
    raise AssertionError(f"nothing answers on {host}:{port}")


def seen_from_both(*flags, hosts=("127.0.0.1", "::1"), ready_host="127.0.0.1"):
    """For each server started with `flags`: its PING reply from each of `hosts`, and CONFIG GET bind."""
    seen = {}
    for kind in ("redis", "atoll"):
        with spawn(kind, *flags, ready=False) as p:
            wait_for(ready_host, p.port)
            replies = tuple(ping(host, p.port) for host in hosts)
            with resp.Conn(p.port, host=ready_host) as c:
                bind = c.command("CONFIG", "GET", "bind")
            seen[kind] = (replies, bind)
    return seen


def test_star_and_optional_any_ipv6_listen_on_both_families():
    seen = seen_from_both("--bind", "*", "-::*")
    assert seen["redis"] == ((b"+PONG\r\n", b"+PONG\r\n"), b"*2\r\n$4\r\nbind\r\n$6\r\n* -::*\r\n")
    assert seen["atoll"] == seen["redis"]


def test_an_ipv6_address_takes_no_ipv4_client():
    seen = seen_from_both("--bind", "::", "--protected-mode", "no", ready_host="::1")
    assert seen["redis"][0] == (None, b"+PONG\r\n")
    assert seen["atoll"] == seen["redis"]


def test_an_optional_address_the_machine_lacks_is_left_out():
    # 203.0.113.7 is in TEST-NET-3: no machine has it.
    seen = seen_from_both("--bind", "127.0.0.1", "-203.0.113.7", hosts=("127.0.0.1",))
    assert seen["redis"][0] == (b"+PONG\r\n",)
    assert seen["atoll"] == seen["redis"]
