"""A consumer group under crashes: 5 producers add jobs while 5 consumers in one group read,
acknowledge, and now and then die with entries read and not acknowledged (their connection
dropped). Each replacement consumer first takes over entries idle for a while with
XAUTOCLAIM. At the end every job added was acknowledged exactly once (XACK answered 1 once
per ID), nothing is pending, and the group has read everything. Runs against the reference
Redis and against Atoll; bounded by a deadline, every read with a timeout.
"""

import random
import threading
import time

import resp
from test_blocking_lists import port  # noqa: F401

PRODUCERS, CONSUMERS, JOBS_EACH = 5, 5, 150
DEADLINE_SECONDS = 60


def _ids(reply_entries) -> list[bytes]:
    return [e[0] for e in reply_entries if e is not None and e[1] is not None]


def test_every_job_acknowledged_exactly_once(port):
    control = resp.Conn(port, timeout=5.0)
    assert control.command("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM") == b"+OK\r\n"
    lock = threading.Lock()
    produced: set[bytes] = set()
    acked: list[bytes] = []
    producers_done = threading.Event()
    stop = threading.Event()
    deadline = time.monotonic() + DEADLINE_SECONDS
    failures: list[str] = []

    def producer(n: int) -> None:
        c = resp.Conn(port, timeout=5.0)
        try:
            for k in range(JOBS_EACH):
                id_ = resp.parse(c.command("XADD", "jobs", "*", "producer", str(n), "job", str(k)))
                with lock:
                    produced.add(id_)
        except Exception as e:  # reported by the main thread
            failures.append(f"producer {n}: {e!r}")
        finally:
            c.close()

    def consumer(slot: int) -> None:
        rng = random.Random(slot)
        generation = 0
        while not stop.is_set() and time.monotonic() < deadline:
            generation += 1
            name = f"w{slot}-{generation}"
            c = resp.Conn(port, timeout=5.0)
            try:
                crashed = False
                while not stop.is_set() and time.monotonic() < deadline and not crashed:
                    claimed = resp.parse(c.command("XAUTOCLAIM", "jobs", "workers", name, "200", "0-0", "COUNT", "10"))
                    ids = _ids(claimed[1])
                    read = resp.parse(c.command("XREADGROUP", "GROUP", "workers", name, "COUNT", "5", "BLOCK", "50",
                                                "STREAMS", "jobs", ">"))
                    if read is not None:
                        ids += _ids(read[0][1])
                    if ids and rng.random() < 0.15:
                        crashed = True  # dies holding `ids`, unacknowledged
                        break
                    for id_ in ids:
                        if c.command("XACK", "jobs", "workers", id_) == b":1\r\n":
                            with lock:
                                acked.append(id_)
            except Exception as e:
                failures.append(f"consumer {name}: {e!r}")
                return
            finally:
                c.close()

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(PRODUCERS)]
    threads += [threading.Thread(target=consumer, args=(n,)) for n in range(CONSUMERS)]
    for t in threads:
        t.start()
    for t in threads[:PRODUCERS]:
        t.join(timeout=DEADLINE_SECONDS)
    producers_done.set()
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= PRODUCERS * JOBS_EACH:
                break
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert not failures, failures
    assert len(produced) == PRODUCERS * JOBS_EACH
    assert len(acked) == len(set(acked)), "an entry was acknowledged twice"
    assert set(acked) == produced, f"{len(produced - set(acked))} jobs never acknowledged"
    assert control.command("XPENDING", "jobs", "workers")[:6] == b"*4\r\n:0"
    groups = resp.parse(control.command("XINFO", "GROUPS", "jobs"))[0]
    info = dict(zip(groups[::2], groups[1::2]))
    assert info[b"entries-read"] == PRODUCERS * JOBS_EACH and info[b"lag"] == 0
    control.close()
