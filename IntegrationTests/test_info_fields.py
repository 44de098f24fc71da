"""INFO's fields against redis-server 7.0.15: every section lists Redis's field names in
Redis's order (Atoll's own `atoll_*` fields, listed below, come last in their section); after
CONFIG RESETSTAT and the same commands on both servers the counters agree (commands, hits
and misses, expired keys, errors, keyspace lines, clients, Pub/Sub and tracking counts); and
CLIENT LIST has Redis's field names in order, with `qbuf`, `argv-mem` and `multi-mem` counted
as Redis counts them for a client with queued MULTI commands."""
import socket
import time

import pytest

import resp

SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
            "errorstats", "cluster", "keyspace"]

# The only differences allowed in the field names: Atoll's own counters, at the end of their
# section.
ATOLL_ONLY = {
    "server": ["atoll_version"],
    "stats": ["atoll_transactions_executed", "atoll_transactions_aborted_by_watch", "atoll_transactions_execabort"],
}


def _info(conn, *sections) -> dict:
    text = bytes(resp.parse(conn.command("INFO", *sections))).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if line and not line.startswith("#"))


def _names(conn, section) -> list:
    return list(_info(conn, section))


@pytest.mark.parametrize("section", SECTIONS)
def test_field_names_in_order(ref_conn, atoll_conn, section):
    ref_conn.command("SET", "k", "v")
    atoll_conn.command("SET", "k", "v")
    assert _names(atoll_conn, section) == _names(ref_conn, section) + ATOLL_ONLY.get(section, [])


def test_everything_lists_every_field(ref_conn, atoll_conn):
    ref = _names(ref_conn, "everything")
    extra = [name for names in ATOLL_ONLY.values() for name in names]
    atoll = [name for name in _names(atoll_conn, "everything") if name not in extra]
    # Commandstats and latencystats lines name commands this test's fixtures ran.
    assert [n for n in atoll if not n.startswith(("cmdstat_", "latency_percentiles_"))] == \
        [n for n in ref if not n.startswith(("cmdstat_", "latency_percentiles_"))]


def _sequence(conn, other):
    for args in [("SET", "a", "1"), ("GET", "a"), ("GET", "missing"), ("MGET", "a", "b", "c"),
                 ("SET", "e", "1", "PX", "1"), ("HSET", "h", "f", "v"), ("EXPIRE", "h", "1000"),
                 ("INCR", "a"), ("LPUSH", "a", "x"), ("NOSUCH",), ("EXISTS", "a", "zz"),
                 ("SUBSCRIBE", "ch1", "ch2")]:
        (other if args[0] == "SUBSCRIBE" else conn).command(*args)
    other.command("PSUBSCRIBE", "p*")
    time.sleep(0.05)
    conn.command("GET", "e")  # expired by now: a miss and an expired key


EQUAL = ["total_commands_processed", "keyspace_hits", "keyspace_misses", "expired_keys", "evicted_keys",
         "total_error_replies", "pubsub_channels", "pubsub_patterns", "pubsubshard_channels",
         "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes", "blocked_clients",
         "tracking_clients", "clients_in_timeout_table", "rdb_changes_since_last_save", "role",
         "connected_slaves", "cluster_enabled", "rejected_connections", "sync_full", "total_forks",
         "maxmemory", "maxmemory_policy", "mem_replication_backlog", "number_of_cached_scripts",
         "aof_enabled", "loading", "master_repl_offset", "cluster_connections", "maxclients",
         "evicted_clients", "unexpected_error_replies", "io_threads_active", "redis_version", "redis_mode"]


def test_counters_agree_after_the_same_commands(ref_port, atoll_port):
    values = []
    for port in (ref_port, atoll_port):
        with resp.Conn(port) as conn, resp.Conn(port) as other:
            conn.command("SAVE")  # rdb_changes_since_last_save from 0
            conn.command("SCRIPT", "FLUSH")  # other tests' scripts: number_of_cached_scripts from 0
            conn.command("CONFIG", "RESETSTAT")
            _sequence(conn, other)
            info = _info(conn, "everything")
            values.append(({k: info[k] for k in EQUAL},
                           {k: v for k, v in info.items() if k.startswith("db")},
                           {k: v for k, v in info.items() if k.startswith(("errorstat_", "cmdstat_"))
                            and not k.startswith(("cmdstat_save", "cmdstat_script", "cmdstat_config", "cmdstat_flushall",
                                                  "cmdstat_select"))}))
    ref, atoll = values
    assert atoll[0] == ref[0]
    # avg_ttl is an estimate from sampling: the key and expiry counts must agree.
    assert {k: v.rsplit(",", 1)[0] for k, v in atoll[1].items()} == {k: v.rsplit(",", 1)[0] for k, v in ref[1].items()}
    assert {k: v.split(",usec=")[0] for k, v in atoll[2].items()} == {k: v.split(",usec=")[0] for k, v in ref[2].items()}


