"""Append-only file crash safety: with `appendfsync always`, SIGKILL at random moments loses
no acknowledged write, and a MULTI/EXEC block or an EVAL script is never half-applied after
the restart.

The test keeps an exact model of what the server acknowledged. A write counts as
acknowledged only once its whole reply has been read. The one operation in flight when the
kill lands may or may not be in the reloaded data. After each restart the model takes
whichever result the server shows, so the following rounds still check exact values.

The run prints its seed. ATOLL_AOF_CRASH_SEED=<seed> repeats the same operations and kill
delays. The point where the kill lands also depends on the scheduler, so a rerun can differ.
"""
import itertools
import os
import random
import signal
import tempfile
import threading
import time

import pytest

import resp
from procs import Proc, atoll_binary, build_argv
from servers import free_port

ROUNDS = 30                    # kills per run (the issue asks for at least 20)
KILL_DELAY_MS = (5, 150)       # how long the writer runs before the kill
WRITER_LIMIT = 5.0             # a round whose kill never lands fails after this long
EXIT_TIMEOUT = 10.0
KINDS = ("incr", "hset", "rpush", "eval", "multi")
KNOWN_KEYS = {"counter", "h", "log", "pair_a", "pair_b", "evalcount", "evallog"}
# Two writes that must land together; the AOF logs them as one MULTI/EXEC unit.
SCRIPT = "redis.call('INCR', KEYS[1]); redis.call('RPUSH', KEYS[2], ARGV[1]); return 1"


class Model:
    """The acknowledged dataset. Each operation kind changes exactly one group of keys."""

    def __init__(self):
        self.counter = 0      # INCR counter
        self.fields = {}      # HSET h f<n> <n>
        self.log = []         # RPUSH log <n>
        self.pairs = 0        # MULTI / INCR pair_a / INCR pair_b / EXEC
        self.evallog = []     # EVAL: INCR evalcount + RPUSH evallog <n>

    def copy(self) -> "Model":
        m = Model()
        m.counter, m.fields, m.log = self.counter, dict(self.fields), list(self.log)
        m.pairs, m.evallog = self.pairs, list(self.evallog)
        return m

    def apply(self, kind: str, n: int) -> None:
        if kind == "incr":
            self.counter += 1
        elif kind == "hset":
            self.fields[f"f{n}"] = n
        elif kind == "rpush":
            self.log.append(n)
        elif kind == "eval":
            self.evallog.append(n)
        else:
            self.pairs += 1

    def groups(self) -> dict:
        return {"incr": self.counter, "hset": self.fields, "rpush": self.log,
                "multi": (self.pairs, self.pairs), "eval": (len(self.evallog), self.evallog)}


def observe(c: resp.Conn) -> dict:
    """The server's dataset, grouped like Model.groups()."""
    def integer(key):
        v = resp.parse(c.command("GET", key))
        return 0 if v is None else int(v)

    def ints(key):
        return [int(x) for x in resp.parse(c.command("LRANGE", key, "0", "-1"))]

    flat = resp.parse(c.command("HGETALL", "h"))
    return {"incr": integer("counter"),
            "hset": {k.decode(): int(v) for k, v in zip(flat[0::2], flat[1::2])},
            "rpush": ints("log"),
            "multi": (integer("pair_a"), integer("pair_b")),
            "eval": (integer("evalcount"), ints("evallog"))}


def perform(c: resp.Conn, model: Model, kind: str, n: int) -> tuple[bytes, bytes]:
    """Runs one operation; returns (reply bytes, the reply the model predicts)."""
    if kind == "incr":
        return c.command("INCR", "counter"), b":%d\r\n" % (model.counter + 1)
    if kind == "hset":
        return c.command("HSET", "h", f"f{n}", str(n)), b":1\r\n"
    if kind == "rpush":
        return c.command("RPUSH", "log", str(n)), b":%d\r\n" % (len(model.log) + 1)
    if kind == "eval":
        return c.command("EVAL", SCRIPT, "2", "evalcount", "evallog", str(n)), b":1\r\n"
    # Sent one command at a time so a kill can also land between MULTI and EXEC.
    got = b"".join(c.command(*cmd) for cmd in
                   (("MULTI",), ("INCR", "pair_a"), ("INCR", "pair_b"), ("EXEC",)))
    k = model.pairs + 1
    return got, b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:%d\r\n:%d\r\n" % (k, k)


def write_until_dropped(c: resp.Conn, model: Model, rng: random.Random, seq) -> tuple[tuple[str, int], int]:
    """Writes until the connection drops. Adds each acknowledged write to the model and
    returns (the operation in flight, how many writes were acknowledged)."""
    acked = 0
    deadline = time.monotonic() + WRITER_LIMIT
    while time.monotonic() < deadline:
        kind, n = rng.choice(KINDS), next(seq)
        try:
            got, want = perform(c, model, kind, n)
        except (OSError, resp.ConnectionClosed):
            return (kind, n), acked
        assert got == want, f"{kind} #{n}: server replied {got!r}, the model expects {want!r}"
        model.apply(kind, n)
        acked += 1
    raise AssertionError(f"the connection was still up {WRITER_LIMIT}s after the round started")


