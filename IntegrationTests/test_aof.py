"""The append-only file: Redis 7's multi-part layout that redis-server and redis-check-aof read,
loading of files redis-server wrote, damaged files (a cut-short tail at every byte offset of
the last command, a flipped byte, a MULTI without EXEC), absolute expiry times, the script
cache across restarts, runtime CONFIG SET appendonly, and background rewrites and saves under
a continuous write load (with the other clients' worst latency printed)."""
import os
import shutil
import subprocess
import tempfile
import threading
import time

import resp
from procs import spawn
from test_rdb_snapshot import contents, populate

AOF = ("--appendonly", "yes")


def aof_dir(directory: str) -> str:
    return os.path.join(directory, "appendonlydir")


def manifest(directory: str) -> str:
    with open(os.path.join(aof_dir(directory), "appendonly.aof.manifest")) as f:
        return f.read()


def incr_path(directory: str) -> str:
    """The last incremental file the manifest names."""
    names = [line.split()[1] for line in manifest(directory).splitlines() if line.endswith("type i")]
    return os.path.join(aof_dir(directory), names[-1])


def info_field(c: resp.Conn, section: str, field: str) -> str:
    for line in resp.parse(c.command("INFO", section)).decode().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"no {field} in INFO {section}")


def wait_field(c: resp.Conn, section: str, field: str, value: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while info_field(c, section, field) != value:
        assert time.monotonic() < deadline, f"{field} never became {value}"
        time.sleep(0.01)  # short poll interval inside a bounded loop


def more_writes(c: resp.Conn) -> None:
    """Commands whose own arguments would not replay the same: they must be logged rewritten."""
    c.command("SET", "rel", "v", "EX", "100000")
    c.command("SETEX", "setex", "100000", "v")
    c.command("SET", "counter", "10")
    c.command("EXPIRE", "counter", "100000")
    c.command("INCRBYFLOAT", "float", "1.25")
    c.command("HINCRBYFLOAT", "hf", "f", "0.5")
    c.command("SADD", "popme", "a", "b", "c", "d", "e")
    c.command("SPOP", "popme")
    c.command("SPOP", "popme", "2")
    c.command("RPUSH", "queue", "j1", "j2", "j3")
    c.command("BLPOP", "queue", "0")
    c.command("BLMOVE", "queue", "done", "LEFT", "RIGHT", "0")
    c.command("ZADD", "zq", "1", "a", "2", "b")
    c.command("BZPOPMIN", "zq", "0")
    c.command("EVAL", "redis.call('INCR', KEYS[1]); redis.call('RPUSH', KEYS[2], 'x'); return 1", "2", "e1", "e2")
    c.command("MULTI")
    c.command("INCR", "m1")
    c.command("INCR", "m2")
    c.command("EXEC")
    c.command("SET", "gone", "v", "PX", "100000")
    c.command("GETEX", "gone", "PXAT", "1")


def test_redis_loads_atolls_append_only_file_and_atoll_reloads_it():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            populate(c)
            more_writes(c)
            sha = resp.parse(c.command("SCRIPT", "LOAD", "return 'cached'"))
            expected = contents(c)
            c.close()
        assert "type b" in manifest(directory) and "type i" in manifest(directory)
        check = subprocess.run(["redis-check-aof", os.path.join(aof_dir(directory), "appendonly.aof.manifest")],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
        with spawn("redis", "--dir", directory, *AOF) as r:
            c = r.connect(timeout=15)
            assert contents(c) == expected
            c.close()
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            assert contents(c) == expected
            # Beyond Redis: the script cache comes back from the file too.
            assert c.command("SCRIPT", "EXISTS", sha) == b"*1\r\n:1\r\n"
            assert c.command("EVALSHA", sha, "0") == b"$6\r\ncached\r\n"
            c.close()


def test_atoll_loads_an_append_only_file_written_by_redis():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("redis", "--dir", directory, *AOF) as r:
            c = r.connect(timeout=15)
            populate(c)
            more_writes(c)
            c.command("SET", "big", "x" * 100000)
            expected = contents(c)
            c.close()
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            assert contents(c) == expected
            c.close()


def test_expiry_is_logged_as_absolute_times():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            c.command("SET", "a", "v", "EX", "5000")
            c.command("SET", "b", "v")
            c.command("PEXPIRE", "b", "7000000")
            c.command("SETEX", "c", "900", "v")
            times = {k: resp.parse(c.command("PEXPIRETIME", k)) for k in ("a", "b", "c")}
            c.close()
        with open(incr_path(directory), "rb") as f:
            log = f.read()
        assert b"PXAT" in log and b"PEXPIREAT" in log and b"PEXPIRE\r\n" not in log and b"SETEX" not in log
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            assert {k: resp.parse(c.command("PEXPIRETIME", k)) for k in times} == times
            c.close()


def test_geoadd_is_logged_as_the_zadd_redis_logs():
    """GEOADD adds to the sorted set directly, but is logged as the ZADD Redis propagates in
    its place (option words as given, scores as integers); a GEOADD that changed nothing is
    not logged. Both servers' incremental files must hold the same commands."""
    logs, scores = {}, {}
    for kind in ("redis", "atoll"):
        with tempfile.TemporaryDirectory(prefix=f"{kind}-aof-") as directory:
            with spawn(kind, "--dir", directory, *AOF) as server:
                c = server.connect(timeout=15)
                wait_field(c, "persistence", "aof_rewrite_in_progress", "0")
                assert resp.parse(c.command("GEOADD", "g", "ch", "13.361389", "38.115556", "Palermo",
                                            "15.087269", "37.502669", "Catania")) == 2
                first = [resp.parse(c.command("ZSCORE", "g", m)) for m in ("Palermo", "Catania")]
                assert resp.parse(c.command("GEOADD", "g", "NX", "1", "1", "Palermo")) == 0
                assert resp.parse(c.command("GEOADD", "g", "XX", "CH", "2", "2", "Palermo")) == 1
                scores[kind] = first + [resp.parse(c.command("ZSCORE", "g", "Palermo"))]
                c.close()
            with open(incr_path(directory), "rb") as f:
                logs[kind] = f.read()
    assert scores["atoll"] == scores["redis"]
    palermo, catania, moved = scores["redis"]
    zadds = [resp.encode("zadd", "g", "ch", palermo, "Palermo", catania, "Catania"),
             resp.encode("zadd", "g", "XX", "CH", moved, "Palermo")]
    assert palermo == b"3479099956230698" and catania == b"3479447370796909"
    for kind, log in logs.items():
        assert b"".join(zadds) in log, kind
        assert b"GEOADD" not in log.upper() and log.count(b"zadd") == 2, kind


def write_sample(directory: str) -> tuple[int, int]:
    """An AOF whose last command is HSET h f v; returns (start, end) of that command."""
    with spawn("atoll", "--dir", directory, *AOF) as a:
        c = a.connect(timeout=15)
        c.command("SET", "a", "1")
        c.command("RPUSH", "l", "x")
        c.command("HSET", "h", "field", "value")
        c.close()
    size = os.path.getsize(incr_path(directory))
    return size - len(resp.encode("HSET", "h", "field", "value")), size


def test_a_cut_short_last_command_is_dropped_at_every_offset():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as original:
        start, end = write_sample(original)
        with open(incr_path(original), "rb") as f:
            whole = f.read()
        assert whole.endswith(resp.encode("HSET", "h", "field", "value"))
        for cut in range(start + 1, end):
            with tempfile.TemporaryDirectory(prefix="atoll-aof-cut-") as directory:
                shutil.copytree(aof_dir(original), aof_dir(directory))
                with open(incr_path(directory), "wb") as f:
                    f.write(whole[:cut])
                with spawn("atoll", "--dir", directory, *AOF) as a:
                    c = a.connect(timeout=15)
                    assert c.command("GET", "a") == b"$1\r\n1\r\n"
                    assert c.command("LRANGE", "l", "0", "-1") == b"*1\r\n$1\r\nx\r\n"
                    assert c.command("EXISTS", "h") == b":0\r\n", cut
                    # The file was cut back to the last whole command, so appends stay valid.
                    assert os.path.getsize(incr_path(directory)) == start
                    assert c.command("SET", "after", "1") == b"+OK\r\n"
                    c.close()
                    logs = a.logs()
                assert "short read while loading the AOF file" in logs, logs
                assert f"Truncating the AOF appendonly.aof.1.incr.aof at offset {start}" in logs, logs
                with spawn("atoll", "--dir", directory, *AOF) as a:
                    c = a.connect(timeout=15)
                    assert c.command("GET", "after") == b"$1\r\n1\r\n"
                    c.close()


def test_a_cut_short_file_is_refused_when_aof_load_truncated_is_no():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        start, end = write_sample(directory)
        path = incr_path(directory)
        with open(path, "rb+") as f:
            f.truncate(end - 3)
        with spawn("atoll", "--dir", directory, *AOF, "--aof-load-truncated", "no", ready=False) as a:
            assert a.wait_exit(15) == 1, a.logs()
            assert "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof" in a.logs()
        assert os.path.getsize(path) == end - 3


def test_a_flipped_byte_is_refused_naming_the_offset():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        start, end = write_sample(directory)
        path = incr_path(directory)
        with open(path, "rb") as f:
            data = bytearray(f.read())
        # The '*' that opens the HSET command becomes 'X'.
        data[start] = ord("X")
        with open(path, "wb") as f:
            f.write(data)
        with spawn("atoll", "--dir", directory, *AOF, ready=False) as a:
            assert a.wait_exit(15) == 1, a.logs()
            logs = a.logs()
            assert f"Bad file format reading the append only file appendonly.aof.1.incr.aof at offset {start}" in logs, logs
        assert os.path.getsize(path) == end


def test_a_multi_without_exec_at_the_end_is_reverted():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        start, end = write_sample(directory)
        path = incr_path(directory)
        with open(path, "ab") as f:
            f.write(resp.encode("MULTI") + resp.encode("SET", "half", "1") + resp.encode("INCR", "a"))
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            assert c.command("EXISTS", "half") == b":0\r\n"
            assert c.command("GET", "a") == b"$1\r\n1\r\n"
            assert c.command("HGET", "h", "field") == b"$5\r\nvalue\r\n"
            c.close()
            assert "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof" in a.logs()
        assert os.path.getsize(path) == end


def test_config_set_appendonly_writes_the_dataset_and_keeps_later_writes():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            c.command("SET", "before", "1")
            assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
            assert info_field(c, "persistence", "aof_enabled") == "1"
            c.command("SET", "after", "2")
            c.close()
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            assert c.pipeline([("GET", "before"), ("GET", "after")]) == [b"$1\r\n1\r\n", b"$1\r\n2\r\n"]
            c.close()


def test_debug_reload_and_loadaof_keep_the_dataset():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        # DEBUG needs enable-debug-command, in Atoll as in Redis 7.
        with spawn("atoll", "--dir", directory, *AOF, "--enable-debug-command", "yes") as a:
            c = a.connect(timeout=15)
            populate(c)
            more_writes(c)
            expected = contents(c)
            assert c.command("DEBUG", "LOADAOF") == b"+OK\r\n"
            assert contents(c) == expected
            assert c.command("DEBUG", "RELOAD") == b"+OK\r\n"
            assert contents(c) == expected
            c.close()


def test_info_persistence_has_redis_fields():
    def fields(c: resp.Conn) -> list[str]:
        text = resp.parse(c.command("INFO", "persistence")).decode()
        return [line.split(":")[0] for line in text.splitlines() if ":" in line]

    for flags in ((), AOF):
        with tempfile.TemporaryDirectory(prefix="atoll-aof-") as mine, \
                tempfile.TemporaryDirectory(prefix="redis-aof-") as theirs:
            with spawn("atoll", "--dir", mine, *flags) as a, spawn("redis", "--dir", theirs, *flags) as r:
                ca, cr = a.connect(timeout=15), r.connect(timeout=15)
                assert fields(ca) == fields(cr)
                ca.close()
                cr.close()


def test_save_rules_start_a_background_save():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, "--save", "1 1") as a:
            c = a.connect(timeout=15)
            assert c.command("CONFIG", "GET", "save") == b"*2\r\n$4\r\nsave\r\n$3\r\n1 1\r\n"
            c.command("SET", "k", "v")
            wait_field(c, "persistence", "rdb_saves", "1", timeout=10)
            assert info_field(c, "persistence", "rdb_changes_since_last_save") == "0"
            assert os.path.exists(os.path.join(directory, "dump.rdb"))
            c.close()
            assert "1 changes in 1 seconds. Saving..." in a.logs()


def test_shutdown_save_and_nosave():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, "--save", "3600 1") as a:
            c = a.connect(timeout=15)
            c.command("SET", "k", "v")
            c.send_raw(resp.encode("SHUTDOWN", "NOSAVE"))
            assert a.wait_exit(10) == 0
        assert not os.path.exists(os.path.join(directory, "dump.rdb"))
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            c.command("SET", "k", "v")
            c.send_raw(resp.encode("SHUTDOWN", "SAVE"))
            assert a.wait_exit(10) == 0
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            assert c.command("GET", "k") == b"$1\r\nv\r\n"
            c.close()


