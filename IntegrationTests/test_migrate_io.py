"""MIGRATE's connection to its target, against redis-server: a target that refuses the
connection, one that never answers and the server itself as target (each the same IOERR as
Redis's, within the timeout), the cached connection (reused, SELECT only when the database
changes, a connection the target closed replaced at once, closed after 10 s idle), what the
source logs to the append-only file and publishes as keyspace events, passwords hidden from
the slow log and MONITOR, and MIGRATE inside MULTI and a script."""
import os
import socket
import time

import pytest

import resp
from migrate_routes import HOST
from procs import spawn
from servers import free_port
from test_aof import AOF, incr_path
from test_diff_keyspace_events import Events


def timed(c: resp.Conn, *args) -> tuple[bytes, float]:
    start = time.monotonic()
    reply = c.command(*args)
    return reply, time.monotonic() - start


def sources(ref_port, atoll_port):
    return [resp.Conn(ref_port, timeout=10.0), resp.Conn(atoll_port, timeout=10.0)]


def test_target_refusing_the_connection(ref_port, atoll_port):
    port = free_port()
    for c in sources(ref_port, atoll_port):
        c.command("SET", "k", "v")
        reply, elapsed = timed(c, "MIGRATE", HOST, port, "k", 0, 1000)
        assert reply == b"-IOERR error or timeout writing to target instance\r\n" and elapsed < 0.9
        # A port atoi reads as negative never gets a connection attempt.
        assert c.command("MIGRATE", HOST, "-5", "k", 0, 1000) == b"-IOERR error or timeout connecting to the client\r\n"
        assert c.command("EXISTS", "k") == b":1\r\n"


