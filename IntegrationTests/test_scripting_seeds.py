"""The scripts of the seed guides, run unchanged against Redis and Atoll.

Each script is written the way scripting guides write it (compare-and-swap, transfers,
rate limiters, locks, ...) and driven through its branches with the same KEYS/ARGV on
both servers; replies are compared byte for byte, or by shape where they hold the time.
"""

import json

import pytest
import redis

import resp



def bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def run(diff, script, keys=(), args=()):
    """EVAL the script with KEYS/ARGV on both servers; returns Redis's raw reply."""
    __tracebackhide__ = True
    return diff.check("EVAL", script, str(len(keys)), *keys, *[str(a) for a in args])


COMPARE_AND_SWAP = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


def test_compare_and_swap(diff):
    diff.check("SET", "config:mode", "blue")
    assert run(diff, COMPARE_AND_SWAP, ["config:mode"], ["blue", "green"]) == b":1\r\n"
    assert run(diff, COMPARE_AND_SWAP, ["config:mode"], ["blue", "red"]) == b":0\r\n"
    run(diff, COMPARE_AND_SWAP, ["config:missing"], ["blue", "red"])
    diff.run(["GET config:mode", "EXISTS config:missing"])


TRANSFER = """
local amount = tonumber(ARGV[1])
if not amount or amount <= 0 then
  return {err = 'ERR invalid amount'}
end
local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
if balance < amount then
  return {err = 'INSUFFICIENT_FUNDS balance ' .. balance .. ' is below ' .. amount}
end
redis.call('DECRBY', KEYS[1], amount)
redis.call('INCRBY', KEYS[2], amount)
return {ok = 'TRANSFERRED'}
"""


def test_transfer(diff):
    diff.run(["SET account:alice 100", "SET account:bob 20"])
    keys = ["account:alice", "account:bob"]
    assert run(diff, TRANSFER, keys, [30]) == b"+TRANSFERRED\r\n"
    run(diff, TRANSFER, keys, [500])
    run(diff, TRANSFER, keys, [-5])
    run(diff, TRANSFER, keys, ["abc"])
    run(diff, TRANSFER, keys, [70])
    run(diff, TRANSFER, keys, [1])
    run(diff, TRANSFER, ["account:nobody", "account:bob"], [1])
    diff.run(["MGET account:alice account:bob account:nobody"])


AUDIT_LOG = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local entry = cjson.encode({
  field = ARGV[1],
  old = old,
  new = ARGV[2],
  at = tonumber(redis.call('TIME')[1]),
})
redis.call('RPUSH', KEYS[2], entry)
return entry
"""


def entry_without_time(raw: bytes) -> dict:
    entry = json.loads(resp.parse(raw))
    assert isinstance(entry.pop("at"), int)
    return entry


def test_audit_log(diff):
    keys = ["user:1", "audit:user:1"]
    for field, value in [("email", "a@example.com"), ("email", "b@example.com"), ("name", "Ann")]:
        r, a = diff.both("EVAL", AUDIT_LOG, "2", *keys, field, value)
        assert entry_without_time(r) == entry_without_time(a)
    diff.run(["HGETALL user:1", "LLEN audit:user:1"])
    r, a = diff.both("LRANGE", "audit:user:1", "0", "-1")
    assert [entry_without_time(bulk(e)) for e in resp.parse(r)] == \
        [entry_without_time(bulk(e)) for e in resp.parse(a)]


IDEMPOTENCY_GUARD = """
if redis.call('SET', KEYS[1], 'processing', 'NX', 'EX', ARGV[1]) then
  return cjson.encode({proceed = true})
end
if redis.call('GET', KEYS[1]) == 'processing' then
  return cjson.encode({processing = true})
end
return cjson.encode({done = true, result = redis.call('GET', KEYS[1])})
"""


def test_idempotency_guard(diff):
    keys = ["idem:req-42"]
    assert run(diff, IDEMPOTENCY_GUARD, keys, [60]) == bulk(b'{"proceed":true}')
    assert run(diff, IDEMPOTENCY_GUARD, keys, [60]) == bulk(b'{"processing":true}')
    diff.check("SET", "idem:req-42", "order-7")
    run(diff, IDEMPOTENCY_GUARD, keys, [60])
    diff.check("TTL", "idem:req-42")


BOUNDED_COUNTER = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local next_value = math.min(current + tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('SET', KEYS[1], next_value)
return next_value
"""


def test_bounded_counter(diff):
    for step in [3, 4, 5, 10, 1, -2, 0.5]:
        run(diff, BOUNDED_COUNTER, ["counter:bounded"], [step, 10])
    diff.check("GET", "counter:bounded")


