"""Differential tests for Functions: FUNCTION LOAD / DELETE / FLUSH / LIST / STATS / HELP and
FCALL / FCALL_RO, against the reference byte for byte (libraries flushed before each test)."""
import pytest

import resp


def _normalized_list(raw: bytes):
    """FUNCTION LIST with libraries and functions sorted by name (Redis lists them in hash order)."""
    libraries = []
    for lib in resp.parse(raw):
        fields = dict(zip(lib[::2], lib[1::2]))
        fields[b"functions"] = sorted(
            (tuple(sorted(dict(zip(f[::2], f[1::2])).items(), key=lambda kv: kv[0])) for f in fields[b"functions"]),
            key=lambda f: dict(f)[b"name"])
        libraries.append(sorted(fields.items(), key=lambda kv: kv[0]))
    return sorted(libraries, key=lambda l: dict(l)[b"library_name"])


def check_list(d, *args):
    ref, atoll = d.both("FUNCTION", "LIST", *args)
    if ref.startswith(b"-"):
        assert ref == atoll
    else:
        assert _normalized_list(ref) == _normalized_list(atoll), (ref, atoll)


@pytest.fixture
def fdiff(diff):
    diff.check("FUNCTION", "FLUSH")
    yield diff
    diff.check("FUNCTION", "FLUSH")


def lib(name: str, body: str) -> str:
    return f"#!lua name={name}\n{body}"


SIMPLE = lib("mylib", "redis.register_function('echo1', function(keys, args) return {keys[1], args[1]} end)")

LOAD_ERRORS = [
    "return 1",
    "#!lua\nreturn 1",
    "#!lua name=x foo=bar\nreturn 1",
    "#!lua name=x-y\nreturn 1",
    "#!lua name=x\nreturn 1",
    "#!js name=x\nreturn 1",
    "#!lua name=a name=b\nredis.register_function('f', function() end)",
    lib("z", "redis.call('set','a','b')"),
    lib("z", "return 1 +"),
    lib("z", "error('bad')"),
    lib("z", "local p = pairs"),
    lib("z", "local k = KEYS"),
    lib("z", "x = 1"),
    lib("z", "redis.x = 1"),
    lib("z", "redis.register_function('g-h', function() end)"),
    lib("z", "redis.register_function('', function() end)"),
    lib("z", "redis.register_function()"),
    lib("z", "redis.register_function('a', function() end, 3)"),
    lib("z", "redis.register_function{function_name='a', callback=function() end, foo=1}"),
    lib("z", "redis.register_function('a', 5)"),
    lib("z", "redis.register_function(5, function() end)"),
    lib("z", "redis.register_function('a', function() end) redis.register_function('a', function() end)"),
    lib("z", "redis.register_function{callback=function() end}"),
    lib("z", "redis.register_function{function_name='a'}"),
    lib("z", "redis.register_function{function_name='a', callback=function() end, flags='no-writes'}"),
    lib("z", "redis.register_function{function_name='a', callback=function() end, flags={'bogus'}}"),
    lib("z", "redis.register_function{function_name='a', callback=5}"),
    lib("z", "redis.register_function('single')"),
]


@pytest.mark.parametrize("code", LOAD_ERRORS)
def test_load_errors(fdiff, code):
    fdiff.check("FUNCTION", "LOAD", code)
    check_list(fdiff)


