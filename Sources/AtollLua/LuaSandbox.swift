/// The Lua code that turns a fresh state into Redis 7.0's scripting environment: the error
/// handler every script runs under, the `redis` table's constants, the read-only globals
/// proxy scripts see as `_G`, and the removal of everything Redis does not expose.
///
/// Host functions (`__atoll_host[id]`) are C closures that call back into Swift; they are
/// handed to this chunk as its first argument and never stay reachable from scripts.
enum LuaSandbox {
    /// Host function ids, shared with `LuaEngine.hostCallback`.
    enum Host: Int32, CaseIterable {
        case call = 1, pcall, errorReply, statusReply, sha1hex, log, setresp, setRepl, replicateCommands
        case missingGlobal, readonlyTable, breakpoint, debug, aclCheckCmd, registerFunction
    }

    static let setup = """
    local host = ...
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
      replicate_commands = host[9], breakpoint = host[12], debug = host[13], acl_check_cmd = host[14],
      LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
      REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
      REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x07000f,
    }

    -- What Redis 7.0 does not expose.
    for _, name in ipairs({'print', 'dofile', 'loadfile', 'newproxy', 'getfenv', 'setfenv', 'debug',
                           'module', 'require', 'package', 'io', 'os'}) do
      real[name] = nil
    end

    -- Read-only views: a proxy per library table, and one for the globals. Writes fail with
    -- Redis's message; reads of a missing global fail too. `next`, `pairs` and `rawget` see
    -- through a proxy so that scripts can still walk the libraries.
    local targets = setmetatable({}, {__mode = 'k'})
    local function readonly(t)
      local proxy = {}
      targets[proxy] = t
      setmetatable(proxy, {__index = t, __newindex = host[11], __metatable = false})
      return proxy
    end
    local raw_next, raw_rawget, raw_rawset = next, rawget, rawset
    local function target(t) return targets[t] or t end
    real.next = function(t, k) return raw_next(target(t), k) end
    local proxied_next = real.next
    real.pairs = function(t) return proxied_next, t, nil end
    real.rawget = function(t, k) return raw_rawget(target(t), k) end
    real.rawset = function(t, k, v)
      if targets[t] then return host[11](t, k, v) end
      return raw_rawset(t, k, v)
    end

    for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack'}) do
      if real[name] then real[name] = readonly(real[name]) end
    end
    real.redis = readonly(redis)

    -- Reads of a missing global reach this (a C function, so errors point at the script).
    setmetatable(real, {__index = host[10]})
    local globals = readonly(real)
    real._G = globals

    -- Functions (FUNCTION LOAD, FCALL) get their own globals, as in Redis 7.0: an empty
    -- table whose __index is switched between a tiny API while a library loads and the
    -- runtime globals (no KEYS/ARGV; no debugger calls in `redis`) when its functions run.
    local fredis = {}
    for k, v in raw_next, redis do
      if k ~= 'breakpoint' and k ~= 'debug' and k ~= 'replicate_commands' then fredis[k] = v end
    end
    local fruntime = {}
    for k, v in raw_next, real do
      if k ~= 'KEYS' and k ~= 'ARGV' and k ~= '__redis__err__handler' then fruntime[k] = v end
    end
    fruntime.redis = readonly(fredis)
    setmetatable(fruntime, {__index = host[10]})
    local loadredis = {
      register_function = host[15], log = host[6],
      LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
      REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
    }
    setmetatable(loadredis, {__index = host[10]})
    local fload = setmetatable({redis = readonly(loadredis)}, {__index = host[10]})
    local fmeta = {__index = fruntime, __newindex = host[11], __metatable = false}
    local fglobals = setmetatable({}, fmeta)
    targets[fglobals] = fruntime
    fruntime._G = fglobals
    return globals, fglobals, fmeta, fruntime, fload
    """
}
