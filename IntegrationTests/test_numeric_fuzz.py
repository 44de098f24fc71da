"""Edge numbers in every numeric argument: no client number may crash or freeze Atoll.

Every command Atoll implements that takes a count, index, offset, score, timeout or TTL is
listed below as a template whose numeric positions are written ``#default``. Each position in
turn gets every value of ``EDGES`` (zero, powers of two at the integer boundaries, 2^63 and
2^64, inf/nan spellings, overflowing floats, 40 digits, "1.5", " 1", "") while the other
positions keep their defaults; then a seeded random run (``ATOLL_NUMERIC_FUZZ_SEED``,
``ATOLL_NUMERIC_FUZZ_N``) fills several positions at once. Before each command both servers
get the same small dataset; the reply, and the follow-up commands that show what it changed,
must be byte-identical (random replies: errors exactly, the rest by shape). Blocking commands
only ever meet keys that hold data, so their timeouts are parsed but never waited on.

Counts that would make Redis itself stream a gigantic reply (SRANDMEMBER s -2^62) are sent to
Atoll only: it must close that client (its reply passed the output cap) and keep serving others.
"""

import os
import random
import re
import shlex
import socket

import pytest

import resp
from diff import shape_of

SEED = int(os.environ.get("ATOLL_NUMERIC_FUZZ_SEED", "20250307"))
N = int(os.environ.get("ATOLL_NUMERIC_FUZZ_N", "4000"))

LONG_MAX = 2**63 - 1
EDGES = [
    "0", "1", "-1", "2", "-2",
    str(2**31), str(-2**31), str(2**32), str(-2**32), str(2**53), str(-2**53),
    str(2**62), str(-2**62), str(LONG_MAX), str(-LONG_MAX), str(-2**63), str(2**63), str(2**64),
    "inf", "-inf", "+inf", "nan", "1e400", "-1e400", "1" * 40, "-" + "1" * 40, "1.5", " 1", "",
]

# The same data before every command.
SETUP = [
    "FLUSHALL",
    "SET str 'hello world'", "SET str2 'hello there'", "SET int 10", "SET fl 1.5",
    "RPUSH l a b c a b c", "RPUSH l2 x y",
    "SADD s a b c d e f g h i j", "SADD si 1 2 3 4 5",
    "HSET h f1 v1 f2 v2 f3 v3 n 5 x 1.5",
    "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZADD z2 1 a 10 x",
]

# (template, follow-up commands, how replies compare). Modes: "exact"; "random" (errors
# exactly, other replies by shape); "top" (errors exactly, other replies by type: cursors,
# ids and slow log entries differ between servers); "answers" (Atoll alone must answer:
# COMMAND GETKEYS reads odd key counts with C's atoi and int casts, which Atoll does not copy).
EXACT, RANDOM, TOP, ANSWERS = "exact", "random", "top", "answers"


def case(template, *follow, mode=EXACT):
    return (template, list(follow), mode)


