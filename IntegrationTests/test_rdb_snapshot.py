"""RDB snapshots: Atoll's SAVE writes a file that Debian's redis-check-rdb accepts and that
redis-server loads with identical contents (every type, binary data, expiry times, several
databases, function libraries)."""
import os
import subprocess
import tempfile

import resp
from procs import spawn

FAR_MS = 4102444800000 + 123  # 2100-01-01, so the expiry survives the test


def populate(c: resp.Conn) -> None:
    c.command("SET", "str", "hello")
    c.command("SET", "int", "12345")
    c.command("SET", "neg", "-9223372036854775808")
    c.command("SET", "bin", b"\x00\xff\r\n" * 50)
    c.command("SET", "empty", "")
    c.command("SET", "volatile", "v", "PXAT", str(FAR_MS))
    c.command("RPUSH", "list", "a", "b", "c", b"\x00")
    c.command("RPUSH", "biglist", *[f"item{i}" for i in range(1000)])
    c.command("SADD", "intset", "1", "2", "300", "-7")
    c.command("SADD", "strset", "x", "y", "z")
    c.command("SADD", "bigset", *[f"m{i}" for i in range(600)])
    c.command("HSET", "hash", "f1", "v1", "f2", "22")
    c.command("HSET", "bighash", *[x for i in range(600) for x in (f"field{i}", "v" * (i % 80))])
    c.command("ZADD", "zset", "1", "a", "2.5", "b", "-inf", "lo", "inf", "hi", "-0.125", "neg")
    c.command("ZADD", "bigzset", *[x for i in range(300) for x in (str(i / 7), f"member{i}")])
    c.command("PEXPIREAT", "hash", str(FAR_MS))
    c.command("SELECT", "3")
    c.command("SET", "in-db-3", "yes")
    c.command("LPUSH", "list3", "q")
    c.command("SELECT", "0")
    c.command("FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)")


def assert_redis_accepts(path: str) -> None:
    check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout + check.stderr


def contents(c: resp.Conn) -> dict:
    """Every key of databases 0..15 with its type, value and expiry time, in comparable form."""
    out = {}
    for db in range(16):
        c.command("SELECT", str(db))
        for key in sorted(resp.parse(c.command("KEYS", "*"))):
            kind = resp.parse(c.command("TYPE", key))
            if kind == "string":
                value = resp.parse(c.command("GET", key))
            elif kind == "list":
                value = resp.parse(c.command("LRANGE", key, "0", "-1"))
            elif kind == "set":
                value = sorted(resp.parse(c.command("SMEMBERS", key)))
            elif kind == "hash":
                flat = resp.parse(c.command("HGETALL", key))
                value = sorted(zip(flat[0::2], flat[1::2]))
            else:
                value = resp.parse(c.command("ZRANGE", key, "0", "-1", "WITHSCORES"))
            out[(db, key)] = (kind, value, resp.parse(c.command("PEXPIRETIME", key)))
    c.command("SELECT", "0")
    out["functions"] = resp.parse(c.command("FUNCTION", "LIST", "WITHCODE"))
    return out


def test_atoll_snapshot_loads_in_redis():
    with tempfile.TemporaryDirectory(prefix="atoll-rdb-") as directory:
        with spawn("atoll", "--dir", directory, "--dbfilename", "dump.rdb") as a:
            c = a.connect(timeout=15)
            populate(c)
            assert c.command("SAVE") == b"+OK\r\n"
            expected = contents(c)
            c.close()
        assert_redis_accepts(os.path.join(directory, "dump.rdb"))
        with spawn("redis", "--dir", directory, "--dbfilename", "dump.rdb") as r:
            c = r.connect(timeout=15)
            assert contents(c) == expected
            c.close()


