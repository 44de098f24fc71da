"""INFO's sections as Redis 7.0 selects and orders them (default, all, everything, several
names, aliases, unknown names), and the fields of the sections clients read to decide what
the server is: replication (role, replication ID and offsets) and cluster (`cluster_enabled:0`,
which redis-py's own test harness requires)."""
import pytest

import resp


def _sections(conn, *args):
    text = resp.parse(conn.command("INFO", *args))
    return [line for line in bytes(text).decode().split("\r\n") if line.startswith("# ")]


def _fields(conn, section):
    text = bytes(resp.parse(conn.command("INFO", section))).decode()
    return [line.split(":")[0] for line in text.split("\r\n") if line and not line.startswith("#")]


@pytest.mark.parametrize("args", [(), ("default",), ("all",), ("everything",), ("server",), ("cluster",),
                                  ("server", "cluster"), ("CLUSTER", "Keyspace"), ("nosuch",), ("module_list",),
                                  ("modules",), ("commandstats",), ("errorstats", "latencystats"),
                                  ("default", "commandstats"), ("all", "nosuch"), ("keyspace", "server")])
def test_sections_and_their_order(ref_conn, atoll_conn, args):
    assert _sections(atoll_conn, *args) == _sections(ref_conn, *args)


def test_unknown_section_is_empty(diff):
    diff.check("INFO", "nosuch")


@pytest.mark.parametrize("section", ["replication", "cluster"])
def test_fields_match(ref_conn, atoll_conn, section):
    assert _fields(atoll_conn, section) == _fields(ref_conn, section)


def test_cluster_disabled_and_master_role(atoll_conn):
    text = bytes(resp.parse(atoll_conn.command("INFO"))).decode()
    assert "\r\ncluster_enabled:0\r\n" in text
    assert "\r\nrole:master\r\n" in text
    replid = [line for line in text.split("\r\n") if line.startswith("master_replid:")][0].split(":")[1]
    assert len(replid) == 40 and all(ch in "0123456789abcdef" for ch in replid)
