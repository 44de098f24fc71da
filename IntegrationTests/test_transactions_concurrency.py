"""Optimistic locking under concurrency: WATCH/MULTI/EXEC against Atoll only.

Many client threads run check-and-set loops against one server; the tests
check the invariants a correct WATCH implementation guarantees (no lost
update, conserved sums, no negative balance, exactly the available stock sold)
and, where possible, that every successful EXEC saw exactly the values read
under WATCH.

Counter and transfer tests use raw RESP sockets (``resp.Conn``); the two
"seed" scenarios (balance withdrawal, inventory and order) are written the way
an application would write them, with redis-py pipelines (``watch`` /
``multi`` / ``execute`` and ``WatchError``), in RESP2 and RESP3.

Everything is bounded: every socket has a timeout, every retry loop has an
attempt limit and a shared deadline, and threads are joined with a deadline.
With ``ATOLL_DIFF_AGAINST_REDIS=1`` these run against a redis-server.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
import redis

import resp

BUDGET = 25.0             # seconds for the client threads of one test
SOCKET_TIMEOUT = 10.0


class Budget:
    """A shared deadline plus a stop flag raised when any client fails."""

    def __init__(self, seconds: float = BUDGET):
        self.deadline = time.monotonic() + seconds
        self.stop = threading.Event()

    def check(self) -> None:
        if self.stop.is_set():
            raise RuntimeError("stopped because another client failed")
        if time.monotonic() > self.deadline:
            raise TimeoutError("test budget exhausted")


def run_clients(n: int, worker, budget: Budget) -> None:
    """Run ``worker(i)`` in ``n`` threads started together; fail on any error."""
    errors: list[tuple[int, str]] = []
    barrier = threading.Barrier(n, timeout=15)

    def wrap(i: int) -> None:
        try:
            barrier.wait()
            worker(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append((i, f"{type(e).__name__}: {e}"))
            budget.stop.set()
            barrier.abort()

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True,
                                name=f"tx-client-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, budget.deadline - time.monotonic()) + 5.0)
    alive = [t.name for t in threads if t.is_alive()]
    budget.stop.set()
    assert not alive, f"client threads still running after the budget: {alive[:5]}..."
    assert not errors, f"{len(errors)} client(s) failed, first: {sorted(errors)[:3]}"


def conn(port: int) -> resp.Conn:
    return resp.Conn(port, timeout=SOCKET_TIMEOUT)


def expect(reply: bytes, want: bytes, what: str) -> None:
    if reply != want:
        raise AssertionError(f"{what}: expected {want!r}, got {reply!r}")


def int_or_zero(raw: bytes) -> int:
    v = resp.parse(raw)
    if isinstance(v, resp.RespError) or not (v is None or isinstance(v, bytes)):
        raise AssertionError(f"unexpected GET reply {raw!r}")
    return 0 if v is None else int(v)


def backoff(attempt: int, rng: random.Random) -> None:
    """Jittered exponential back-off after an aborted EXEC (contention control,
    not synchronisation: correctness never depends on it, only the run time)."""
    time.sleep(rng.uniform(0, min(0.05, 0.0005 * 2 ** min(attempt, 10))))


def py_client(port: int, protocol: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, protocol=protocol,
                       socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT)


# --- one counter, many clients ---------------------------------------------------------

def test_counter_watch_retry_increments(atoll_port):
    n_clients, per_client = 50, 200
    budget = Budget()
    written: list[list[int]] = [[] for _ in range(n_clients)]
    aborts = [0] * n_clients

    def worker(i: int) -> None:
        rng = random.Random(i)
        with conn(atoll_port) as c:
            for _ in range(per_client):
                for attempt in range(100_000):
                    budget.check()
                    # WATCH+GET in one write, MULTI+SET+EXEC in another.
                    w, g = c.pipeline([("WATCH", "counter"), ("GET", "counter")])
                    expect(w, b"+OK\r\n", "WATCH")
                    cur = int_or_zero(g)
                    m, q, r = c.pipeline([("MULTI",), ("SET", "counter", str(cur + 1)),
                                          ("EXEC",)])
                    expect(m, b"+OK\r\n", "MULTI")
                    expect(q, b"+QUEUED\r\n", "SET")
                    if r == b"*-1\r\n":
                        aborts[i] += 1
                        backoff(attempt, rng)
                        continue
                    expect(r, b"*1\r\n+OK\r\n", "EXEC")
                    written[i].append(cur + 1)
                    break
                else:
                    raise AssertionError("increment never succeeded")

    run_clients(n_clients, worker, budget)
    with conn(atoll_port) as c:
        assert c.command("GET", "counter") == b"$5\r\n10000\r\n"
    # Every successful EXEC wrote "value read under WATCH + 1": with no lost
    # update the written values are exactly 1..10000, each once.
    values = sorted(v for w in written for v in w)
    assert values == list(range(1, n_clients * per_client + 1)), \
        "some EXEC succeeded although the counter changed after its WATCH"
    print(f"counter: {sum(aborts)} aborted EXECs")


# --- transfers between accounts ----------------------------------------------------------

def test_random_transfers_conserve_money(atoll_port):
    n_clients, per_client, n_accounts, initial = 50, 60, 10, 1000
    keys = [f"acct:{i}" for i in range(n_accounts)]
    with conn(atoll_port) as c:
        expect(c.command("MSET", *[x for k in keys for x in (k, str(initial))]), b"+OK\r\n",
               "MSET")
    budget = Budget()
    applied: list[list[tuple[int, int, int]]] = [[] for _ in range(n_clients)]
    refused = [0] * n_clients
    aborts = [0] * n_clients

    def worker(i: int) -> None:
        rng = random.Random(1000 + i)
        with conn(atoll_port) as c:
            for _ in range(per_client):
                src, dst = rng.sample(range(n_accounts), 2)
                amount = rng.randint(1, 400)
                for attempt in range(100_000):
                    budget.check()
                    expect(c.command("WATCH", keys[src], keys[dst]), b"+OK\r\n", "WATCH")
                    a = int_or_zero(c.command("GET", keys[src]))
                    b = int_or_zero(c.command("GET", keys[dst]))
                    if a < amount:
                        expect(c.command("UNWATCH"), b"+OK\r\n", "UNWATCH")
                        refused[i] += 1
                        break
                    expect(c.command("MULTI"), b"+OK\r\n", "MULTI")
                    expect(c.command("DECRBY", keys[src], str(amount)), b"+QUEUED\r\n", "DECRBY")
                    expect(c.command("INCRBY", keys[dst], str(amount)), b"+QUEUED\r\n", "INCRBY")
                    r = c.command("EXEC")
                    if r == b"*-1\r\n":
                        aborts[i] += 1
                        backoff(attempt, rng)
                        continue
                    # The balances read under WATCH were still current at EXEC.
                    expect(r, b"*2\r\n:%d\r\n:%d\r\n" % (a - amount, b + amount), "EXEC")
                    applied[i].append((src, dst, amount))
                    break
                else:
                    raise AssertionError("transfer never completed")

    run_clients(n_clients, worker, budget)
    expected = [initial] * n_accounts
    for src, dst, amount in (t for ts in applied for t in ts):
        expected[src] -= amount
        expected[dst] += amount
    with conn(atoll_port) as c:
        final = [int(v) for v in resp.parse(c.command("MGET", *keys))]
    assert sum(final) == n_accounts * initial
    assert min(final) >= 0, final
    assert final == expected, "final balances differ from the applied transfers"
    n_applied = sum(len(a) for a in applied)
    assert n_applied + sum(refused) == n_clients * per_client
    assert n_applied > 0
    print(f"transfers: {n_applied} applied, {sum(refused)} refused, {sum(aborts)} aborted EXECs")


# --- seed scenario 1: balance withdrawal ---------------------------------------------------

def withdraw(r: redis.Redis, key: str, amount: int, max_retries: int = 5,
             before_exec=None) -> tuple[str, int]:
    """WATCH/GET/check/MULTI/SET/EXEC; returns (outcome, attempts)."""
    with r.pipeline() as pipe:
        for attempt in range(1, max_retries + 1):
            try:
                pipe.watch(key)
                balance = int(pipe.get(key) or 0)
                if balance < amount:
                    pipe.unwatch()
                    return "insufficient", attempt
                if before_exec is not None:
                    before_exec(attempt)
                pipe.multi()
                pipe.set(key, balance - amount)
                assert pipe.execute() == [True]
                return "ok", attempt
            except redis.WatchError:
                continue
    return "contention", max_retries


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request):
    return request.param


@pytest.fixture
def clients(atoll_port, protocol):
    made = []

    def make() -> redis.Redis:
        c = py_client(atoll_port, protocol)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_withdraw_success(clients):
    r = clients()
    r.set("balance", 100)
    assert withdraw(r, "balance", 30) == ("ok", 1)
    assert r.get("balance") == b"70"
    assert withdraw(r, "balance", 70) == ("ok", 1)
    assert r.get("balance") == b"0"


def test_withdraw_insufficient(clients):
    r = clients()
    r.set("balance", 100)
    assert withdraw(r, "balance", 200) == ("insufficient", 1)
    assert r.get("balance") == b"100"
    assert withdraw(r, "missing-balance", 1) == ("insufficient", 1)
    assert r.exists("missing-balance") == 0


def test_withdraw_retries_after_conflict(clients):
    r, other = clients(), clients()
    r.set("balance", 100)

    def deposit_once(attempt):
        if attempt == 1:
            other.incrby("balance", 50)

    assert withdraw(r, "balance", 30, before_exec=deposit_once) == ("ok", 2)
    assert r.get("balance") == b"120"


def test_withdraw_gives_up_after_five_conflicts(clients):
    r, other = clients(), clients()
    r.set("balance", 100)

    def always_deposit(attempt):
        other.incrby("balance", 1)

    assert withdraw(r, "balance", 30, before_exec=always_deposit) == ("contention", 5)
    assert r.get("balance") == b"105"      # only the deposits were applied


def test_withdraw_conflict_turns_into_insufficient(clients):
    r, other = clients(), clients()
    r.set("balance", 100)

    def drain(attempt):
        other.decrby("balance", 90)

    assert withdraw(r, "balance", 30, before_exec=drain) == ("insufficient", 2)
    assert r.get("balance") == b"10"


def test_concurrent_withdrawals(atoll_port, protocol):
    n_clients, amount, initial = 40, 10, 200
    with py_client(atoll_port, protocol) as r:
        r.set("balance", initial)
    budget = Budget()
    outcomes: list[str] = [""] * n_clients

    def worker(i: int) -> None:
        with py_client(atoll_port, protocol) as r:
            for _ in range(1000):
                budget.check()
                outcome, _ = withdraw(r, "balance", amount)
                if outcome != "contention":     # the app would retry later
                    outcomes[i] = outcome
                    return
            raise AssertionError("withdrawal never got past contention")

    run_clients(n_clients, worker, budget)
    with py_client(atoll_port, protocol) as r:
        final = int(r.get("balance"))
    ok = outcomes.count("ok")
    assert final == initial - ok * amount
    assert final >= 0
    assert ok == initial // amount         # 20 withdrawals fit exactly
    assert outcomes.count("insufficient") == n_clients - ok


# --- seed scenario 2: inventory and order -----------------------------------------------------

def place_order(r: redis.Redis, sku: str, order_id, qty: int, budget: Budget | None = None,
                max_attempts: int = 1000, before_exec=None) -> tuple[str, int]:
    inventory = f"inventory:{{{sku}}}"
    order = f"order:{{{sku}}}:{order_id}"
    with r.pipeline() as pipe:
        for attempt in range(1, max_attempts + 1):
            if budget is not None:
                budget.check()
            try:
                pipe.watch(inventory, order)
                if pipe.exists(order):
                    pipe.unwatch()
                    return "duplicate", attempt
                stock = int(pipe.get(inventory) or 0)
                if stock < qty:
                    pipe.unwatch()
                    return "insufficient", attempt
                if before_exec is not None:
                    before_exec(attempt)
                pipe.multi()
                pipe.decrby(inventory, qty)
                pipe.set(order, "confirmed")
                new_stock, set_ok = pipe.execute()
                assert (new_stock, set_ok) == (stock - qty, True)
                return "ok", attempt
            except redis.WatchError:
                continue
    return "contention", max_attempts


INV = "inventory:{sku123}"
ORDER = "order:{sku123}:456"


def test_order_success(clients):
    r = clients()
    r.set(INV, 10)
    assert place_order(r, "sku123", 456, 3) == ("ok", 1)
    assert r.get(INV) == b"7"
    assert r.get(ORDER) == b"confirmed"
    # Processing the same order again is refused and changes nothing.
    assert place_order(r, "sku123", 456, 3) == ("duplicate", 1)
    assert r.get(INV) == b"7"


def test_order_insufficient_stock(clients):
    r = clients()
    r.set(INV, 2)
    assert place_order(r, "sku123", 456, 3) == ("insufficient", 1)
    assert r.get(INV) == b"2"
    assert r.exists(ORDER) == 0
    assert place_order(r, "sku123", 457, 2) == ("ok", 1)
    assert r.get(INV) == b"0"
    assert place_order(r, "sku123", 458, 1) == ("insufficient", 1)


def test_order_conflict_on_inventory_retries(clients):
    r, other = clients(), clients()
    r.set(INV, 5)

    def someone_buys(attempt):
        if attempt == 1:
            other.decrby(INV, 4)

    # Retry sees stock 1 < 3.
    assert place_order(r, "sku123", 456, 3, before_exec=someone_buys) == ("insufficient", 2)
    assert r.get(INV) == b"1"
    assert r.exists(ORDER) == 0


def test_order_conflict_on_order_key_retries(clients):
    r, other = clients(), clients()
    r.set(INV, 5)

    def someone_processes_the_order(attempt):
        if attempt == 1:
            other.set(ORDER, "confirmed-elsewhere")

    assert place_order(r, "sku123", 456, 3,
                       before_exec=someone_processes_the_order) == ("duplicate", 2)
    assert r.get(INV) == b"5"
    assert r.get(ORDER) == b"confirmed-elsewhere"


def test_many_clients_buy_the_last_units(atoll_port, protocol):
    n_clients, stock = 50, 20
    with py_client(atoll_port, protocol) as r:
        r.set(INV, stock)
    budget = Budget()
    outcomes: list[str] = [""] * n_clients

    def worker(i: int) -> None:
        with py_client(atoll_port, protocol) as r:
            outcomes[i], _ = place_order(r, "sku123", i, 1, budget=budget)

    run_clients(n_clients, worker, budget)
    assert outcomes.count("ok") == stock
    assert outcomes.count("insufficient") == n_clients - stock
    with py_client(atoll_port, protocol) as r:
        assert r.get(INV) == b"0"
        orders = sorted(r.scan_iter(match="order:{sku123}:*", count=1000))
        assert len(orders) == stock
        assert all(r.get(o) == b"confirmed" for o in orders)


def test_many_clients_random_quantities(atoll_port, protocol):
    n_clients, stock = 50, 60
    with py_client(atoll_port, protocol) as r:
        r.set(INV, stock)
    budget = Budget()
    qty = [random.Random(7 + i).randint(1, 4) for i in range(n_clients)]
    outcomes: list[str] = [""] * n_clients

    def worker(i: int) -> None:
        with py_client(atoll_port, protocol) as r:
            outcomes[i], _ = place_order(r, "sku123", i, qty[i], budget=budget)

    run_clients(n_clients, worker, budget)
    assert set(outcomes) <= {"ok", "insufficient"}, outcomes
    sold = sum(q for q, o in zip(qty, outcomes) if o == "ok")
    with py_client(atoll_port, protocol) as r:
        left = int(r.get(INV))
        assert left >= 0
        assert sold == stock - left
        n_orders = sum(1 for _ in r.scan_iter(match="order:{sku123}:*", count=1000))
    assert n_orders == outcomes.count("ok")
    # A refusal means the stock was already below that client's quantity when
    # it looked, and stock only decreases: so it is still below it now.
    assert all(left < q for q, o in zip(qty, outcomes) if o == "insufficient")


def test_many_clients_race_for_the_same_order(atoll_port, protocol):
    n_clients = 30
    with py_client(atoll_port, protocol) as r:
        r.set(INV, 100)
    budget = Budget()
    outcomes: list[str] = [""] * n_clients

    def worker(i: int) -> None:
        with py_client(atoll_port, protocol) as r:
            outcomes[i], _ = place_order(r, "sku123", 456, 5, budget=budget)

    run_clients(n_clients, worker, budget)
    assert outcomes.count("ok") == 1
    assert outcomes.count("duplicate") == n_clients - 1
    with py_client(atoll_port, protocol) as r:
        assert r.get(INV) == b"95"
        assert r.get(ORDER) == b"confirmed"
