"""Pub/Sub against redis-server: the raw bytes every connection receives for the same
subscribes, publishes and unsubscribes, in RESP2 and RESP3, errors in subscribed mode
included.

A ``Twin`` holds one connection per role on each server and sends every command to both;
each reply, and each message a subscriber receives, is compared byte for byte. A subscriber's
messages are read with the socket's timeout, so a missing message fails instead of hanging.
Redis orders some things by its dictionaries' hashes (the channels of PUBSUB CHANNELS, the
subscriptions UNSUBSCRIBE without arguments walks, the patterns that match one message):
those are compared as sets, or the tests keep one element where order would show.
"""

import socket

import pytest

import resp


class Twin:
    """Named connections, one on each server, driven in lockstep."""

    def __init__(self, ref_port: int, atoll_port: int):
        self.ports = (ref_port, atoll_port)
        self.conns: dict[str, tuple[resp.Conn, resp.Conn]] = {}

    def conn(self, name: str, resp3: bool = False) -> None:
        pair = tuple(resp.Conn(port, timeout=5.0) for port in self.ports)
        self.conns[name] = pair
        if resp3:
            self.same(name, "HELLO", "3", compare=False)

    def close(self) -> None:
        for pair in self.conns.values():
            for c in pair:
                c.close()

    def same(self, name: str, *args, replies: int = 1, compare: bool = True) -> list[bytes]:
        """Sends a command on both connections and compares the next `replies` frames."""
        ref, atoll = self.conns[name]
        frame = resp.encode(*args)
        ref.send_raw(frame)
        atoll.send_raw(frame)
        return self.read(name, replies, compare=compare, what=" ".join(map(str, args)))

    def read(self, name: str, n: int = 1, compare: bool = True, what: str = "messages") -> list[bytes]:
        ref, atoll = self.conns[name]
        got_ref = [ref.read_reply() for _ in range(n)]
        got_atoll = [atoll.read_reply() for _ in range(n)]
        if compare:
            assert got_ref == got_atoll, f"{name}: {what}\n  redis: {got_ref!r}\n  atoll: {got_atoll!r}"
        return got_atoll

    def quiet(self, name: str) -> None:
        """Neither connection has anything more to read (after a short wait)."""
        for c in self.conns[name]:
            c.sock.settimeout(0.2)
            try:
                extra = c.sock.recv(65536)
            except socket.timeout:
                extra = b""
            finally:
                c.sock.settimeout(5.0)
            assert c.buf[c.pos:] + extra == b"", f"{name} on port {c.port}: unexpected {extra!r}"


@pytest.fixture
def twin(ref_port, atoll_port):
    t = Twin(ref_port, atoll_port)
    yield t
    t.close()


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_subscribe_unsubscribe_confirmations_and_counts(twin, resp3):
    twin.conn("s", resp3)
    for cmd in ("UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"):
        twin.same("s", cmd)
    twin.same("s", "SUBSCRIBE", "a", "b", "a", replies=3)
    twin.same("s", "PSUBSCRIBE", "p*", "q?", replies=2)
    twin.same("s", "SSUBSCRIBE", "s1", "s2", "s1", replies=3)
    twin.same("s", "UNSUBSCRIBE", "b", "never", replies=2)
    twin.same("s", "PUNSUBSCRIBE", "q?", replies=1)
    twin.same("s", "SUNSUBSCRIBE", "s2", replies=1)
    # One left of each kind, so the order of "everything" is not the dictionary's.
    twin.same("s", "UNSUBSCRIBE")
    twin.same("s", "PUNSUBSCRIBE")
    twin.same("s", "SUNSUBSCRIBE")
    twin.same("s", "UNSUBSCRIBE")
    twin.same("s", "PING")
    twin.same("s", "GET", "k")
    twin.quiet("s")