INVENTORY_DECREMENT = """
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
local quantity = tonumber(ARGV[1])
if stock < quantity then
  return -1
end
return redis.call('DECRBY', KEYS[1], quantity)
"""


def test_inventory_decrement(diff):
    diff.check("SET", "stock:sku-1", "5")
    replies = [run(diff, INVENTORY_DECREMENT, ["stock:sku-1"], [q]) for q in [2, 2, 2, 1, 1]]
    assert replies == [b":3\r\n", b":1\r\n", b":-1\r\n", b":0\r\n", b":-1\r\n"]
    run(diff, INVENTORY_DECREMENT, ["stock:unknown"], [1])


INCREMENT = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


def test_increment_with_script_load_and_noscript_reload(diff, ref_port, atoll_port):
    sha = resp.parse(diff.check("SCRIPT", "LOAD", INCREMENT)).decode()
    diff.check("EVALSHA", sha, "1", "hits", "5")
    diff.check("EVALSHA", sha, "1", "hits", "2")
    diff.check("SCRIPT", "FLUSH")
    assert diff.check("EVALSHA", sha, "1", "hits", "1").startswith(b"-NOSCRIPT")
    diff.check("SCRIPT", "LOAD", INCREMENT)
    diff.check("EVALSHA", sha, "1", "hits", "1")
    # the same through a client library's script object, which reloads on NOSCRIPT
    results = []
    for port in (ref_port, atoll_port):
        with redis.Redis(port=port, socket_timeout=10) as client:
            script = client.register_script(INCREMENT)
            first = script(keys=["hits:lib"], args=[3])
            client.script_flush()
            second = script(keys=["hits:lib"], args=[4])
            results.append((first, second, client.get("hits:lib")))
    assert results[0] == results[1] == (3, 7, b"7")


GET_SET_WITH_EXPIRY = """
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return old
"""


def test_get_set_with_expiry(diff):
    run(diff, GET_SET_WITH_EXPIRY, ["session:1"], ["token-a", 300])
    run(diff, GET_SET_WITH_EXPIRY, ["session:1"], ["token-b", 600])
    diff.run(["GET session:1", "TTL session:1"])
    run(diff, GET_SET_WITH_EXPIRY, ["session:1"], ["token-c", 0])
    run(diff, GET_SET_WITH_EXPIRY, ["session:1"], ["token-c", "soon"])
    diff.run(["GET session:1"])


INCREMENT_WITH_MAX = """
local value = redis.call('INCR', KEYS[1])
if value > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return false
end
return value
"""


def test_increment_with_max(diff):
    replies = [run(diff, INCREMENT_WITH_MAX, ["quota:user:9"], [3]) for _ in range(5)]
    assert replies == [b":1\r\n", b":2\r\n", b":3\r\n", b"$-1\r\n", b"$-1\r\n"]
    diff.check("GET", "quota:user:9")
    diff.check("SET", "quota:text", "abc")
    run(diff, INCREMENT_WITH_MAX, ["quota:text"], [3])


SET_IF_GREATER = """
local current = tonumber(redis.call('GET', KEYS[1]))
local candidate = tonumber(ARGV[1])
if current == nil or candidate > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


def test_set_if_greater(diff):
    replies = [run(diff, SET_IF_GREATER, ["highscore"], [v]) for v in [10, 5, 10, 11, "12.5", 3]]
    assert replies == [b":1\r\n", b":0\r\n", b":0\r\n", b":1\r\n", b":1\r\n", b":0\r\n"]
    diff.check("GET", "highscore")


SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, math.ceil(window / 1000))
  return 1
end
return 0
"""


def test_sliding_window_rate_limiter(diff):
    key = ["rate:ip:1"]
    now = 1_700_000_000_000
    replies = [run(diff, SLIDING_WINDOW, key, [now + i * 100, 1000, 3, f"req-{i}"]) for i in range(5)]
    assert replies == [b":1\r\n", b":1\r\n", b":1\r\n", b":0\r\n", b":0\r\n"]
    assert run(diff, SLIDING_WINDOW, key, [now + 1500, 1000, 3, "req-late"]) == b":1\r\n"
    diff.run(["ZRANGE rate:ip:1 0 -1 WITHSCORES", "TTL rate:ip:1"])


TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = tokens >= requested
if allowed then
  tokens = tokens - requested