ALIVE = ["EXISTS str", "PEXPIRETIME str"]
CASES = [
    # strings
    case("SET k v EX #10", "EXISTS k"), case("SET k v PX #10000", "EXISTS k"),
    case("SET k v EXAT #4102444800", "PEXPIRETIME k"), case("SET k v PXAT #4102444800000", "PEXPIRETIME k"),
    case("SETEX k #10 v", "EXISTS k"), case("PSETEX k #10000 v", "EXISTS k"),
    case("GETEX str EX #10", *ALIVE[:1]), case("GETEX str PX #10000", *ALIVE[:1]),
    case("GETEX str EXAT #4102444800", *ALIVE), case("GETEX str PXAT #4102444800000", *ALIVE),
    case("INCRBY int #1", "GET int"), case("DECRBY int #1", "GET int"),
    case("INCRBYFLOAT fl #1", "GET fl"), case("INCRBYFLOAT int #1", "GET int"),
    case("SET n #0", "INCR n", "GET n", "DECR n", "INCRBY n 1", "DECRBY n -1", "INCRBYFLOAT n 0.5", "GET n"),
    case("SET n #0", "DECR n", "DECRBY n 1", "INCRBYFLOAT n -1e308", "INCRBYFLOAT n 1e308"),
    case("GETRANGE str #0 #-1"), case("SUBSTR str #0 #-1"),
    case("SETRANGE str #0 xy", "GET str"), case("SETRANGE k #0 ''", "EXISTS k"),
    case("LCS str str2 IDX MINMATCHLEN #0 WITHMATCHLEN"),
    # keys
    case("EXPIRE str #10", "EXISTS str"), case("PEXPIRE str #10000", "EXISTS str"),
    case("EXPIRE str #10 GT", "EXISTS str"), case("PEXPIRE str #10000 NX", "EXISTS str"),
    case("EXPIREAT str #4102444800", *ALIVE), case("PEXPIREAT str #4102444800000", *ALIVE),
    case("EXPIREAT str #4102444800 LT", *ALIVE),
    case("PEXPIREAT str #4102444800000 GT", *ALIVE),
    case("SCAN #0 COUNT #10", mode=TOP), case("SCAN 0 MATCH * COUNT #1 TYPE string", mode=TOP),
    case("SELECT #0", "SELECT 0"), case("MOVE str #1", "EXISTS str"), case("SWAPDB #0 #1", "EXISTS str"),
    case("COPY str dst DB #1", "EXISTS dst"),
    # lists
    case("LRANGE l #0 #-1"), case("LINDEX l #0"), case("LSET l #0 z", "LRANGE l 0 -1"),
    case("LREM l #0 a", "LRANGE l 0 -1"), case("LTRIM l #0 #-1", "LRANGE l 0 -1"),
    case("LPOS l a RANK #1"), case("LPOS l a COUNT #0"), case("LPOS l a MAXLEN #0"),
    case("LPOS l b RANK #-1 COUNT #2 MAXLEN #0"),
    case("LPOP l #1", "LRANGE l 0 -1"), case("RPOP l #1", "LRANGE l 0 -1"),
    case("LMPOP #1 l LEFT COUNT #1", "LRANGE l 0 -1"),
    case("BLPOP l #0", "LRANGE l 0 -1"), case("BRPOP l2 l #0", "LRANGE l 0 -1"),
    case("BLMOVE l l2 LEFT RIGHT #0", "LRANGE l2 0 -1"), case("BRPOPLPUSH l l2 #0", "LRANGE l2 0 -1"),
    case("BLMPOP #0 #1 l RIGHT COUNT #2", "LRANGE l 0 -1"),
    # hashes
    case("HINCRBY h n #1", "HGET h n"), case("HINCRBYFLOAT h x #1", "HGET h x"),
    case("HSET hn f #0", "HINCRBY hn f 1", "HINCRBYFLOAT hn f 1", "HGET hn f"),
    case("HRANDFIELD h #1", mode=RANDOM), case("HRANDFIELD h #1 WITHVALUES", mode=RANDOM),
    case("HSCAN h #0 COUNT #10", mode=TOP),
    # sets
    case("SPOP s #1", "SCARD s", mode=RANDOM), case("SPOP si #1", "SCARD si", mode=RANDOM),
    case("SRANDMEMBER s #1", mode=RANDOM), case("SRANDMEMBER si #1", mode=RANDOM),
    case("SINTERCARD #1 s LIMIT #0"), case("SINTERCARD #2 s si LIMIT #2"),
    case("SSCAN s #0 COUNT #10", mode=TOP),
    # sorted sets
    case("ZADD z #1 a", "ZRANGE z 0 -1 WITHSCORES"), case("ZADD z INCR #1 a", "ZSCORE z a"),
    case("ZADD zn #0 m", "ZSCORE zn m", "ZINCRBY zn 1 m", "ZINCRBY zn -inf m", "ZRANGE zn 0 -1 WITHSCORES"),
    case("ZADD z GT CH #3 a #-3 b", "ZRANGE z 0 -1 WITHSCORES"),
    case("ZINCRBY z #1 a", "ZRANGE z 0 -1 WITHSCORES"),
    case("ZCOUNT z #-inf #+inf"), case("ZCOUNT z (#1 (#4"),
    case("ZRANGEBYSCORE z #-inf #+inf WITHSCORES LIMIT #0 #-1"),
    case("ZREVRANGEBYSCORE z #+inf #-inf LIMIT #1 #2"),
    case("ZRANGE z #0 #-1"), case("ZRANGE z #0 #-1 WITHSCORES"), case("ZREVRANGE z #0 #-1 WITHSCORES"),
    case("ZRANGE z #-inf #+inf BYSCORE LIMIT #0 #10"), case("ZRANGE z #+inf #-inf BYSCORE REV LIMIT #1 #10"),
    case("ZRANGE z - + BYLEX LIMIT #0 #10"), case("ZRANGEBYLEX z - + LIMIT #0 #10"),
    case("ZRANGESTORE d z #0 #-1", "ZRANGE d 0 -1 WITHSCORES"),
    case("ZRANGESTORE d z #1 #3 BYSCORE LIMIT #0 #2", "ZRANGE d 0 -1 WITHSCORES"),
    case("ZREMRANGEBYRANK z #0 #1", "ZRANGE z 0 -1"), case("ZREMRANGEBYSCORE z #1 #2", "ZRANGE z 0 -1"),
    case("ZPOPMIN z #1", "ZCARD z"), case("ZPOPMAX z #1", "ZCARD z"),
    case("ZMPOP #1 z MIN COUNT #1", "ZCARD z"),
    case("BZPOPMIN z #0", "ZCARD z"), case("BZPOPMAX z2 z #0", "ZCARD z"),
    case("BZMPOP #0 #1 z MAX COUNT #2", "ZCARD z"),
    case("ZUNION #2 z z2 WEIGHTS #1 #1 WITHSCORES"), case("ZINTER #2 z z2 WEIGHTS #2 #-1 WITHSCORES"),
    case("ZUNIONSTORE d #2 z z2 WEIGHTS #1 #1", "ZRANGE d 0 -1 WITHSCORES"),
    case("ZINTERSTORE d #2 z z2 WEIGHTS #1 #1 AGGREGATE MAX", "ZRANGE d 0 -1 WITHSCORES"),
    case("ZDIFF #1 z WITHSCORES"), case("ZDIFFSTORE d #2 z z2", "ZRANGE d 0 -1"),
    case("ZINTERCARD #2 z z2 LIMIT #0"),
    case("ZRANDMEMBER z #1", mode=RANDOM), case("ZRANDMEMBER z #1 WITHSCORES", mode=RANDOM),
    case("ZSCAN z #0 COUNT #10", mode=TOP),
    # scripting, and numbers reaching commands through redis.call
    case("EVAL 'return 1' #0"), case("EVAL 'return KEYS' #1 a b"), case("FCALL nofunc #0"),
    case("EVAL 'return redis.call(\"incrby\", KEYS[1], ARGV[1])' 1 int #1"),
    case("EVAL 'return redis.call(\"zadd\", \"z\", ARGV[1], \"m\")' 0 #1", "ZSCORE z m"),
    case("EVAL 'return redis.call(\"expire\", \"str\", ARGV[1])' 0 #10", "EXISTS str"),
    case("EVAL 'return redis.call(\"lrange\", \"l\", ARGV[1], -1)' 0 #0"),
    case("EVAL 'return redis.pcall(\"zrandmember\", \"z\", ARGV[1], \"withscores\")' 0 #1", mode=RANDOM),
    # server and connection
    case("COMMAND GETKEYS EVAL s #1 k", mode=ANSWERS), case("COMMAND GETKEYS ZUNIONSTORE d #2 a b", mode=ANSWERS),
    case("COMMAND GETKEYS LMPOP #1 a LEFT", mode=ANSWERS), case("COMMAND GETKEYS BLMPOP #0 #1 a LEFT", mode=ANSWERS),
    case("SLOWLOG GET #10", mode=TOP), case("CLIENT UNBLOCK #0"), case("CLIENT KILL ID #0", mode=TOP),
    case("HELLO #2", mode=TOP),
]