def test_save_updates_lastsave_and_dirty():
    with tempfile.TemporaryDirectory(prefix="atoll-rdb-") as directory:
        # dbfilename is a protected config, as in Redis 7.
        with spawn("atoll", "--dir", directory, "--enable-protected-configs", "yes") as a:
            c = a.connect(timeout=15)
            c.command("SET", "k", "v")
            before = resp.parse(c.command("LASTSAVE"))
            assert c.command("SAVE") == b"+OK\r\n"
            assert resp.parse(c.command("LASTSAVE")) >= before
            assert os.path.exists(os.path.join(directory, "dump.rdb"))
            assert c.command("CONFIG", "GET", "dbfilename") == b"*2\r\n$10\r\ndbfilename\r\n$8\r\ndump.rdb\r\n"
            assert c.command("CONFIG", "SET", "dbfilename", "other.rdb") == b"+OK\r\n"
            assert c.command("SAVE") == b"+OK\r\n"
            assert os.path.exists(os.path.join(directory, "other.rdb"))
            c.close()


def test_save_in_transaction_is_refused_like_redis(diff):
    diff.check("MULTI")
    diff.check("SAVE")
    diff.check("EXEC")


def test_redis_snapshot_loads_in_atoll():
    """A dump written by redis-server (listpacks, intsets, quicklists, LZF strings) loads in Atoll."""
    with tempfile.TemporaryDirectory(prefix="atoll-rdb-") as directory:
        with spawn("redis", "--dir", directory, "--dbfilename", "dump.rdb") as r:
            c = r.connect(timeout=15)
            populate(c)
            c.command("SET", "compressible", "abc" * 500)
            assert c.command("SAVE") == b"+OK\r\n"
            expected = contents(c)
            c.close()
        with spawn("atoll", "--dir", directory, "--dbfilename", "dump.rdb") as a:
            c = a.connect(timeout=15)
            assert contents(c) == expected
            assert c.command("FCALL", "f1", "0") == b":1\r\n"
            c.close()


def test_atoll_snapshot_survives_a_restart():
    with tempfile.TemporaryDirectory(prefix="atoll-rdb-") as directory:
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            populate(c)
            assert c.command("SAVE") == b"+OK\r\n"
            expected = contents(c)
            c.close()
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            assert contents(c) == expected
            c.close()


def test_damaged_snapshot_is_refused_with_its_offset():
    with tempfile.TemporaryDirectory(prefix="atoll-rdb-") as directory:
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            populate(c)
            assert c.command("SAVE") == b"+OK\r\n"
            c.close()
        path = os.path.join(directory, "dump.rdb")
        data = bytearray(open(path, "rb").read())
        for damaged in (bytes(data[:len(data) // 2]), bytes(data[:-1]),
                        bytes(data[:len(data) // 2]) + bytes([data[len(data) // 2] ^ 0x40]) + bytes(data[len(data) // 2 + 1:])):
            with open(path, "wb") as f:
                f.write(damaged)
            with spawn("atoll", "--dir", directory, ready=False) as a:
                assert a.wait_exit(15) == 1, a.logs()
                assert "Bad RDB file" in a.logs() and "at offset" in a.logs(), a.logs()


def test_script_cache_survives_a_restart_and_redis_still_loads_the_file():
    scripts = ["return 1", "return redis.call('GET', KEYS[1])", "#!lua flags=no-writes\nreturn ARGV[1]"]
    with tempfile.TemporaryDirectory(prefix="atoll-rdb-") as directory:
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            shas = [resp.parse(c.command("SCRIPT", "LOAD", s)) for s in scripts]
            c.command("SET", "k", "v")
            assert c.command("SAVE") == b"+OK\r\n"
            c.close()
        with spawn("atoll", "--dir", directory) as a:
            c = a.connect(timeout=15)
            assert c.command("SCRIPT", "EXISTS", *shas) == b"*3\r\n:1\r\n:1\r\n:1\r\n"
            assert c.command("EVALSHA", shas[1], "1", "k") == b"$1\r\nv\r\n"
            c.close()
        assert_redis_accepts(os.path.join(directory, "dump.rdb"))
        with spawn("redis", "--dir", directory, "--dbfilename", "dump.rdb") as r:
            c = r.connect(timeout=15)
            assert c.command("GET", "k") == b"$1\r\nv\r\n"
            c.close()
