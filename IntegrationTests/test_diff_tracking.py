"""Client-side caching (CLIENT TRACKING) against redis-server: the invalidation bytes each
connection receives in default, OPTIN, OPTOUT, NOLOOP, BCAST (with prefixes) and REDIRECT
modes, in RESP3 and through a RESP2 `__redis__:invalidate` subscriber, and the errors and
introspection replies of CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO.

Client ids differ between the servers, so a redirect names each server's own id."""

import pytest

import resp
from test_diff_pubsub import Twin


@pytest.fixture
def twin(ref_port, atoll_port):
    t = Twin(ref_port, atoll_port)
    yield t
    t.close()


def _ids(twin, name):
    return [int(c.command("CLIENT", "ID")[1:-2]) for c in twin.conns[name]]


def _redirect_on(twin, name, target_ids, *options):
    """CLIENT TRACKING ON REDIRECT <each server's own id of the target>, compared."""
    replies = []
    for conn, target_id in zip(twin.conns[name], target_ids):
        replies.append(conn.command("CLIENT", "TRACKING", "ON", "REDIRECT", str(target_id), *options))
    assert replies[0] == replies[1] == b"+OK\r\n", replies


def test_tracking_errors_and_introspection(twin):
    twin.conn("c")
    for args in (
        ["CLIENT", "TRACKINGINFO"], ["CLIENT", "GETREDIR"],
        ["CLIENT", "TRACKING", "ON", "PREFIX", "x"], ["CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"],
        ["CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"], ["CLIENT", "TRACKING", "ON", "REDIRECT", "999999"],
        ["CLIENT", "TRACKING", "ON", "REDIRECT", "abc"], ["CLIENT", "TRACKING", "ON", "FOO"],
        ["CLIENT", "TRACKING", "MAYBE"], ["CLIENT", "TRACKING"], ["CLIENT", "CACHING", "YES"],
        ["CLIENT", "TRACKING", "ON"], ["CLIENT", "TRACKINGINFO"], ["CLIENT", "GETREDIR"],
        ["CLIENT", "TRACKING", "ON", "BCAST"], ["CLIENT", "CACHING", "YES"], ["CLIENT", "CACHING", "NO"],
        ["CLIENT", "TRACKING", "OFF"],
        ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "abc"],
        ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "ab"],
        ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b", "PREFIX", "a"],
        ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "bc"],
        ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c", "NOLOOP"],
        ["CLIENT", "TRACKINGINFO"], ["CLIENT", "TRACKING", "OFF"],
        ["CLIENT", "TRACKING", "ON", "OPTIN"], ["CLIENT", "CACHING", "NO"], ["CLIENT", "CACHING", "MAYBE"],
        ["CLIENT", "CACHING", "YES"], ["CLIENT", "TRACKINGINFO"], ["CLIENT", "TRACKING", "ON", "OPTOUT"],
        ["CLIENT", "TRACKING", "OFF"], ["CLIENT", "TRACKING", "ON", "OPTOUT", "NOLOOP"],
        ["CLIENT", "CACHING", "NO"], ["CLIENT", "TRACKINGINFO"], ["RESET"], ["CLIENT", "TRACKINGINFO"],
    ):
        twin.same("c", *args)


def test_default_mode_invalidates_readers_once(twin):
    twin.conn("w")
    twin.conn("r", resp3=True)
    twin.same("r", "CLIENT", "TRACKING", "ON")
    twin.same("r", "GET", "k")
    twin.same("r", "MGET", "k", "k2", "k3")
    twin.same("r", "HGET", "h", "f")
    twin.same("w", "SET", "k", "v")
    twin.read("r")
    twin.same("w", "SET", "k", "again")  # already invalidated: nothing more
    twin.same("w", "HSET", "h", "f", "1")
    twin.read("r")
    twin.same("w", "MSET", "k2", "a", "k3", "b")
    twin.read("r", 2)
    twin.same("w", "SELECT", "3")
    twin.same("r", "GET", "k")
    twin.same("w", "SET", "k", "db3")  # tracking is by key name, whatever the database
    twin.read("r")
    twin.quiet("r")


