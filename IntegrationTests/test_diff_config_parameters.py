"""CONFIG GET/SET of every parameter redis-server 7.0.15 lists in `CONFIG GET *`, compared with a
private redis-server started with the same flags: the same names (aliases included), the same
defaults as Redis prints them, and the same replies to valid and invalid values of every kind
(yes/no, integers in a range, memory units, enumerations, strings and the parameters with rules
of their own). Each test changes parameters only on its own pair of servers.
"""

from __future__ import annotations

import contextlib

import pytest

import resp
from diff import Diff, unordered
from procs import spawn

# Parameters Redis lists and Atoll does not (none now: the list must stay empty or shrink).
NOT_HERE: set[str] = set()
# Atoll's own parameter (Redis has no such name).
ATOLL_ONLY = {"active-expire-enabled"}
# Values that depend on the machine or the process: the port and directory each server was
# started with, and io-threads, whose default is Atoll's own (0: one event loop per core but one).
MACHINE_SPECIFIC = {"port", "dir", "io-threads"}

# Deliberate refusals or side effects that keep a parameter out of the generic CONFIG SET sweep:
# maxmemory (only 0 until eviction exists), maxclients (Redis checks the open-file limit),
# requirepass (the connection would need AUTH), appendonly (starts the append-only file), save,
# and the immutable or protected ones (their refusal is checked by name below).
NOT_SWEPT = {"maxmemory", "maxmemory-policy", "maxclients", "requirepass", "appendonly", "save", "bind", "port",
             "dir", "dbfilename"} | NOT_HERE | MACHINE_SPECIFIC

VALUES = ["abc", "1.5", "", "-1", "0", "1", "7", "99", "100", "65535", "65536", "2147483648", "4294967296",
          "9223372036854775807", "9223372036854775808", "-9223372036854775809", "yes", "no", "YES", "nO", "1kb",
          "1KB", "2mb", "1g", "1gb", "1b", "kb", "+1", " 1", "1 ", "0x10", "50%", "101%", "local", "always",
          "allchannels", "panic", "swapdb", "clients", "relative", "optional", "hostname", "now", "local3",
          "a b", "{title}", "x {port}", "{nosuch}", "0 200", "1 2 3", "-2001 0 0", "50 99.9", "100.5", "nan"]


@contextlib.contextmanager
def pair(*flags):
    with spawn("redis", *flags) as r, spawn("atoll", *flags) as a:
        ref, atoll = resp.Conn(r.port), resp.Conn(a.port)
        try:
            yield Diff(ref, atoll)
        finally:
            ref.close()
            atoll.close()


@pytest.fixture(scope="module")
def servers():
    with pair() as d:
        yield d


def config_map(conn, pattern="*") -> dict[bytes, bytes]:
    flat = resp.parse(conn.command("CONFIG", "GET", pattern))
    return dict(zip(flat[::2], flat[1::2]))


def test_config_get_star_lists_redis_names_and_defaults(servers):
    ref = config_map(servers.ref)
    atoll = config_map(servers.atoll)
    names = lambda m: {k.decode() for k in m}
    assert names(ref) - names(atoll) == NOT_HERE
    assert names(atoll) - names(ref) == ATOLL_ONLY
    differing = {k.decode() for k in ref if k in atoll and ref[k] != atoll[k]}
    assert differing <= MACHINE_SPECIFIC, {k: (ref[k.encode()], atoll[k.encode()]) for k in differing}


def test_config_get_each_name_as_redis(servers):
    for name in sorted(config_map(servers.ref)):
        if name.decode() in NOT_HERE | MACHINE_SPECIFIC:
            continue
        servers.check("CONFIG", "GET", name)
        servers.check("CONFIG", "GET", name.upper())


@pytest.mark.parametrize("pattern", ["*ziplist*", "*listpack*", "slave*", "replica*", "tls-*", "*-size", "repl*",
                                     "cluster-*", "lazyfree*", "*max*", "?z", "[hz]*", "active-defrag-*"])
def test_config_get_patterns_match_the_same_names(servers, pattern):
    ref = config_map(servers.ref, pattern)
    atoll = config_map(servers.atoll, pattern)
    assert {k for k in ref if k.decode() not in NOT_HERE} == {k for k in atoll if k.decode() not in ATOLL_ONLY}


def test_config_set_every_kind_of_value_on_every_parameter(servers):
    """Each value on each parameter: the same reply, the same value afterwards, then restored."""
    names = sorted(n.decode() for n in config_map(servers.ref) if n.decode() not in NOT_SWEPT)
    for name in names:
        original = config_map(servers.ref, name)[name.encode()]
        for value in VALUES:
            servers.check("CONFIG", "SET", name, value)
            servers.check("CONFIG", "GET", name)
            for conn in (servers.ref, servers.atoll):
                conn.command("CONFIG", "SET", name, original)