def test_load_list_call_delete(fdiff):
    d = fdiff
    d.check("FUNCTION", "LOAD", SIMPLE)
    d.check("FUNCTION", "LOAD", SIMPLE)
    d.check("FUNCTION", "LOAD", "REPLACE", SIMPLE)
    d.check("FUNCTION", "LOAD", "BOGUS", SIMPLE)
    d.check("FCALL", "echo1", "1", "k", "a")
    d.check("FCALL", "echo1", "0", "a")
    d.check("FCALL", "ECHO1", "0")
    d.check("FCALL", "nope", "0")
    d.check("FCALL", "echo1", "-1")
    d.check("FCALL", "echo1", "2", "a")
    d.check("FCALL", "echo1", "x")
    check_list(d)
    check_list(d, "WITHCODE")
    check_list(d, "LIBRARYNAME", "my*")
    check_list(d, "LIBRARYNAME", "zz*")
    check_list(d, "LIBRARYNAME")
    check_list(d, "BOGUS")
    d.check("FUNCTION", "STATS")
    d.check("FUNCTION", "DELETE", "nope")
    d.check("FUNCTION", "DELETE", "mylib")
    d.check("FCALL", "echo1", "0")
    check_list(d)


def test_function_name_collision_across_libraries(fdiff):
    d = fdiff
    d.check("FUNCTION", "LOAD", lib("x", "redis.register_function('f', function() return 1 end)"))
    d.check("FUNCTION", "LOAD", lib("y", "redis.register_function('f', function() return 2 end)"))
    d.check("FUNCTION", "LOAD", "REPLACE", lib("x", "redis.register_function('f', function() return 3 end)"))
    d.check("FCALL", "f", "0")


def test_flags_and_read_only(fdiff):
    d = fdiff
    d.check("FUNCTION", "LOAD", lib("z", "\n".join([
        "redis.register_function{function_name='w', callback=function(k, a) return redis.call('set', k[1], a[1]) end}",
        "redis.register_function{function_name='ro', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}, description='reader'}",
        "redis.register_function{function_name='bad', callback=function(k) return redis.call('set', k[1], 'x') end, flags={'no-writes'}}",
        "redis.register_function{function_name='all', callback=function() return 1 end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}",
    ])))
    d.check("FCALL", "w", "1", "k", "v")
    d.check("FCALL_RO", "w", "1", "k", "v")
    d.check("FCALL_RO", "ro", "1", "k")
    d.check("FCALL", "ro", "1", "k")
    d.check("FCALL", "bad", "1", "k")
    d.check("FCALL_RO", "all", "0")
    check_list(d)


def test_runtime_errors_and_environment(fdiff):
    d = fdiff
    d.check("FUNCTION", "LOAD", lib("e", "\n".join([
        "local function helper() local n = 0 for _ in pairs({a = 1, b = 2}) do n = n + 1 end return n end",
        "redis.register_function('helper', function() return helper() end)",
        "redis.register_function('oops', function() error('oops') end)",
        "redis.register_function('glob', function() x = 5 end)",
        "redis.register_function('keysglobal', function() return KEYS end)",
        "redis.register_function('callerr', function() return redis.call('nosuch') end)",
        "redis.register_function('pcallerr', function() return redis.pcall('incr', 'str') end)",
        "redis.register_function('env', function() local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t end)",
        "redis.register_function('redisenv', function() local t = {} for k in pairs(redis) do t[#t + 1] = k end table.sort(t) return t end)",
        "redis.register_function('version', function() return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM} end)",
        "redis.register_function('resp3', function() redis.setresp(3) return redis.call('hello') ~= nil end)",
        # Chunks a function loads see the functions' globals, never the scripts' KEYS and ARGV.
        "redis.register_function('loadkeys', function() return loadstring('return KEYS')() end)",
        "redis.register_function('loadargv', function() return load(function() return nil end)() or ARGV end)",
        "redis.register_function('loadenv', function() return loadstring('return redis.REDIS_VERSION, x')() end)",
    ])))
    d.check("SET", "str", "abc")
    d.check("EVAL", "return 1", "1", "from-eval", "argv-from-eval")
    for name in ("helper", "oops", "glob", "keysglobal", "callerr", "pcallerr", "env", "redisenv", "version",
                 "loadkeys", "loadargv", "loadenv"):
        d.check("FCALL", name, "0")


