"""Scripts are atomic: many clients running a transfer script at once against Atoll.

50 redis-py clients (threads) each run a transfer script 200 times between 10
accounts held as string balances. The script refuses an overdraft with an error
reply; otherwise it moves the amount with DECRBY/INCRBY. Since every script runs
alone, the sum of the balances is conserved exactly and no balance ever goes
negative. Everything is bounded: socket timeouts, a shared deadline, joined threads.
With ATOLL_DIFF_AGAINST_REDIS=1 this runs against a redis-server.
"""

from __future__ import annotations

import random
import threading
import time

import redis

CLIENTS = 50
TRANSFERS_PER_CLIENT = 200
ACCOUNTS = [f"acct:{i}" for i in range(10)]
INITIAL_BALANCE = 100
BUDGET = 60.0

TRANSFER = """
local amount = tonumber(ARGV[1])
local balance = tonumber(redis.call('GET', KEYS[1]))
if balance < amount then
  return redis.error_reply('OVERDRAFT ' .. KEYS[1] .. ' has ' .. balance)
end
redis.call('DECRBY', KEYS[1], amount)
redis.call('INCRBY', KEYS[2], amount)
return tonumber(redis.call('GET', KEYS[1]))
"""


def test_concurrent_transfers_conserve_the_total(atoll_port):
    with redis.Redis(port=atoll_port, socket_timeout=10) as setup:
        setup.mset({account: INITIAL_BALANCE for account in ACCOUNTS})

    deadline = time.monotonic() + BUDGET
    stop = threading.Event()
    barrier = threading.Barrier(CLIENTS, timeout=15)
    errors: list[str] = []
    lock = threading.Lock()
    totals = {"moved": 0, "refused": 0}

    def client(seed: int) -> None:
        rng = random.Random(seed)
        moved = refused = 0
        try:
            with redis.Redis(port=atoll_port, socket_timeout=10) as conn:
                transfer = conn.register_script(TRANSFER)
                barrier.wait()
                for _ in range(TRANSFERS_PER_CLIENT):
                    if stop.is_set() or time.monotonic() > deadline:
                        raise TimeoutError("budget exhausted or another client failed")
                    source, target = rng.sample(ACCOUNTS, 2)
                    try:
                        left = transfer(keys=[source, target], args=[rng.randint(1, 60)])
                    except redis.ResponseError as e:
                        assert str(e).startswith(f"OVERDRAFT {source} has "), str(e)
                        refused += 1
                    else:
                        assert left >= 0, f"{source} went to {left}"
                        moved += 1
        except BaseException as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(f"client {seed}: {type(e).__name__}: {e}")
            stop.set()
            barrier.abort()
        with lock:
            totals["moved"] += moved
            totals["refused"] += refused

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 5)
    assert not any(t.is_alive() for t in threads), "clients still running after the budget"
    assert not errors, errors[:5]

    assert totals["moved"] + totals["refused"] == CLIENTS * TRANSFERS_PER_CLIENT
    assert totals["moved"] > 0 and totals["refused"] > 0, totals
    with redis.Redis(port=atoll_port, socket_timeout=10) as check:
        balances = [int(v) for v in check.mget(ACCOUNTS)]
    assert sum(balances) == INITIAL_BALANCE * len(ACCOUNTS), balances
    assert min(balances) >= 0, balances