# Random commands whose negative counts Redis answers by repeating picks: counts below this
# (that it accepts) would make it stream a gigantic reply, so they go to Atoll alone.
HUGE = -10**6
_STRICT_INT = re.compile(r"-?(0|[1-9][0-9]*)")


def strict_int(value):
    """The value as Redis's string2ll reads it, or None."""
    if not _STRICT_INT.fullmatch(value):
        return None
    n = int(value)
    return n if -2**63 <= n <= LONG_MAX else None


def huge(template, value):
    """True when Redis would accept `value` as a repeating count and send about |value| picks."""
    name = template.split()[0].upper()
    if name not in ("SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER") and "randmember" not in template:
        return False
    n = strict_int(value)
    if n is None or n >= HUGE or n < -LONG_MAX:
        return False
    pairs = "WITHVALUES" in template.upper() or "WITHSCORES" in template.upper()
    return not (pairs and n < -(LONG_MAX // 2))


def short_lived(args):
    """True when `args` sets a time to live of under a second in milliseconds (PSETEX, PX): it
    may run out between the command and its follow-up on one server and not on the other (the
    two are asked in turn, and a loaded machine can take milliseconds), so what the command left
    is not compared."""
    upper = [a.upper() for a in args]
    if upper[0] == "PSETEX":
        ttl = args[2]
    elif "PX" in upper[1:-1]:
        ttl = args[upper.index("PX", 1) + 1]
    else:
        return False
    n = strict_int(ttl)
    return n is not None and 0 < n < 1000


def split(template):
    """Arguments, and the indexes of the numeric positions with their defaults."""
    args, slots = [], []
    for i, word in enumerate(shlex.split(template)):
        if "#" in word:
            prefix, default = word.split("#", 1)
            slots.append((i, prefix))
            word = prefix + default
        args.append(word)
    return args, slots


def filled(args, slots, choice):
    out = list(args)
    for (i, prefix), value in zip(slots, choice):
        if value is not None:
            out[i] = prefix + value
    return out


class Runner:
    def __init__(self, diff, atoll_port):
        self.d = diff
        self.port = atoll_port
        self.setup = [shlex.split(c) for c in SETUP]

    def one(self, template, args, follow, mode):
        self.d.check_pipeline(self.setup)
        if mode == EXACT:
            self.d.check(*args)
        elif mode == ANSWERS:
            reply = self.d.atoll.command(*args)
            assert reply[:1] in (b"*", b"-"), f"{args}: {reply!r}"
        else:
            ref, atoll = self.d.both(*args)
            if ref[:1] == b"-" or atoll[:1] == b"-":
                if ref != atoll:
                    self.d._fail("Reply mismatch", template, ref, atoll)
            elif shape_of(ref, mode == RANDOM) != shape_of(atoll, mode == RANDOM):
                self.d._fail("Shape mismatch", template, ref, atoll)
        for f in [] if short_lived(args) else follow:
            self.d.check(*shlex.split(f))

    def atoll_only(self, args):
        """A gigantic reply: Atoll must close this client (a script gets an error for the call
        instead), then still serve a new one."""
        if args[0] == "EVAL":
            with resp.Conn(self.port) as c:
                assert c.command(*args) == SCRIPT_CALL_TOO_LARGE, args
            return assert_serving(self.port)
        with resp.Conn(self.port) as c:
            c.send_raw(resp.encode(*args))
            data, closed = c.read_until_close(timeout=10)
        assert closed, f"{args}: the connection stayed open, {len(data)} bytes read"
        assert len(data) < 1 << 20, f"{args}: {len(data)} bytes of a reply past the cap were sent"
        assert_serving(self.port)


SCRIPT_CALL_TOO_LARGE = b"-ERR The reply of the command called from script is too large\r\n"


def assert_serving(port):
    with resp.Conn(port) as c:
        assert c.command("PING") == b"+PONG\r\n"


def test_every_edge_in_every_position(diff, atoll_port):
    run = Runner(diff, atoll_port)
    for template, follow, mode in CASES:
        args, slots = split(template)
        assert slots, template
        for k in range(len(slots)):
            for value in EDGES:
                choice = [None] * len(slots)
                choice[k] = value
                command = filled(args, slots, choice)
                if huge(template, value):
                    run.atoll_only(command)
                else:
                    run.one(template, command, follow, mode)
        assert diff.atoll.command("PING") == b"+PONG\r\n", template


def test_random_combinations(diff, atoll_port):
    rng = random.Random(SEED)
    run = Runner(diff, atoll_port)
    several = [c for c in CASES if len(split(c[0])[1]) > 1]
    for _ in range(N):
        template, follow, mode = rng.choice(several)
        args, slots = split(template)
        choice = [rng.choice(EDGES) for _ in slots]
        if any(huge(template, v) for v in choice):
            continue
        run.one(template, filled(args, slots, choice), follow, mode)
    assert diff.atoll.command("PING") == b"+PONG\r\n"


def test_tiny_timeouts_on_empty_keys(diff):
    """The one place a timeout is waited on: a few milliseconds, on both servers."""
    for timeout in ["0.01", "0.001", "1e-3", ".01"]:
        diff.run([f"BLPOP nokey {timeout}", f"BZPOPMIN nokey {timeout}", f"BLMPOP {timeout} 1 nokey LEFT",
                  f"BLMOVE nokey l LEFT LEFT {timeout}"])


@pytest.mark.parametrize("command", [
    ["SRANDMEMBER", "s", str(-2**62)],
    ["SRANDMEMBER", "s", str(-LONG_MAX)],
    ["HRANDFIELD", "h", str(-2**62)],
    ["HRANDFIELD", "h", str(-2**53), "WITHVALUES"],
    ["ZRANDMEMBER", "z", str(-2**62)],
    ["ZRANDMEMBER", "z", str(-(LONG_MAX // 2)), "WITHSCORES"],
])
def test_gigantic_counts_close_the_client(atoll_conn, atoll_port, command):
    for c in SETUP:
        atoll_conn.command(*shlex.split(c))
    Runner(None, atoll_port).atoll_only(command)


def test_gigantic_count_in_a_transaction_closes_the_client(atoll_port):
    with resp.Conn(atoll_port) as c:
        assert c.command("SADD", "s", "a", "b") == b":2\r\n"
        assert c.command("MULTI") == b"+OK\r\n"
        assert c.command("SRANDMEMBER", "s", str(-2**62)) == b"+QUEUED\r\n"
        assert c.command("SET", "after", "1") == b"+QUEUED\r\n"
        c.send_raw(resp.encode("EXEC"))
        data, closed = c.read_until_close(timeout=10)
    assert closed and data == b""
    with resp.Conn(atoll_port) as c:
        # The transaction ran whole, as Redis runs it before closing such a client.
        assert c.command("GET", "after") == b"$1\r\n1\r\n"


def test_gigantic_count_inside_a_script_is_an_error(atoll_conn):
    assert atoll_conn.command("SADD", "s", "a", "b") == b":2\r\n"
    script = "return redis.pcall('srandmember', 's', ARGV[1])"
    reply = atoll_conn.command("EVAL", script, "0", str(-2**62))
    assert reply == SCRIPT_CALL_TOO_LARGE
    script = "return redis.call('srandmember', 's', ARGV[1])"
    reply = atoll_conn.command("EVAL", script, "0", str(-2**62))
    assert reply.startswith(b"-ERR The reply of the command called from script is too large script: "), reply
    assert atoll_conn.command("PING") == b"+PONG\r\n"


def _reply_size(port, args, limit):
    """Reads one array reply of bulk strings as a stream; returns its size or None if closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(resp.encode(*args))
        total = 0
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return None
            total += len(chunk)
            if total >= limit:
                return total


def test_big_members_past_the_cap_close_the_client(atoll_conn, atoll_port):
    """The cap stops a loop by bytes, not by count: 1100 picks of a 1 MB member is past 1 GiB."""
    member = "m" * (1 << 20)
    assert atoll_conn.command("SADD", "big", member) == b":1\r\n"
    assert _reply_size(atoll_port, ["SRANDMEMBER", "big", "-1100"], 1 << 31) is None
    assert_serving(atoll_port)
    # Below the cap the same reply is whole: 300 picks, each "$1048576\r\n" + member + CRLF.
    expected = len(b"*300\r\n") + 300 * (len(b"$1048576\r\n") + (1 << 20) + 2)
    assert _reply_size(atoll_port, ["SRANDMEMBER", "big", "-300"], expected) == expected
    assert_serving(atoll_port)
