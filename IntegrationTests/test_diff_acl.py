"""ACL against redis-server 7.0.15: every ACL subcommand and rule, their errors, ACL GETUSER
and LIST in Redis's normalised form (single-command rules compared as a set), AUTH and HELLO
as users, and ACL LOG's entries (ages and connection details left out)."""
import pytest

import resp
from diff import shape
from acl_support import acl  # noqa: F401 (the fixture the tests take)
from acl_support import both, log_entries, norm_getuser, norm_rules, plain_pair, user_pair


RULE_SETS = [
    ["on", ">p1", "~key:*", "%R~r:*", "&ch*", "+@hash", "-hdel", "-@dangerous", "+select|0", "(+get ~x*)"],
    ["on", "nopass", "+@all", "-@dangerous", "-@admin", "allkeys"],
    ["-@all", "+@read", "+@write", "-@string"],
    ["+@all", "-config|set", "-hdel", "~k*", "%W~w*", "%RW~rw*", "%R~rw*"],
    ["+config", "-config|set", "+client|id", "+debug|object", "+select|1", "+SELECT|1", "+Select|2"],
    ["on", "#" + "a" * 64, ">x", ">x", "<x", "!" + "a" * 64, ">y", "nopass", ">z"],
    ["+@all", "-@all", "+get", "allchannels", "resetchannels", "&a", "&b", "&a"],
    ["(~a +get)", "(%R~b +@read)", "clearselectors", "(~c", "+set)", "skip-sanitize-payload"],
    ["+@all", "reset", "on", "sanitize-payload", "nocommands", "+@pubsub", "allcommands", "-@slow"],
    ["-@all", "+@keyspace", "+@fast", "-@write", "resetkeys", "~*", "resetkeys", "~a", "~a", "%R~a"],
    ["", "ON", "OFF", "AllKeys", "+@HASH", "-HGET", "+@Connection"],
]


@pytest.mark.parametrize("rules", RULE_SETS, ids=range(len(RULE_SETS)))
def test_setuser_rules_and_their_description(acl, rules):
    acl.check("ACL", "SETUSER", "u", *rules)
    ref, atoll = both(acl, "ACL", "GETUSER", "u")
    assert norm_getuser(ref) == norm_getuser(atoll)
    ref, atoll = both(acl, "ACL", "LIST")
    assert [norm_rules(x.decode()) for x in ref] == [norm_rules(x.decode()) for x in atoll]
    acl.check("ACL", "USERS")


SETUSER_ERRORS = [
    ["%~foo"], ["%RR~x"], ["%X~x"], ["+get|"], ["+config|get|x"], ["-get|x"], ["+@nosuch"], ["-nosuch"],
    ["@x"], ["+"], ["allkeys", "~a"], ["allchannels", "&a"], ["~a b"], ["&a\tb"], ["#abc"], ["#" + "A" * 64],
    ["<nope"], ["!" + "b" * 64], ["(~x"], ["(~x", "+get"], ["(+nosuch)"], ["bogus"], ["~ok", ">pw", "+nosuch"],
]


@pytest.mark.parametrize("rules", SETUSER_ERRORS, ids=range(len(SETUSER_ERRORS)))
def test_setuser_errors_change_nothing(acl, rules):
    acl.check("ACL", "SETUSER", "e", "on", ">keep", "~k")
    acl.check("ACL", "SETUSER", "e", *rules)
    ref, atoll = both(acl, "ACL", "GETUSER", "e")
    assert norm_getuser(ref) == norm_getuser(atoll)


def test_user_commands_and_their_errors(acl):
    acl.run([
        "ACL SETUSER 'a b'", "ACL SETUSER alice on >pw", "ACL SETUSER bob",
        "ACL USERS", "ACL WHOAMI", "ACL GETUSER nosuch", "ACL GETUSER bob",
        "ACL DELUSER default", "ACL DELUSER alice default", "ACL DELUSER nosuch alice bob",
        "ACL USERS", "ACL DELUSER", "ACL LIST x", "ACL USERS x", "ACL WHOAMI x", "ACL GETUSER",
        "ACL NOSUCH", "ACL", "ACL HELP", "ACL HELP x",
        "ACL CAT", "ACL CAT nosuch", "ACL CAT a b",
        "ACL GENPASS 0", "ACL GENPASS 4097", "ACL GENPASS x", "ACL GENPASS -1", "ACL GENPASS 1 2",
        "ACL LOG x", "ACL LOG 1 2", "ACL LOG", "ACL LOG -1", "ACL LOG RESET",
        "ACL DRYRUN nosuch get k", "ACL DRYRUN default nosuch", "ACL DRYRUN default get",
        "ACL DRYRUN default config", "ACL DRYRUN default config nosuch", "ACL DRYRUN default get k",
        "ACL LOAD", "ACL SAVE",
    ])


def test_genpass_lengths(acl):
    for bits in ["1", "4", "5", "255", "256", "4096"]:
        ref, atoll = both(acl, "ACL", "GENPASS", bits)
        assert len(ref) == len(atoll)
        assert all(c in b"0123456789abcdef" for c in atoll)
    assert len(both(acl, "ACL", "GENPASS")[1]) == 64


@pytest.mark.parametrize("category", ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
                                      "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
                                      "blocking", "dangerous", "connection", "transaction", "scripting", "HASH"])
def test_cat_lists_a_categorys_commands(acl, category):
    ref, atoll = both(acl, "ACL", "CAT", category)
    assert sorted(ref) == sorted(atoll)


