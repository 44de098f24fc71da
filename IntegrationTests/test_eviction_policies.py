"""Eviction under each maxmemory policy, filled well past its limit, against what Redis documents
(https://redis.io/docs/reference/eviction/): the LRU policies keep a recently read hot set,
the LFU ones the frequently read keys, the volatile ones never evict a key without a TTL (and
refuse writes once only those are left), volatile-ttl evicts the shortest TTLs first,
noeviction refuses writes; throughout, used_memory stays within maxmemory plus a small margin,
and evicted_keys and the `evicted` keyspace event account for every key that went; an
eviction cut short by `maxmemory-eviction-tenacity` goes on in the background.
"""

from __future__ import annotations

import contextlib
import time

import pytest

import resp
from procs import spawn

LIMIT = 8 * 1024 * 1024
VALUE = b"v" * 100
OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"


def started(policy, *flags):
    return spawn("atoll", "--maxmemory", str(LIMIT), "--maxmemory-policy", policy, *flags)


def info_field(conn, section, name) -> str:
    for line in resp.parse(conn.command("INFO", section)).decode().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"no {name} in INFO {section}")


def used(conn) -> int:
    return int(info_field(conn, "memory", "used_memory"))


def write(conn, prefix: str, count: int, ttl: int | None = None, read_between=None) -> list[bytes]:
    """SETs `prefix:0..count`, pipelined 500 at a time; the SETs' replies. `read_between`
    (prefix, count) also reads those keys before each batch."""
    replies = []
    for first in range(0, count, 500):
        if read_between:
            read_all(conn, *read_between)
        batch = []
        for i in range(first, min(first + 500, count)):
            args = ["SET", f"{prefix}:{i}", VALUE] + (["EX", str(ttl)] if ttl else [])
            batch.append(args)
        replies += conn.pipeline(batch)
    return replies


def fill_to(conn, prefix: str, fraction: float, ttl: int | None = None) -> int:
    """Writes `prefix:0...` in batches until used_memory reaches `fraction` of the limit;
    returns how many keys it wrote."""
    count = 0
    while used(conn) < LIMIT * fraction:
        assert count < keys_for(2), "memory did not grow"
        batch = [["SET", f"{prefix}:{i}", VALUE] + (["EX", str(ttl)] if ttl else []) for i in range(count, count + 500)]
        assert set(conn.pipeline(batch)) == {b"+OK\r\n"}
        count += 500
    return count


def existing(conn, prefix: str, count: int) -> int:
    """How many of `prefix:0..count` exist (EXISTS does not touch their access times)."""
    found = 0
    for first in range(0, count, 500):
        keys = [f"{prefix}:{i}" for i in range(first, min(first + 500, count))]
        found += int(resp.parse(conn.command("EXISTS", *keys)))
    return found


def read_all(conn, prefix: str, count: int) -> None:
    replies = conn.pipeline([["GET", f"{prefix}:{i}"] for i in range(count)])
    assert all(r.startswith(b"$") for r in replies)


def keys_for(fraction: float) -> int:
    """About how many keys fill `fraction` of the limit (a key with its value and table entry
    takes about 225 bytes, one with a TTL some 40 more: counted generously)."""
    return int(LIMIT * fraction / 250)


def assert_within_limit(conn) -> None:
    # Redis's own tolerance: the command that crosses the limit completes; the next evicts.
    assert used(conn) <= LIMIT * 1.02, (used(conn), LIMIT)


def next_clock_second(conn) -> None:
    """Waits, bounded, until the server's LRU clock (1-second resolution) has moved on."""
    start = int(info_field(conn, "server", "lru_clock"))
    deadline = time.monotonic() + 5
    while int(info_field(conn, "server", "lru_clock")) == start:
        assert time.monotonic() < deadline, "lru_clock did not advance"
        time.sleep(0.05)  # polling the server's own clock, bounded


