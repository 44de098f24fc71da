"""The reliable-queue pattern under load, with redis-py against Atoll.

20 producers each RPUSH 250 unique jobs to ``jobs``; 20 consumers each loop
``BLMOVE jobs processing:<id> LEFT RIGHT 1``, record the job, then LREM it from
their processing list. Every job must be delivered exactly once, none lost, and
``jobs`` and every processing list must be empty at the end. Bounded by an
overall deadline; every BLMOVE has a 1 s timeout.
"""

import threading
import time
from collections import Counter

import redis

PRODUCERS = 20
CONSUMERS = 20
JOBS_EACH = 250
TOTAL = PRODUCERS * JOBS_EACH
DEADLINE_S = 60.0


def _client(port):
    # The socket timeout is above BLMOVE's 1 s so a waiting consumer is not cut off.
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, socket_connect_timeout=5)


def test_every_job_delivered_exactly_once(atoll_port):
    deadline = time.monotonic() + DEADLINE_S
    delivered: list[bytes] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def produce(p: int) -> None:
        try:
            with _client(atoll_port) as r:
                for j in range(JOBS_EACH):
                    r.rpush("jobs", f"job:{p}:{j}")
        except BaseException as e:  # surfaced by the main thread
            errors.append(e)

    def consume(c: int) -> None:
        processing = f"processing:{c}"
        try:
            with _client(atoll_port) as r:
                while time.monotonic() < deadline:
                    with lock:
                        if len(delivered) >= TOTAL:
                            return
                    job = r.blmove("jobs", processing, 1, "LEFT", "RIGHT")
                    if job is None:
                        continue
                    with lock:
                        delivered.append(job)
                    assert r.lrem(processing, 1, job) == 1
        except BaseException as e:
            errors.append(e)

    consumers = [threading.Thread(target=consume, args=(c,)) for c in range(CONSUMERS)]
    producers = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    for t in consumers + producers:
        t.start()
    for t in producers + consumers:
        t.join(timeout=max(deadline - time.monotonic(), 0) + 5)
    assert not any(t.is_alive() for t in producers + consumers), "threads still running at the deadline"
    assert not errors, errors[:3]

    counts = Counter(delivered)
    expected = {f"job:{p}:{j}".encode() for p in range(PRODUCERS) for j in range(JOBS_EACH)}
    assert set(counts) == expected, f"lost {len(expected - set(counts))} jobs"
    assert max(counts.values()) == 1, [job for job, n in counts.items() if n > 1][:5]
    with _client(atoll_port) as r:
        assert r.exists("jobs") == 0
        assert r.exists(*[f"processing:{c}" for c in range(CONSUMERS)]) == 0
        assert r.info("clients")["blocked_clients"] == 0
