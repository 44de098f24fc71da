"""The open-file limit: like Redis's ``adjustOpenFilesLimit``, Atoll raises RLIMIT_NOFILE to
maxclients + 32 at start or, if the system refuses, lowers maxclients to fit, with Redis's
warnings; clients beyond it get ``-ERR max number of clients reached`` instead of hanging. The servers run under
``prlimit --nofile=64:64`` (and, as root, without CAP_SYS_RESOURCE, which would let them raise
the hard limit). When accept itself runs out of descriptors the server logs it, does not spin,
and accepts the waiting clients once descriptors are free again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time

import resp
from procs import Proc, build_argv
from servers import free_port

NOFILE = 64
TICKS = os.sysconf("SC_CLK_TCK")


def limited_proc(kind: str, soft: int, hard: int, *flags) -> Proc:
    """A server to run with RLIMIT_NOFILE soft:hard; as root without CAP_SYS_RESOURCE, so that
    it cannot raise the hard limit either."""
    wrapper = [shutil.which("prlimit"), f"--nofile={soft}:{hard}"]
    if os.geteuid() == 0:
        wrapper += [shutil.which("setpriv"), "--inh-caps=-sys_resource", "--bounding-set=-sys_resource"]
    port = free_port()
    return Proc(kind, [*wrapper, *build_argv(kind, port, flags)], port)


@contextlib.contextmanager
def limited(kind: str, *flags, soft: int = NOFILE, hard: int = NOFILE):
    """A running server under limited_proc's limits."""
    p = limited_proc(kind, soft, hard, *flags)
    try:
        p.launch()
        p.wait_ready()
        yield p
    finally:
        p.stop()


def warnings_about_files(log: str) -> list[str]:
    return [line.split(" # ", 1)[1] for line in log.splitlines()
            if " # " in line and ("file descriptors" in line or "open files" in line)]


def poll(pred, timeout: float):
    deadline = time.monotonic() + timeout
    value = pred()
    while not value and time.monotonic() < deadline:
        time.sleep(0.02)  # short poll interval inside a bounded loop
        value = pred()
    return value


def test_low_open_file_limit_lowers_maxclients_and_extra_clients_get_the_error():
    results = {}
    for kind in ("redis", "atoll"):
        with limited(kind) as p:
            first = p.connect()
            assert p.wait_clients(first, 1) == 1
            maxclients = first.command("CONFIG", "GET", "maxclients")
            served = [first] + [p.connect() for _ in range(31)]
            pongs = [c.command("PING") for c in served]
            extras = [p.connect() for _ in range(5)]
            refused = [c.read_until_close(3.0) for c in extras]
            for c in served + extras:
                c.close()
            results[kind] = (warnings_about_files(p.stdout_text()), maxclients, set(pongs), refused)
    assert results["redis"] == ([
        "You requested maxclients of 10000 requiring at least 10032 max file descriptors.",
        "Server can't set maximum open files to 10032 because of OS error: Operation not permitted.",
        "Current maximum open files is 64. maxclients has been reduced to 32 to compensate for low ulimit. "
        "If you need higher maxclients increase 'ulimit -n'.",
    ], b"*2\r\n$10\r\nmaxclients\r\n$2\r\n32\r\n", {b"+PONG\r\n"},
        [(b"-ERR max number of clients reached\r\n", True)] * 5), results["redis"]
    assert results["atoll"] == results["redis"]


def test_a_limit_that_fits_is_left_alone_and_a_raise_is_logged():
    with limited("atoll", "--maxclients", "20") as p:
        assert warnings_about_files(p.stdout_text()) == []
        c = p.connect()
        assert c.command("CONFIG", "GET", "maxclients") == b"*2\r\n$10\r\nmaxclients\r\n$2\r\n20\r\n"
        c.close()
    # Raising the soft limit up to the hard one needs no privilege.
    with limited("atoll", "--maxclients", "100", hard=4 * NOFILE) as p:
        assert "Increased maximum number of open files to 132 (it was originally set to 64)." in p.stdout_text()
        with open(f"/proc/{p.pid}/limits") as f:
            assert re.search(r"Max open files\s+132\s+132", f.read())


def test_a_limit_with_no_room_for_clients_stops_the_server():
    p = limited_proc("atoll", 32, 32)
    try:
        p.launch()
        assert p.wait_exit(10.0) == 1
        assert ("Your current 'ulimit -n' of 32 is not enough for the server to start. "
                "Please increase your open file limit to at least 10032. Exiting.") in p.stdout_text()
    finally:
        p.stop()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def test_accept_without_descriptors_logs_backs_off_and_recovers():
    with limited("atoll") as p:
        first = p.connect()
        assert p.wait_clients(first, 1) == 1
        # Leave room for exactly `room` more descriptors: below the limit, only the free ones.
        open_fds = [int(n) for n in os.listdir(f"/proc/{p.pid}/fd")]
        limit = max(open_fds) + 4
        room = limit - len(open_fds)
        subprocess.run([shutil.which("prlimit"), f"--pid={p.pid}", f"--nofile={limit}:{limit}"], check=True, timeout=10)
        served = [p.connect() for _ in range(room)]
        assert {c.command("PING") for c in served} == {b"+PONG\r\n"}
        waiting = [p.connect(timeout=10.0) for _ in range(3)]  # the kernel queues them
        for c in waiting:
            c.send_raw(resp.encode("PING"))
        assert poll(lambda: "Accepting client connection: accept: Too many open files" in p.stdout_text(), 5.0), \
            p.logs()
        cpu_before = cpu_seconds(p.pid)
        assert first.command("PING") == b"+PONG\r\n"  # connected clients are still served
        for c in served:
            c.close()
        # After the back-off the queued clients are accepted and answered.
        assert [c.read_reply() for c in waiting] == [b"+PONG\r\n"] * 3
        # Spinning on accept would burn a core until then and log on every attempt.
        assert cpu_seconds(p.pid) - cpu_before < 0.5
        assert p.stdout_text().count("Accepting client connection") <= 5, p.logs()
        for c in [first, *waiting]:
            c.close()