def aof_evidence(directory: str) -> str:
    """The manifest, file sizes and the tail of the last incr file, for failure messages."""
    aof_dir = os.path.join(directory, "appendonlydir")
    try:
        names = sorted(os.listdir(aof_dir))
    except OSError as e:
        return f"(no appendonlydir: {e})"
    lines = [f"{name}: {os.path.getsize(os.path.join(aof_dir, name))} bytes" for name in names]
    try:
        with open(os.path.join(aof_dir, "appendonly.aof.manifest"), "rb") as f:
            lines.append("manifest:\n" + f.read().decode("utf-8", "replace"))
    except OSError:
        pass
    incrs = [name for name in names if name.endswith(".incr.aof")]
    if incrs:
        last = max(incrs, key=lambda name: int(name.split(".")[-3]))
        with open(os.path.join(aof_dir, last), "rb") as f:
            lines.append(f"tail of {last}: {f.read()[-600:]!r}")
    return "\n".join(lines)


def difference(want, found) -> str:
    """What differs between an expected group and the server's, briefly."""
    if isinstance(want, dict):
        missing = sorted(set(want) - set(found), key=lambda f: int(f[1:]))
        extra = sorted(set(found) - set(want), key=lambda f: int(f[1:]))
        wrong = sorted(f for f in want if f in found and found[f] != want[f])
        return f"missing {missing[:20]}, unexpected {extra[:20]}, wrong values {wrong[:20]}"
    if isinstance(want, tuple):
        return "; ".join(difference(w, f) for w, f in zip(want, found))
    if isinstance(want, list):
        i = next((i for i, (w, f) in enumerate(zip(want, found)) if w != f), min(len(want), len(found)))
        return f"length {len(want)} vs {len(found)}, first difference at index {i}: " \
               f"expected {want[i:i + 5]}, found {found[i:i + 5]}"
    return f"expected {want}, found {found}"


def start(flags) -> Proc:
    port = free_port()
    return Proc("atoll", build_argv("atoll", port, flags), port)


def test_acknowledged_writes_survive_sigkill():
    if not os.path.exists(atoll_binary()):
        pytest.skip(f"Atoll binary {atoll_binary()!r} not built")
    seed = int(os.environ.get("ATOLL_AOF_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\naof crash seed: {seed}")
    op_rng, kill_rng = random.Random(f"{seed}/ops"), random.Random(f"{seed}/kill")
    seq = itertools.count(1)
    model = Model()
    acked_total = in_flight_applied = truncations = 0
    in_flight = None  # (kind, n) of the write cut off by the last kill
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="atoll-aof-crash-") as directory:
        flags = ("--dir", directory, "--appendonly", "yes", "--appendfsync", "always")
        # One more start than kills: the last one checks what the last kill left.
        for rnd in range(ROUNDS + 1):
            proc = start(flags)
            timer = c = None
            try:
                proc.launch()
                proc.wait_ready()

                def context(proc=proc, rnd=rnd, in_flight=in_flight):
                    return (f"seed {seed}, round {rnd}, in-flight write {in_flight}\n"
                            f"{aof_evidence(directory)}\n{proc.logs()}")

                log_text = proc.stdout_text() + proc.stderr_text()
                assert "Bad file format" not in log_text, context()
                truncations += log_text.count("Truncating the AOF")
                if rnd == 0:
                    assert os.path.exists(os.path.join(directory, "appendonlydir",
                                                       "appendonly.aof.manifest")), context()

                # Every acknowledged write must be there. The in-flight one may be
                # missing, but if it is there it must be there completely.
                c = proc.connect(timeout=5)
                found = observe(c)
                stray = set(k.decode() for k in resp.parse(c.command("KEYS", "*"))) - KNOWN_KEYS
                assert not stray, f"unexpected keys {stray}; {context()}"
                applied = None
                if in_flight is not None:
                    applied = model.copy()
                    applied.apply(*in_flight)
                for group, want in model.groups().items():
                    alt = applied.groups()[group] if applied and group == in_flight[0] else None
                    if group == "multi":
                        assert found[group][0] == found[group][1], \
                            f"half-applied transaction: pair_a, pair_b = {found[group]}; {context()}"
                    if group == "eval":
                        assert found[group][0] == len(found[group][1]), \
                            f"half-applied script: evalcount {found[group][0]}, " \
                            f"LLEN evallog {len(found[group][1])}; {context()}"
                    assert found[group] == want or (alt is not None and found[group] == alt), \
                        f"{group} differs from the acknowledged writes" + \
                        (" (with or without the in-flight one)" if alt is not None else "") + \
                        f": {difference(want, found[group])}; {context()}"
                if applied and found[in_flight[0]] == applied.groups()[in_flight[0]]:
                    model = applied
                    in_flight_applied += 1
                if rnd == ROUNDS:
                    break

                # SIGKILL from a timer thread while this thread keeps writing.
                fired = threading.Event()

                def kill(pid=proc.pid, fired=fired):
                    fired.set()
                    os.kill(pid, signal.SIGKILL)

                timer = threading.Timer(kill_rng.uniform(*KILL_DELAY_MS) / 1000, kill)
                timer.start()
                in_flight, acked = write_until_dropped(c, model, op_rng, seq)
                acked_total += acked
                assert fired.is_set(), \
                    f"the connection dropped before the kill during {in_flight}; {context()}"
                timer.join(EXIT_TIMEOUT)
                rc = proc.wait_exit(EXIT_TIMEOUT)
                assert rc == -signal.SIGKILL, f"exit status {rc}; {context()}"
            finally:
                if c is not None:
                    c.close()
                if timer is not None:
                    timer.cancel()
                    timer.join(EXIT_TIMEOUT)
                proc.stop()

    print(f"crash rounds: {ROUNDS}, acknowledged writes: {acked_total}, "
          f"in-flight applied: {in_flight_applied}, truncated tails repaired: {truncations}, "
          f"{time.monotonic() - started:.1f}s")
    assert acked_total >= ROUNDS, "too few writes were acknowledged to exercise the AOF"