def test_own_writes_invalidate_after_the_reply_unless_noloop(twin):
    twin.conn("r", resp3=True)
    twin.same("r", "CLIENT", "TRACKING", "ON")
    twin.same("r", "GET", "k")
    twin.same("r", "SET", "k", "v", replies=2)
    twin.same("r", "GET", "k")
    twin.same("r", "MULTI")
    twin.same("r", "INCR", "n")
    twin.same("r", "SET", "k", "w")
    twin.same("r", "EXEC", replies=2)
    twin.same("r", "GET", "k")
    twin.same("r", "FLUSHALL", replies=2)
    twin.same("r", "CLIENT", "TRACKING", "ON", "NOLOOP")
    twin.same("r", "GET", "k")
    twin.same("r", "SET", "k", "v")
    twin.quiet("r")


def test_optin_and_optout(twin):
    twin.conn("w")
    twin.conn("i", resp3=True)
    twin.conn("o", resp3=True)
    twin.same("i", "CLIENT", "TRACKING", "ON", "OPTIN")
    twin.same("o", "CLIENT", "TRACKING", "ON", "OPTOUT")
    twin.same("i", "GET", "a")  # not cached: no CACHING YES before it
    twin.same("i", "CLIENT", "CACHING", "YES")
    twin.same("i", "GET", "b")
    twin.same("i", "GET", "c")  # the choice held for one command only
    twin.same("o", "CLIENT", "CACHING", "NO")
    twin.same("o", "GET", "a")
    twin.same("o", "GET", "b")
    twin.same("w", "MSET", "a", "1", "b", "2", "c", "3")
    twin.read("i")
    twin.read("o")
    twin.quiet("i")
    twin.quiet("o")


def test_bcast_prefixes_and_noloop(twin):
    twin.conn("w")
    twin.conn("all", resp3=True)
    twin.conn("users", resp3=True)
    twin.same("all", "CLIENT", "TRACKING", "ON", "BCAST")
    twin.same("users", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "order:", "NOLOOP")
    twin.same("w", "MSET", "user:2", "a", "user:1", "b", "item:9", "c")
    twin.read("all")
    twin.read("users")
    twin.same("w", "SET", "order:1", "x")
    twin.read("all")
    twin.read("users")
    twin.same("users", "SET", "user:3", "mine")  # NOLOOP: not told of its own write
    twin.read("all")
    twin.same("w", "DEL", "nothing")
    twin.quiet("all")
    twin.quiet("users")


def test_redirect_to_a_resp2_subscriber_and_broken_redirect(twin):
    twin.conn("w")
    twin.conn("sink")
    twin.conn("r")
    twin.conn("r3", resp3=True)
    sink_ids = _ids(twin, "sink")
    twin.same("sink", "SUBSCRIBE", "__redis__:invalidate")
    _redirect_on(twin, "r", sink_ids)
    twin.same("r", "GET", "k")
    twin.same("w", "SET", "k", "1")
    twin.read("sink")
    twin.same("r", "GET", "k")
    twin.same("w", "FLUSHDB")
    twin.read("sink")
    _redirect_on(twin, "r3", sink_ids)
    twin.same("r3", "GET", "j")
    for conn in twin.conns["sink"]:
        conn.close()
    # Bounded: the servers notice the closed connection when they next look.
    for conn in twin.conns["w"]:
        for _ in range(200):
            if b"sub=1" not in conn.command("CLIENT", "LIST"):
                break
    twin.same("w", "SET", "j", "2")
    for conn, sink_id in zip(twin.conns["r3"], sink_ids):
        assert conn.read_reply() == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % sink_id
    twin.same("w", "SET", "j", "3")
    twin.quiet("r3")


def test_tracking_info_fields(twin):
    twin.conn("r", resp3=True)
    twin.conn("w")
    twin.same("r", "CLIENT", "TRACKING", "ON")
    twin.same("r", "MGET", "a", "b", "c")
    fields = [b"tracking_total_keys", b"tracking_total_items", b"tracking_total_prefixes"]
    for c in twin.conns["w"]:
        stats = dict(l.split(b":", 1) for l in resp.parse(c.command("INFO", "stats")).split(b"\r\n") if b":" in l)
        clients = dict(l.split(b":", 1) for l in resp.parse(c.command("INFO", "clients")).split(b"\r\n") if b":" in l)
        assert [stats[f] for f in fields] == [b"3", b"3", b"0"]
        assert clients[b"tracking_clients"] == b"1"