@contextlib.contextmanager
def hot_set(policy):
    """A server under `policy`, a connection to it, and 100 keys `hot:*` (with a TTL under a
    volatile policy, so that they may be evicted); yields the connection and that TTL."""
    ttl = 100000 if policy.startswith("volatile") else None
    with started(policy) as a:
        c = a.connect()
        write(c, "hot", 100, ttl)
        yield c, ttl
        c.close()


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru"])
def test_lru_keeps_the_recently_read_hot_set(policy):
    with hot_set(policy) as (c, ttl):
        cold = fill_to(c, "cold", 0.8, ttl)
        assert int(info_field(c, "stats", "evicted_keys")) == 0
        # The clock has a one-second resolution: each round starts two ticks after the last
        # writes, so that everything written before is older than the hot set, which is read
        # with every batch of the round's writes.
        for round_ in range(3):
            next_clock_second(c)
            next_clock_second(c)
            replies = write(c, f"new{round_}", keys_for(0.5), ttl, read_between=("hot", 100))
            assert set(replies) == {b"+OK\r\n"}
            assert_within_limit(c)
        # On a loaded machine a batch can outlast a clock tick, and a hot key read before it
        # is then as idle as keys written just before; the sampled pool may take one or two.
        assert existing(c, "hot", 100) >= 97
        assert existing(c, "cold", cold) < cold // 4
        assert int(info_field(c, "stats", "evicted_keys")) > keys_for(1)


@pytest.mark.parametrize("policy", ["allkeys-lfu", "volatile-lfu"])
def test_lfu_keeps_the_frequently_read_keys(policy):
    with hot_set(policy) as (c, ttl):
        # With the default log factor some hot keys reach only 6 after 30 reads; a minute
        # boundary during the writes decays them to 5, a new key's counter, and Redis then
        # evicts them as readily as new keys. Factor 0 counts every read.
        assert c.command("CONFIG", "SET", "lfu-log-factor", "0") == b"+OK\r\n"
        for _ in range(30):
            read_all(c, "hot", 100)
        assert min(int(resp.parse(c.command("OBJECT", "FREQ", f"hot:{i}"))) for i in range(100)) > 30
        replies = write(c, "new", keys_for(3), ttl)
        assert set(replies) == {b"+OK\r\n"}
        assert_within_limit(c)
        assert existing(c, "hot", 100) == 100
        assert existing(c, "new", keys_for(3)) < keys_for(1.2)


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_never_evict_keys_without_ttl(policy):
    with started(policy) as a:
        c = a.connect()
        write(c, "persistent", keys_for(0.3))
        replies = write(c, "volatile", keys_for(3), ttl=100000)
        assert set(replies) == {b"+OK\r\n"}
        assert_within_limit(c)
        # Counted without a limit: the counting commands would evict too.
        assert c.command("CONFIG", "SET", "maxmemory", "0") == b"+OK\r\n"
        assert existing(c, "persistent", keys_for(0.3)) == keys_for(0.3)
        evicted = int(info_field(c, "stats", "evicted_keys"))
        assert evicted == keys_for(3) - existing(c, "volatile", keys_for(3))
        assert c.command("CONFIG", "SET", "maxmemory", str(LIMIT)) == b"+OK\r\n"
        # Once only keys without a TTL are left, writes are refused and reads still served.
        replies = write(c, "more", keys_for(1.5))
        assert OOM in replies
        assert existing(c, "volatile", keys_for(3)) == 0
        assert existing(c, "persistent", keys_for(0.3)) == keys_for(0.3)
        assert c.command("GET", "persistent:0") == b"$100\r\n" + VALUE + b"\r\n"
        assert_within_limit(c)
        c.close()


def test_volatile_ttl_evicts_the_shortest_ttl_first():
    with started("volatile-ttl") as a:
        c = a.connect()
        write(c, "long", keys_for(0.3), ttl=1000000)
        write(c, "short", keys_for(0.3), ttl=1000)
        replies = write(c, "middle", keys_for(2), ttl=100000)
        assert set(replies) == {b"+OK\r\n"}
        assert_within_limit(c)
        # Sampled, as in Redis: nearly every short-lived key goes before any long-lived one, but
        # a sample that happens to hold only long-lived keys may still evict one of them.
        assert existing(c, "long", keys_for(0.3)) >= keys_for(0.3) * 0.98
        assert existing(c, "short", keys_for(0.3)) < keys_for(0.3) // 20
        c.close()