@pytest.mark.parametrize("timeout,expected", [(300, 0.3), (0, 1.0), (-7, 1.0)])
def test_target_never_answering_times_out(ref_port, atoll_port, timeout, expected):
    """A listener that accepts nothing: the connection completes in the kernel, the replies
    never come, and both servers give up after the timeout (0 or less: 1000 ms)."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        for c in sources(ref_port, atoll_port):
            c.command("SET", "k", "v")
            reply, elapsed = timed(c, "MIGRATE", HOST, port, "k", 0, timeout, "AUTH", "pw")
            assert reply == b"-IOERR error or timeout reading to target instance\r\n"
            assert expected - 0.05 <= elapsed < expected + 1.0, elapsed
            assert c.command("EXISTS", "k") == b":1\r\n"


def test_the_longest_timeout_waits_until_the_target_goes_away(ref_port, atoll_port):
    """A timeout of 2^63-1 ms does not overflow into an instant one: the source waits until
    the silent target closes, then (the connection reset, not a timeout) retries once on a
    new connection, which is refused."""
    replies = []
    for c in sources(ref_port, atoll_port):
        c.command("SET", "k", "v")
        with socket.socket() as listener:
            listener.bind((HOST, 0))
            listener.listen(8)
            c.send_raw(resp.encode("MIGRATE", HOST, listener.getsockname()[1], "k", 0, 2**63 - 1))
            time.sleep(0.5)
            c.sock.setblocking(False)
            try:
                assert c.sock.recv(1) == b"", "replied before the target went away"
            except BlockingIOError:
                pass
            finally:
                c.sock.setblocking(True)
                c.sock.settimeout(10.0)
        replies.append(c.read_reply())
    assert replies[0] == replies[1] == b"-IOERR error or timeout writing to target instance\r\n", replies


def test_the_server_itself_as_target(ref_port, atoll_port):
    """The source cannot answer its own MIGRATE while running it: a timeout, as in Redis, and
    the server goes on serving (its own RESTORE, arriving later, finds the key still there)."""
    # Database 9 and a name of its own: the late RESTORE can touch nothing another test uses.
    for port, c in zip((ref_port, atoll_port), sources(ref_port, atoll_port)):
        c.command("SET", "self-target", "v")
        reply, elapsed = timed(c, "MIGRATE", HOST, port, "self-target", 9, 300)
        assert reply == b"-IOERR error or timeout reading to target instance\r\n" and elapsed < 1.5
        assert c.command("GET", "self-target") == b"$1\r\nv\r\n"
        assert c.command("PING") == b"+PONG\r\n"


def info(c: resp.Conn, section: str) -> dict:
    text = resp.parse(c.command("INFO", section)).decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def select_calls(target: resp.Conn) -> int:
    stat = info(target, "commandstats").get("cmdstat_select", "calls=0,")
    return int(stat.split(",")[0].split("=")[1])


def test_the_cached_connection(tmp_path):
    """Reused while used, SELECT only when the database changes, replaced when the target
    closed it, and closed after more than 10 s idle: the same on both sources."""
    with spawn("redis") as rs, spawn("atoll") as as_, spawn("redis") as rt, spawn("atoll") as at:
        runs = []
        for source in (rs, as_):
            for target in (rt, at):
                s, t = source.connect(), target.connect()
                t.command("FLUSHALL")
                before = int(info(t, "stats")["total_connections_received"])
                selects = select_calls(t)
                seen = []
                for i, db in enumerate([0, 0, 1, 1, 0]):
                    s.command("SET", f"k{i}", "v")
                    seen.append(s.command("MIGRATE", HOST, target.port, f"k{i}", db, 2000))
                    seen.append((int(info(t, "stats")["total_connections_received"]) - before,
                                 select_calls(t) - selects))
                seen.append(info(s, "stats")["migrate_cached_sockets"])
                # The target drops the connection: the next MIGRATE reconnects and succeeds.
                t.command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                s.command("SET", "again", "v")
                seen.append(s.command("MIGRATE", HOST, target.port, "again", 0, 2000))
                seen.append(int(info(t, "stats")["total_connections_received"]) - before)
                runs.append((s, t, seen))
        # Each target sees the same from both sources (Atoll has no commandstats yet, so its
        # SELECT counts are 0: the connections still show the reuse).
        assert runs[0][2] == runs[2][2] and runs[1][2] == runs[3][2], [r[2] for r in runs]
        redis_seen = runs[0][2]
        assert redis_seen[:2] == [b"+OK\r\n", (1, 1)] and redis_seen[3] == (1, 1) and redis_seen[5] == (1, 2)
        assert redis_seen[7] == (1, 2) and redis_seen[9] == (1, 3)
        assert redis_seen[10] == "1" and runs[1][2][10] == "2" and redis_seen[-2:] == [b"+OK\r\n", 2]
        assert [x[0] for x in runs[1][2][1:10:2]] == [1] * 5 and runs[1][2][-2:] == [b"+OK\r\n", 2]
        # Idle connections are closed after more than 10 seconds (checked once a second).
        deadline = time.monotonic() + 14
        while time.monotonic() < deadline:
            if all(info(s, "stats")["migrate_cached_sockets"] == "0" for s, _, _ in runs):
                break
            time.sleep(0.25)
        assert [info(s, "stats")["migrate_cached_sockets"] for s, _, _ in runs] == ["0"] * 4
        assert time.monotonic() > deadline - 14 + 9


def test_the_append_only_file_logs_del_of_the_moved_keys(ref_port, tmp_path):
    directory = str(tmp_path)
    with spawn("atoll", "--dir", directory, *AOF) as a:
        c = a.connect(timeout=15)
        for k in ("a", "b", "c", "d"):
            c.command("SET", k, "v")
        assert c.command("MIGRATE", HOST, ref_port, "", 0, 5000, "REPLACE", "KEYS", "a", "nokey", "b") == b"+OK\r\n"
        assert c.command("MIGRATE", HOST, ref_port, "c", 0, 5000, "REPLACE", "COPY") == b"+OK\r\n"
        c.close()
    with open(incr_path(directory), "rb") as f:
        log = f.read()
    assert log.endswith(resp.encode("SET", "d", "v") + resp.encode("DEL", "a", "b")), log[-200:]
    assert b"MIGRATE" not in log
    with spawn("atoll", "--dir", directory, *AOF) as a:
        c = a.connect(timeout=15)
        assert sorted(resp.parse(c.command("KEYS", "*"))) == [b"c", b"d"]
        c.close()


def test_keyspace_events_on_the_source(ref_port, atoll_port):
    with spawn("redis") as target:
        e = Events(ref_port, atoll_port, "KEAm")
        try:
            for args in (["SET", "a", "1"], ["RPUSH", "b", "x"], ["SET", "c", "2"],
                         ["MIGRATE", HOST, target.port, "", 0, 5000, "REPLACE", "KEYS", "a", "missing", "b"],
                         ["MIGRATE", HOST, target.port, "c", 0, 5000, "REPLACE", "COPY"],
                         ["MIGRATE", HOST, target.port, "", 0, 5000, "REPLACE", "KEYS", "c", "c"],
                         ["MIGRATE", HOST, target.port, "nothing", 0, 5000]):
                e.run(*args)
        finally:
            e.close()


def test_passwords_are_hidden_from_the_slow_log_and_monitor(ref_port, atoll_port):
    port = free_port()
    conns = sources(ref_port, atoll_port)
    monitors = []
    try:
        for c in conns:
            c.command("CONFIG", "SET", "slowlog-log-slower-than", "0")
            c.command("SLOWLOG", "RESET")
            m = resp.Conn(c.port, timeout=5.0)
            assert m.command("MONITOR") == b"+OK\r\n"
            monitors.append(m)
        entries, lines = [], []
        commands = [["MIGRATE", HOST, port, "", 0, 100, "COPY", "AUTH", "pw1", "AUTH2", "u", "pw2", "KEYS", "AUTH", "x"],
                    ["MIGRATE", HOST, port, "k", 0, 100, "AUTH2", "u", "pw2", "BOGUS", "AUTH", "x"]]
        for c, m in zip(conns, monitors):
            for args in commands:
                c.command(*args)
            entries.append([e[3] for e in resp.parse(c.command("SLOWLOG", "GET", "10"))[1:3]])
            # HELLO's credentials are hidden the same way (one helper serves both).
            with resp.Conn(c.port, timeout=5.0) as other:
                other.command("HELLO", "2", "AUTH", "default", "pw3", "SETNAME", "n")
            lines.append([m.read_reply().split(b"] ", 1)[1] for _ in range(len(commands) + 1)])
        assert entries[0] == entries[1] and lines[0] == lines[1], (entries, lines)
        assert b"pw1" not in repr(entries[0]).encode() and b"pw" not in b"".join(lines[0])
    finally:
        for c in conns:
            c.command("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        for m in monitors:
            m.close()


def test_inside_multi_and_a_script(diff, ref_port, atoll_port):
    with spawn("redis") as target:
        diff.check("SET", "a", "1")
        diff.check("MULTI")
        diff.check("MIGRATE", HOST, target.port, "a", 0, 5000, "REPLACE")
        diff.check("EXISTS", "a")
        diff.check("EXEC")
        diff.check("SET", "b", "1")
        diff.check("EVAL", f"return redis.call('MIGRATE', '{HOST}', '{target.port}', KEYS[1], 0, 5000, 'REPLACE')", 1, "b")
        diff.check("EXISTS", "b")
