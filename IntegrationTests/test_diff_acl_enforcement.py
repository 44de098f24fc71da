"""ACL enforcement against redis-server 7.0.15, reply by reply: a permission matrix (users
built from every category, key patterns with %R/%W, channel patterns, first arguments,
selectors) over commands of every family, MULTI queueing and EXEC's second check, scripts
and functions (`redis.call`, `redis.pcall`, `redis.acl_check_cmd`, KEYS), blocking
commands, and the disconnections rule changes cause. ACL LOG is compared after each."""
import pytest

import resp
from diff import shape, unordered
from acl_support import acl  # noqa: F401 (the fixture the tests take)
from acl_support import log_entries, user_pair


USERS = {
    "reader": ["+@read", "~*"],
    "writer": ["+@write", "+@keyspace", "~*"],
    "strings": ["+@string", "-@write", "~s:*", "+@connection"],
    "hashes": ["+@hash", "-hdel", "~h:*", "%R~shared:*"],
    "splitkeys": ["+@all", "-@dangerous", "%R~r:*", "%W~w:*", "~rw:*"],
    "channels": ["+@pubsub", "&news.*", "&exact"],
    "firstarg": ["-@all", "+select|0", "+client|id", "+config|get", "+ping"],
    "selectors": ["-@all", "+get", "~a:*", "(+set ~b:*)", "(+@list ~l:*)"],
    "nothing": ["-@all"],
    "admin": ["+@admin", "+@dangerous", "~*", "-flushall", "-shutdown", "-debug", "-save", "-bgsave", "-bgrewriteaof"],
    "everything": ["+@all", "~*", "&*", "-@scripting", "+eval"],
    "lists": ["+@list", "+@blocking", "~*"],
    "zsets_geo": ["+@sortedset", "+@geo", "~z", "~g"],
    "small_types": ["+@bitmap", "+@hyperloglog", "+@set", "~*"],
    "transactions_fast": ["+@transaction", "+@fast", "~s:*"],
    "scripting_slow": ["+@scripting", "+@slow", "~*", "-@dangerous"],
}

# One command a line, touching keys the patterns above split between: the same matrix runs
# for every user.
MATRIX = [
    "PING", "ECHO hi", "SELECT 0", "SELECT 1", "SELECT 0", shape("CLIENT ID"), "CONFIG GET maxmemory", "CONFIG SET maxmemory 0",
    "SET s:1 v", "GET s:1", "APPEND s:1 x", "STRLEN s:1", "GET other", "MGET s:1 other", "MSET s:1 a s:2 b",
    "SET r:1 v", "GET r:1", "SET w:1 v", "GET w:1", "SET rw:1 v", "GET rw:1", "COPY r:1 w:2", "COPY w:1 r:2",
    "COPY rw:1 w:3", "EXISTS w:1", "TYPE w:1", "DEL w:1", "RENAME rw:1 w:4", "INCR rw:n", "SETBIT rw:b 1 1",
    "HSET h:1 f v", "HGET h:1 f", "HDEL h:1 f", "HGET shared:1 f", "HSET shared:1 f v", "HGETALL h:1",
    "LPUSH l:1 a", "LRANGE l:1 0 -1", "RPOP l:1", "LPUSH a:1 x", "SADD s:set a", "SMEMBERS s:set", "ZADD z 1 a",
    "ZRANGE z 0 -1", "PFADD hll a", "GEOADD g 1 1 m", "SET a:1 v", "GET a:1", "SET b:1 v", "GET b:1", "SET b:2 v",
    "DBSIZE", unordered("KEYS *"), shape("SCAN 0 COUNT 1000"), "FLUSHDB", "INFO keyspace", "CLIENT LIST ID 1", "OBJECT ENCODING s:1",
    "PUBLISH news.x m", "PUBLISH news m", "PUBLISH exact m", "PUBLISH exactly m", "PUBSUB NUMSUB news.x",
    "SPUBLISH news.y m", "EVAL 'return 1' 0", "EVAL 'return redis.call(\"get\", KEYS[1])' 1 s:1",
    "EVAL 'return redis.call(\"get\", KEYS[1])' 1 other", "SORT l:1 STORE w:9", "SORT_RO l:1",
    "BLPOP l:none 0.01", "BLMOVE l:none w:5 LEFT LEFT 0.01", "DEBUG SLEEP 0", "ACL WHOAMI",
    "MULTI", "GET s:1", "EXEC", "WATCH s:1", "UNWATCH",
]


