"""What of redis-server 7.0.15's COMMAND LIST Atoll serves. Replication and cluster have
issues of their own; every other command must be served, except the
ones still listed in NOT_YET, and that list can only shrink: a command Atoll starts to serve
must leave it, and a served command that goes missing fails the test."""
import resp

# The families other issues bring (a name, or a container with all its subcommands).
OTHER_ISSUES = {
    "replication": ["failover"],
    "cluster": ["cluster", "asking", "readonly", "readwrite", "restore-asking"],
}

# Data and introspection commands not served yet (issue 15). Remove a name when it lands.
NOT_YET: set[str] = set()


def _names(conn) -> set[str]:
    return {n.decode() for n in resp.parse(conn.command("COMMAND", "LIST"))}


def _excluded(name: str) -> bool:
    container = name.split("|")[0]
    return any(name in names or container in names for names in OTHER_ISSUES.values())


def test_atoll_serves_every_data_and_introspection_command_but_the_listed_ones(ref_conn, atoll_conn):
    missing = {n for n in _names(ref_conn) - _names(atoll_conn) if not _excluded(n)}
    assert missing <= NOT_YET, f"served before, missing now: {sorted(missing - NOT_YET)}"
    assert NOT_YET <= missing, f"served now, remove from NOT_YET: {sorted(NOT_YET - missing)}"
