"""Per-command and per-error statistics against redis-server 7.0.15: after the same commands
on both servers (from a CONFIG RESETSTAT), INFO `# Commandstats` lists the same commands with
the same calls, rejected_calls and failed_calls (usec only checked to be numbers), `#
Errorstats` the same codes and counts, `total_error_replies` agrees; errors inside MULTI,
EXEC and scripts (redis.call, redis.pcall, error tables, refusals) are counted as Redis counts
them; `# Latencystats` lists the same commands with the configured percentiles; LATENCY
HISTOGRAM has Redis's shape, bucket keys and calls."""
import shlex
import time

import pytest

import resp

BUCKET_KEYS = {(1032 * 2 ** k - 1) // 1000 for k in range(20)}


def _info(conn, *sections) -> list[str]:
    return bytes(resp.parse(conn.command("INFO", *sections))).decode().split("\r\n")


def _stats(conn):
    """({command: (calls, rejected, failed)}, {code: count}, total_error_replies)."""
    commands, errors, total = {}, {}, None
    for line in _info(conn, "commandstats", "errorstats", "stats"):
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            fields = dict(kv.split("=") for kv in rest.split(","))
            assert list(fields) == ["calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"], line
            int(fields["usec"]), float(fields["usec_per_call"])
            commands[name] = (int(fields["calls"]), int(fields["rejected_calls"]), int(fields["failed_calls"]))
        elif line.startswith("errorstat_"):
            name, count = line[len("errorstat_"):].split(":count=")
            errors[name] = int(count)
        elif line.startswith("total_error_replies:"):
            total = int(line.split(":")[1])
    return commands, errors, total


def _run_both(ref_conn, atoll_conn, commands):
    for conn in (ref_conn, atoll_conn):
        conn.call("CONFIG", "RESETSTAT")
    for command in commands:
        args = shlex.split(command) if isinstance(command, str) else list(command)
        ours, theirs = atoll_conn.command(*args), ref_conn.command(*args)
        assert ours == theirs, (command, ours, theirs)


def _assert_same_stats(ref_conn, atoll_conn, commands):
    _run_both(ref_conn, atoll_conn, commands)
    ours, theirs = _stats(atoll_conn), _stats(ref_conn)
    assert ours == theirs, commands
    return ours


SEQUENCES = {
    "plain errors": ["SET s abc", "INCR s", "GET", "NOSUCH x", "LPUSH s x", "SET a b c", "GET s", "GET s"],
    "subcommands": ["CONFIG GET maxmemory", "CONFIG SET nosuch x", "CONFIG GET", "CONFIG NOSUCH",
                    "OBJECT ENCODING s", "CLIENT GETNAME"],
    "multi exec": ["SET s abc", "MULTI", "INCR s", "GET s", "EXEC"],
    "queued refusal": ["MULTI", "GET", "GET s", "EXEC"],
    "exec discard without multi": ["EXEC", "DISCARD", "MULTI", "MULTI", "EXEC"],
    "multi refusal": ["MULTI", "WATCH x", "EXEC"],
    "wrongtype in multi": ["SET s abc", "MULTI", "LPUSH s x", "SADD t x", "EXEC"],
    "blocking timeout": ["BLPOP nolist 0.01", "BZPOPMIN nozset 0.01"],
    "redis.call error": ["SET s abc", ("EVAL", "return redis.call('incr','s')", "0")],
    "redis.pcall returned": ["SET s abc", ("EVAL", "return redis.pcall('incr','s')", "0")],
    "redis.pcall swallowed": ["SET s abc", ("EVAL", "local e = redis.pcall('incr','s'); return 1", "0")],
    "redis.pcall nested": ["SET s abc", ("EVAL", "return {1, redis.pcall('lpush','s','x')}", "0")],
    "script refusals": [("EVAL", "return redis.call('get')", "0"), ("EVAL", "return redis.call('nosuch')", "0"),
                        ("EVAL", "return redis.call('multi')", "0"),
                        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('set','a','b')", "0")],
    "script errors": [("EVAL", "return redis.error_reply('MY bad')", "0"), ("EVAL", "return {err='XX bad'}", "0"),
                      ("EVAL", "error('boom')", "0"), ("EVAL", "syntax error here", "0"),
                      ("EVALSHA", "0" * 40, "0"), ("EVAL", "return {err='nospace'}", "0"),
                      ("EVAL", "return {err='-DASH x'}", "0")],
    "error codes": [("EVAL", f"return redis.error_reply('{'A' * 31} x')", "0"),
                    ("EVAL", f"return redis.error_reply('{'A' * 30} x')", "0"),
                    ("EVAL", "return redis.error_reply(' x')", "0"), ("EVAL", "return redis.error_reply('')", "0"),
                    ("EVAL", "return redis.error_reply('a:b x')", "0"), ("EVAL", "return redis.error_reply('c#d x')", "0")],
    "functions": [("FUNCTION", "LOAD", "#!lua name=statlib\nredis.register_function('f', function() return redis.call('incr', 's') end)"),
                  "SET s abc", "FCALL f 0", "FCALL nosuch 0", "FUNCTION DELETE statlib"],
    "many codes": [("EVAL", f"return redis.error_reply('E{i:03d} x')", "0") for i in range(140)],
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_counters_match(ref_conn, atoll_conn, name):
    _assert_same_stats(ref_conn, atoll_conn, SEQUENCES[name])


def test_noauth_is_a_rejected_call(ref_conn, atoll_conn, ref_port, atoll_port):
    for conn in (ref_conn, atoll_conn):
        conn.call("CONFIG", "SET", "requirepass", "secret")
    try:
        for conn in (ref_conn, atoll_conn):
            conn.call("AUTH", "secret")
            conn.call("CONFIG", "RESETSTAT")
        for port in (ref_port, atoll_port):
            with resp.Conn(port) as other:
                assert other.command("GET", "k").startswith(b"-NOAUTH")
                assert other.command("PING").startswith(b"-NOAUTH")
        ours, theirs = _stats(atoll_conn), _stats(ref_conn)
        assert ours == theirs
        assert ours[0]["get"] == (0, 1, 0) and ours[1] == {"NOAUTH": 2}
    finally:
        for conn in (ref_conn, atoll_conn):
            conn.call("CONFIG", "SET", "requirepass", "")


def test_subscribed_client_refusal_is_rejected(ref_conn, atoll_conn, ref_port, atoll_port):
    for conn in (ref_conn, atoll_conn):
        conn.call("CONFIG", "RESETSTAT")
    for port in (ref_port, atoll_port):
        with resp.Conn(port) as other:
            other.command("SUBSCRIBE", "ch")
            assert other.command("GET", "k").startswith(b"-ERR Can't execute")
    assert _stats(atoll_conn) == _stats(ref_conn)


def test_resetstat_clears_everything(ref_conn, atoll_conn):
    _run_both(ref_conn, atoll_conn, ["SET s abc", "INCR s", "GET", "NOSUCH"])
    for conn in (ref_conn, atoll_conn):
        conn.call("CONFIG", "RESETSTAT")
    ours = _stats(atoll_conn)
    assert ours == _stats(ref_conn)
    assert ours == ({"config|resetstat": (1, 0, 0)}, {}, 0)
    for conn in (ref_conn, atoll_conn):
        # INFO itself (the statistics read above) has its samples by now.
        assert set(_latency_lines(conn)) == {"latency_percentiles_usec_config|resetstat", "latency_percentiles_usec_info"}
        assert resp.parse(conn.command("LATENCY", "HISTOGRAM", "get", "set")) == []


def test_stats_fields_and_sections(ref_conn, atoll_conn):
    for conn in (ref_conn, atoll_conn):
        fields = [l.split(":")[0] for l in _info(conn, "stats")]
        assert fields.index("unexpected_error_replies") + 1 == fields.index("total_error_replies")
    for section in ("commandstats", "errorstats", "latencystats"):
        assert _info(atoll_conn, section)[0] == _info(ref_conn, section)[0]


def _latency_lines(conn):
    return {l.split(":", 1)[0]: l.split(":", 1)[1] for l in _info(conn, "latencystats") if l.startswith("latency_")}


def test_latencystats_names_and_percentiles(ref_conn, atoll_conn):
    try:
        for conn in (ref_conn, atoll_conn):
            conn.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 50.0 99.990 100")
        _run_both(ref_conn, atoll_conn, ["SET a 1", "GET a", "GET a", "CONFIG GET maxmemory", "INCR a"])
        ours, theirs = _latency_lines(atoll_conn), _latency_lines(ref_conn)
        assert set(ours) == set(theirs)
        for name, values in ours.items():
            keys = [v.split("=")[0] for v in values.split(",")]
            assert keys == [v.split("=")[0] for v in theirs[name].split(",")] == ["p0", "p50", "p99.99", "p100"]
            for v in values.split(","):
                number = v.split("=")[1]
                assert len(number.split(".")[1]) == 3 and float(number) >= 0
        for conn in (ref_conn, atoll_conn):
            conn.call("CONFIG", "SET", "latency-tracking", "no")
        _run_both(ref_conn, atoll_conn, ["GET a"])
        assert _latency_lines(atoll_conn) == {} == _latency_lines(ref_conn)
        assert resp.parse(atoll_conn.command("LATENCY", "HISTOGRAM")) == []
    finally:
        for conn in (ref_conn, atoll_conn):
            conn.call("CONFIG", "SET", "latency-tracking", "yes")
            conn.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")


def _histograms(raw):
    """{name: (calls, [(usec, cumulative count), ...])} from LATENCY HISTOGRAM's reply."""
    parsed = resp.parse(raw)
    items = list(parsed.items()) if isinstance(parsed, dict) else list(zip(parsed[::2], parsed[1::2]))
    out = {}
    for name, body in items:
        body = dict(body) if isinstance(body, dict) else dict(zip(body[::2], body[1::2]))
        buckets = body[b"histogram_usec"]
        pairs = list(buckets.items()) if isinstance(buckets, dict) else list(zip(buckets[::2], buckets[1::2]))
        out[name.decode()] = (body[b"calls"], pairs)
    return out


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("args", [(), ("get",), ("GET", "set"), ("config",), ("config|get", "nosuch", "get"),
                                  ("set", "set"), ("nosuch",)])
def test_latency_histogram_shape(ref_conn, atoll_conn, protocol, args):
    for conn in (ref_conn, atoll_conn):
        conn.call("HELLO", str(protocol))
    _run_both(ref_conn, atoll_conn, ["SET a 1"] + ["GET a"] * 20 + ["CONFIG GET maxmemory", "CONFIG GET hz"])
    raw_ours = atoll_conn.command("LATENCY", "HISTOGRAM", *args)
    raw_theirs = ref_conn.command("LATENCY", "HISTOGRAM", *args)
    assert raw_ours[:1] == raw_theirs[:1]
    ours, theirs = _histograms(raw_ours), _histograms(raw_theirs)
    assert {n: calls for n, (calls, _) in ours.items()} == {n: calls for n, (calls, _) in theirs.items()}
    if len(args) == 2 and args[0] == args[1]:
        assert len(resp.parse(raw_ours)) == len(resp.parse(raw_theirs))
    for calls, buckets in ours.values():
        assert buckets and buckets[-1][1] == calls
        assert all(usec in BUCKET_KEYS for usec, _ in buckets)
        assert [c for _, c in buckets] == sorted(c for _, c in buckets)


def test_latency_help_lists_histogram(diff):
    diff.check("LATENCY", "HELP")


def _wait_blocked(conn):
    for _ in range(200):
        if "blocked_clients:1" in _info(conn, "clients"):
            return
        time.sleep(0.01)
    raise AssertionError("client did not block")


def test_blocked_commands_count_when_released(ref_conn, atoll_conn, ref_port, atoll_port):
    """A parked command counts once, when served, timed out or unblocked; CLIENT UNBLOCK fails
    the blocked command (with TIMEOUT too, as Redis 7.0 counts it), and with ERROR also CLIENT
    UNBLOCK itself."""
    for port, conn in ((ref_port, ref_conn), (atoll_port, atoll_conn)):
        conn.call("CONFIG", "RESETSTAT")
        with resp.Conn(port) as blocked:
            client_id = resp.parse(blocked.command("CLIENT", "ID"))
            for reason, release in (("ERROR", None), ("TIMEOUT", None), (None, ("RPUSH", "q", "x"))):
                blocked.send_raw(resp.encode("BLPOP", "q", "0"))
                _wait_blocked(conn)
                conn.command(*(release or ("CLIENT", "UNBLOCK", str(client_id), reason)))
                blocked.read_reply()
    ours, theirs = _stats(atoll_conn), _stats(ref_conn)
    # How often INFO polled for the client to block is the machine's timing, not a rule.
    ours[0].pop("info"), theirs[0].pop("info")
    assert ours == theirs