@pytest.mark.parametrize("name", list(USERS))
def test_permission_matrix(acl, ref_port, atoll_port, name):
    acl.check("ACL", "SETUSER", name, "on", ">pw", *USERS[name])
    acl.check("CONFIG", "RESETSTAT")
    d = user_pair(ref_port, atoll_port, name, "pw")
    d.run(MATRIX)
    assert log_entries(acl.ref) == log_entries(acl.atoll)
    # Refusals count as rejected calls and NOPERM errors, as in Redis.
    acl.check("INFO", "errorstats")
    ref, atoll = (_rejected(c) for c in (acl.ref, acl.atoll))
    assert ref == atoll


def _rejected(conn: resp.Conn) -> dict:
    """Each command's rejected_calls and failed_calls from INFO commandstats."""
    stats = {}
    for line in resp.parse(conn.command("INFO", "commandstats")).decode().splitlines():
        if line.startswith("cmdstat_"):
            name, fields = line.split(":", 1)
            values = dict(field.split("=") for field in fields.split(","))
            stats[name] = (values["rejected_calls"], values["failed_calls"])
    return stats


def test_subscribe_checks_channels_and_patterns_literally(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "c", "on", ">pw", "+@all", "~*", "&news.*", "&exact")
    for args in (["SUBSCRIBE", "news.a", "other"], ["SUBSCRIBE", "exact", "news.b"], ["PSUBSCRIBE", "news.*"],
                 ["PSUBSCRIBE", "news.a*"], ["SSUBSCRIBE", "news.c"], ["SSUBSCRIBE", "zz"]):
        d = user_pair(ref_port, atoll_port, "c", "pw")
        d.check(*args)
        d.check("UNSUBSCRIBE")
        d.ref.close()
        d.atoll.close()
    assert log_entries(acl.ref) == log_entries(acl.atoll)


def test_multi_refuses_at_queueing_and_exec_checks_again(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "m", "on", ">pw", "+@all", "~k*", "&*", "-flushall")
    d = user_pair(ref_port, atoll_port, "m", "pw")
    d.run(["MULTI", "SET k1 v", "SET x v", "FLUSHALL", "EXEC"])
    d.run(["MULTI", "SET k1 v", "PUBLISH ch m", "GET k1", "INCR k2"])
    acl.check("ACL", "SETUSER", "m", "-get", "resetkeys", "~k1", "resetchannels")
    d.run(["EXEC", "GET k1"])
    d.run(["MULTI", "AUTH m bad", "AUTH m pw", "EXEC"])
    assert log_entries(acl.ref) == log_entries(acl.atoll)


SCRIPTS = [
    ("return redis.call('set', 'k1', 'v')", 0),
    ("return redis.call('hdel', 'k1', 'f')", 0),
    ("return redis.call('get', 'zz')", 0),
    ("return redis.pcall('get', 'zz')", 0),
    ("return redis.pcall('hdel', 'k1', 'f')", 0),
    ("return redis.call('publish', 'other', 'm')", 0),
    ("return redis.call('publish', 'ch1', 'm')", 0),
    ("return redis.call('get', KEYS[1])", 1),
    ("return {redis.acl_check_cmd('get', 'k1'), redis.acl_check_cmd('get', 'zz'), redis.acl_check_cmd('hdel', 'k1')}", 0),
    ("return redis.acl_check_cmd('nosuch')", 0),
]


@pytest.mark.parametrize("index", range(len(SCRIPTS)))
def test_scripts_check_every_call(acl, ref_port, atoll_port, index):
    acl.check("ACL", "SETUSER", "s", "on", ">pw", "+@all", "-hdel", "~k*", "&ch*")
    d = user_pair(ref_port, atoll_port, "s", "pw")
    body, keys = SCRIPTS[index]
    d.check("EVAL", body, str(keys), *(["zz"] if keys else []))
    d.check("EVAL", body, str(keys), *(["k1"] if keys else []))
    assert log_entries(acl.ref) == log_entries(acl.atoll)