def test_connected_clients_follow_connections(ref_port, atoll_port):
    for port in (ref_port, atoll_port):
        with resp.Conn(port) as conn:
            before = int(_info(conn, "clients")["connected_clients"])
            extra = [resp.Conn(port) for _ in range(3)]
            for c in extra:
                c.command("PING")
            assert int(_info(conn, "clients")["connected_clients"]) == before + 3
            for c in extra:
                c.close()


def test_instantaneous_ops_per_sec_rises_under_load(atoll_conn):
    for _ in range(20):
        atoll_conn.command("PING")
        time.sleep(0.02)
    info = _info(atoll_conn, "stats")
    assert int(info["instantaneous_ops_per_sec"]) > 0
    assert float(info["instantaneous_input_kbps"]) > 0


def test_server_facts(atoll_conn, atoll_port):
    info = _info(atoll_conn, "server")
    assert info["tcp_port"] == str(atoll_port)
    assert info["executable"].startswith("/")
    assert int(info["process_id"]) > 0
    memory = _info(atoll_conn, "memory")
    assert int(memory["used_memory"]) > 0 and int(memory["used_memory_peak"]) >= int(memory["used_memory"])
    assert memory["mem_allocator"] == "libc"


def _client_fields(line: str) -> list:
    return [pair.split("=", 1)[0] for pair in line.strip().split(" ")]


def _fields(line: str) -> dict:
    return dict(pair.split("=", 1) for pair in line.strip().split(" "))


def test_client_list_field_names(ref_conn, atoll_conn):
    ref = bytes(resp.parse(ref_conn.command("CLIENT", "INFO"))).decode()
    atoll = bytes(resp.parse(atoll_conn.command("CLIENT", "INFO"))).decode()
    assert _client_fields(atoll) == _client_fields(ref)


def _clients(conn) -> dict:
    lines = bytes(resp.parse(conn.command("CLIENT", "LIST"))).decode().strip().split("\n")
    return {int(_fields(l)["id"]): _fields(l) for l in lines}


@pytest.mark.parametrize("port_fixture", ["ref_port", "atoll_port"])
def test_query_buffer_and_multi_memory(request, port_fixture):
    port = request.getfixturevalue(port_fixture)
    with resp.Conn(port) as observer, resp.Conn(port) as queued:
        queued.command("MULTI")
        queued.command("SET", "key", "value")
        queued.command("SET", "k", "vvvvvvvvvv")
        queued.command("PING")
        info = bytes(resp.parse(observer.command("CLIENT", "INFO"))).decode()
        me = _fields(info)
        # The caller's own query buffer holds its command; its arguments are counted.
        assert me["qbuf"] == "26" and me["argv-mem"] == "10" and me["multi-mem"] == "0"
        clients = _clients(observer)
        tx = [f for f in clients.values() if f["flags"] == "x"][0]
        # Queued commands' arguments plus a pointer each: (11 + 24) + (14 + 24) + (4 + 8).
        assert tx["multi"] == "3" and tx["multi-mem"] == "85" and tx["qbuf"] == "0" and tx["argv-mem"] == "0"
        assert int(tx["tot-mem"]) >= 85
        assert int(me["fd"]) > 2 and int(tx["fd"]) > 2 and me["fd"] != tx["fd"]


@pytest.mark.parametrize("port_fixture", ["ref_port", "atoll_port"])
def test_partial_command_in_query_buffer(request, port_fixture):
    port = request.getfixturevalue(port_fixture)
    with resp.Conn(port) as observer:
        raw = socket.create_connection(("127.0.0.1", port))
        try:
            raw.sendall(b"*3\r\n$3\r\nSET\r\n$3\r\nabc\r\n$1000\r\n" + b"x" * 500)
            time.sleep(0.1)
            clients = _clients(observer)
            partial = [f for f in clients.values() if f["cmd"] == "NULL"]
            assert partial and int(partial[0]["qbuf"]) > 0
        finally:
            raw.close()
