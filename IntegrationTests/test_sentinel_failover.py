"""Failover under Debian's Redis Sentinel: three `redis-sentinel` processes watch an Atoll
primary and two replicas (Atoll, or one Atoll and one redis-server); a client writes with
`WAIT 1` after every SET; the primary is SIGKILLed mid-load. Within a bounded time the
sentinels promote a replica (`MULTI`, `SLAVEOF NO ONE`, `CONFIG REWRITE`, `CLIENT KILL TYPE
normal`, `CLIENT KILL TYPE pubsub`, `EXEC`), point the other at it the same way, and announce
it: redis-py's `Sentinel` client finds it, every write a replica acknowledged is on it, the
configuration files say who follows whom, and the clients connected to the replicas before the
failover were disconnected by Sentinel's CLIENT KILLs.

Along the way the sentinels find the replicas in the primary's INFO, each other through the
`__sentinel__:hello` channel, and keep PINGing, INFOing and PUBLISHing to every server."""

from __future__ import annotations

import os
import tempfile
import threading
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

import resp
from procs import Proc, redis_available
from replication_checks import spawn, wait_link_up
from sentinels import MASTER_NAME, logs, sentinel_available, sentinel_group, wait_for

pytestmark = pytest.mark.skipif(not (sentinel_available() and redis_available()),
                                reason="redis-sentinel or redis-server not installed")

# How long the sentinels may take to find each other and the replicas, and to complete a
# failover once the primary is killed (down-after 2 s, ODOWN agreement, the election, the
# promotion seen in INFO, the other replica's full resync from the new primary).
DISCOVERY_TIMEOUT = 15.0
FAILOVER_TIMEOUT = 30.0
ACKED_BEFORE_KILL = 300


PASSWORD = "s3cret-pass"
# Sentinel sends commands by the names `sentinel rename-command` gives it.
RENAMED = {"CONFIG": "CONFIG-9f2e", "SLAVEOF": "SLAVEOF-9f2e"}


class Setup:
    """How the servers are started, and what the sentinels need to know about it: plain, or
    with a password (`requirepass`, `masterauth`, `sentinel auth-pass`) and CONFIG and
    SLAVEOF renamed (`rename-command`, `sentinel rename-command`)."""

    def __init__(self, hardened: bool):
        self.password = PASSWORD if hardened else None
        # A redis-server primary would wait 5 s for more replicas before a diskless sync.
        self.server_flags = ["--repl-diskless-sync-delay", 0]
        self.sentinel_lines = []
        if hardened:
            self.server_flags += ["--requirepass", PASSWORD, "--masterauth", PASSWORD]
            self.sentinel_lines = [f"sentinel auth-pass {MASTER_NAME} {PASSWORD}"]
            for name, new in RENAMED.items():
                self.server_flags += ["--rename-command", name, new]
                self.sentinel_lines.append(f"sentinel rename-command {MASTER_NAME} {name} {new}")

    def client(self, port: int) -> redis.Redis:
        return client(port, self.password)

    def conn(self, port: int) -> resp.Conn:
        c = resp.Conn(port)
        if self.password:
            assert c.command("AUTH", self.password) == b"+OK\r\n"
        return c


def client(port: int, password: str | None = None) -> redis.Redis:
    # No retries: redis-py 6 retries a failed command with backoffs of seconds by default,
    # which would hide the primary's death from the writer.
    return redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=5,
                       retry=Retry(NoBackoff(), 0))


class WaitedWriter(threading.Thread):
    """SET k:i i, then WAIT 1 1000, over and over; keeps the keys whose WAIT said a replica
    had them. Stops at the first connection error (the primary was killed) or when told."""

    def __init__(self, port: int, setup: Setup):
        super().__init__(daemon=True)
        self.port = port
        self.setup = setup
        self.acked: list[str] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        r = self.setup.client(self.port)
        i = 0
        try:
            while not self.stopping.is_set():
                key = f"k:{i}"
                pipe = r.pipeline(transaction=False)
                pipe.set(key, i)
                pipe.execute_command("WAIT", 1, 1000)
                try:
                    _, replicas = pipe.execute()
                except (redis.ConnectionError, redis.TimeoutError, OSError):
                    return
                if replicas >= 1:
                    self.acked.append(key)
                i += 1
        except BaseException as e:  # reported by the test
            self.error = e
        finally:
            r.close()


def config_lines(path: str) -> list[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.strip().lower().startswith(("replicaof", "slaveof"))]


def open_victims(port: int, setup: Setup) -> tuple[resp.Conn, resp.Conn]:
    """A normal client and a subscribed one, both of which Sentinel's CLIENT KILLs must close."""
    normal, subscriber = setup.conn(port), setup.conn(port)
    assert normal.command("PING") == b"+PONG\r\n"
    assert subscriber.command("SUBSCRIBE", "some-channel").startswith(b"*3\r\n")
    return normal, subscriber