end
redis.call('HMSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) * 2)
return {allowed and 1 or 0, tokens}
"""


def test_token_bucket_rate_limiter(diff):
    key = ["bucket:api"]
    for now, requested in [(100, 4), (100, 4), (100, 4), (101, 1), (102.5, 3), (200, 1)]:
        run(diff, TOKEN_BUCKET, key, [0.5, 10, now, requested])
    diff.run(["HGETALL bucket:api", "TTL bucket:api"])


LOCK_ACQUIRE = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])"
LOCK_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
LOCK_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


def test_distributed_lock(diff):
    lock = ["lock:report"]
    assert run(diff, LOCK_ACQUIRE, lock, ["owner-a", 30000]) == b"+OK\r\n"
    assert run(diff, LOCK_ACQUIRE, lock, ["owner-b", 30000]) == b"$-1\r\n"
    assert run(diff, LOCK_EXTEND, lock, ["owner-b", 60000]) == b":0\r\n"
    assert run(diff, LOCK_EXTEND, lock, ["owner-a", 60000]) == b":1\r\n"
    diff.check_shape("PTTL", "lock:report")
    assert run(diff, LOCK_RELEASE, lock, ["owner-b"]) == b":0\r\n"
    assert run(diff, LOCK_RELEASE, lock, ["owner-a"]) == b":1\r\n"
    assert run(diff, LOCK_RELEASE, lock, ["owner-a"]) == b":0\r\n"
    assert run(diff, LOCK_ACQUIRE, lock, ["owner-b", 30000]) == b"+OK\r\n"
    run(diff, LOCK_ACQUIRE, ["lock:bad"], ["owner-c", 0])
    run(diff, LOCK_EXTEND, lock, ["owner-b", "x"])


MULTI_FIELD_HINCRBY = """
local results = {}
for i = 1, #ARGV, 2 do
  results[#results + 1] = redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
return results
"""


def test_multi_field_hincrby(diff):
    run(diff, MULTI_FIELD_HINCRBY, ["stats:page"], ["views", 1, "clicks", 2, "views", 10])
    run(diff, MULTI_FIELD_HINCRBY, ["stats:page"], ["views", -3, "shares", 1])
    run(diff, MULTI_FIELD_HINCRBY, ["stats:page"], ["views", "x"])
    diff.run([("HMGET", "stats:page", "views", "clicks", "shares")])


GET_OR_CREATE_HASH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end
return redis.call('HGETALL', KEYS[1])
"""


def test_get_or_create_hash(diff):
    key = ["profile:7"]
    diff.check_unordered("EVAL", GET_OR_CREATE_HASH, "1", *key, "name", "Ann", "plan", "free")
    diff.check_unordered("EVAL", GET_OR_CREATE_HASH, "1", *key, "name", "Bob", "plan", "pro")
    run(diff, GET_OR_CREATE_HASH, ["profile:8"], ["odd"])


PCALL_CAPTURE = """
local result = redis.pcall('INCR', KEYS[1])
if type(result) == 'table' and result.err then
  redis.call('SET', KEYS[2], result.err)
  return 'failed: ' .. result.err
end
return result
"""


def test_pcall_error_capture(diff):
    keys = ["visits", "last:error"]
    run(diff, PCALL_CAPTURE, keys)
    diff.check("SET", "visits", "not-a-number")
    run(diff, PCALL_CAPTURE, keys)
    diff.check("RPUSH", "visits:list", "x")
    run(diff, PCALL_CAPTURE, ["visits:list", "last:error"])
    diff.check("GET", "last:error")


VALIDATED_ERROR_REPLY = """
local quantity = tonumber(ARGV[1])
if not quantity or quantity <= 0 or quantity ~= math.floor(quantity) then
  return redis.error_reply('INVALID_QUANTITY quantity must be a positive integer')
end
if #KEYS ~= 1 then
  return redis.error_reply('expected exactly one key')
end
return redis.call('INCRBY', KEYS[1], quantity)
"""


def test_validated_error_reply(diff):
    for quantity in [3, 0, -1, "x", 2.5, ""]:
        run(diff, VALIDATED_ERROR_REPLY, ["cart:1"], [quantity])
    run(diff, VALIDATED_ERROR_REPLY, ["cart:1", "cart:2"], [1])
    diff.check("GET", "cart:1")


LOGGING = """
redis.log(redis.LOG_NOTICE, 'processing', KEYS[1])
local value = redis.call('GET', KEYS[1])
if not value then
  redis.log(redis.LOG_WARNING, 'missing key ' .. KEYS[1])
  return redis.status_reply('MISSING')
end
redis.log(redis.LOG_DEBUG, 'found', value)
return value
"""


def test_redis_log(diff):
    run(diff, LOGGING, ["job:1"])
    diff.check("SET", "job:1", "queued")
    run(diff, LOGGING, ["job:1"])
