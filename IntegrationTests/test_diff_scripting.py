"""Differential tests for Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT.

Every script is sent to the reference Redis 7.0 and to Atoll and the raw replies
are compared byte for byte: conversions Lua -> RESP2/RESP3 and RESP -> Lua,
error texts (compile, runtime, redis.call, sandbox), shebang flags, the script
cache, the sandbox's contents, and scripts inside transactions.

Not compared: the cmsgpack and struct libraries (not in Atoll yet; they are left
out of the global listings), and memory exhaustion, which Redis (no Lua memory
limit) cannot produce: Atoll's reply is checked against the shape Redis gives
errors that are not Lua tables.
"""

import hashlib
import os
import re
import sys

import pytest

import resp

LIBRARIES = ["string", "table", "math", "bit", "cjson", "coroutine", "redis"]
NOT_YET = "k ~= 'cmsgpack' and k ~= 'struct'"


def ev(diff, script, *args, keys=()):
    """EVAL `script` with `keys` and `args` on both servers; the replies must match."""
    __tracebackhide__ = True
    return diff.check("EVAL", script, str(len(keys)), *keys, *args)


def sha1(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


def use_resp3(diff):
    diff.check_shape("HELLO", "3")


def script_ids(scripts):
    return [s if len(s) <= 60 else s[:57] + "..." for s in scripts]


# --- Lua -> RESP -----------------------------------------------------------------

LUA_TO_RESP = [
    # numbers: truncated to integers like C's (long long) cast
    "return 0", "return 1", "return -1", "return 3.99", "return -3.99", "return 0.5",
    "return -0.5", "return 1e20", "return -1e20", "return 2^53 + 1", "return 2^63",
    "return -2^63", "return 4294967296.7", "return 1/0", "return -1/0", "return 0/0",
    "return -0", "return -0.0", "return 9007199254740993",
    # strings, binary included
    "return 'hello'", "return ''", "return 'a\\0b'", "return '\\255\\254\\r\\n'",
    "return string.rep('x', 1000)", "return tostring(0.1)", "return tostring(1e100)",
    "return 3 .. ''", "return tostring(-0)",
    # booleans and nil
    "return true", "return false", "return nil", "return",
    # arrays stop at the first nil; hash parts are ignored
    "return {}", "return {1, 2, 3}", "return {1, 2, nil, 4}", "return {nil, 1}",
    "return {1, 'two', 3.7, false, true}", "return {{1, {2, {3, {'deep'}}}}}",
    "return {a = 1, 2, 3}", "return {[1] = 1, [2] = 2, [4] = 4}", "return {1, {}, {{}}}",
    "return {1, function() end, 3}", "return {1, coroutine.create(function() end)}",
    # status and error tables
    "return {ok = 'fine'}", "return {ok = ''}", "return {ok = 'a\\r\\nb'}",
    "return {ok = 'x\\0y'}", "return {ok = 5}", "return {ok = '\\r\\nx\\r\\n'}",
    "return {err = 'bad'}", "return {err = ''}", "return {err = 'x y z'}",
    "return {err = 'a\\r\\nb'}", "return {err = 'x\\r\\n'}", "return {err = '\\r\\nx\\r\\n'}",
    "return {err = 'x\\0y'}", "return {err = 5}", "return {err = '\\255\\254'}",
    "return {err = 'bad', ok = 'good'}", "return {ok = 'good', 1, 2}",
    "return {1, {err = 'inner'}, {ok = 'inner'}}",
    # redis.error_reply / redis.status_reply with odd arguments
    "return redis.error_reply('MY err')", "return redis.error_reply('-MY err')",
    "return redis.error_reply('-nospace')", "return redis.error_reply('nospace')",
    "return redis.error_reply('')", "return redis.error_reply('-')",
    "return redis.error_reply('- x')", "return redis.error_reply(' x')",
    "return redis.error_reply('-ERR')", "return redis.error_reply('a\\r\\nb')",
    "return redis.error_reply('ERR a\\r\\n')", "return redis.error_reply('\\r\\nx\\r\\n')",
    "return redis.error_reply('-CODE \\r\\nx\\r\\n')", "return redis.error_reply('x\\0y')",
    "return redis.error_reply(5)", "return redis.error_reply()",
    "return redis.error_reply('a', 'b')", "return redis.error_reply({})",
    "return redis.error_reply('E x').err", "return redis.error_reply('-E x').err",
    "return redis.status_reply('GOOD')", "return redis.status_reply('')",
    "return redis.status_reply('a\\r\\nb')", "return redis.status_reply('x\\0y')",
    "return redis.status_reply(5)", "return redis.status_reply()",
    "return redis.status_reply('a', 'b')", "return redis.status_reply('x\\0y').ok",
    "return {redis.error_reply('x'), redis.status_reply('y')}",
    # RESP3 types (RESP2 callers get their RESP2 forms)
    "return {double = 3.5}", "return {double = 0.1}", "return {double = 3}",
    "return {double = -0.0}", "return {double = 1e300}", "return {double = 1/0}",
    "return {double = -1/0}", "return {double = 0/0}", "return {double = '3.5'}",
    "return {map = {a = 1}}", "return {map = {}}", "return {map = {[1] = 'x'}}",
    "return {map = {a = {map = {b = 2}}}}", "return {map = {a = {1, 2}}}",
    "return {map = {k = true}}", "return {map = {k = false}}",
    "return {set = {a = true}}", "return {set = {}}", "return {set = {[5] = true}}",
    "return {set = {a = false}}",
    "return {big_number = '123456789012345678901234567890'}",
    "return {big_number = '1\\r\\n2'}", "return {big_number = 5}",
    "return {verbatim_string = {format = 'txt', string = 'hello'}}",
    "return {verbatim_string = {format = 'mkd', string = '# hi'}}",
    "return {verbatim_string = {format = 'txtx', string = 'hello'}}",
    "return {verbatim_string = {format = 'tx', string = 'hello'}}",
    "return {verbatim_string = {format = '', string = 'x'}}",
    "return {verbatim_string = {format = 'txt'}}",
    "return {verbatim_string = {string = 'x'}}", "return {verbatim_string = 'x'}",
    "return {1, {map = {x = 1}}, {set = {y = true}}, {double = 2.5}, true, false}",
    # booleans follow the script's protocol, not the caller's
    "redis.setresp(3) return true", "redis.setresp(3) return false",
    "redis.setresp(3) return {true, false, nil}", "redis.setresp(3) redis.setresp(2) return false",
    "redis.setresp(3) return {double = 1.5}",
]


@pytest.mark.parametrize("script", LUA_TO_RESP, ids=script_ids(LUA_TO_RESP))
def test_lua_to_resp2(diff, script):
    ev(diff, script)


@pytest.mark.parametrize("script", LUA_TO_RESP, ids=script_ids(LUA_TO_RESP))
def test_lua_to_resp3(diff, script):
    use_resp3(diff)
    ev(diff, script)


def test_multi_key_map_and_set_iteration_order(diff):
    """Tables are walked in Lua's own order, which both servers share."""
    for proto in ("2", "3"):
        diff.check_shape("HELLO", proto)
        ev(diff, "return {map = {a = 1, b = 2, c = 3, d = 4}}")
        ev(diff, "return {set = {x = true, y = true, z = true}}")
        ev(diff, "local m = {} for i = 1, 20 do m['k' .. i] = i end return {map = m}")


def test_deep_nesting_reaches_lua_stack_limit(diff):
    """A table containing itself: cut with the same error after the same depth."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 60000))
    try:
        raw = ev(diff, "local t = {} t[1] = t return t")
        assert raw.endswith(b"-ERR reached lua stack limit\r\n")
        ev(diff, "local t = {} local c = t for i = 1, 100 do c[1] = {} c = c[1] end return t")
        use_resp3(diff)
        ev(diff, "local t = {} t.map = {k = t} return t")
    finally:
        sys.setrecursionlimit(old)


def test_big_replies(diff):
    raw = ev(diff, "local t = {} for i = 1, 100000 do t[i] = i end return t")
    assert raw.startswith(b"*100000\r\n:1\r\n")
    ev(diff, "local t = {} for i = 1, 100000 do t[i] = 'v' .. i end return t")
    ev(diff, "local m = {} for i = 1, 1000 do m['f' .. i] = i end return {map = m}")
    ev(diff, "return string.rep('ab', 500000)")


# --- RESP -> Lua (redis.call replies) ------------------------------------------------

RESP_TO_LUA = [
    "return redis.call('set', 'k', 'v')",
    "return type(redis.call('set', 'k', 'v'))",
    "return redis.call('set', 'k', 'v').ok",
    "return redis.call('ping')",
    "return redis.call('ping', 'hi')",
    "return redis.call('echo', 'x\\0y')",
    "return redis.call('incr', 'n')",
    "return type(redis.call('incr', 'n'))",
    "return redis.call('incrby', 'n', -5)",
    "return redis.call('get', 'nokey')",
    "return type(redis.call('get', 'nokey'))",
    "return tostring(redis.call('get', 'nokey'))",
    "return {redis.call('get', 'nokey')}",
    "return {1, redis.call('get', 'nokey'), 3}",
    "redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)",
    "return redis.call('lrange', 'nolist', 0, -1)",
    "return type(redis.call('lpop', 'nolist', 2))",
    "return tostring(redis.call('lpop', 'nolist', 2))",
    "redis.call('mset', 'a', '1', 'b', '2') return redis.call('mget', 'a', 'nokey', 'b')",
    "redis.call('rpush', 'l', 'a', 'b') return redis.call('lmpop', 1, 'l', 'left', 'count', 2)",
    "redis.call('rpush', 'l', 'a') local r = redis.call('lmpop', 1, 'l', 'left') return {type(r[2]), r[2][1]}",
    "return redis.call('incrbyfloat', 'f', '1.5')",
    "return type(redis.call('incrbyfloat', 'f', '1.5'))",
    "return redis.call('config', 'get', 'maxmemory')",
    "local r = redis.call('config', 'get', 'maxmemory') return {type(r), type(r.map), r[1], r[2]}",
    "local r = redis.call('config', 'get', 'maxmemory') return r.map and r.map.maxmemory",
    "return redis.call('config', 'get', 'nosuchparameter')",
    "local r = redis.call('hello') return {type(r), r.map and r.map.proto, r[1]}",
    "local r = redis.call('hello') return r.map and {r.map.server, r.map.version, r.map.mode, r.map.role}",
    "local r = redis.call('info', 'nosuchsection') return {type(r), r.verbatim_string and r.verbatim_string.format}",
    "return redis.call('info', 'nosuchsection')",
    "local r = redis.call('command', 'info', 'get') local n = 0 for k in pairs(r[1][3].set or r[1][3]) do n = n + 1 end return {#r, #r[1], n}",
    "local r = redis.call('command', 'info', 'get') return {r[1][1], r[1][2], r[1][4], r[1][5], r[1][6]}",
    "local r = redis.call('command', 'info', 'get') return type(r[1][3].set)",
    "return redis.pcall('incr', 'l')",
    "redis.call('rpush', 'l', 'x') return redis.pcall('incr', 'l')",
    "redis.call('set', 's', 'abc') local e = redis.pcall('incr', 's') return {type(e), e.err, tostring(e.ignore_error_stats_update)}",
    "local e = redis.pcall('nosuch') local r = {} for k in pairs(e) do r[#r + 1] = k end table.sort(r) return r",
    "local e = redis.pcall('get') return {e.err, tostring(e.ignore_error_stats_update)}",
    "local e = redis.pcall() return {e.err, tostring(e.ignore_error_stats_update)}",
    "local e = redis.pcall('get', {}) return {e.err, tostring(e.ignore_error_stats_update)}",
    "return redis.call('type', 'nokey')",
    "return redis.call('exists', 'nokey', 'nokey2')",
    "return redis.call('object', 'encoding', 'nokey')",
    "return redis.call('ttl', 'nokey')",
    "return redis.call('dbsize')",
]


@pytest.mark.parametrize("resp3_script", [False, True], ids=["setresp2", "setresp3"])
@pytest.mark.parametrize("resp3_caller", [False, True], ids=["caller2", "caller3"])
@pytest.mark.parametrize("script", RESP_TO_LUA, ids=script_ids(RESP_TO_LUA))
def test_resp_to_lua(diff, script, resp3_script, resp3_caller):
    if resp3_caller:
        use_resp3(diff)
    ev(diff, ("redis.setresp(3) " if resp3_script else "") + script)


def test_arguments_numbers_use_17_digits(diff):
    for value in ["3.5", "0.1", "1e20", "100", "-0", "1/0", "-1/0", "0/0", "2^53 + 1", "1/3", "-1e-300",
                  "0", "-7", "1e15", "1e16", "1e17 - 16", "1e17", "-1e17 + 16", "-1e17", "2^63", "-2^63",
                  "123456789012345", "-0.5", "4.0"]:
        ev(diff, f"redis.call('set', 'k', {value}) return redis.call('get', 'k')")
    ev(diff, "return redis.call('echo', 12345678901234567890)")
    ev(diff, "return redis.call('incrby', 'n', 2.7)")


def test_binary_keys_and_args(diff):
    ev(diff, "return redis.call('set', KEYS[1], ARGV[1])", "\u00ff\x00x", keys=["k\x00"])
    ev(diff, "return redis.call('get', KEYS[1])", keys=["k\x00"])
    ev(diff, "return {string.byte(redis.call('get', KEYS[1]), 1, -1)}", keys=["k\x00"])
    ev(diff, "return string.len(ARGV[1])", "a\x00b")
    ev(diff, "return ARGV[1] .. ARGV[2]", "", "")


# --- Errors ----------------------------------------------------------------------------

ERROR_SCRIPTS = [
    # compile errors
    "return 1 +", "return 'unfinished", "\n\nreturn 1 +", "x(", "local", "return end",
    "for", "return 1 1", "return {", "--[[ unfinished comment",
    # a body that starts like a precompiled chunk is still parsed as text
    "\x1bLuaQ\x00\x01\x04", "\x1b\nreturn 1",
    # runtime errors
    "local t = nil; return t.x", "return 1 + {}", "return #nil", "return ('x')()",
    "return nosuch()", "return ('x'):nosuch()", "return {} < {}", "return 'a' .. {}",
    "error('boom')", "error('boom', 0)", "error('boom', 2)", "error({err = 'My Error'})",
    "error({err = 5})", "error({err = ''})", "error({err = 'x', source = 's', line = 7})",
    "error({err = 'x', line = 7})", "error(12)", "error(true)", "error(nil)", "error()",
    "error('a\\nb')", "error('x\\0y')", "error({err = 'x\\0y'})", "error({err = 'x\\r\\n'})",
    "error({err = '\\r\\nx\\r\\n'})",
    "error(setmetatable({}, {__index = function(t, k) return 'idx_' .. k end}))",
    "error(setmetatable({err = 'x'}, {__newindex = function() error('boom') end}))",
    "error(string.rep('e', 150))", "\n\nerror('line3')",
    "local function f()\n  error('in f')\nend\nf()", "assert(false)", "assert(false, 'msg')",
    "assert(nil, {err = 'tbl'})", "return tonumber()", "return string.rep()",
    "return string.format('%d', 'x')", "return math.floor('x')", "return ('x'):rep(1, 2, 3)",
    "return setmetatable(1, {})", "return rawget(1, 2)", "return rawset(1, 2, 3)",
    "return next(1)", "return pairs(1)", "return ipairs()", "return unpack(1)",
    "return select(0, 1)", "return table.concat({{}})", "return table.insert()",
    "return cjson.decode('[1,')", "return cjson.decode('nope')", "return cjson.encode(function() end)",
    "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))",
    "return bit.band('x')", "return coroutine.resume(1)",
    "return loadstring('x = 1')()", "return loadstring('return nope')()",
    "return loadstring('syntax error here')",
    # stack overflows: Lua stack, and C stack through metamethods
    "local function f(n) return f(n + 1) + 1 end return f(1)",
    "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.a",
    "local function f() local t = setmetatable({}, {__index = function(t, k) return t[k .. 'x'] end}) return t.a end return f()",
    "local function f(s) return (string.gsub(s, '.', function(c) return f(c) end)) end return f('ab')",
    "local mt = {} mt.__newindex = function() error(setmetatable({}, mt)) end error(setmetatable({}, mt))",
]


@pytest.mark.parametrize("script", ERROR_SCRIPTS, ids=script_ids(ERROR_SCRIPTS))
def test_script_errors(diff, script):
    ev(diff, script)


REDIS_CALL_ERRORS = [
    "redis.call('nosuch')", "redis.call('get')", "redis.call('get', 'a', 'b')", "redis.call()",
    "redis.call('get', {})", "redis.call('get', nil)", "redis.call('get', true)",
    "redis.call('set', 'k', 'v', 'xx', 'nx')", "redis.call('set', 'k', 'v', 'ex', 0)",
    "redis.call('incr', 'str')", "redis.call('lpush', 'str', 'x')",
    "redis.call('multi')", "redis.call('exec')", "redis.call('discard')", "redis.call('watch', 'k')",
    "redis.call('unwatch')", "redis.call('blpop', 'l', 0)", "redis.call('brpop', 'l', 1)",
    "redis.call('blmove', 'a', 'b', 'left', 'right', 0)", "redis.call('brpoplpush', 'a', 'b', 0)",
    "redis.call('blmpop', 0, 1, 'l', 'left')", "redis.call('eval', 'return 1', 0)",
    "redis.call('evalsha', 'abc', 0)", "redis.call('eval_ro', 'return 1', 0)",
    "redis.call('script', 'load', 'return 1')", "redis.call('script', 'flush')",
    "redis.call('script', 'exists', 'abc')", "redis.call('script', 'kill')",
    "redis.call('client', 'nosub')", "redis.call('config', 'nosub')", "redis.call('quit')",
    "redis.call('reset')", "redis.call('monitor')", "redis.call('auth', 'x')",
    "redis.call('shutdown')", "redis.call('select', 99)", "redis.call('select', 'x')",
    "redis.call('object', 'nosub', 'k')", "redis.call('NOSUCH', 'x')",
    "return redis.pcall('nosuch')", "return redis.pcall('get')", "return redis.pcall()",
    "return redis.pcall('get', {})", "return redis.pcall('incr', 'str')",
    "return redis.pcall('multi')", "return redis.pcall('blpop', 'l', 0)",
    "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), e}",
    "local ok, e = pcall(function() redis.call('incr', 'str') end) return {tostring(ok), e}",
    "local ok, e = pcall(function() redis.call('get') end) return e",
    "local ok, e = pcall(function() redis.call() end) return e",
    "local ok, e = pcall(function() error({err = 'x'}) end) return {tostring(ok), e}",
    "local ok, e = pcall(function() error('x') end) return {tostring(ok), e}",
    "local ok, e = pcall(function() error({1}) end) return {tostring(ok), type(e)}",
    "return {pcall(function() error({err = 'x'}) end)}",
    "return select('#', pcall(error, {1}))",
    "return {pcall(function() return 1, 2 end)}", "return {pcall()}", "return pcall(1)",
    "return {xpcall(function() error({err = 'x'}) end, function(e) return type(e) end)}",
    "return {xpcall(function() redis.call('nosuch') end, function(e) return e.err end)}",
    "redis.call('set', 'k', 'v') error('after the write')",
]


@pytest.mark.parametrize("script", REDIS_CALL_ERRORS, ids=script_ids(REDIS_CALL_ERRORS))
def test_redis_call_errors(diff, script):
    diff.check("SET", "str", "abc")
    ev(diff, script)
    diff.check("GET", "k")


def test_error_stops_the_script_but_keeps_earlier_writes(diff):
    ev(diff, "redis.call('set', 'a', '1') redis.call('incr', 'str') redis.call('set', 'b', '2')",
       keys=["a", "b"])
    diff.run(["MGET a b"])
    diff.check("SET", "str", "abc")
    ev(diff, "redis.call('set', 'a', '3') redis.call('incr', 'str') redis.call('set', 'b', '2')")
    diff.run(["MGET a b"])


HELPERS = [
    "return redis.sha1hex('')", "return redis.sha1hex('abc')", "return redis.sha1hex(123)",
    "return redis.sha1hex(1.5)", "return redis.sha1hex()", "return redis.sha1hex('a', 'b')",
    "return redis.sha1hex('\\0\\255')",
    "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", "return type(redis.REDIS_VERSION_NUM)",
    "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
    "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
    "redis.log(redis.LOG_WARNING, 'from a test')", "return redis.log(redis.LOG_NOTICE, 'a', 'b', 3)",
    "redis.log(redis.LOG_DEBUG, 'dbg')", "redis.log()", "redis.log(1)", "redis.log('x', 'y')",
    "redis.log('3', 'y')", "redis.log(4, 'y')", "redis.log(-1, 'y')", "redis.log(3.7, 'y')",
    "redis.log(3, {})", "redis.log(3, nil)", "redis.log(1e300, 'y')", "return {pcall(redis.log)}",
    "redis.setresp()", "redis.setresp(1)", "redis.setresp(4)", "redis.setresp('3')",
    "redis.setresp('x')", "redis.setresp(2.5)", "redis.setresp(3.9)", "redis.setresp(2, 3)",
    "return redis.setresp(3)", "return {pcall(redis.setresp, 7)}",
    "redis.set_repl()", "redis.set_repl(5)", "redis.set_repl(-1)", "redis.set_repl('x')",
    "return redis.set_repl(redis.REPL_ALL)", "return redis.set_repl(redis.REPL_NONE)",
    "return redis.replicate_commands()", "return redis.breakpoint()", "return redis.debug('x')",
    "return redis.acl_check_cmd('get', 'k')", "return redis.acl_check_cmd('config')",
    "return redis.acl_check_cmd('config', 'get')", "return redis.acl_check_cmd('config', 'nosub')",
    "return redis.acl_check_cmd('nosuch')", "return redis.acl_check_cmd()",
    "return redis.acl_check_cmd({})", "return {pcall(redis.acl_check_cmd, 'nosuch')}",
    "math.randomseed(5) return {math.random(1000), math.random(1000), math.random(10, 20), tostring(math.random())}",
    "math.randomseed(-7) return {math.random(1000), math.random(5, 5)}",
    "math.randomseed(2^40) return math.random(1000)", "math.randomseed(1.9) return math.random(1000)",
    "math.randomseed(0) local t = {} for i = 1, 100 do t[i] = math.random(6) end return t",
    "return math.random(0)", "return math.random(5, 1)", "return math.random(1, 2, 3)",
    "return math.random('x')", "return math.randomseed()", "return math.randomseed('x')",
    "return math.randomseed(5)",
]


@pytest.mark.parametrize("script", HELPERS, ids=script_ids(HELPERS))
def test_redis_helpers(diff, script):
    ev(diff, script)


# --- EVAL / EVALSHA / SCRIPT ------------------------------------------------------------

def test_keys_and_argv(diff):
    ev(diff, "return {KEYS, ARGV}")
    ev(diff, "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}", "c", "d", keys=["a", "b"])
    ev(diff, "return {#KEYS, #ARGV}", "x", "y", "z", keys=["a"])
    ev(diff, "KEYS[1] = 'changed' return KEYS[1]", keys=["a"])
    ev(diff, "ARGV[5] = 'x' return ARGV", "a")
    ev(diff, "return KEYS[1]")  # the previous script's KEYS are gone


KEYS_ARGV_MUTATIONS = [
    "KEYS[1] = 'changed'", "KEYS[1] = nil", "KEYS[3] = 'x'", "KEYS.field = 1",
    "table.insert(ARGV, 'extra')", "ARGV[1] = nil ARGV[2] = 'y'",
    "setmetatable(KEYS, {__index = function() return 'meta' end})",
    "for i = 1, 100 do ARGV[i] = i end for i = 1, 100 do ARGV[i] = nil end",
    "rawset(KEYS, 'field', 2) return {pcall(error, KEYS)}",
    "KEYS[2] = 'stale' KEYS[4] = 's2' KEYS.a = 1", "KEYS.c = 1 KEYS.x = 1 KEYS.q = 1",
    "ARGV[3] = 'stale' ARGV.c = 1",
]
KEYS_ARGV_CHECK = (
    "local n, m = 0, 0 for _ in pairs(KEYS) do n = n + 1 end for _ in pairs(ARGV) do m = m + 1 end "
    "return {n, m, KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], tostring(getmetatable(KEYS)), "
    "tostring(rawget(KEYS, 'field')), tostring(KEYS[9])}"
)


@pytest.mark.parametrize("mutation", KEYS_ARGV_MUTATIONS, ids=script_ids(KEYS_ARGV_MUTATIONS))
def test_keys_and_argv_start_afresh_after_a_script_changed_them(diff, mutation):
    """Each run's KEYS and ARGV hold exactly its own arguments, whatever the last run did to
    its tables, and however many keys and arguments either run had."""
    diff.check("SCRIPT", "LOAD", KEYS_ARGV_CHECK)
    shapes = [([], []), (["a", "b"], ["u"]), (["p"], ["v", "w"]), (["a", "b", "c"], [])]
    for keys, args in shapes:
        for check_keys, check_args in shapes:
            # A table of its own first (one with a metatable is never reused), so that the
            # mutation meets a table of exactly this shape.
            ev(diff, "setmetatable(KEYS, {}) setmetatable(ARGV, {})")
            ev(diff, "return 1", *args, keys=keys)
            ev(diff, mutation, *args, keys=keys)
            for _ in range(2):
                diff.check("EVALSHA", sha1(KEYS_ARGV_CHECK), str(len(check_keys)), *check_keys, *check_args)


def test_numkeys_errors(diff):
    diff.run([
        ("EVAL", "return 1", "-1"), ("EVAL", "return 1", "abc"), ("EVAL", "return 1", "1.5"),
        ("EVAL", "return 1", ""), ("EVAL", "return 1", "9999999999999999999999"),
        ("EVAL", "return 1", "2", "a"), ("EVAL", "return 1"), ("EVAL",),
        ("EVAL", "return 1", " 1", "a"), ("EVAL", "return 1", "+1", "a"),
        ("EVAL_RO", "return 1", "-1"), ("EVALSHA", "x", "abc"), ("EVALSHA_RO", "x", "5", "a"),
        ("EVAL", "return 1 +", "-1"), ("EVAL", "return 1 +", "2"),
    ])


def test_evalsha_and_script_cache(diff):
    sha = sha1("return 1")
    diff.run([
        "SCRIPT FLUSH", ("EVALSHA", sha, "0"), ("EVALSHA", sha.upper(), "0"),
        ("EVALSHA", sha[:-1], "0"), ("EVALSHA", "nothex", "0"), ("EVALSHA", sha, "-1"),
        ("EVALSHA_RO", sha, "0"), ("SCRIPT", "EXISTS", sha, sha.upper(), "nope"),
        ("EVAL", "return 1", "0"), ("SCRIPT", "EXISTS", sha, sha.upper(), "nope"),
        ("EVALSHA", sha, "0"), ("EVALSHA", sha.upper(), "0"), ("EVALSHA_RO", sha, "0"),
        ("EVALSHA", sha, "1", "k"), ("EVALSHA", sha, "2", "k"),
        ("SCRIPT", "LOAD", "return 'loaded'"), ("SCRIPT", "LOAD", "return 'loaded'"),
        ("SCRIPT", "LOAD", "return 1 +"), ("SCRIPT", "LOAD", ""), ("SCRIPT", "LOAD"),
        ("SCRIPT", "LOAD", "a", "b"), ("SCRIPT", "EXISTS"),
        ("EVALSHA", sha1("return 'loaded'"), "0"),
        ("EVAL", "", "0"), ("EVALSHA", sha1(""), "0"), ("SCRIPT", "EXISTS", sha1("")),
    ])
    loaded = diff.check("SCRIPT", "LOAD", "return ARGV[1] .. KEYS[1]")
    sha2 = resp.parse(loaded).decode()
    diff.check("EVALSHA", sha2, "1", "k", "v")
    diff.check("EVALSHA_RO", sha2.upper(), "1", "k", "v")
    diff.run(["SCRIPT FLUSH", ("EVALSHA", sha2, "1", "k", "v"), ("SCRIPT", "EXISTS", sha2)])


def test_script_flush_options(diff):
    diff.run([
        "SCRIPT FLUSH", "SCRIPT FLUSH SYNC", "SCRIPT FLUSH ASYNC", "SCRIPT FLUSH async",
        "SCRIPT FLUSH sync", "SCRIPT FLUSH foo", "SCRIPT FLUSH SYNC ASYNC", "SCRIPT FLUSH SYNC SYNC",
        ("EVAL", "return 'x'", "0"), "SCRIPT FLUSH ASYNC",
        ("SCRIPT", "EXISTS", sha1("return 'x'")),
    ])


def test_script_subcommands(diff):
    diff.run([
        "SCRIPT HELP", "SCRIPT help", "SCRIPT HELP extra", "SCRIPT", "SCRIPT FOO",
        "SCRIPT KILL", "SCRIPT KILL x", "SCRIPT DEBUG", "SCRIPT DEBUG no", "SCRIPT DEBUG NO",
        "SCRIPT DEBUG foo", "SCRIPT DEBUG no extra", "SCRIPT EXISTS a b c",
    ])


def test_eval_ro_and_no_writes(diff):
    diff.run([
        ("SET", "k", "v"),
        ("EVAL_RO", "return redis.call('set', 'k', 'v2')", "1", "k"),
        ("EVAL_RO", "return redis.call('get', 'k')", "1", "k"),
        ("EVAL_RO", "return redis.pcall('set', 'k', 'v2')", "1", "k"),
        ("EVAL_RO", "return redis.pcall('del', 'k')", "0"),
        ("EVAL_RO", "return redis.pcall('getex', 'k', 'persist')", "0"),
        ("EVAL_RO", "return redis.pcall('lpop', 'l')", "0"),
        ("EVAL_RO", "return redis.pcall('flushall')", "0"),
        ("EVAL_RO", "return redis.pcall('expire', 'k', 10)", "0"),
        ("EVAL_RO", "return redis.pcall('select', 1)", "0"),
        ("EVAL_RO", "return redis.pcall('nosuch')", "0"),
        ("EVAL_RO", "return redis.pcall('get')", "0"),
        ("EVAL_RO", "return redis.pcall('multi')", "0"),
        ("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"),
        ("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'x')", "0"),
        ("EVAL_RO", "#!lua\nreturn redis.call('get', 'k')", "0"),
        ("EVAL_RO", "#!lua flags=allow-oom\nreturn 1", "0"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'x')", "1", "k"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.pcall('set', 'k', 'x')", "1", "k"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "1", "k"),
        ("EVAL", "#!lua\nreturn redis.call('set', 'k', 'x')", "1", "k"),
        ("SCRIPT", "LOAD", "#!lua\nreturn 'shebang'"),
        ("EVALSHA_RO", sha1("#!lua\nreturn 'shebang'"), "0"),
        ("EVALSHA", sha1("#!lua\nreturn 'shebang'"), "0"),
        ("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 'ro'"),
        ("EVALSHA_RO", sha1("#!lua flags=no-writes\nreturn 'ro'"), "0"),
        "GET k",
    ])


SHEBANGS = [
    "#!lua\nreturn 1", "#!lua flags=no-writes\nreturn 1",
    "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1",
    "#!lua flags=\nreturn 1", "#!lua flags=bogus\nreturn 1", "#!lua flags=no-writes,bogus\nreturn 1",
    "#!lua flags=no-writes,,allow-oom\nreturn 1", "#!lua flags=no-writes,\nreturn 1",
    "#!lua flags=,no-writes\nreturn 1", "#!lua flags=NO-WRITES\nreturn 1",
    "#!lua flags=no-writes flags=allow-oom\nreturn 1", "#!lua foo=bar\nreturn 1",
    "#!lua name=x\nreturn 1", "#!lua x\nreturn 1", "#!lua flags\nreturn 1", "#!lua =\nreturn 1",
    "#!python\nreturn 1", "#!\nreturn 1", "#!luajit\nreturn 1", "#! lua\nreturn 1", "#!LUA\nreturn 1",
    "#!lua", "#!lua flags=no-writes", "#!lua  flags=no-writes  \nreturn 1", "#!lua\r\nreturn 1",
    "#!lua flags=no-writes\r\nreturn 1", "#!lua\tflags=no-writes\nreturn 1",
    "#!lua \"flags=no-writes\"\nreturn redis.call('set', 'k', 'v')", "#!lua 'flags=no-writes\nreturn 1",
    "#!\"lua\" flags=no-writes\nreturn 1", "#!lua \"flags=no-writes\"x\nreturn 1",
    "#!lua flags=\"a\\x41\"\nreturn 1", "#lua\nreturn 1", "\n#!lua\nreturn 1",
    # line numbers count the shebang line
    "#!lua\nreturn 1 +", "#!lua\n\nerror('line3')", "#!lua\n\nreturn nosuchglobal",
    "#!lua flags=no-writes\n\nreturn redis.call('set', 'k', 'v')",
]


@pytest.mark.parametrize("body", SHEBANGS, ids=script_ids(SHEBANGS))
def test_shebang(diff, body):
    diff.check("EVAL", body, "0")
    diff.check("EVAL_RO", body, "0")
    diff.check("SCRIPT", "LOAD", body)


# --- Sandbox ----------------------------------------------------------------------------------

def listing(table):
    return (f"local t = {{}} for k in pairs({table}) do if {NOT_YET} then t[#t + 1] = k end end "
            "table.sort(t) return t")


@pytest.mark.parametrize("table", ["_G"] + LIBRARIES + ["getmetatable('')", "getmetatable(_G)"])
def test_sandbox_listings(diff, table):
    ev(diff, listing(table))


SANDBOX = [
    # Chunks load as source text only: bytecode fails to compile, as in Redis's Lua.
    "local f, e = loadstring(string.dump(function() return 1 end)) return {type(f), e}",
    "local f, e = loadstring(string.dump(function() return 1 end), 'nm') return {type(f), e}",
    "local n = 0 local f, e = load(function() n = n + 1 if n == 1 then return string.dump(function() return 7 end) end end) return {type(f), e}",
    "local f, e = loadstring('\\27') return {type(f), e}", "local f, e = loadstring('  \\27Lua') return {type(f), e}",
    "local f, e = loadstring('\\27\\nreturn 1') return {type(f), e}",
    "local n = 0 local f, e = load(function() n = n + 1 if n == 1 then return '' elseif n == 2 then return '\\27' end end) return {type(f), e}",
    "local n = 0 return load(function() n = n + 1 if n == 1 then return 'return ' elseif n == 2 then return '42' end end)()",
    "return {pcall(load, function() return {} end)}",
    "return {pcall(loadstring)}", "return {pcall(load)}", "return {pcall(loadstring, 'x(', 'name')}",
    "return loadstring('return ...')(5)", "return {loadstring('return 1', 'n')()}",
    "local t = {} for k in next, _G do if " + NOT_YET + " then t[#t + 1] = k end end table.sort(t) return t",
    "local n = 0 table.foreach(string, function() n = n + 1 end) return n",
    "return {type(os), type(io), type(print), type(dofile), type(loadfile), type(require)}",
    "return os", "return io", "return print", "return dofile", "return loadfile", "return require",
    "return debug", "return newproxy", "return getfenv", "return setfenv", "return package",
    "return module", "return _G.os", "return _G['print']", "return rawget(_G, 'os') == nil",
    "return rawget(_G, 'nope')", "return rawget(string, 'rep') == string.rep",
    "return _VERSION", "return type(__redis__err__handler)", "return rawequal(_G, _G._G)",
    "return type(_G)", "return #_G", "return #string", "return getmetatable(_G) == nil",
    "return type(getmetatable(_G))", "return type(getmetatable(_G).__index)",
    "return getmetatable(getmetatable(_G))", "return type(getmetatable(string))",
    "return type(getmetatable(redis))", "return type(getmetatable(''))",
    "return getmetatable('').__index == string", "return getmetatable({}) == nil",
    "return getmetatable(setmetatable({}, {__metatable = 'locked'}))",
    "return ('x'):rep(3)", "return ('%d'):format(42)", "return unpack({1, 2, 3})",
    "return {unpack({1, 2, 3})}", "return table.concat({'a', 'b'}, ',')",
    "return table.getn(string)", "return table.maxn(string)", "return table.concat(string)",
    "return {ipairs(string)} ~= nil", "return select('#', pairs(string))",
    "return select(1, pairs({})) == next", "return next({}, nil)",
    # writes to globals and library tables
    "x = 1", "_G.x = 1", "_G['x'] = 1", "function f() end", "local function f() end return 1",
    "rawset(_G, 'x', 1)", "setmetatable(_G, nil)", "setmetatable(string, {})",
    "string.foo = 1", "string.format = nil", "math.pi = 3", "table.insert = nil",
    "cjson.encode = nil", "bit.band = nil", "redis.call = nil", "redis.foo = 1",
    "coroutine.foo = 1", "KEYS = {}", "ARGV = nil", "rawset(string, 'x', 1)",
    "table.insert(string, 'x')", "table.insert(_G, 'x')", "table.remove(string)",
    "table.sort(math)", "table.setn(string, 1)", "getmetatable('').__index = {}",
    "getmetatable('').foo = 1", "rawset(getmetatable(''), '__index', {})",
    "setmetatable(getmetatable(''), {})", "local mt = getmetatable(_G) mt.__index = nil",
    "rawset(getmetatable(_G), '__index', nil)", "return loadstring('x = 1')()",
    "return loadstring('string.x = 1')()", "return load(function() return nil end) ~= nil",
    "local co = coroutine.create(function() y = 2 end) return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return nosuchglobal end) return {coroutine.resume(co)}",
    "return __redis__err__handler('x')",
    "return __redis__err__handler({err = 'e'}).err",
    # user tables are writable
    "local t = {} t.x = 1 return t.x", "rawset({}, 'x', 1) return 1",
    "local t = setmetatable({}, {__index = function() return 7 end}) return t.x",
    "local t = {3, 1, 2} table.sort(t) return t", "local t = {} table.insert(t, 'a') return t",
    # library behaviour shared with Redis's Lua
    "return string.format('%5.2f|%d|%s|%q', 3.14159, 42, 'x', 'a\\nb')",
    "return string.rep('ab', 3)", "return {string.byte('ABC', 1, -1)}",
    "return string.gsub('hello world', 'o', '0')", "return {string.find('hello', 'l+')}",
    "return tostring(math.huge)", "return math.floor(-3.5)", "return math.fmod(7, 3)",
    "return tostring(math.pi)", "return bit.tohex(65535)", "return bit.band(0xff, 0x0f)",
    "return bit.bxor(5, 3)", "return bit.lshift(1, 40)", "return bit.tobit(2^32 + 5)",
    "return cjson.encode({1, 2, 3})", "return cjson.encode({a = {b = {c = 'd'}}})",
    "return cjson.encode(3.14)", "return cjson.encode(0.1)", "return cjson.encode(cjson.null)",
    "return cjson.encode({})", "return cjson.encode({[1] = 1, [3] = 3})",
    "return cjson.encode({[1] = 1, [30] = 3})", "return cjson.encode(1/0)",
    "return cjson.encode('\\1\\127/\"')", "return cjson.decode('[1,2,3]')",
    "return cjson.decode('{\"a\":1.5}').a", "return cjson.decode('null') == cjson.null",
    "return cjson.decode('[\"\\\\u00e9\"]')[1]",
    "return cjson.encode(cjson.decode('{\"a\":[1,2,{\"b\":null}]}'))",
    "return {cjson.encode_sparse_array()}", "return cjson.encode_max_depth()",
    "return cjson._NAME", "local c = cjson.new() return c.encode({1})",
    "return loadstring('return 1')()", "return select('#', 1, 2, 3)", "return tonumber('0x10')",
    "return gcinfo() > 0", "return collectgarbage('count') > 0",
    "return coroutine.wrap(function() coroutine.yield(1) end)()",
    "local co = coroutine.create(function() redis.call('set', 'co', 'v') return redis.call('get', 'co') end) return {coroutine.resume(co)}",
    "local co = coroutine.create(function() error('in co') end) return {coroutine.resume(co)}",
    "return coroutine.running()",
]


@pytest.mark.parametrize("script", SANDBOX, ids=script_ids(SANDBOX))
def test_sandbox(diff, script):
    ev(diff, script)


LIBRARY_BEHAVIOUR = [
    'return cjson.encode(1e300)',
    'return cjson.encode(2^53)',
    'return cjson.encode(-0)',
    'return cjson.encode(123456789012345)',
    'return cjson.encode({[1]=1, a=2})',
    'return cjson.encode({1, 2, [10]=3})',
    'return cjson.encode({[0]=1})',
    "return cjson.encode('\\226\\130\\172')",
    "return cjson.encode('\\0')",
    "return cjson.encode('\\31\\127')",
    "return cjson.decode('12345678901234567890')",
    "return tostring(cjson.decode('12345678901234567890'))",
    'return cjson.decode(\'"\\\\ud83d\\\\ude00"\')',
    'return cjson.decode(\'"\\\\u0000"\')',
    "return cjson.decode('[1e309]')[1]",
    "return cjson.decode('  [ true , false , null ]  ')[1]",
    'return cjson.decode(\'{"a":1,"a":2}\').a',
    "return cjson.decode('[1,2,]')",
    "return cjson.decode('')",
    "return cjson.decode('{}')",
    'return cjson.decode(5)',
    'return cjson.decode()',
    'return cjson.encode()',
    'return cjson.encode(1, 2)',
    'return cjson.encode({a={b={c={d={e={f={}}}}}}})',
    'local t = {} t.x = t return cjson.encode(t)',
    "return cjson.encode({['1']=1})",
    'return cjson.encode({[true]=1})',
    'return cjson.encode({[1.5]=1})',
    'return cjson.encode_number_precision(3)',
    'return cjson.encode(3.14159)',
    'return cjson.encode_number_precision(14)',
    'return cjson.encode_number_precision(15)',
    'return cjson.encode_invalid_numbers(true)',
    'return cjson.encode(0/0)',
    'return cjson.encode_invalid_numbers(false)',
    'return cjson.decode_invalid_numbers(false)',
    "return cjson.decode('Infinity')",
    'return cjson.decode_invalid_numbers(true)',
    'return cjson.encode_sparse_array(true, 2, 3)',
    'return {cjson.encode_sparse_array()}',
    'return cjson.encode_sparse_array(false)',
    'return cjson.encode_sparse_array(true, 3, 10)',
    'return cjson.decode_max_depth(2)',
    "return cjson.decode('[[[1]]]')",
    'return cjson.decode_max_depth(1000)',
    'return bit.tohex(-1)',
    'return bit.tohex(255, -4)',
    'return bit.bswap(1)',
    'return bit.arshift(-256, 4)',
    'return bit.rol(1, 33)',
    'return bit.tobit(1e20)',
    'return bit.band()',
    "return string.format('%5.1s|', 'abc')",
    "return string.format('%q', '\\0\\r\\n')",
    "return string.format('%g', 1e20)",
    "return string.format('%x', 255)",
    "return string.format('%c%c', 72, 105)",
    "return string.format('%10.3f', -1/3)",
    "return string.format('%s %s', 1.5, true)",
    "return string.format('%d', 2^31)",
    "return string.format('%d', 2^63)",
    "return string.format('%i', -5)",
    "return string.format('%z', 1)",
    "return string.format('%', 1)",
    'return tostring(1e15+0.5)',
    'return tostring(-1e-300)',
    "return 10 % 3 .. ' ' .. -10 % 3 .. ' ' .. 5.5 % 2",
    'return math.max(1, 2, 3) + math.min(4, 5)',
    'return {math.frexp(8)}',
    'return math.ldexp(1, 10)',
    'return math.mod(7, 3)',
    'return tostring(math.sqrt(-1))',
    'return tostring(math.log(0))',
    'return tostring(math.floor(-0.5))',
    "return string.rep('a', 3, 'b')",
    'return {string.gfind ~= nil}',
    'return string.len(string.dump(function() end)) > 0',
    "return {('abc'):byte(-1)}",
    "return ('hello world'):match('(%w+) (%w+)')",
    "return {('a,b,,c'):gsub(',', ';')}",
    "return ('%a'):rep(2)",
    'return string.char(256)',
    "return ('x'):sub(2^40)",
    "return table.concat({1, 2, 3}, ', ', 2, 3)",
    'return table.concat({1, {}, 3})',
    'local t = {5, 2, 8} table.sort(t, function(a, b) return a > b end) return t',
    'local t = {} table.sort(t, 1) return t',
    'return table.maxn({1, 2, [10] = 3})',
    'return #{1, 2, nil, 4}',
    'return select(-1, 1, 2, 3)',
    'return xpcall(function() return 1 end, print)',
    'return tostring(nil) .. tostring(false)',
    'return type(tostring(print))',
    'return tostring({}):sub(1, 6)',
    'return tostring(string.rep):sub(1, 9)',
    'return tostring(redis.call):sub(1, 9)',
    'return rawequal(redis.call, redis.pcall)',
    'return rawlen',
    'return type(load)',
    "return load('return 1')",
    'return load(function() return nil end)()',
    "return loadstring('return ...')(1, 2)",
    "return {loadstring('return 1 +')}",
    'return assert(1, 2, 3)',
    'return {assert(1, 2, 3)}',
    "return tonumber('1', 1)",
    "return tonumber('10', 2)",
    'return unpack({1, 2, 3}, 2)',
    'return {unpack({1, 2, 3}, -1, 1)}',
    'return gcinfo() < 1e9',
    "return collectgarbage('collect')",
    "return collectgarbage('bogus')",
    'return coroutine.status(coroutine.create(print))',
    'return coroutine.yield()',
    "return {coroutine.resume(coroutine.create(function() return redis.call('nosuch') end))}",
    "return {coroutine.resume(coroutine.create(function() return redis.pcall('nosuch') end))}",
    "local co = coroutine.wrap(function() error({err='in co'}) end) co()",
    "local co = coroutine.wrap(function() redis.call('nosuch') end) co()",
    'local co = coroutine.wrap(function() x = 1 end) co()',
]


def test_library_behaviour(diff):
    """cjson, bit, string, math, table and base functions as in Redis's Lua. Some calls change
    cjson's settings for the scripts after them; SCRIPT FLUSH puts the defaults back."""
    for script in LIBRARY_BEHAVIOUR:
        ev(diff, script)
    diff.check("SCRIPT", "FLUSH")


def test_no_state_leaks_between_scripts(diff):
    """Every script starts from the same environment, whatever the previous one tried."""
    attempts = [
        "local t = {} t.secret = 42 return t",
        "x = 1", "_G.x = 1", "rawset(_G, 'x', 1)", "table.insert(_G, 'leak')",
        "string.leak = 1", "rawset(string, 'leak', 1)", "getmetatable('').__index = {}",
        "getmetatable('').leak = 1", "rawset(getmetatable(''), 'leak', 1)",
        "return loadstring('leak = 1')()", "setmetatable(_G, nil)",
        "local mt = getmetatable(_G) mt.__index = nil",
        "local co = coroutine.create(function() leak = 1 end) coroutine.resume(co)",
        "math.randomseed(1)",
    ]
    checks = [
        "return {rawget(_G, 'x'), rawget(_G, 'leak'), rawget(string, 'leak'), _G[1], string.leak}",
        "return {pcall(function() return leak end)}",
        "return ('x'):rep(2)", "return getmetatable('').leak",
        "return rawget(_G, 'secret')", "return {pcall(function() return secret end)}",
    ]
    for attempt in attempts:
        ev(diff, attempt)
        for check in checks:
            ev(diff, check)


def test_script_flush_resets_the_lua_state(diff):
    """State a script left in a library (cjson settings) lasts until SCRIPT FLUSH."""
    diff.run([
        ("EVAL", "cjson.encode_max_depth(2) return 1", "0"),
        ("EVAL", "return cjson.encode({{{1}}})", "0"),
        "SCRIPT FLUSH",
        ("EVAL", "return cjson.encode({{{1}}})", "0"),
        ("EVAL", "return {pcall(cjson.encode, {{{1}}})}", "0"),
    ])


def test_select_inside_a_script_stays_inside(diff):
    diff.run([
        ("EVAL", "redis.call('select', 1) redis.call('set', 'k', 'db1') return redis.call('get', 'k')", "0"),
        "GET k", "SELECT 1", "GET k",
        ("EVAL", "redis.call('set', 'k', 'again') redis.call('select', 0) return redis.call('get', 'k')", "0"),
        "GET k", ("EVAL", "return redis.call('get', 'k')", "0"), "SELECT 0", "GET k",
        ("EVAL", "return redis.call('select', 0)", "0"), ("EVAL", "return redis.call('dbsize')", "0"),
        ("EVAL", "return redis.call('swapdb', 0, 1)", "0"), "GET k",
    ])


def test_time_and_random_commands(diff):
    diff.check_shape("EVAL", "return redis.call('time')", "0")
    ev(diff, "local t = redis.call('time') return {#t, type(t[1]), type(t[2])}")
    ev(diff, "local t = redis.call('time') return tonumber(t[1]) > 1600000000")
    diff.check("SET", "only", "1")
    ev(diff, "return redis.call('randomkey')")
    ev(diff, "local r = redis.call('randomkey') redis.call('set', 'written', r) return redis.call('get', 'written')")
    ev(diff, "return redis.call('lastsave') > 0")


def test_scripts_that_delete_and_touch_keys(diff):
    diff.run(["MSET a 1 b 2 c 3", "RPUSH l x y"])
    ev(diff, "return redis.call('del', unpack(KEYS))", keys=["a", "b", "nokey"])
    ev(diff, "return redis.call('unlink', KEYS[1])", keys=["l"])
    diff.run(["MGET a b c", "EXISTS l", "DBSIZE"])
    ev(diff, "redis.call('set', 'tmp', 'x', 'px', 100000) return redis.call('pttl', 'tmp') > 0")
    ev(diff, "redis.call('expire', 'tmp', 0) return redis.call('exists', 'tmp')")
    ev(diff, "redis.call('rename', 'c', 'd') return {redis.call('get', 'c'), redis.call('get', 'd')}")


def test_scripts_inside_multi_exec(diff):
    diff.run([
        "MULTI", ("EVAL", "return redis.call('incr', KEYS[1])", "1", "c"),
        ("EVAL", "return redis.call('incr', KEYS[1])", "1", "c"),
        ("EVAL", "return redis.call('nosuch')", "0"), ("EVAL", "return 1 +", "0"),
        ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "c"),
        ("EVAL", "return {ok = 'status'}", "0"), ("EVAL", "return redis.error_reply('E x')", "0"),
        ("EVALSHA", "0000000000000000000000000000000000000000", "0"),
        ("EVAL", "return 1", "-1"), ("SCRIPT", "LOAD", "return 'in multi'"),
        ("SCRIPT", "DEBUG", "no"), "EXEC", "GET c",
        "MULTI", ("EVAL", "return 1", "0"), ("EVAL",), "EXEC",
    ])