def run_failover(replica_kinds: tuple[str, str], priorities: tuple[int, int], hardened: bool = False,
                 restart_old: bool = False) -> None:
    setup = Setup(hardened)
    with tempfile.TemporaryDirectory(prefix="atoll-sentinel-conf-") as confdir:
        confs = []
        for name in ("primary", "replica1", "replica2"):
            path = os.path.join(confdir, f"{name}.conf")
            with open(path, "w") as f:
                f.write(f"# {name} of the Sentinel failover test\n")
            confs.append(path)
        flags = setup.server_flags
        with spawn("atoll", *flags, config=confs[0]) as p, \
                spawn(replica_kinds[0], *flags, "--replicaof", "127.0.0.1", p.port,
                      "--replica-priority", priorities[0], config=confs[1]) as r1, \
                spawn(replica_kinds[1], *flags, "--replicaof", "127.0.0.1", p.port,
                      "--replica-priority", priorities[1], config=confs[2]) as r2:
            replicas = {r1.port: (r1, confs[1]), r2.port: (r2, confs[2])}
            for r in (r1, r2):
                wait_link_up(setup.client(r.port))
            with sentinel_group(p.port, extra=setup.sentinel_lines) as group:
                try:
                    new_port, acked = check_failover(p, replicas, group, setup)
                    if restart_old:
                        check_old_primary_rejoins(p, new_port, acked, setup)
                except AssertionError as e:
                    raise AssertionError(f"{e}\n{logs(group)}") from None


def check_failover(p, replicas: dict, group, setup: Setup) -> None:
    replica_ports = set(replicas)
    # Discovery: the replicas from the primary's INFO, the other sentinels from the hello
    # messages they publish on the servers.
    wait_for(lambda: all(s.replica_ports() == replica_ports for s in group), DISCOVERY_TIMEOUT,
             "every sentinel to know both replicas")
    wait_for(lambda: all(int(s.master_state()["num-other-sentinels"]) == 2 for s in group),
             DISCOVERY_TIMEOUT, "the sentinels to find each other by their hello messages")
    # Sentinel names its connections and subscribes to the hello channel on every server.
    primary = setup.client(p.port)
    names = [c["name"] for c in primary.client_list()]
    assert sum(n.startswith("sentinel-") and n.endswith("-cmd") for n in names) == 3, names
    assert sum(n.startswith("sentinel-") and n.endswith("-pubsub") for n in names) == 3, names
    assert primary.pubsub_numsub("__sentinel__:hello") == [(b"__sentinel__:hello", 3)]

    victims = {port: open_victims(port, setup) for port in replica_ports}
    writer = WaitedWriter(p.port, setup)
    writer.start()
    try:
        wait_for(lambda: len(writer.acked) >= ACKED_BEFORE_KILL or writer.error, 20.0,
                 f"{ACKED_BEFORE_KILL} writes acknowledged by WAIT 1")
        assert writer.error is None, writer.error
        p.proc.kill()  # SIGKILL: no goodbye to the replicas or the sentinels
        killed_at = time.monotonic()
        writer.join(timeout=10)
        assert not writer.is_alive(), "the writer did not notice the primary's death"
    finally:
        writer.stopping.set()
        writer.join(timeout=10)
    acked = list(writer.acked)
    assert len(acked) >= ACKED_BEFORE_KILL

    # Every sentinel announces the same replica as the new primary.
    new_port = wait_for(lambda: (lambda ports: ports.pop() if len(ports) == 1 and ports <= replica_ports else None)(
        {s.master_port() for s in group}), FAILOVER_TIMEOUT, "the sentinels to agree on a promoted replica")
    failover_seconds = time.monotonic() - killed_at
    assert failover_seconds < FAILOVER_TIMEOUT
    [other_port] = replica_ports - {new_port}
    new_primary, follower = setup.client(new_port), setup.client(other_port)
    assert new_primary.info("replication")["role"] == "master"

    # The other replica follows the new primary (a full resync: Atoll has no PSYNC2 yet).
    wait_for(lambda: (lambda i: i.get("master_port") == new_port and i.get("master_link_status") == "up")(
        follower.info("replication")), FAILOVER_TIMEOUT, "the other replica to follow the new primary")
    # ROLE lists a replica once the primary has it online (a redis-server primary marks one fed
    # by a diskless sync online a cron tick after the replica already reports its link up).
    wait_for(lambda: (lambda role: role[0] == b"master" and [int(r[1]) for r in role[2]] == [other_port])(
        new_primary.execute_command("ROLE")), 5.0, "the new primary's ROLE to list the other replica")

    # redis-py's Sentinel client finds the new primary and writes to it.
    sentinel = Sentinel([("127.0.0.1", s.port) for s in group], socket_timeout=2, password=setup.password)
    assert sentinel.discover_master(MASTER_NAME) == ("127.0.0.1", new_port)
    master = sentinel.master_for(MASTER_NAME, socket_timeout=2)
    assert master.set("after-failover", "1")
    assert master.execute_command("WAIT", 1, 5000) == 1
    assert follower.get("after-failover") == b"1"

    # No write a replica acknowledged was lost; the follower has them too.
    values = new_primary.mget(acked)
    missing = [k for k, v in zip(acked, values) if v != k.split(":")[1].encode()]
    assert missing == [], f"{len(missing)} of {len(acked)} acknowledged writes missing"
    assert follower.mget(acked) == values
    assert follower.dbsize() == new_primary.dbsize()

    # CONFIG REWRITE inside Sentinel's transactions: the promoted server's file names no
    # master, the follower's names the new primary.
    assert config_lines(replicas[new_port][1]) == []
    assert config_lines(replicas[other_port][1]) == [f"replicaof 127.0.0.1 {new_port}"]

    # CLIENT KILL TYPE normal and pubsub in the same transactions closed the clients that
    # were connected to the replicas (the sentinels' own command links survive).
    for port, (normal, subscriber) in victims.items():
        for conn, kind in ((normal, "normal"), (subscriber, "pubsub")):
            _, closed = conn.read_until_close(timeout=5)
            assert closed, f"the {kind} client of {port} was not killed"
            conn.close()
    # Redis logs each step; the failover ended with the new address announced.
    assert any("+switch-master" in s.log() and f" {new_port}" in s.log() for s in group)
    print(f"failover in {failover_seconds:.1f}s, {len(acked)} acknowledged writes kept")
    return new_port, acked