def test_scripts_reads_are_tracked_and_their_writes_invalidate_after_the_reply(twin):
    twin.conn("w")
    twin.conn("r", resp3=True)
    twin.same("r", "CLIENT", "TRACKING", "ON")
    twin.same("r", "EVAL", "return redis.call('get', KEYS[1])", "1", "sk")
    twin.same("w", "SET", "sk", "1")
    twin.read("r")
    twin.same("r", "GET", "own")
    twin.same("r", "EVAL", "redis.call('get', 'zz'); return redis.call('set', KEYS[1], '5')", "1", "own", replies=2)
    twin.same("r", "EVAL_RO", "return 1", "1", "ro")  # EVAL_RO's own keys are not read
    twin.same("w", "SET", "ro", "x")
    twin.quiet("r")


def test_tracking_table_max_keys_forgets_keys_with_invalidations(twin):
    twin.conn("admin")
    twin.conn("r", resp3=True)
    twin.same("r", "CLIENT", "TRACKING", "ON")
    keys = [f"t{i}" for i in range(10)]
    twin.same("r", "MGET", *keys)
    twin.same("admin", "CONFIG", "SET", "tracking-table-max-keys", "3")
    try:
        # The next command on either connection brings the table back under the limit.
        twin.same("admin", "PING")
        forgotten = []
        for conn in twin.conns["r"]:
            got = [resp.parse(conn.read_reply()) for _ in range(7)]
            forgotten.append(sorted(k for msg in got for k in msg[1]))
        assert all(len(f) == 7 and set(f) <= {k.encode() for k in keys} for f in forgotten), forgotten
        for c in twin.conns["admin"]:
            stats = resp.parse(c.command("INFO", "stats"))
            assert b"tracking_total_keys:3\r\n" in stats
        twin.quiet("r")
    finally:
        twin.same("admin", "CONFIG", "SET", "tracking-table-max-keys", "1000000")


def test_caching_choice_holds_across_client_commands_and_a_transaction(twin):
    twin.conn("w")
    twin.conn("r", resp3=True)
    twin.same("r", "CLIENT", "TRACKING", "ON", "OPTIN")
    twin.same("r", "CLIENT", "CACHING", "YES")
    twin.same("r", "CLIENT", "ID", compare=False)  # another CLIENT subcommand keeps the choice
    twin.same("r", "GET", "c1")
    twin.same("r", "CLIENT", "CACHING", "YES")
    twin.same("r", "PING")  # any other command uses it up
    twin.same("r", "GET", "c2")
    twin.same("r", "CLIENT", "CACHING", "YES")
    twin.same("r", "MULTI")
    twin.same("r", "GET", "c3")
    twin.same("r", "GET", "c4")
    twin.same("r", "EXEC")
    twin.same("w", "MSET", "c1", "1", "c2", "2", "c3", "3", "c4", "4")
    twin.read("r", 3)
    twin.quiet("r")


def test_a_script_read_tracks_its_declared_keys_only(twin):
    """Redis 7.0 remembers, for a read inside a script, the keys of the script's own command
    (its KEYS), not the key read: an undeclared key is not tracked."""
    twin.conn("w")
    twin.conn("r", resp3=True)
    twin.same("r", "CLIENT", "TRACKING", "ON")
    twin.same("r", "EVAL", "return redis.call('get', 'undeclared')", "0")
    twin.same("r", "EVAL", "return redis.call('get', 'other')", "1", "declared")
    twin.same("w", "MSET", "undeclared", "1", "other", "2")
    twin.quiet("r")
    twin.same("w", "SET", "declared", "3")
    twin.read("r")
    twin.quiet("r")


def test_a_script_queued_in_multi_tracks_its_declared_keys(twin):
    twin.conn("w")
    twin.conn("r", resp3=True)
    twin.same("r", "CLIENT", "TRACKING", "ON")
    twin.same("r", "MULTI")
    twin.same("r", "EVAL", "return redis.call('get', KEYS[1])", "1", "queued")
    twin.same("r", "EXEC")
    twin.same("w", "SET", "queued", "1")
    twin.read("r")
    twin.quiet("r")
