"""COMMAND GETKEYSANDFLAGS (and GETKEYS) byte for byte against redis-server 7.0.15, in RESP2
and RESP3: each key with its key-spec flags for commands of every family, the commands whose
flags depend on their arguments (SET with GET, BITFIELD with or without writes, SORT with
STORE), key counts given as arguments, and every error."""
import shlex

import pytest

LINES = [
    # flags that depend on the arguments
    "set k v", "set k v get", "set k v nx get", "set k v ex 10", "set k v GET",
    "bitfield k get u8 0", "bitfield k incrby u8 0 1", "bitfield k set u8 0 1", "bitfield k get u8",
    "bitfield k overflow sat get u8 0", "bitfield k overflow", "bitfield k", "bitfield k nosuch",
    "bitfield_ro k get u8 0", "sort k", "sort k store d", "sort k by x store", "sort k limit 0 1 store d get # store e",
    "sort_ro k", "sort_ro k by x",
    # one spec, several specs, keyword and keynum specs
    "get k", "mget a b c", "mset a 1 b 2", "msetnx a 1 b 2", "del a b c", "unlink a", "exists a b", "touch a",
    "copy a b", "rename a b", "renamenx a b", "move k 1", "getex k", "getdel k", "getset k v", "append k x",
    "incr k", "incrbyfloat k 1", "setrange k 0 x", "psetex k 1 v", "setex k 1 v", "setnx k v", "expire k 1",
    "persist k", "type k", "dump k", "restore k 0 x", "object encoding k", "memory usage k", "debug object k",
    "lpush k a", "lpop a", "lmove a b left right", "blmove a b left right 0", "rpoplpush a b", "brpoplpush a b 0",
    "linsert k before a b", "lset k 0 v", "lmpop 2 a b left", "blmpop 0 2 a b left", "blpop a b 0", "brpop a 0",
    "hset k f v", "hget k f", "hgetall k", "hincrby k f 1", "sadd k m", "smove a b m", "sinter a b",
    "sinterstore d a b", "sintercard 2 a b", "sintercard 0 a", "spop k", "srandmember k",
    "zadd k 1 m", "zunionstore d 2 a b", "zinterstore d 1 a weights 1", "zdiffstore d 2 a b", "zunion 2 a b",
    "zrangestore d s 0 1", "zmpop 1 a min", "bzmpop 0 2 a b max", "bzpopmin a b 0",
    "pfadd k a", "pfcount a b", "pfmerge d a b", "pfdebug getreg k", "bitop and d a b", "bitcount k", "setbit k 1 1",
    "geoadd k 1 2 m", "georadius k 1 2 3 m store x", "georadius k 1 2 3 m storedist x",
    "georadiusbymember_ro k m 1 m", "geosearchstore d s frommember m byradius 1 m",
    "eval s 2 a b", "eval s 0", "evalsha_ro x 1 a", "fcall f 1 a", "fcall f 0", "fcall_ro f 2 a b",
    "watch a b", "lcs a b",
    "migrate h 1 k 0 0", 'migrate h 1 "" 0 0 KEYS a b', 'migrate h 1 "" 0 0 AUTH pw KEYS a',
    'migrate h 1 "" 0 0 AUTH2 u pw KEYS a b',
    # errors
    "get", "ping", "foo a", "zunionstore d 5 a b", "zunionstore d -1 a", "lmpop 5 a left", "eval s 3 a",
    "eval s x a", "subscribe a", "config get x", "set k", "object", "command getkeys get k",
]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("line", LINES)
def test_getkeysandflags(diff, protocol, line):
    diff.both("HELLO", str(protocol))
    diff.check("COMMAND", "GETKEYSANDFLAGS", *shlex.split(line))
    diff.check("COMMAND", "GETKEYS", *shlex.split(line))


def test_arity(diff):
    diff.check("COMMAND", "GETKEYSANDFLAGS")
    diff.check("COMMAND", "GETKEYSANDFLAGS", "get")