def test_watch_touched_by_a_script(diff, new_diff):
    other = new_diff()
    diff.run(["SET k 1", "WATCH k"])
    ev(other, "return redis.call('set', KEYS[1], '2')", keys=["k"])
    diff.run(["MULTI", "GET k"])
    assert diff.check("EXEC") == b"*-1\r\n"
    # a script that only reads does not abort the transaction
    diff.run(["WATCH k"])
    ev(other, "return redis.call('get', KEYS[1])", keys=["k"])
    diff.run(["MULTI", "GET k"])
    assert diff.check("EXEC") == b"*1\r\n$1\r\n2\r\n"
    # nor does a failed write
    diff.run(["WATCH k"])
    ev(other, "return redis.pcall('lpush', KEYS[1], 'x')", keys=["k"])
    diff.run(["MULTI", "GET k"])
    assert diff.check("EXEC") == b"*1\r\n$1\r\n2\r\n"
    # a script that deletes the key does
    diff.run(["WATCH k"])
    ev(other, "return redis.call('del', KEYS[1])", keys=["k"])
    diff.run(["MULTI", "GET k"])
    assert diff.check("EXEC") == b"*-1\r\n"


# --- Memory ------------------------------------------------------------------------------------

NOT_A_TABLE_ERROR = re.compile(rb"^-ERR Error running script [0-9a-f]{40}, not enough memory\r\n$")
atoll_only = pytest.mark.skipif(os.environ.get("ATOLL_DIFF_AGAINST_REDIS") == "1",
                                reason="Redis has no Lua memory limit")


