"""Blocking XREAD and XREADGROUP.

Each scenario runs against the reference Redis and against Atoll (the ``port`` fixture) with
exact expectations, so every expectation is Redis 7.0's own: which parked client gets which
entry and when (first come first served, after a whole MULTI or script), timeouts, the
errors a parked XREADGROUP gets when its key or group goes, CLIENT UNBLOCK, and the answers
inside MULTI and scripts. A client is known to be parked by polling ``INFO clients``
(bounded); every socket read has a timeout.
"""

import shlex

import resp
from test_blocking_lists import (answered, client_id, conns, info_field, no_reply_within, port,  # noqa: F401
                                 transaction, wait_blocked)


def bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


def entry(key: bytes, *entries) -> bytes:
    """The RESP2 reply of one stream with `entries`, each (id, field, value)."""
    out = b"*1\r\n*2\r\n" + bulk(key) + b"*%d\r\n" % len(entries)
    for id_, f, v in entries:
        out += b"*2\r\n" + bulk(id_) + b"*2\r\n" + bulk(f) + bulk(v)
    return out


def test_xread_readers_of_a_stream_all_get_the_new_entry(conns):
    control = conns()
    control.command("XADD", "a", "1-0", "f", "old")
    readers = [conns() for _ in range(3)]
    for n, r in enumerate(readers, start=1):
        r.send_raw(resp.encode("XREAD", "BLOCK", "0", "STREAMS", "b", "a", "$", "$"))
        wait_blocked(control, n)
    other = conns()
    other.send_raw(resp.encode("XREAD", "BLOCK", "0", "STREAMS", "b", "0"))
    wait_blocked(control, 4)
    assert control.command("XADD", "a", "2-0", "f", "new") == b"$3\r\n2-0\r\n"
    for r in readers:
        assert r.read_reply() == entry(b"a", (b"2-0", b"f", b"new"))
    assert info_field(control, "blocked_clients") == 1
    control.command("XADD", "b", "5-0", "x", "y")
    assert other.read_reply() == entry(b"b", (b"5-0", b"x", b"y"))


def test_xreadgroup_readers_share_entries_first_come_first_served(conns):
    control = conns()
    control.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    readers = [conns() for _ in range(3)]
    for n, r in enumerate(readers, start=1):
        r.send_raw(resp.encode("XREADGROUP", "GROUP", "g", f"c{n}", "BLOCK", "0", "STREAMS", "s", ">"))
        wait_blocked(control, n)
    control.command("XADD", "s", "1-0", "f", "1")
    assert readers[0].read_reply() == entry(b"s", (b"1-0", b"f", b"1"))
    assert info_field(control, "blocked_clients") == 2
    # Two entries in one transaction: the next reader takes both (COUNT defaults to 1000).
    transaction(control, ["XADD", "s", "2-0", "f", "2"], ["XADD", "s", "3-0", "f", "3"])
    assert readers[1].read_reply() == (b"*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"
                                       b"*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n")
    assert info_field(control, "blocked_clients") == 1
    control.command("XADD", "s", "4-0", "f", "4")
    assert readers[2].read_reply() == entry(b"s", (b"4-0", b"f", b"4"))
    assert control.command("XPENDING", "s", "g") == (
        b"*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*3\r\n*2\r\n$2\r\nc1\r\n$1\r\n1\r\n*2\r\n$2\r\nc2\r\n$1\r\n2\r\n"
        b"*2\r\n$2\r\nc3\r\n$1\r\n1\r\n")


def test_count_limits_what_a_parked_reader_gets(conns):
    reader, control = conns(), conns()
    reader.send_raw(resp.encode("XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "0"))
    wait_blocked(control, 1)
    transaction(control, ["XADD", "s", "1-0", "f", "1"], ["XADD", "s", "2-0", "f", "2"])
    assert reader.read_reply() == entry(b"s", (b"1-0", b"f", b"1"))


def test_wakeups_from_multi_and_scripts_happen_after_they_finish(conns):
    reader, control = conns(), conns()
    reader.send_raw(resp.encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(control, 1)
    # Added and deleted within one transaction: the reader keeps waiting.
    assert transaction(control, ["XADD", "s", "1-0", "f", "1"], ["DEL", "s"]) == b"*2\r\n$3\r\n1-0\r\n:1\r\n"
    assert info_field(control, "blocked_clients") == 1
    control.command("EVAL", "redis.call('XADD', KEYS[1], '2-0', 'f', '2'); redis.call('XADD', KEYS[1], '3-0', 'f', '3')",
                    "1", "s")
    assert reader.read_reply() == (b"*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"
                                   b"*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n")


def test_deleting_or_replacing_the_key(conns):
    control = conns()
    control.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    grouped, plain = conns(), conns()
    grouped.send_raw(resp.encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    plain.send_raw(resp.encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(control, 2)
    control.command("DEL", "s")
    assert grouped.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"
    assert info_field(control, "blocked_clients") == 1
    control.command("SET", "s", "string now")
    assert no_reply_within(plain, 0.2)
    control.command("DEL", "s")
    control.command("XADD", "s", "7-0", "f", "v")
    assert plain.read_reply() == entry(b"s", (b"7-0", b"f", b"v"))
    # Replaced by another type.
    control.command("XGROUP", "CREATE", "s", "g", "$")
    grouped.send_raw(resp.encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(control, 1)
    control.command("SET", "s", "x")
    assert grouped.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"


def test_destroyed_group(conns):
    reader, control = conns(), conns()
    control.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    reader.send_raw(resp.encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(control, 1)
    assert control.command("XGROUP", "DESTROY", "s", "g") == b":1\r\n"
    assert reader.read_reply() == b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n"


def test_timeouts(conns):
    reader, control = conns(), conns()
    reader.send_raw(resp.encode("XREAD", "BLOCK", "150", "STREAMS", "s", "$"))
    wait_blocked(control, 1)
    assert reader.read_reply() == b"*-1\r\n"
    control.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    reader.command("HELLO", "3")
    assert reader.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "s", ">") == b"_\r\n"
    assert info_field(control, "blocked_clients") == 0


def test_client_unblock(conns):
    reader, control = conns(), conns()
    rid = client_id(reader)
    reader.send_raw(resp.encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    wait_blocked(control, 1)
    assert control.command("CLIENT", "UNBLOCK", rid) == b":1\r\n"
    assert reader.read_reply() == b"*-1\r\n"
    control.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    reader.send_raw(resp.encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(control, 1)
    assert control.command("CLIENT", "UNBLOCK", rid, "ERROR") == b":1\r\n"
    assert reader.read_reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"


def test_no_blocking_inside_multi_or_scripts(diff):
    for step in ["XADD s 1-0 f v", "XGROUP CREATE s g $", "MULTI", "XREAD BLOCK 0 STREAMS s $",
                 "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", "XREAD BLOCK 0 STREAMS s 0", "EXEC",
                 "EVAL \"return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', 's', '$')\" 0",
                 "EVAL \"return redis.pcall('xread', 'BLOCK', '0', 'STREAMS', 's', '$')\" 0",
                 "EVAL \"return redis.call('XREAD', 'STREAMS', 's', '0')\" 0"]:
        answered(diff, *shlex.split(step))


def test_flush_and_expiry_answer_a_parked_xreadgroup(conns):
    reader, control = conns(), conns()
    control.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    reader.send_raw(resp.encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(control, 1)
    control.command("FLUSHALL")
    assert reader.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"
    control.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    control.command("PEXPIRE", "s", "100")
    reader.send_raw(resp.encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_blocked(control, 1)
    # Nobody reads the key: the background expiry deletes it and answers the reader.
    assert reader.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"