class Writer(threading.Thread):
    """Writes INCR n + RPUSH list n as one MULTI/EXEC until stopped; records acknowledged
    transactions and the worst round-trip time."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.conn = resp.Conn(port, timeout=10)
        self.stop = threading.Event()
        self.acked = 0
        self.worst = 0.0
        self.error = None

    def wait_for(self, acked: int, timeout: float = 10.0) -> None:
        """Waits (bounded) until `acked` transactions were acknowledged."""
        deadline = time.monotonic() + timeout
        while self.acked < acked and time.monotonic() < deadline:
            time.sleep(0.01)  # short poll interval inside a bounded loop

    def run(self):
        try:
            while not self.stop.is_set() and self.acked < 1_000_000:
                started = time.monotonic()
                replies = self.conn.pipeline([("MULTI",), ("INCR", "n"), ("RPUSH", "list", str(self.acked + 1)), ("EXEC",)])
                self.worst = max(self.worst, time.monotonic() - started)
                assert replies[3].startswith(b"*2\r\n"), replies
                self.acked += 1
        except Exception as e:  # reported by the test
            self.error = e


def load_dataset(c: resp.Conn, keys: int) -> None:
    for base in range(0, keys, 1000):
        c.pipeline([("SET", f"key:{i}", "v" * 100) for i in range(base, min(base + 1000, keys))])


def test_bgrewriteaof_under_write_load_keeps_every_write():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=30)
            load_dataset(c, 100_000)
            writer = Writer(a.port)
            writer.start()
            try:
                writer.wait_for(100)  # let the load start
                assert c.command("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
                wait_field(c, "persistence", "aof_rewrites", "1")
                writer.wait_for(writer.acked + 100)  # writes after the rewrite too
            finally:
                writer.stop.set()
                writer.join(30)
            assert writer.error is None, writer.error
            print(f"\nBGREWRITEAOF under load: {writer.acked} transactions, "
                  f"worst latency {writer.worst * 1000:.1f} ms")
            assert writer.worst < 2.0
            assert info_field(c, "persistence", "aof_last_bgrewrite_status") == "ok"
            assert "appendonly.aof.2.base.rdb" in manifest(directory)
            assert "appendonly.aof.1" not in manifest(directory)
            c.close()
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=30)
            assert c.command("GET", "n") == f"${len(str(writer.acked))}\r\n{writer.acked}\r\n".encode()
            assert c.command("LLEN", "list") == f":{writer.acked}\r\n".encode()
            assert resp.parse(c.command("DBSIZE")) == 100_002
            c.close()


def test_bgsave_under_write_load_writes_a_consistent_snapshot():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=30)
            load_dataset(c, 100_000)
            writer = Writer(a.port)
            writer.start()
            try:
                writer.wait_for(100)  # let the load start
                assert c.command("BGSAVE") == b"+Background saving started\r\n"
                wait_field(c, "persistence", "rdb_saves", "1")
            finally:
                writer.stop.set()
                writer.join(30)
            assert writer.error is None, writer.error
            print(f"\nBGSAVE under load: {writer.acked} transactions, worst latency {writer.worst * 1000:.1f} ms")
            assert writer.worst < 2.0
            assert info_field(c, "persistence", "rdb_last_bgsave_status") == "ok"
            c.close()
        path = os.path.join(directory, "dump.rdb")
        check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout
        with spawn("redis", "--dir", directory, "--dbfilename", "dump.rdb") as r:
            c = r.connect(timeout=30)
            # The snapshot is one moment: every transaction in it whole, none half.
            n = int(resp.parse(c.command("GET", "n")))
            assert 0 < n <= writer.acked
            assert resp.parse(c.command("LLEN", "list")) == n
            assert resp.parse(c.command("DBSIZE")) == 100_002
            c.close()


def test_the_file_is_rewritten_by_itself_once_it_has_grown():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, *AOF, "--auto-aof-rewrite-percentage", "100",
                   "--auto-aof-rewrite-min-size", "64kb") as a:
            c = a.connect(timeout=15)
            for base in range(0, 2000, 500):
                c.pipeline([("SET", f"k{i}", "x" * 100) for i in range(base, base + 500)])
            wait_field(c, "persistence", "aof_rewrites", "1", timeout=20)
            c.command("SET", "after", "1")
            c.close()
            assert "Starting automatic rewriting of AOF on" in a.logs()
        assert "appendonly.aof.2.base.rdb" in manifest(directory)
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            assert resp.parse(c.command("DBSIZE")) == 2001
            c.close()


def test_a_failed_background_save_refuses_writes_until_a_save_succeeds():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        target = os.path.join(directory, "data")
        os.makedirs(target)
        with spawn("atoll", "--dir", target, "--save", "3600 1") as a:
            c = a.connect(timeout=15)
            c.command("SET", "k", "v")
            # The snapshot cannot be written once its directory is gone.
            os.rmdir(target)
            assert c.command("BGSAVE") == b"+Background saving started\r\n"
            wait_field(c, "persistence", "rdb_last_bgsave_status", "err", timeout=10)
            refusal = c.command("SET", "k", "w")
            assert refusal.startswith(b"-MISCONF Redis is configured to save RDB snapshots"), refusal
            assert c.command("PING").startswith(b"-MISCONF")
            assert c.command("GET", "k") == b"$1\r\nv\r\n"
            # Nor through a transaction or a script.
            assert c.command("MULTI") == b"+OK\r\n"
            assert c.command("SET", "k", "w").startswith(b"-MISCONF")
            assert c.command("EXEC").startswith(b"-EXECABORT")
            assert c.command("EVAL", "return redis.call('SET', 'k', 'w')", "0").startswith(b"-MISCONF")
            os.makedirs(target)
            assert c.command("SAVE") == b"+OK\r\n"
            assert c.command("SET", "k", "w") == b"+OK\r\n"
            c.close()


def test_keys_that_expired_before_a_write_are_logged_as_deleted():
    """INCR (and RANDOMKEY) meeting an expired key: a reload, which expires nothing while it
    loads, must still see the old key gone before the new write."""
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, *AOF, "--active-expire-enabled", "no") as a:
            c = a.connect(timeout=15)
            c.command("SET", "counter", "41", "PX", "20")
            c.command("SET", "other", "x", "PX", "20")
            time.sleep(0.05)  # the keys' 20 ms must pass; nothing else to wait for
            assert c.command("INCR", "counter") == b":1\r\n"
            assert c.command("RANDOMKEY") == b"$7\r\ncounter\r\n"
            assert c.command("RPUSH", "other", "y") == b":1\r\n"
            c.close()
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            assert c.command("GET", "counter") == b"$1\r\n1\r\n"
            assert c.command("PTTL", "counter") == b":-1\r\n"
            assert c.command("LRANGE", "other", "0", "-1") == b"*1\r\n$1\r\ny\r\n"
            c.close()


def test_save_is_not_logged_and_flushall_with_save_rules_empties_the_snapshot():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        with spawn("atoll", "--dir", directory, *AOF, "--save", "3600 1") as a:
            c = a.connect(timeout=15)
            c.command("SET", "k", "v")
            assert c.command("SAVE") == b"+OK\r\n"
            assert c.command("MULTI") == b"+OK\r\n"
            c.command("BGSAVE")
            assert c.command("EXEC") == b"*1\r\n+Background saving scheduled\r\n"
            wait_field(c, "persistence", "rdb_bgsave_in_progress", "0", timeout=10)
            assert c.command("FLUSHALL") == b"+OK\r\n"
            c.close()
        with open(incr_path(directory), "rb") as f:
            log = f.read()
        assert b"SAVE" not in log.upper().replace(b"BGSAVE", b"") and b"FLUSHALL" in log
        # The snapshot was emptied by FLUSHALL itself.
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            assert c.command("DBSIZE") == b":0\r\n"
            c.close()


def test_a_failed_final_save_keeps_the_server_and_its_append_only_file_going():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        flags = ("--dir", directory, *AOF, "--appendfsync", "always")
        with spawn("atoll", *flags) as a:
            c = a.connect(timeout=15)
            c.command("SET", "before", "1")
            # A directory in the snapshot's place makes the final save's rename fail.
            os.makedirs(os.path.join(directory, "dump.rdb", "x"))
            assert c.command("SHUTDOWN", "SAVE") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
            assert c.command("SET", "after", "2") == b"+OK\r\n"
            os.kill(a.pid, 9)
            assert a.wait_exit(10) is not None
        with spawn("atoll", *flags) as a:
            c = a.connect(timeout=15)
            assert c.pipeline([("GET", "before"), ("GET", "after")]) == [b"$1\r\n1\r\n", b"$1\r\n2\r\n"]
            c.close()


def test_switching_on_at_run_time_writes_the_base_in_the_background_and_replaces_an_old_file():
    with tempfile.TemporaryDirectory(prefix="atoll-aof-") as directory:
        # An old append-only file with data that must not come back.
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=15)
            c.command("SET", "stale", "1")
            c.close()
        old_parts = set(os.listdir(aof_dir(directory)))
        with spawn("atoll", "--dir", directory, "--appendonly", "no") as a:
            c = a.connect(timeout=30)
            assert c.command("FLUSHALL") == b"+OK\r\n"
            load_dataset(c, 50_000)
            assert c.command("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
            # Writes go on while the base is written; they are in the file from the start.
            c.command("SET", "during", "1")
            wait_field(c, "persistence", "aof_rewrite_in_progress", "0", timeout=30)
            assert info_field(c, "persistence", "aof_last_bgrewrite_status") == "ok"
            c.command("SET", "after", "1")
            os.kill(a.pid, 9)
            assert a.wait_exit(10) is not None
        assert not old_parts & {name for name in os.listdir(aof_dir(directory)) if name.startswith("appendonly.aof.")} - {"appendonly.aof.manifest"}
        with spawn("atoll", "--dir", directory, *AOF) as a:
            c = a.connect(timeout=30)
            assert resp.parse(c.command("DBSIZE")) == 50_002
            assert c.command("EXISTS", "stale", "during", "after") == b":2\r\n"
            c.close()