def test_resp2_subscribed_mode_allows_only_its_commands(twin):
    twin.conn("s")
    twin.same("s", "SUBSCRIBE", "ch")
    for args in (["GET", "k"], ["SET", "k", "v"], ["MULTI"], ["EXEC"], ["CLIENT", "LIST"], ["SELECT", "1"],
                 ["HELLO"], ["EVAL", "return 1", "0"], ["PUBLISH", "ch", "x"], ["PUBSUB", "NUMPAT"]):
        twin.same("s", *args)
    twin.same("s", "PING")
    twin.same("s", "PING", "hello")
    twin.same("s", "PING", "a", "b")
    twin.same("s", "NOSUCHCOMMAND")
    twin.same("s", "SUBSCRIBE")
    twin.same("s", "PSUBSCRIBE", "x*")
    twin.same("s", "SSUBSCRIBE", "sh")
    twin.same("s", "RESET")
    twin.same("s", "GET", "k")
    twin.same("s", "SUBSCRIBE", "ch")
    twin.same("s", "QUIT")
    twin.quiet("s")


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_messages_reach_channel_and_pattern_subscribers(twin, resp3):
    twin.conn("pub")
    twin.conn("a", resp3)
    twin.conn("b", resp3)
    twin.conn("c", resp3)
    twin.same("a", "SUBSCRIBE", "news.tech", "news.art", replies=2)
    twin.same("b", "PSUBSCRIBE", "news.*")
    twin.same("c", "PSUBSCRIBE", "n[aeiou]ws.t?ch")
    twin.same("pub", "PUBLISH", "news.tech", "first")
    twin.read("a")
    twin.read("b")
    twin.read("c")
    twin.same("pub", "PUBLISH", "news.art", "second")
    twin.read("a")
    twin.read("b")
    twin.same("pub", "PUBLISH", "sports", "nobody")
    twin.same("pub", "PUBLISH", "news.tech", b"bin\r\n\x00\xff")
    twin.read("a")
    twin.read("b")
    twin.read("c")
    for name in ("a", "b", "c"):
        twin.quiet(name)


@pytest.mark.parametrize("pattern,channels", [
    ("h?llo", ["hello", "hallo", "hllo", "heello"]),
    ("h*llo", ["hllo", "heeeello", "hell"]),
    ("h[ae]llo", ["hello", "hallo", "hillo"]),
    ("h[^e]llo", ["hallo", "hello"]),
    ("h[a-b]llo", ["hallo", "hbllo", "hcllo"]),
    ("h\\*llo", ["h*llo", "hello"]),
    ("*", ["anything", ""]),
    ("news.*", ["news.", "news.sport", "news", "new", "", "xnews.a"]),
    ("n*", ["n", "", "nn", "m"]),
    ("news.**", ["news.", "news.a", "news"]),
])
def test_glob_patterns_match_as_redis(twin, pattern, channels):
    twin.conn("pub")
    twin.conn("s")
    twin.same("s", "PSUBSCRIBE", pattern)
    for channel in channels:
        count = twin.same("pub", "PUBLISH", channel, "m")[0]
        if count == b":1\r\n":
            twin.read("s")
    twin.quiet("s")


def test_one_publisher_reaches_every_subscriber_in_order(twin):
    twin.conn("pub")
    names = [f"s{i}" for i in range(5)]
    for name in names:
        twin.conn(name)
        twin.same(name, "SUBSCRIBE", "q")
    ref, atoll = twin.conns["pub"]
    frames = b"".join(resp.encode("PUBLISH", "q", f"m{i}") for i in range(300))
    for c in (ref, atoll):
        c.send_raw(frames)
        assert [c.read_reply() for _ in range(300)] == [b":5\r\n"] * 300
    for name in names:
        twin.read(name, 300)
        twin.quiet(name)