def test_functions_check_every_call(acl, ref_port, atoll_port):
    library = "#!lua name=acllib\nredis.register_function('f', function(keys, args) return redis.call(args[1], keys[1]) end)"
    acl.check("FUNCTION", "LOAD", "REPLACE", library)
    acl.check("ACL", "SETUSER", "f", "on", ">pw", "+@all", "-del", "~k*")
    d = user_pair(ref_port, atoll_port, "f", "pw")
    d.run([("FCALL", "f", "1", "k1", "get"), ("FCALL", "f", "1", "k1", "del"), ("FCALL", "f", "1", "zz", "get"),
           ("FCALL", "f", "0", "get")])
    acl.check("FUNCTION", "DELETE", "acllib")


def test_blocking_commands_check_their_keys(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "b", "on", ">pw", "+@all", "%R~q:*", "~mine:*")
    d = user_pair(ref_port, atoll_port, "b", "pw")
    d.run(["BLPOP q:1 0.01", "BLPOP mine:1 0.01", "BLMOVE mine:1 q:2 LEFT LEFT 0.01", "BZPOPMIN q:z 0.01",
           "BLMPOP 0.01 2 mine:a q:b LEFT", "BRPOPLPUSH mine:1 mine:2 0.01"])
    assert log_entries(acl.ref) == log_entries(acl.atoll)


def _closed(conn: resp.Conn) -> bool:
    _, closed = conn.read_until_close(timeout=3.0)
    return closed


def test_revoking_a_channel_disconnects_its_subscribers(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "p", "on", ">pw", "+@all", "~*", "&*")
    keeps = user_pair(ref_port, atoll_port, "p", "pw")
    keeps.check("SUBSCRIBE", "kept")
    loses = user_pair(ref_port, atoll_port, "p", "pw")
    loses.check("SUBSCRIBE", "lost")
    pattern = user_pair(ref_port, atoll_port, "p", "pw")
    pattern.check("PSUBSCRIBE", "k*")
    acl.check("ACL", "SETUSER", "p", "resetchannels", "&kept", "&k*")
    assert _closed(loses.ref) and _closed(loses.atoll)
    for d in (keeps, pattern):
        d.check("PING")
    acl.check("ACL", "SETUSER", "p", "resetchannels", "&kept")
    assert _closed(pattern.ref) and _closed(pattern.atoll)
    keeps.check("PING")


def test_deleting_a_user_disconnects_its_clients(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "gone", "on", ">pw", "+@all", "~*")
    d = user_pair(ref_port, atoll_port, "gone", "pw")
    d.check("ACL", "WHOAMI")
    acl.check("ACL", "DELUSER", "gone")
    assert _closed(d.ref) and _closed(d.atoll)
    acl.check("ACL", "SETUSER", "gone2", "on", ">pw", "+@all", "~*")
    d2 = user_pair(ref_port, atoll_port, "gone2", "pw")
    d2.check("ACL", "DELUSER", "gone2")
    assert _closed(d2.ref) and _closed(d2.atoll)


def test_disabling_a_user_keeps_its_connections(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "o", "on", ">pw", "+@all", "~*")
    d = user_pair(ref_port, atoll_port, "o", "pw")
    acl.check("ACL", "SETUSER", "o", "off")
    d.run(["PING", "AUTH o pw", "ACL WHOAMI"])
    acl.check("ACL", "SETUSER", "o", "-ping")
    d.run(["PING", "ACL WHOAMI"])
    assert log_entries(acl.ref) == log_entries(acl.atoll)


def test_sort_by_and_get_need_every_key_readable(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "s", "on", ">pw", "+@all", "~k*")
    acl.check("ACL", "SETUSER", "r", "on", ">pw", "+@all", "%R~*", "~k*")
    acl.check("ACL", "SETUSER", "sel", "on", ">pw", "-@all", "+rpush", "~k*", "(+sort ~*)")
    acl.check("RPUSH", "k", "2", "1")
    for name in ("s", "r", "sel"):
        d = user_pair(ref_port, atoll_port, name, "pw")
        d.run(["SORT k", "SORT k BY w_*", "SORT k BY nosort", "SORT k GET #", "SORT k GET w_* BY x_*", "SORT_RO k BY w_*",
               "SORT k LIMIT 0 1 GET #", "EVAL \"return redis.call('sort', KEYS[1], 'by', 'w_*')\" 1 k"])