def test_aliases_read_and_write_the_same_parameter(servers):
    servers.run([
        "CONFIG SET list-max-ziplist-size 5",
        "CONFIG GET list-max-listpack-size",
        "CONFIG GET list-max-ziplist-size",
        "CONFIG SET list-max-listpack-size -2 list-compress-depth 1",
        unordered("CONFIG GET list-*"),
        "CONFIG SET list-max-ziplist-size 1 list-max-listpack-size 2",
        "CONFIG GET list-max-listpack-size",
        "CONFIG SET hz 11 HZ 12",
        "CONFIG SET lua-time-limit 7 busy-reply-threshold 8",
        "CONFIG GET busy-reply-threshold",
        "CONFIG SET slave-priority 7",
        "CONFIG GET replica-priority",
        "CONFIG SET min-slaves-to-write 1 repl-ping-slave-period 3 cluster-slave-validity-factor 2",
        "CONFIG GET min-replicas-to-write",
        "CONFIG GET repl-ping-replica-period",
        "CONFIG GET cluster-replica-validity-factor",
        "CONFIG SET hash-max-ziplist-value 1kb zset-max-ziplist-value 2mb",
        "CONFIG GET hash-max-listpack-value",
        "CONFIG GET zset-max-listpack-value",
        "CONFIG SET slaveof 'h 1'",
        "CONFIG SET replicaof ''",
        "CONFIG SET lua-time-limit 100",
        "CONFIG GET busy-reply-threshold",
        "CONFIG SET list-max-listpack-size -2 list-compress-depth 0 slave-priority 100 min-slaves-to-write 0",
        "CONFIG SET repl-ping-slave-period 10 cluster-slave-validity-factor 10 lua-time-limit 5000",
        "CONFIG SET hash-max-ziplist-value 64 zset-max-ziplist-value 64",
    ])


def test_parameters_with_rules_of_their_own(servers):
    cases = {
        "latency-tracking-info-percentiles": ["50 99 99.9", "1e1", "33.333333333", "0.0000001", "-0", "100", "inf",
                                              "1.5 abc", "  50", "50  99", "", "0x10", "99.99999"],
        "oom-score-adj-values": ["1 2 3", "+1 2 3", "1  2", "0x1 2 3", "300 200 100", "2000 -2000 0", "2001 0 0",
                                 "0 200 800"],
        "maxmemory-clients": ["50%", "0%", "100%", "-1%", "1.5%", "%", "5mb", "1KB", "18446744073709551615",
                              "18446744073709551516", "18446744073709551515", "9223372036854775808", "0"],
        "proc-title-template": ["{title}", "{server-mode} ", "x {title} y", "{listen-addr}", "{port", "{config-file}",
                                "{title} {listen-addr} {server-mode}"],
        "cluster-announce-hostname": ["good-host.x", "bad_host", "a b", "", "ÄÖ"],
        "repl-backlog-size": ["1", "16kb", "16385", "1mb", "0", "1048576"],
        "activedefrag": ["yes", "no", "maybe"],
        "tls-port": ["0", "6380", "abc", "65536"],
        "tls-cluster": ["no", "yes", "x"],
        "tls-replication": ["no", "yes", "x"],
        "hz": ["0", "501", "-1", "10"],
        "proto-max-bulk-len": ["1048575", "1mb", "99999999999999999999", "512mb"],
        "client-query-buffer-limit": ["", "1gb"],
        "hll-sparse-max-bytes": ["", "99999999999999999999", "1kb", "3000"],
        "appendfsync": ["sometimes", "EVERYSEC"],
    }
    for name, values in cases.items():
        for value in values:
            servers.check("CONFIG", "SET", name, value)
            servers.check("CONFIG", "GET", name)


def test_immutable_parameters_are_refused_by_name(servers):
    for name in ["daemonize", "supervised", "pidfile", "unixsocket", "unixsocketperm", "cluster-enabled",
                 "cluster-config-file", "cluster-port", "syslog-enabled", "syslog-ident", "syslog-facility",
                 "io-threads-do-reads", "rdbchecksum", "set-proc-title", "disable-thp", "aclfile", "socket-mark-id",
                 "always-show-logo", "enable-module-command", "server_cpulist", "bio_cpulist", "replicaof", "slaveof",
                 "aof_rewrite_cpulist", "bgsave_cpulist"]:
        servers.check("CONFIG", "SET", name, "abc")
        servers.check("CONFIG", "SET", "hz", "11", name, "1")
    servers.check("CONFIG", "GET", "hz")


def test_parameters_given_at_start():
    flags = ["--list-max-ziplist-size", "5", "--slave-priority", "50", "--daemonize", "no", "--unixsocketperm", "700",
             "--oom-score-adj-values", "0 100 200", "--maxmemory-clients", "10%", "--syslog-facility", "LOCAL3",
             "--latency-tracking-info-percentiles", "50 99"]
    with pair(*flags) as d:
        for name in ["list-max-listpack-size", "replica-priority", "daemonize", "unixsocketperm",
                     "oom-score-adj-values", "maxmemory-clients", "syslog-facility",
                     "latency-tracking-info-percentiles"]:
            d.check("CONFIG", "GET", name)
