"""Active expiry: keys with a TTL must disappear without ever being accessed.

10,000 keys are set with PX 100 in one pipelined write, then only DBSIZE and
INFO keyspace are polled (never touching the keys, so lazy expiry cannot
help) for at most ~10 s until the database is empty.
"""

import time

import resp

N_KEYS = 10_000
DEADLINE_S = 10.0


def _keyspace(conn: resp.Conn) -> str:
    return resp.parse(conn.command("INFO", "keyspace")).decode()


def test_active_expiry_removes_untouched_keys(atoll_conn):
    c = atoll_conn
    c.send_raw(b"".join(resp.encode("SET", f"exp:{i}", "v", "PX", "100")
                        for i in range(N_KEYS)))
    replies = [c.read_reply() for _ in range(N_KEYS)]
    assert replies == [b"+OK\r\n"] * N_KEYS
    c.command("SET", "persistent", "stays")

    info = _keyspace(c)
    assert info.startswith("# Keyspace\r\n"), info
    # Right after the write most keys are still there (and volatile).
    assert "db0:keys=" in info and ",expires=" in info, info

    deadline = time.monotonic() + DEADLINE_S
    size = None
    while time.monotonic() < deadline:
        size = resp.parse(c.command("DBSIZE"))
        if size == 1:
            break
        time.sleep(0.05)  # poll interval inside a bounded loop
    assert size == 1, f"active expiry left {size} keys after {DEADLINE_S}s"

    info = _keyspace(c)
    assert "db0:keys=1,expires=0,avg_ttl=0\r\n" in info, info
    assert c.command("GET", "persistent") == b"$5\r\nstays\r\n"


def test_info_keyspace_exact(diff):
    """INFO keyspace formatting, compared with Redis (no TTLs, so exact)."""
    diff.run([
        "INFO keyspace", "MSET a 1 b 2", "SELECT 5", "SET c 3", "SELECT 0",
        "INFO keyspace", "INFO KEYSPACE", "FLUSHALL", "INFO keyspace",
    ])