def test_function_writes_abort_watchers(fdiff, new_diff):
    d = fdiff
    other = new_diff()
    d.check("FUNCTION", "LOAD", lib("w", "redis.register_function('incr1', function(k) return redis.call('incr', k[1]) end)"))
    d.check("WATCH", "counter")
    other.check("FCALL", "incr1", "1", "counter")
    d.check("MULTI")
    d.check("GET", "counter")
    d.check("EXEC")


def test_functions_survive_flushall(fdiff):
    d = fdiff
    d.check("FUNCTION", "LOAD", SIMPLE)
    d.check("FLUSHALL")
    d.check("FCALL", "echo1", "0", "a")
    d.check("FUNCTION", "FLUSH", "SYNC")
    d.check("FUNCTION", "FLUSH", "ASYNC")
    d.check("FUNCTION", "FLUSH", "BOGUS")
    d.check("FCALL", "echo1", "0", "a")


def test_function_help_and_arity(fdiff):
    d = fdiff
    d.check("FUNCTION", "HELP")
    d.check("FUNCTION")
    d.check("FUNCTION", "BOGUS")
    d.check("FCALL")
    d.check("FCALL", "x")
    d.check("FUNCTION", "KILL")
    d.check("FUNCTION", "DELETE")


# --- FUNCTION DUMP / RESTORE -------------------------------------------------------------------

TWO_LIBS = [
    SIMPLE,
    lib("second", "\n".join([
        "local big = string.rep('padding so that Redis compresses this library with LZF ', 20)",
        "redis.register_function{function_name='sizeof', callback=function() return #big end, flags={'no-writes'}}",
    ])),
]


def test_restore_payload_from_the_other_server(fdiff):
    """Each server's DUMP restores on the other (Redis compresses with LZF, Atoll does not)."""
    d = fdiff
    for code in TWO_LIBS:
        d.check("FUNCTION", "LOAD", code)
    _, atoll_dump = d.both("FUNCTION", "DUMP")
    ref_dump = d.ref.command("FUNCTION", "DUMP")
    payloads = [resp.parse(ref_dump), resp.parse(atoll_dump)]
    for payload in payloads:
        d.check("FUNCTION", "FLUSH")
        d.check("FUNCTION", "RESTORE", payload)
        check_list(d, "WITHCODE")
        d.check("FCALL", "echo1", "1", "k", "a")
        d.check("FCALL_RO", "sizeof", "0")


def test_restore_policies_and_errors(fdiff):
    d = fdiff
    d.check("FUNCTION", "LOAD", SIMPLE)
    payload = resp.parse(d.ref.command("FUNCTION", "DUMP"))
    d.check("FUNCTION", "RESTORE", payload)
    d.check("FUNCTION", "RESTORE", payload, "APPEND")
    d.check("FUNCTION", "RESTORE", payload, "REPLACE")
    d.check("FUNCTION", "RESTORE", payload, "FLUSH")
    d.check("FUNCTION", "RESTORE", payload, "BOGUS")
    d.check("FUNCTION", "RESTORE", payload, "FLUSH", "EXTRA")
    d.check("FUNCTION", "RESTORE", "bogus")
    d.check("FUNCTION", "RESTORE", payload[:-1] + bytes([payload[-1] ^ 1]))
    d.check("FUNCTION", "RESTORE", b"")
    check_list(d)
    # A payload whose library clashes with a function of another library changes nothing.
    d.check("FUNCTION", "FLUSH")
    d.check("FUNCTION", "LOAD", lib("other", "redis.register_function('echo1', function() return 0 end)"))
    d.check("FUNCTION", "RESTORE", payload)
    check_list(d)
    d.check("FCALL", "echo1", "0")


def test_functions_survive_script_flush(fdiff):
    d = fdiff
    d.check("FUNCTION", "LOAD", SIMPLE)
    d.check("SCRIPT", "FLUSH")
    d.check("FCALL", "echo1", "1", "k", "a")
    check_list(d, "WITHCODE")