def test_sharded_channels(twin):
    twin.conn("pub")
    twin.conn("s")
    twin.conn("t", resp3=True)
    twin.same("s", "SSUBSCRIBE", "{user1}:a", "{user1}:b", replies=2)
    twin.same("t", "SSUBSCRIBE", "{user1}:a")
    twin.same("t", "SUBSCRIBE", "{user1}:a")
    twin.same("pub", "SPUBLISH", "{user1}:a", "hello")
    twin.read("s")
    twin.read("t")
    twin.same("pub", "PUBLISH", "{user1}:a", "plain")
    twin.read("t")
    twin.same("pub", "PUBSUB", "SHARDNUMSUB", "{user1}:a", "{user1}:b", "none")
    twin.same("pub", "PUBSUB", "SHARDNUMSUB")
    twin.same("s", "SUNSUBSCRIBE", "{user1}:b")
    twin.same("pub", "PUBSUB", "SHARDCHANNELS")
    twin.quiet("s")
    twin.quiet("t")


def test_pubsub_introspection(twin):
    twin.conn("q")
    twin.conn("a")
    twin.conn("b")
    twin.same("a", "SUBSCRIBE", "x", "y", "zz", replies=3)
    twin.same("b", "SUBSCRIBE", "x")
    twin.same("b", "PSUBSCRIBE", "x*", "y*", "x*", replies=3)
    twin.same("q", "PUBSUB", "NUMSUB", "x", "y", "zz", "none")
    twin.same("q", "PUBSUB", "NUMSUB")
    twin.same("q", "PUBSUB", "NUMPAT")
    twin.same("q", "PUBSUB", "CHANNELS", "z*")
    twin.same("q", "PUBSUB", "CHANNELS", "nothing*")
    ref, atoll = twin.conns["q"]
    for args in (["PUBSUB", "CHANNELS"], ["PUBSUB", "CHANNELS", "?"]):
        assert sorted(resp.parse(ref.command(*args))) == sorted(resp.parse(atoll.command(*args)))
    for args in (["PUBSUB", "HELP"], ["PUBSUB"], ["PUBSUB", "NOPE"], ["PUBSUB", "CHANNELS", "a", "b"],
                 ["PUBSUB", "SHARDCHANNELS", "a", "b"], ["PUBSUB", "NUMPAT", "x"], ["PUBLISH", "x"],
                 ["SPUBLISH", "x"], ["SUBSCRIBE"], ["PSUBSCRIBE"], ["SSUBSCRIBE"]):
        twin.same("q", *args)
    fields = [b"pubsub_channels", b"pubsub_patterns", b"pubsubshard_channels"]
    for c in (ref, atoll):
        info = dict(line.split(b":", 1) for line in c.command("INFO", "stats").split(b"\r\n") if b":" in line)
        assert [info[f] for f in fields] == [b"3", b"2", b"0"]


