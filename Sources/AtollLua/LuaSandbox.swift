/// The Lua code that turns a fresh state into Redis 7.0's scripting environment: the error
/// handler every script runs under, the `redis` table, the read-only globals proxy scripts
/// see as `_G` (and that becomes the state's global table), and the removal of everything
/// Redis does not expose.
///
/// Host functions (`host[id]`) are C closures that call back into Swift; the kit is the C
/// half of the sandbox (sandbox.c). Both are handed to this chunk as its arguments and never
/// stay reachable from scripts.
enum LuaSandbox {
    /// Host function ids, shared with `LuaEngine.hostCallback`.
    enum Host: Int32, CaseIterable {
        case call = 1, pcall, errorReply, statusReply, sha1hex, log, setresp, setRepl, replicateCommands
        case breakpoint, debug, aclCheckCmd, registerFunction
    }

    /// Returns the globals proxy, the real globals table, and for Functions their globals
    /// table, its metatable, and the run-time and load-time tables behind it.
    static let setup = """
    local host, kit = ...
    local real = _G
    local dbg = debug

    -- Redis's handler: turns any error into a table {err=..., source=..., line=...}.
    real.__redis__err__handler = function(err)
      local i = dbg.getinfo(2, 'nSl')
      if i and i.what == 'C' then
        i = dbg.getinfo(3, 'nSl')
      end
      if type(err) ~= 'table' then
        err = {err = 'ERR ' .. tostring(err)}
      end
      if i then
        err['source'] = i.source
        err['line'] = i.currentline
      end
      return err
    end

    local redis = {
      call = host[1], pcall = host[2], error_reply = host[3], status_reply = host[4],
      sha1hex = host[5], log = host[6], setresp = host[7], set_repl = host[8],
      replicate_commands = host[9], breakpoint = host[10], debug = host[11], acl_check_cmd = host[12],
      LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
      REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
      REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x07000f,
    }

    -- What Redis 7.0 does not expose.
    for _, name in ipairs({'print', 'dofile', 'loadfile', 'newproxy', 'getfenv', 'setfenv', 'debug',
                           'module', 'require', 'package', 'io', 'os'}) do
      real[name] = nil
    end

    -- Read-only views: a proxy per library table, one for the string metatable and one for
    -- the globals. The built-ins that skip metatables see through proxies when they read
    -- and refuse them when they write.
    local proxies, apparent = kit.proxies, kit.apparent
    local function readonly(t)
      local proxy = setmetatable({}, {__index = t, __newindex = kit.refuse_write, __metatable = false})
      proxies[proxy] = t
      return proxy
    end
    local tbl = real.table
    for _, name in ipairs({'concat', 'foreach', 'foreachi', 'getn', 'maxn'}) do
      tbl[name] = kit.see_through(tbl[name])
    end
    -- remove and sort change nothing in a table of length 0, which every proxy has.
    tbl.insert = kit.write_guard(tbl.insert)
    -- As in Lua, pairs returns a `next` of its own, not the global one.
    real.pairs = kit.pairs(kit.see_through(next))
    real.next = kit.see_through(next)
    real.rawget = kit.see_through(rawget)
    real.unpack = kit.see_through(unpack)
    real.rawset = kit.write_guard(rawset)
    real.setmetatable = kit.write_guard(setmetatable)
    real.getmetatable = kit.getmetatable(getmetatable)
    -- Source text only: a chunk starting with ESC is not loaded as bytecode (as in Redis).
    real.loadstring, real.load = kit.text_loaders()

    for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack'}) do
      if real[name] then real[name] = readonly(real[name]) end
    end
    real.redis = readonly(redis)

    -- Strings index the read-only string library, through a metatable scripts cannot change.
    local string_meta = getmetatable('')
    string_meta.__index = real.string
    apparent[string_meta] = readonly(string_meta)

    -- Reads of a missing global fail (a C function, so errors point at the script).
    local globals_meta = {__index = kit.missing_global}
    setmetatable(real, globals_meta)
    local globals = readonly(real)
    apparent[globals] = readonly(globals_meta)
    real._G = globals

    -- Functions (FUNCTION LOAD, FCALL) get their own globals, as in Redis 7.0: an empty
    -- table whose __index is switched between a tiny API while a library loads and the
    -- run-time globals (no KEYS/ARGV; no debugger calls in `redis`) when its functions run.
    local fredis = {}
    for k, v in next, redis do
      if k ~= 'breakpoint' and k ~= 'debug' and k ~= 'replicate_commands' then fredis[k] = v end
    end
    local fruntime = {}
    for k, v in next, real do
      if k ~= 'KEYS' and k ~= 'ARGV' and k ~= '__redis__err__handler' then fruntime[k] = v end
    end
    fruntime.redis = readonly(fredis)
    setmetatable(fruntime, {__index = kit.missing_global})
    local loadredis = {
      register_function = host[13], log = host[6],
      LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
      REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
    }
    setmetatable(loadredis, {__index = kit.missing_global})
    local fload = setmetatable({redis = readonly(loadredis)}, {__index = kit.missing_global})
    local fmeta = {__index = fruntime, __newindex = kit.refuse_write, __metatable = false}
    local fglobals = setmetatable({}, fmeta)
    proxies[fglobals] = fruntime
    fruntime._G = fglobals
    -- Chunks that functions load get the functions' globals, not the state's (the scripts'):
    -- Redis runs functions in a Lua state of their own.
    fruntime.loadstring, fruntime.load = kit.text_loaders(fglobals)
    return globals, real, fglobals, fmeta, fruntime, fload
    """
}
