"""Streams through the RDB snapshot and the append-only file, with redis-server both ways:
entries, trims and deletions, IDs generated with `*`, consumer groups with pending entries and
consumers. Each server's file is loaded by the other and the streams compared whole (XINFO
STREAM FULL), but for the consumers' seen times, which a replay sets to its own clock.
"""

import os
import subprocess
import tempfile

import resp
import stream_info
from procs import spawn
from test_aof import AOF, aof_dir
from test_rdb_snapshot import assert_redis_accepts

T = "1700000000000"


def stream_writes(c: resp.Conn) -> None:
    """Every kind of stream change, including the ones logged in another form."""
    c.command("CONFIG", "SET", "stream-node-max-entries", "4")
    for i in range(30):
        c.command("XADD", "s", "*", "n", str(i), "tag", "x" * (i % 5))
    c.command("XADD", "s", "MAXLEN", "~", "20", "*", "n", "trimmed")
    c.command("XADD", "exact", "5-*", "a", "1")
    c.command("XADD", "exact", "5-*", "a", "2")
    c.command("XADD", "exact", "9-0", "b", "3")
    c.command("XTRIM", "s", "MINID", "~", "0")
    first = resp.parse(c.command("XRANGE", "s", "-", "+", "COUNT", "3"))
    c.command("XDEL", "s", first[1][0])
    c.command("XSETID", "exact", "20-0", "ENTRIESADDED", "10", "MAXDELETEDID", "8-0")
    c.command("XGROUP", "CREATE", "s", "g", "0")
    c.command("XGROUP", "CREATE", "s", "other", "$")
    c.command("XGROUP", "CREATE", "new", "g", "$", "MKSTREAM")
    c.command("XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "s", ">")
    c.command("XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "STREAMS", "s", ">")
    c.command("XREADGROUP", "GROUP", "g", "carol", "NOACK", "COUNT", "2", "STREAMS", "s", ">")
    pending = resp.parse(c.command("XPENDING", "s", "g", "-", "+", "10"))
    c.command("XACK", "s", "g", pending[0][0])
    c.command("XCLAIM", "s", "g", "dave", "0", pending[1][0], pending[2][0], "TIME", T)
    c.command("XDEL", "s", pending[3][0])
    c.command("XAUTOCLAIM", "s", "g", "erin", "0", "0", "COUNT", "3")
    c.command("XGROUP", "CREATECONSUMER", "s", "other", "zed")
    c.command("XGROUP", "SETID", "s", "other", "0")
    c.command("XREADGROUP", "GROUP", "other", "zed", "COUNT", "2", "STREAMS", "s", ">")
    c.command("XGROUP", "DELCONSUMER", "s", "g", "bob")
    c.command("CONFIG", "SET", "stream-node-max-entries", "100")


def streams(c: resp.Conn, replayed: bool) -> dict:
    """Every stream whole, but for seen times and, after a replay of commands (which does not
    replay CONFIG SET stream-node-max-entries), how the entries are split into nodes."""
    fields = {b"seen-time"} | ({b"radix-tree-keys", b"radix-tree-nodes"} if replayed else set())
    return {key: stream_info.blank(resp.parse(c.command("XINFO", "STREAM", key, "FULL", "COUNT", "0")), fields)
            for key in ("s", "exact", "new")}


def _round_trip(writer: str, reader: str, args: tuple, check=None) -> None:
    with tempfile.TemporaryDirectory(prefix="atoll-streams-") as directory:
        with spawn(writer, "--dir", directory, *args) as w:
            c = w.connect(timeout=15)
            stream_writes(c)
            if not args:
                assert c.command("SAVE") == b"+OK\r\n"
            expected = streams(c, replayed=bool(args))
            c.close()
        if check:
            check(directory)
        with spawn(reader, "--dir", directory, *args) as r:
            c = r.connect(timeout=15)
            assert streams(c, replayed=bool(args)) == expected
            c.close()


def test_atoll_snapshot_with_streams_loads_in_redis():
    _round_trip("atoll", "redis", (), check=lambda d: assert_redis_accepts(os.path.join(d, "dump.rdb")))


def test_redis_snapshot_with_streams_loads_in_atoll():
    _round_trip("redis", "atoll", ())


def _aof_valid(directory: str) -> None:
    check = subprocess.run(["redis-check-aof", os.path.join(aof_dir(directory), "appendonly.aof.manifest")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr


def test_atoll_append_only_file_with_streams_replays_in_redis_and_atoll():
    _round_trip("atoll", "redis", AOF, check=_aof_valid)
    _round_trip("atoll", "atoll", AOF)


def test_redis_append_only_file_with_streams_replays_in_atoll():
    _round_trip("redis", "atoll", AOF)