def test_many_channels_subscribed_and_unsubscribed(twin):
    """Hundreds of channels (names of 0 to 40 bytes, so every hashed length), subscribed by two
    clients and unsubscribed in a shuffled order: every count, every message and the channel
    list stay as Redis's while the server's channel table grows and gives entries back."""
    import random
    rng = random.Random(16)
    names = [""] + [f"c{i}" + "x" * (i % 38) for i in range(300)]
    twin.conn("q")
    twin.conn("a")
    twin.conn("b")
    twin.same("a", "SUBSCRIBE", *names, replies=len(names))
    twin.same("b", "SUBSCRIBE", *names[::3], replies=len(names[::3]))
    order = names[:]
    rng.shuffle(order)
    for round_ in range(3):
        gone, order = order[:100], order[100:]
        twin.same("a", "UNSUBSCRIBE", *gone, replies=len(gone))
        probe = rng.sample(names, 40)
        twin.same("q", "PUBSUB", "NUMSUB", *probe)
        for name in probe[:10]:
            n = twin.same("q", "PUBLISH", name, f"m{round_}")[0]
            readers = [who for who, subscribed in (("a", name in order), ("b", name in names[::3])) if subscribed]
            assert n == b":%d\r\n" % len(readers)
            for who in readers:
                twin.read(who)
        ref, atoll = twin.conns["q"]
        assert sorted(resp.parse(ref.command("PUBSUB", "CHANNELS"))) == sorted(resp.parse(atoll.command("PUBSUB", "CHANNELS")))
    twin.same("b", "UNSUBSCRIBE", *names[::3], replies=len(names[::3]))
    twin.same("q", "PUBSUB", "NUMSUB", *names[:50])
    twin.same("q", "PUBLISH", names[1], "late")
    twin.quiet("a")
    twin.quiet("b")


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_publish_inside_multi_and_scripts(twin, resp3):
    twin.conn("pub", resp3)
    twin.conn("s", resp3)
    twin.same("s", "SUBSCRIBE", "ch")
    twin.same("pub", "MULTI")
    twin.same("pub", "PUBLISH", "ch", "one")
    twin.same("pub", "PUBLISH", "ch", "two")
    twin.same("pub", "EXEC")
    twin.read("s", 2)
    twin.same("pub", "EVAL", "return redis.call('publish', KEYS[1], ARGV[1])", "1", "ch", "lua")
    twin.read("s")
    twin.same("pub", "EVAL", "return redis.call('subscribe', 'x')", "0")
    twin.quiet("s")


def test_resp3_pushes_interleave_with_replies(twin):
    twin.conn("pub")
    twin.conn("s", resp3=True)
    twin.same("s", "SUBSCRIBE", "ch")
    twin.same("s", "SET", "k", "v")
    twin.same("s", "GET", "k")
    # Publishing to itself: the message comes before PUBLISH's own reply.
    twin.same("s", "PUBLISH", "ch", "self", replies=2)
    # A script of its own publishing to it: the message comes before the script's reply.
    twin.same("s", "EVAL", "return redis.call('publish', 'ch', 'lua')", "0", replies=2)
    twin.same("s", "MULTI")
    twin.same("s", "PUBLISH", "ch", "queued")
    twin.same("s", "EXEC", replies=2)
    twin.same("pub", "PUBLISH", "ch", "other")
    twin.read("s")
    twin.same("s", "PING")
    twin.same("s", "UNSUBSCRIBE")
    twin.quiet("s")


def test_subscribe_inside_multi(twin):
    twin.conn("s")
    twin.same("s", "MULTI")
    twin.same("s", "SUBSCRIBE", "a")
    twin.same("s", "EXEC")
    twin.same("s", "GET", "x")
    twin.same("s", "UNSUBSCRIBE")
    twin.same("s", "GET", "x")


def test_client_list_kill_and_disconnect(ref_port, atoll_port):
    for port in (ref_port, atoll_port):
        with resp.Conn(port) as admin, resp.Conn(port) as sub:
            sub.command("SUBSCRIBE", "a", "b")
            sub.read_reply()
            sub.command("PSUBSCRIBE", "p*")
            sub.command("SSUBSCRIBE", "s")
            line = admin.command("CLIENT", "LIST", "TYPE", "pubsub").decode()
            assert "flags=P " in line and " sub=2 psub=1 ssub=1 " in line, line
            assert b"sub=2" not in admin.command("CLIENT", "LIST", "TYPE", "normal")
            assert admin.command("CLIENT", "KILL", "TYPE", "normal") == b":0\r\n"
            assert admin.command("CLIENT", "KILL", "TYPE", "pubsub") == b":1\r\n"
            for _ in range(200):
                if admin.command("PUBSUB", "NUMSUB", "a") == b"*2\r\n$1\r\na\r\n:0\r\n":
                    break
            assert admin.command("PUBSUB", "NUMSUB", "a") == b"*2\r\n$1\r\na\r\n:0\r\n"
            assert admin.command("PUBSUB", "NUMPAT") == b":0\r\n"
