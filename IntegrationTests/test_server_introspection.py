"""MEMORY, LOLWUT and LATENCY: the replies whose text Redis fixes (HELP, errors, PURGE,
DOCTOR on a small instance, latency queries without events) byte for byte; MEMORY USAGE and
STATS by shape and by sense, since their figures are Atoll's own layout, not Redis's."""
import resp


def test_fixed_replies_match(diff):
    diff.run([
        "MEMORY HELP", "MEMORY PURGE", "MEMORY DOCTOR", "MEMORY FOO", "MEMORY", "MEMORY USAGE nokey",
        "SET k v", "MEMORY USAGE k FOO", "MEMORY USAGE k SAMPLES", "MEMORY USAGE k SAMPLES x",
        "MEMORY USAGE k SAMPLES -1", "MEMORY USAGE nokey SAMPLES x", "MEMORY USAGE", "MEMORY PURGE x",
        "MEMORY STATS x", "MEMORY DOCTOR x",
    ])


def test_usage_grows_with_the_value(atoll_conn):
    c = atoll_conn
    c.call("SET", "small", "v")
    c.call("SET", "big", "x" * 10000)
    small, big = c.call("MEMORY", "USAGE", "small"), c.call("MEMORY", "USAGE", "big")
    assert 0 < small < 200 and big > 10000
    c.call("RPUSH", "list", *[str(i) * 50 for i in range(1000)])
    c.call("SADD", "set", *[f"member-{i:040d}" for i in range(1000)])
    c.call("HSET", "hash", *[x for i in range(1000) for x in (f"field-{i:030d}", "v" * 40)])
    c.call("ZADD", "zset", *[x for i in range(1000) for x in (str(i), f"m{i:040d}")])
    for key in ("list", "set", "hash", "zset"):
        sampled, full = c.call("MEMORY", "USAGE", key), c.call("MEMORY", "USAGE", key, "SAMPLES", "0")
        assert 40_000 < full < 500_000, (key, full)
        assert sampled > 0
    for key in ("set", "zset"):
        c.call("DEL", "one")
        c.call("SADD" if key == "set" else "ZADD", "one", *(["x" * 40] if key == "set" else ["1", "x" * 40]))
        assert c.call("MEMORY", "USAGE", "one") < c.call("MEMORY", "USAGE", key)


def test_stats_has_redis_fields(ref_conn, atoll_conn):
    for conn in (ref_conn, atoll_conn):
        conn.call("SET", "k", "v")
    ours = resp.parse(atoll_conn.command("MEMORY", "STATS"))
    theirs = resp.parse(ref_conn.command("MEMORY", "STATS"))
    assert ours[::2] == theirs[::2]
    assert dict(zip(ours[::2], ours[1::2]))[b"keys.count"] == 1


def test_lolwut(diff, atoll_conn):
    """Redis 7.0 answers its version line; VERSION 5 and 6 draw art (Atoll its own), with the
    same argument errors."""
    diff.run(["LOLWUT", "LOLWUT x", "LOLWUT VERSION 7", "LOLWUT VERSION -1", "LOLWUT VERSION x",
              "LOLWUT VERSION 59", "LOLWUT VERSION 5 x", "LOLWUT VERSION 6 10 x", "LOLWUT VERSION"])
    art = bytes(resp.parse(atoll_conn.command("LOLWUT", "VERSION", "5", "40", "10"))).decode()
    assert art.endswith("Redis ver. 7.0.15\n") and "#" in art and len(art.split("\n")) > 10


def test_latency_without_events(diff):
    """With latency-monitor-threshold 0 (the default) neither server records events."""
    diff.run(["LATENCY LATEST", "LATENCY HISTORY command", "LATENCY RESET", "LATENCY RESET command x",
              "LATENCY GRAPH command", "LATENCY GRAPH", "LATENCY GRAPH a b", "LATENCY FOO", "LATENCY"])
