"""Bounded memory per subscriber (`client-output-buffer-limit pubsub`).

50 subscribers on one channel, one of which never reads; 200 MB are published in paced
rounds (each round waits until every reading subscriber has received it, so only the slow
one falls behind). The slow one is disconnected once its unread output passes the hard
limit; the others receive every byte of every message, in order; the server's resident
memory grows by less than the bound stated below, though the slow client alone was sent
200 MB.
"""

import selectors
import time

import resp
from procs import spawn

SUBSCRIBERS = 50
MESSAGE = 64 * 1024
TOTAL = 200 * 1024 * 1024
PER_ROUND = 16
# The hard limit is 32 MB (Redis's default for pubsub); the rest is the readers' in-flight
# rounds, socket buffers and allocator slack.
RSS_GROWTH_BOUND_KB = 120 * 1024


def _frame(channel: bytes, payload: bytes) -> bytes:
    return (b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n" % (len(channel), channel, len(payload))
            + payload + b"\r\n")


def test_slow_subscriber_is_cut_at_its_limit_and_memory_stays_bounded():
    with spawn("atoll", "--client-output-buffer-limit", "pubsub 32mb 8mb 60") as server:
        publisher = server.connect(timeout=30.0)
        slow = server.connect()
        slow.command("SUBSCRIBE", "feed")
        readers = [server.connect(timeout=30.0) for _ in range(SUBSCRIBERS - 1)]
        for r in readers:
            assert r.command("SUBSCRIBE", "feed") == b"*3\r\n$9\r\nsubscribe\r\n$4\r\nfeed\r\n:1\r\n"
        base_rss = server.rss_kb()
        selector = selectors.DefaultSelector()
        received = {}
        for r in readers:
            r.sock.setblocking(False)
            selector.register(r.sock, selectors.EVENT_READ, r)
            received[r] = 0
        frame_size = len(_frame(b"feed", b"x" * MESSAGE))
        rounds = TOTAL // (MESSAGE * PER_ROUND)
        peak_rss = base_rss
        last_counts = []
        for n in range(rounds):
            payloads = [bytes([65 + (n + i) % 26]) * MESSAGE for i in range(PER_ROUND)]
            publisher.send_raw(b"".join(resp.encode("PUBLISH", "feed", p) for p in payloads))
            last_counts = [publisher.read_reply() for _ in payloads]
            target = (n + 1) * PER_ROUND * frame_size
            expected_tail = b"".join(_frame(b"feed", p) for p in payloads)
            tails = {r: b"" for r in readers}
            for _ in range(100_000):  # bounded: every read returns data or the timeout below fires
                pending = [r for r in readers if received[r] < target]
                if not pending:
                    break
                events = selector.select(timeout=30)
                assert events, f"round {n}: readers stalled"
                for key, _ in events:
                    r = key.data
                    chunk = r.sock.recv(1 << 20)
                    assert chunk, f"round {n}: a reading subscriber was disconnected"
                    received[r] += len(chunk)
                    tails[r] = (tails[r] + chunk)[-len(expected_tail):]
            assert all(received[r] == target for r in readers)
            assert all(tails[r] == expected_tail for r in readers), f"round {n}: wrong bytes"
            peak_rss = max(peak_rss, server.rss_kb())
        # The slow one was counted as a receiver until it was cut, then no longer.
        assert last_counts[-1] == b":49\r\n"
        info = publisher.command("CLIENT", "LIST", "TYPE", "pubsub")
        assert info.count(b"sub=1") == SUBSCRIBERS - 1
        assert peak_rss - base_rss < RSS_GROWTH_BOUND_KB, (base_rss, peak_rss)
        assert b"scheduled to be closed ASAP for overcoming of output buffer limits" in server.logs().encode()


def test_memory_of_a_dropped_backlog_goes_back_to_the_system():
    """Subscribers that never read, with no limit, hold 192 MB of messages between them; once
    they are gone the server's resident memory returns to near where it started, round after
    round (glibc's dynamic mmap threshold once kept most of such a backlog for good)."""
    with spawn("atoll", "--client-output-buffer-limit", "pubsub 0 0 0") as server:
        publisher = server.connect(timeout=30.0)
        base_rss = server.rss_kb()
        payload = b"m" * (8 << 20)
        for _ in range(3):
            subscribers = [server.connect() for _ in range(4)]
            for s in subscribers:
                s.command("SUBSCRIBE", "backlog")
            for _ in range(6):
                assert publisher.command("PUBLISH", "backlog", payload) == b":4\r\n"
            for s in subscribers:
                s.close()
            assert server.wait_clients(publisher, 1, timeout=10.0) == 1
            settled = server.rss_kb()
            for _ in range(100):  # bounded: the freeing happens as the connections close
                if settled - base_rss < 48 * 1024:
                    break
                time.sleep(0.05)
                settled = server.rss_kb()
            assert settled - base_rss < 48 * 1024, (base_rss, settled)
