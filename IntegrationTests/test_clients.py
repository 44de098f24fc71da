"""Real client libraries against Atoll: redis-py (RESP2 and RESP3) and redis-cli.

The redis-cli tests also run the same invocation against the reference Redis
and require identical output, since formatting depends on exact reply types.
"""

import subprocess

import pytest
import redis


def _client(port, **kw):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5,
                       socket_connect_timeout=5, **kw)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request, atoll_port):
    client = _client(atoll_port, protocol=request.param)
    yield client
    client.close()


def test_set_get_incr(r):
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "old", get=True) == b"v"
    assert r.incr("n") == 1
    assert r.incrby("n", 10) == 11
    assert r.decr("n") == 10
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.append("k", "!") == 4
    assert r.strlen("k") == 4
    assert r.getrange("k", 0, 1) == b"ol"
    assert r.mset({"a": 1, "b": 2}) is True
    assert r.mget("a", "b", "zz") == [b"1", b"2", None]
    assert r.getdel("a") == b"1"
    assert r.exists("a", "b") == 1
    assert r.delete("b", "k") == 2
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SET", "x", "y", "NX", "XX")
    r.set("s", "abc")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.incr("s")


def test_pipeline_without_transaction(r):
    p = r.pipeline(transaction=False)
    for i in range(500):
        p.set(f"key:{i}", i)
    for i in range(500):
        p.get(f"key:{i}")
    p.dbsize()
    out = p.execute()
    assert out[:500] == [True] * 500
    assert out[500:1000] == [str(i).encode() for i in range(500)]
    assert out[1000] == 500


def test_expire_ttl(r):
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.expire("k", 1000) is True
    assert r.ttl("k") == 1000
    assert 999_000 < r.pttl("k") <= 1_000_000
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.set("e", "v", ex=100) is True
    assert r.ttl("e") == 100
    assert r.getex("e", persist=True) == b"v"
    assert r.ttl("e") == -1
    assert r.expire("e", 10, nx=True) is True
    assert r.expire("e", 5, gt=True) is False
    assert r.ttl("missing") == -2
    assert r.expireat("e", 4102444800) is True
    assert r.expiretime("e") == 4102444800


def test_scan_iter(r):
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"user:{i}", i)
        for i in range(100):
            p.set(f"other:{i}", i)
        p.execute()
    assert set(r.scan_iter(match="user:*", count=50)) == {f"user:{i}".encode() for i in range(1000)}
    assert len(set(r.scan_iter())) == 1100
    assert len(set(r.scan_iter(_type="string", count=1000))) == 1100
    assert sorted(r.keys("other:1?")) == sorted(f"other:{i}".encode() for i in range(10, 20))
    assert r.dbsize() == 1100
    assert r.flushdb() is True
    assert r.dbsize() == 0


def test_select_other_db(atoll_port):
    c1 = _client(atoll_port, db=1)
    c0 = _client(atoll_port)
    try:
        c1.set("k", "one")
        assert c0.get("k") is None
        assert c1.get("k") == b"one"
        assert c0.move("k", 1) is False
    finally:
        c0.close()
        c1.close()


def test_client_setname_and_info(atoll_port):
    c = _client(atoll_port, client_name="it-client")
    try:
        assert c.client_getname() == "it-client"
        assert isinstance(c.client_id(), int)
        assert c.client_info()["name"] == "it-client"
        assert "redis_version" in c.info()
    finally:
        c.close()


# --- redis-cli ----------------------------------------------------------------------

def _cli(port, *args, input=None):
    proc = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
        input=input, capture_output=True, timeout=15)
    return proc.returncode, proc.stdout, proc.stderr


CLI_CASES = [
    ("SET", "k", "v"), ("GET", "k"), ("--raw", "GET", "k"), ("GET", "missing"),
    ("--no-raw", "GET", "missing"), ("--no-raw", "GET", "k"), ("--no-raw", "INCR", "c"),
    ("--raw", "INCR", "c"), ("--no-raw", "MGET", "k", "missing", "c"),
    ("--raw", "MGET", "k", "missing", "c"), ("--no-raw", "SET", "k", "v", "NX", "XX"),
    ("--raw", "SET", "k", "v", "NX", "XX"), ("--no-raw", "INCRBYFLOAT", "f", "1.5"),
    ("--no-raw", "EXISTS", "k", "c"), ("--no-raw", "-3", "GET", "missing"),
    ("--no-raw", "-3", "INCRBYFLOAT", "f", "1"), ("--no-raw", "-3", "CONFIG", "GET", "timeout"),
    ("--no-raw", "TTL", "k"), ("--no-raw", "DBSIZE"), ("--no-raw", "TYPE", "k"),
    ("--no-raw", "nosuchcmd", "x"), ("-n", "3", "SET", "db3", "x"), ("-n", "3", "DBSIZE"),
    ("--no-raw", "SCAN", "0", "MATCH", "nomatch*"), ("--no-raw", "KEYS", "nomatch*"),
]


def test_redis_cli_matches_reference(ref_port, atoll_port):
    for args in CLI_CASES:
        want = _cli(ref_port, *args)
        got = _cli(atoll_port, *args)
        assert got == want, f"redis-cli {' '.join(args)}:\n  redis: {want!r}\n  atoll: {got!r}"


def test_redis_cli_basic(atoll_port):
    assert _cli(atoll_port, "SET", "k", "v") == (0, b"OK\n", b"")
    assert _cli(atoll_port, "GET", "k") == (0, b"v\n", b"")
    assert _cli(atoll_port, "--raw", "GET", "k") == (0, b"v\n", b"")
    assert _cli(atoll_port, "--no-raw", "INCR", "n") == (0, b"(integer) 1\n", b"")
    rc, out, _ = _cli(atoll_port, input=b"SET a 1\nGET a\nINCR a\n")
    assert (rc, out) == (0, b"OK\n1\n2\n")
    rc, out, _ = _cli(atoll_port, "PING")
    assert (rc, out) == (0, b"PONG\n")