def check_old_primary_rejoins(p, new_port: int, acked: list[str], setup: Setup) -> None:
    """The killed primary comes back on its port, empty and a primary by its file; the
    sentinels turn it into a replica of the new primary (their transaction again, once it has
    reported itself a master for a while) and it syncs the acknowledged writes."""
    old = Proc(p.kind, p.argv, p.port)
    try:
        old.launch()
        old.wait_ready()
        back = setup.client(p.port)
        wait_for(lambda: (lambda i: i.get("role") == "slave" and i.get("master_port") == new_port
                          and i.get("master_link_status") == "up")(back.info("replication")),
                 FAILOVER_TIMEOUT, "the old primary to be converted into a replica of the new one")
        values = back.mget(acked)
        assert all(v == k.split(":")[1].encode() for k, v in zip(acked, values))
        assert config_lines(p.argv[1]) == [f"replicaof 127.0.0.1 {new_port}"]
    finally:
        old.stop()


def test_sentinel_fails_over_between_atoll_replicas():
    run_failover(("atoll", "atoll"), (100, 100), restart_old=True)


def test_sentinel_fails_over_with_passwords_and_renamed_commands():
    """Sentinel authenticates (`sentinel auth-pass`) and sends CONFIG and SLAVEOF by the names
    the servers' `rename-command` gives them; the replicas authenticate to their new master."""
    run_failover(("atoll", "atoll"), (100, 100), hardened=True)


@pytest.mark.parametrize("preferred", ["redis", "atoll"])
def test_sentinel_fails_over_with_a_redis_server_replica_beside(preferred):
    """One replica is redis-server; `replica-priority` decides which kind is promoted, so the
    other kind follows it (Atoll following redis-server, or redis-server following Atoll)."""
    priorities = (10, 100) if preferred == "redis" else (100, 10)
    run_failover(("redis", "atoll"), priorities)


def test_sentinel_kills_a_busy_script():
    """A script busy past `busy-reply-threshold` makes PING answer -BUSY; once the primary is
    subjectively down for it, Sentinel sends SCRIPT KILL and the primary is up again. One
    sentinel with quorum 2 never reaches ODOWN, so no failover starts."""
    with spawn("atoll", "--busy-reply-threshold", 100) as p, sentinel_group(p.port, count=1) as group:
        [s] = group
        wait_for(lambda: s.master_state().get("role-reported") == "master"
                 and "s_down" not in s.master_state()["flags"], DISCOVERY_TIMEOUT,
                 "the sentinel to see the primary")
        runner = resp.Conn(p.port, timeout=20)
        try:
            runner.send_raw(resp.encode("EVAL", "while true do end", "0"))
            reply = runner.read_reply()
        finally:
            runner.close()
        assert reply.startswith(b"-ERR Script killed by user with SCRIPT KILL..."), reply
        log = s.log()
        assert "+sdown master" in log, log
        wait_for(lambda: "-sdown master" in s.log(), DISCOVERY_TIMEOUT, "the primary to be up again")
        assert client(p.port).ping()