def test_allkeys_random_evicts_keys_with_and_without_ttl():
    with started("allkeys-random") as a:
        c = a.connect()
        write(c, "plain", keys_for(0.5))
        write(c, "ttl", keys_for(0.5), ttl=100000)
        replies = write(c, "new", keys_for(2))
        assert set(replies) == {b"+OK\r\n"}
        assert_within_limit(c)
        assert existing(c, "plain", keys_for(0.5)) < keys_for(0.5)
        assert existing(c, "ttl", keys_for(0.5)) < keys_for(0.5)
        c.close()


def test_noeviction_refuses_writes_until_memory_is_freed():
    with started("noeviction") as a:
        c = a.connect()
        replies = write(c, "k", keys_for(3))
        assert OOM in replies
        stored = replies.index(OOM)
        assert stored > keys_for(0.5)
        # Once over the limit writes are refused; used memory moves a little as buffers are
        # freed (in Redis too), so a rare write past the first refusal may still fit.
        after = replies[stored:]
        assert set(after) <= {OOM, b"+OK\r\n"} and after.count(OOM) >= len(after) * 0.98
        assert_within_limit(c)
        assert int(info_field(c, "stats", "evicted_keys")) == 0
        assert c.command("GET", "k:0") == b"$100\r\n" + VALUE + b"\r\n"
        # DEL is not denyoom: it runs, and frees room for writes again.
        assert c.command("DEL", *[f"k:{i}" for i in range(stored // 2)]) == f":{stored // 2}\r\n".encode()
        assert c.command("SET", "again", "1") == b"+OK\r\n"
        c.close()


def test_used_memory_stays_within_the_limit_under_three_times_its_writes():
    with started("allkeys-lru") as a:
        c = a.connect()
        peak = 0
        for round_ in range(7):  # keys_for counts generously: 7 halves are over three limits
            write(c, f"r{round_}", keys_for(0.5))
            peak = max(peak, used(c))
        assert peak <= LIMIT * 1.02
        assert used(c) >= LIMIT * 0.9  # the data fills the limit rather than being over-evicted
        c.close()


def test_evicted_keys_are_published_as_events():
    with started("allkeys-random", "--notify-keyspace-events", "Ee") as a:
        sub = a.connect()
        assert sub.command("SUBSCRIBE", "__keyevent@0__:evicted").startswith(b"*3\r\n")
        c = a.connect()
        write(c, "k", keys_for(1.5))
        evicted = int(info_field(c, "stats", "evicted_keys"))
        assert evicted > 0
        gone = set()
        for _ in range(evicted):
            message = resp.parse(sub.read_reply())
            assert message[:2] == [b"message", b"__keyevent@0__:evicted"]
            gone.add(message[2])
        assert len(gone) == evicted
        assert int(resp.parse(c.command("EXISTS", *gone))) == 0
        sub.close()
        c.close()


def test_eviction_cut_short_by_its_time_limit_goes_on_in_the_background():
    """With maxmemory-eviction-tenacity 0 an eviction pass stops after its first 16 keys;
    the background task goes on (16 keys a tick) while no client sends anything, which the
    `evicted` events show."""
    with spawn("atoll", "--maxmemory-policy", "allkeys-random", "--maxmemory-eviction-tenacity", "0",
               "--notify-keyspace-events", "Ee") as a:
        c = a.connect()
        write(c, "k", keys_for(1))
        sub = a.connect()
        assert sub.command("SUBSCRIBE", "__keyevent@0__:evicted").startswith(b"*3\r\n")
        assert c.command("CONFIG", "SET", "maxmemory", str(used(c) // 2)) == b"+OK\r\n"
        # CONFIG SET evicted 16 keys at once; three more ticks' worth come with no command sent.
        for _ in range(64):
            message = resp.parse(sub.read_reply())
            assert message[:2] == [b"message", b"__keyevent@0__:evicted"]
        assert c.command("CONFIG", "SET", "maxmemory", "0") == b"+OK\r\n"
        assert int(info_field(c, "stats", "evicted_keys")) >= 64
        sub.close()
        c.close()