def test_dryrun(acl):
    acl.check("ACL", "SETUSER", "d", "on", "nopass", "~k*", "%R~r*", "&ch*", "+@all", "-hdel", "-config|set", "+select|0")
    acl.run([
        "ACL DRYRUN d get k1", "ACL DRYRUN d get x", "ACL DRYRUN d hdel k1 f", "ACL DRYRUN d set r1 v",
        "ACL DRYRUN d get r1", "ACL DRYRUN d copy r1 k2", "ACL DRYRUN d copy k1 r2", "ACL DRYRUN d publish ch1 m",
        "ACL DRYRUN d publish x m", "ACL DRYRUN d subscribe ch1 x", "ACL DRYRUN d psubscribe ch* x",
        "ACL DRYRUN d config set x y", "ACL DRYRUN d config get x", "ACL DRYRUN d mset k1 a x b",
        "ACL DRYRUN d eval x 2 k1 zz", "ACL DRYRUN d auth a b",
    ])
    acl.check("ACL", "SETUSER", "d2", "-@all", "+select|0")
    acl.run(["ACL DRYRUN d2 select 0", "ACL DRYRUN d2 select 1", "ACL DRYRUN d2 get k"])


def test_auth_and_hello_as_users(acl, ref_port, atoll_port, new_diff):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    acl.check("ACL", "SETUSER", "off", "off", ">pw", "+@all", "~*")
    acl.check("ACL", "SETUSER", "np", "on", "nopass", "+@all", "~*")
    acl.run([
        "AUTH pw", "AUTH nosuch pw", "AUTH u bad", "AUTH off pw", "AUTH u pw", "ACL WHOAMI",
        "CLIENT SETNAME me", "AUTH np anything", "ACL WHOAMI", "AUTH a b c",
    ])
    d = new_diff()
    d.run(["HELLO 2 AUTH u bad", shape("HELLO 2 AUTH u pw SETNAME x"), "ACL WHOAMI", shape("HELLO 3 AUTH np x"), "ACL WHOAMI",
           "RESET", "ACL WHOAMI", "HELLO 2 AUTH nosuch x"])
    assert log_entries(acl.ref) == log_entries(acl.atoll)


def test_requirepass_is_the_default_users_password(acl, ref_port, atoll_port):
    acl.run(["CONFIG SET requirepass secret", "ACL LIST", "CONFIG GET requirepass"])
    d = plain_pair(ref_port, atoll_port)
    d.run(["PING", "AUTH wrong", "AUTH default wrong", "AUTH secret", "PING", "ACL WHOAMI"])
    acl.run(["ACL SETUSER default nopass", "ACL LIST"])
    d2 = plain_pair(ref_port, atoll_port)
    d2.run(["PING", "ACL WHOAMI", "AUTH x", "CONFIG SET requirepass ''", "ACL LIST"])
    assert log_entries(acl.ref) == log_entries(acl.atoll)


def test_log_entries_merge_and_count(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "~k*", "&ch*", "+@read", "+publish", "+multi", "+exec")
    d = user_pair(ref_port, atoll_port, "u", "pw")
    d.run(["SET k v", "SET k v", "GET x", "GET x", "GET k1", "PUBLISH other m", "PUBLISH ch1 m", "AUTH u bad", "AUTH u bad",
           "HELLO 2 AUTH u bad", "MULTI", "SET k v", "GET y", "EXEC", "GET x"])
    assert log_entries(acl.ref) == log_entries(acl.atoll)
    assert resp.parse(acl.atoll.command("ACL", "LOG", "0")) == []
    ref, atoll = log_entries(acl.ref, 2), log_entries(acl.atoll, 2)
    assert ref == atoll and len(atoll) == 2
    acl.check("CONFIG", "SET", "acllog-max-len", "3")
    d.run(["GET a1", "GET a2", "GET a3", "GET a4"])
    assert log_entries(acl.ref) == log_entries(acl.atoll)
    acl.check("CONFIG", "SET", "acllog-max-len", "128")
    acl.check("ACL", "LOG", "RESET")
    acl.check("ACL", "LOG")


def test_client_list_shows_the_user_and_client_kill_user(acl, ref_port, atoll_port):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    d = user_pair(ref_port, atoll_port, "u", "pw")
    for conn in (d.ref, d.atoll):
        assert b" user=u " in conn.command("CLIENT", "INFO")
    acl.run(["CLIENT KILL USER nosuch", "CLIENT KILL USER u", "CLIENT KILL USER u"])
    for conn in (d.ref, d.atoll):
        _, closed = conn.read_until_close(timeout=2.0)
        assert closed


def test_acl_pubsub_default_decides_new_users_channels(acl):
    acl.run(["CONFIG SET acl-pubsub-default allchannels", "ACL SETUSER a", "ACL GETUSER a", "ACL SETUSER a reset",
             "ACL GETUSER a", "CONFIG SET acl-pubsub-default resetchannels", "ACL SETUSER b", "ACL GETUSER b"])


def test_resp3_replies(acl):
    acl.run([shape("HELLO 3"), "ACL SETUSER r on >pw +@all -@dangerous ~k* &c (~x +@read)", "ACL GETUSER r",
             "ACL GETUSER nosuch", "ACL WHOAMI", "GET missing", "AUTH r bad", shape("ACL LOG 1"), "ACL DRYRUN r flushall",
             "ACL USERS", "ACL CAT", shape("HELLO 2")])
