"""A replica facing a hostile master (found by attacking the first replication slice): a
full-resync offset near the 64-bit limit is refused instead of overflowing as the stream is
counted; a script sent in the stream is not run (Redis 7 masters send scripts' effects, and a
looping script would otherwise hold the event loop for good); an endless reply line drops the
link instead of being buffered and searched without end (the buffer goes at once; the close
itself can come later). Throughout, the replica answers.
"""

from __future__ import annotations

import contextlib
import time

import resp
from fake_master import FakeMaster, snapshot_of
from procs import spawn


@contextlib.contextmanager
def replica_of(payload: bytes):
    master = FakeMaster(payload)
    with spawn("atoll") as replica:
        c = replica.connect()
        assert c.command("REPLICAOF", "127.0.0.1", str(master.port)) == b"+OK\r\n"
        yield replica, c, master
        c.close()
    master.close()


def wait_for(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)  # polling the replica, bounded


def test_an_offset_near_the_limit_is_refused():
    with spawn("atoll") as source:
        rdb = snapshot_of(source)
    payload = (b"+FULLRESYNC " + b"a" * 40 + b" 9223372036854775807\r\n$" + str(len(rdb)).encode() + b"\r\n" + rdb
               + resp.encode("SET", "a", "b"))
    with replica_of(payload) as (replica, c, master):
        wait_for(master.closed_by_replica.is_set, "the replica kept the link")
        assert c.command("PING") == b"+PONG\r\n"
        assert c.command("GET", "a") == b"$-1\r\n"
        assert replica.alive()


def test_a_script_from_the_master_is_not_run():
    with spawn("atoll") as source:
        rdb = snapshot_of(source)
    payload = (b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n$" + str(len(rdb)).encode() + b"\r\n" + rdb
               + resp.encode("EVAL", "while true do end", "0") + resp.encode("SET", "after", "1"))
    with replica_of(payload) as (replica, c, master):
        wait_for(lambda: c.command("GET", "after") == b"$1\r\n1\r\n", "the stream stopped at the script")
        assert c.command("PING") == b"+PONG\r\n"


def test_an_endless_reply_line_drops_the_link():
    with replica_of(b"+" + b"x" * 200_000) as (replica, c, master):
        wait_for(lambda: "reply line longer than" in replica.logs(), "the replica kept buffering the line")
        assert c.command("PING") == b"+PONG\r\n"
        assert replica.alive()