@atoll_only
@pytest.mark.parametrize("script", [
    "local t = {} local s = string.rep('x', 1024 * 1024) for i = 1, 100000 do t[i] = s .. i end",
    "return #string.rep('x', 2^31 - 1)",
    "local s = 'x' while true do s = s .. s end",
    "local t = {} for i = 1, 1e9 do t[i] = i end",
])
def test_memory_exhaustion_is_an_error(atoll_conn, script):
    """Atoll caps the Lua heap; Redis has no cap (it would grow or abort), so the reply is
    compared with the shape Redis gives errors that are not tables (`Error running script`)."""
    reply = atoll_conn.command("EVAL", script, "0")
    assert NOT_A_TABLE_ERROR.match(reply), reply
    assert atoll_conn.command("PING") == b"+PONG\r\n"
    for _ in range(3):
        assert atoll_conn.command(
            "EVAL", "local t = {} for i = 1, 100000 do t[i] = 'v' .. i end return #t", "0") == b":100000\r\n"


@atoll_only
def test_memory_error_inside_pcall_is_caught(atoll_conn):
    script = ("local ok, e = pcall(function() local s = 'x' while true do s = s .. s end end) "
              "return {tostring(ok), e}")
    assert atoll_conn.command("EVAL", script, "0") == b"*2\r\n$5\r\nfalse\r\n$17\r\nnot enough memory\r\n"
    assert atoll_conn.command("PING") == b"+PONG\r\n"
