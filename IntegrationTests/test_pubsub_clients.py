"""Pub/Sub through real clients: redis-py's PubSub (get_message, listen, run_in_thread,
pattern subscriptions, RESP2 and RESP3) and redis-cli's subscribe mode, whose output is
compared with the same invocation against redis-server."""

import os
import select
import subprocess
import time

import pytest
import redis


def _client(port, **kw):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, socket_connect_timeout=5, **kw)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request, atoll_port):
    client = _client(atoll_port, protocol=request.param)
    yield client
    client.close()


def _next_message(pubsub, deadline=5.0):
    """The next message, waiting at most `deadline` seconds in total (bounded)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message is not None:
            return message
    raise AssertionError("no message within the deadline")


def test_get_message_channels_and_patterns(r):
    p = r.pubsub()
    p.subscribe("orders")
    p.psubscribe("events.*")
    for _ in range(2):  # the two confirmations
        assert p.get_message(timeout=5)["type"] in ("subscribe", "psubscribe")
    assert r.publish("orders", "o1") == 1
    assert r.publish("events.created", "e1") == 1
    assert r.publish("unrelated", "x") == 0
    first = _next_message(p)
    assert (first["type"], first["channel"], first["data"]) == ("message", b"orders", b"o1")
    second = _next_message(p)
    assert (second["type"], second["pattern"], second["channel"], second["data"]) == \
        ("pmessage", b"events.*", b"events.created", b"e1")
    assert r.pubsub_numsub("orders") == [(b"orders", 1)]
    assert r.pubsub_numpat() == 1
    p.unsubscribe("orders")
    p.punsubscribe("events.*")
    p.close()


def test_listen_in_order(r):
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("q")
    assert p.get_message(timeout=5) is None  # the confirmation, ignored
    for i in range(50):
        r.publish("q", f"m{i}")
    received = []
    for message in p.listen():
        received.append(message["data"])
        if len(received) == 50:
            break
    assert received == [f"m{i}".encode() for i in range(50)]
    p.close()


def test_run_in_thread_with_handler(atoll_port):
    client = _client(atoll_port)
    seen = []
    p = client.pubsub()
    p.subscribe(**{"jobs": lambda message: seen.append(message["data"])})
    worker = p.run_in_thread(sleep_time=0.05, daemon=True)
    try:
        for _ in range(100):
            if client.pubsub_numsub("jobs") == [(b"jobs", 1)]:
                break
            time.sleep(0.02)
        for i in range(20):
            client.publish("jobs", str(i))
        end = time.monotonic() + 5
        while len(seen) < 20 and time.monotonic() < end:
            time.sleep(0.02)
        assert seen == [str(i).encode() for i in range(20)]
    finally:
        worker.stop()
        worker.join(timeout=5)
        p.close()
        client.close()


def test_sharded_pubsub(atoll_port):
    client = _client(atoll_port)
    p = client.pubsub()
    p.ssubscribe("{shard}a")
    assert p.get_sharded_message(timeout=5)["type"] == "ssubscribe"
    assert client.spublish("{shard}a", "hi") == 1
    message = None
    end = time.monotonic() + 5
    while message is None and time.monotonic() < end:
        message = p.get_sharded_message(ignore_subscribe_messages=True, timeout=0.5)
    assert message["type"] == "smessage" and message["data"] == b"hi"
    p.close()
    client.close()


def _read_until(proc, marker: bytes, deadline: float = 5.0) -> bytes:
    """What `proc` printed up to and including `marker`, reading for at most `deadline` s."""
    out = b""
    end = time.monotonic() + deadline
    while marker not in out and time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            break
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        out += chunk
    return out


@pytest.mark.parametrize("mode", ["subscribe", "psubscribe"])
def test_redis_cli_subscribe_output_matches_redis(ref_port, atoll_port, mode):
    outputs = []
    for port in (ref_port, atoll_port):
        target = "news" if mode == "subscribe" else "ne*"
        proc = subprocess.Popen(["redis-cli", "-p", str(port), mode, target], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            out = _read_until(proc, b"1\n")  # the confirmation's count
            client = _client(port)
            client.publish("news", "hello")
            client.publish("news", "second line")
            client.close()
            out += _read_until(proc, b"second line\n")
        finally:
            proc.terminate()
            proc.communicate(timeout=5)
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert outputs[1].endswith(b"second line\n")
