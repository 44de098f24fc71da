/// `LuaEngine`: the one Lua 5.1 VM that runs EVAL scripts, with Redis 7.0's sandbox, the
/// script cache (SHA-1 → compiled function), and the bridge between Lua values and RESP.
///
/// Not thread-safe: it lives under the keyspace guard like everything a command touches.
/// Swift code runs only inside host callbacks (see CLuaBridge.h); a failing callback returns
/// a status and the C side raises the Lua error after Swift has returned.
import AtollBytes
import AtollRESP
import CLua
import CLuaBridge

/// What scripts reach through the `redis` table; implemented by the command layer.
public protocol LuaHost: AnyObject {
    /// Runs one command for `redis.call`/`redis.pcall`; returns its raw RESP reply (an error
    /// reply for commands scripts may not run), in RESP3 when `resp3` is set.
    func runCommand(_ args: [[UInt8]], resp3: Bool) -> [UInt8]
    /// `redis.log(level, message)`.
    func log(level: Int, message: [UInt8])
    /// Called every `LuaEngine.hookInterval` instructions; returns an error message to abort
    /// the script (SCRIPT KILL), or nil to go on.
    func scriptTick() -> [UInt8]?
}

public final class LuaEngine {
    /// Bytes the Lua heap may grow to while scripts run; allocations beyond fail the script.
    public static let memoryLimit = 512 * 1024 * 1024
    /// Instructions between two calls of `LuaHost.scriptTick`.
    public static let hookInterval: Int32 = 100_000

    let L: OpaquePointer
    /// The caller of the script being run; set only for the duration of `run`.
    var host: (any LuaHost)?
    /// `redis.setresp`: the protocol of replies handed to the script.
    var replyResp3 = false
    /// Cached scripts by SHA-1 (EVALSHA, SCRIPT EXISTS, persistence).
    public private(set) var scripts: [Bytes: CachedScript] = [:]
    private var callsSinceCollection = 0
    /// The read-only globals proxy every script function runs with.
    private var globalsRef: Int32 = 0
    var errorHandlerRef: Int32 = 0
    /// Function libraries' globals, its metatable, and the two tables its __index switches
    /// between (see LuaSandbox).
    var functionGlobalsRef: Int32 = 0
    var functionMetaRef: Int32 = 0
    var functionRuntimeRef: Int32 = 0
    var functionLoadRef: Int32 = 0
    /// Libraries and functions by lower-cased name (names are case-insensitive, as in Redis).
    public internal(set) var libraries: [String: LuaLibrary] = [:]
    public internal(set) var functions: [String: LuaFunction] = [:]
    /// Functions registered by the library being loaded; nil when no load is in progress.
    var registering: [LuaFunction]?

    /// The engine whose script is running, for the C callbacks (one VM, under the guard).
    nonisolated(unsafe) static var active: LuaEngine?

    public init() {
        guard let state = atoll_lua_open() else { fatalError("cannot create the Lua state") }
        L = state
        atoll_lua_set_memory_limit(L, LuaEngine.memoryLimit)
        precondition(atoll_lua_open_libraries(L) == 0, "cannot open the Lua libraries")
        atoll_lua_set_callback(luaHostCallback)
        buildSandbox()
    }

    deinit { atoll_lua_close(L) }

    /// Bytes currently used by the Lua heap (INFO `used_memory_lua`).
    public var memoryUsed: Int { atoll_lua_memory_used(L) }

    private func buildSandbox() {
        let code = Array(LuaSandbox.setup.utf8)
        let status = code.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                atoll_lua_load(L, $0, buf.count, "=sandbox")
            }
        }
        precondition(status == 0, "sandbox does not compile: \(popString())")
        lua_createtable(L, Int32(LuaSandbox.Host.allCases.count), 0)
        for host in LuaSandbox.Host.allCases {
            atoll_lua_push_host_function(L, host.rawValue)
            lua_rawseti(L, -2, host.rawValue)
        }
        precondition(atoll_lua_pcall(L, 1, 5, 0) == 0, "sandbox setup failed: \(popString())")
        functionLoadRef = luaL_ref(L, LUA_REGISTRYINDEX)
        functionRuntimeRef = luaL_ref(L, LUA_REGISTRYINDEX)
        functionMetaRef = luaL_ref(L, LUA_REGISTRYINDEX)
        functionGlobalsRef = luaL_ref(L, LUA_REGISTRYINDEX)
        globalsRef = luaL_ref(L, LUA_REGISTRYINDEX)
        lua_getfield(L, LUA_GLOBALSINDEX, "__redis__err__handler")
        errorHandlerRef = luaL_ref(L, LUA_REGISTRYINDEX)
    }

    // MARK: - The script cache

    public func contains(_ sha: Bytes) -> Bool { scripts[sha] != nil }

    /// Compiles `body` (unless cached) and returns its SHA-1, or Redis's compile error text.
    public func load(_ body: [UInt8]) -> Result<Bytes, ScriptError> {
        let sha = Bytes(sha1Hex(body))
        if scripts[sha] != nil { return .success(sha) }
        // A shebang line stays, as a comment, so that line numbers match Redis's.
        var source = body
        if source.starts(with: [35, 33]) { source.replaceSubrange(0..<2, with: [45, 45]) }
        let status = source.withUnsafeBufferPointer { buf -> Int32 in
            guard let base = buf.baseAddress else { return atoll_lua_load(L, "", 0, "@user_script") }
            return base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                atoll_lua_load(L, $0, buf.count, "@user_script")
            }
        }
        if status != 0 {
            return .failure(ScriptError("ERR Error compiling script (new function): " + popString()))
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, globalsRef)
        lua_setfenv(L, -2)
        scripts[sha] = CachedScript(body: body, ref: luaL_ref(L, LUA_REGISTRYINDEX))
        return .success(sha)
    }

    /// SCRIPT FLUSH: forgets every cached script.
    public func flush() {
        for script in scripts.values { luaL_unref(L, LUA_REGISTRYINDEX, script.ref) }
        scripts = [:]
        lua_gc(L, LUA_GCCOLLECT, 0)
    }

    // MARK: - Running

    /// Runs the cached script `sha` with `KEYS` and `ARGV`, writing its reply (or error) to `out`.
    public func run(_ sha: Bytes, _ script: CachedScript, keys: ArraySlice<[UInt8]>, argv: ArraySlice<[UInt8]>,
                    host: any LuaHost, out: inout ReplyWriter) {
        invoke(name: String(decoding: sha.array, as: UTF8.self), arguments: 0, host: host, out: &out) {
            setGlobalArray("KEYS", keys)
            setGlobalArray("ARGV", argv)
            lua_rawgeti(L, LUA_REGISTRYINDEX, script.ref)
        }
    }

    /// Calls a Lua function under the error handler with the instruction hook armed, then
    /// writes its result or Redis's error rendering. `push` pushes the function and then its
    /// `arguments` arguments.
    func invoke(name: @autoclosure () -> String, arguments: Int32, host: any LuaHost, out: inout ReplyWriter,
                push: () -> Void) {
        self.host = host
        replyResp3 = false
        LuaEngine.active = self
        defer {
            self.host = nil
            LuaEngine.active = nil
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, errorHandlerRef)
        push()
        atoll_lua_set_hook(L, luaCountHook, LuaEngine.hookInterval)
        let status = atoll_lua_pcall(L, arguments, 1, -(arguments + 2))
        atoll_lua_set_hook(L, luaCountHook, 0)
        if status != 0 {
            writeScriptError(name: name(), out: &out)
        } else {
            LuaReplyEncoder(L: L).write(&out)
        }
        lua_settop(L, 0)
        // As Redis does: an extra collection step every 50 calls keeps the heap from drifting up.
        callsSinceCollection += 1
        if callsSinceCollection == 50 {
            callsSinceCollection = 0
            lua_gc(L, LUA_GCSTEP, 50)
        }
    }

    /// Redis's rendering of a failed script: `-<err> script: <name>, on <source>:<line>.`
    /// (`name` is the SHA-1 for EVAL, the function's name for FCALL).
    func writeScriptError(name: String, out: inout ReplyWriter) {
        guard lua_type(L, -1) == LUA_TTABLE else {
            let text = lua_type(L, -1) == LUA_TSTRING ? bytes(at: -1) : Array("execution failure".utf8)
            lua_settop(L, -2)
            out.error(bytes: Array("ERR Error running script f_\(name), ".utf8) + text.prefix(100) + [10])
            return
        }
        var line = fieldBytes("err") ?? []
        if let source = fieldBytes("source"), let number = numberField("line") {
            line += Array(" script: \(name), on ".utf8) + source + Array(":\(number).".utf8)
        }
        out.error(bytes: line)
    }

    func fieldBytes(_ name: String) -> [UInt8]? {
        lua_getfield(L, -1, name)
        defer { lua_settop(L, -2) }
        guard lua_type(L, -1) == LUA_TSTRING else { return nil }
        return bytes(at: -1)
    }

    func stringField(_ name: String) -> String? {
        fieldBytes(name).map { String(decoding: $0, as: UTF8.self) }
    }

    func numberField(_ name: String) -> Int? {
        lua_getfield(L, -1, name)
        defer { lua_settop(L, -2) }
        guard lua_type(L, -1) == LUA_TNUMBER else { return nil }
        return Int(lua_tointeger(L, -1))
    }

    func pushArray(_ items: ArraySlice<[UInt8]>) {
        lua_createtable(L, Int32(items.count), 0)
        var i: Int32 = 1
        for item in items {
            pushBytes(item)
            lua_rawseti(L, -2, i)
            i += 1
        }
    }

    private func setGlobalArray(_ name: String, _ items: ArraySlice<[UInt8]>) {
        pushArray(items)
        lua_pushstring(L, name)
        lua_insert(L, -2)
        lua_rawset(L, LUA_GLOBALSINDEX)
    }

    // MARK: - Stack helpers

    func pushBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buf in
            if let base = buf.baseAddress {
                base.withMemoryRebound(to: CChar.self, capacity: buf.count) { lua_pushlstring(L, $0, buf.count) }
            } else {
                lua_pushlstring(L, "", 0)
            }
        }
    }

    func bytes(at index: Int32) -> [UInt8] { luaBytes(L, index) }

    func popString() -> String {
        let text = String(decoding: bytes(at: -1), as: UTF8.self)
        lua_settop(L, -2)
        return text
    }
}

/// A compiled EVAL script: its body and its function in the Lua registry.
public struct CachedScript: Sendable {
    public let body: [UInt8]
    let ref: Int32
}

/// A script failure to report as an error reply (text without the leading '-').
public struct ScriptError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// The bytes of the string (or number, converted in place as Lua does) at `index`.
func luaBytes(_ L: OpaquePointer, _ index: Int32) -> [UInt8] {
    var length = 0
    guard let p = lua_tolstring(L, index, &length) else { return [] }
    return [UInt8](UnsafeRawBufferPointer(start: p, count: length))
}

// MARK: - C entry points

private let luaHostCallback: atoll_lua_callback = { state, id in
    guard let L = state, let engine = LuaEngine.active, let host = LuaSandbox.Host(rawValue: id) else { return 0 }
    return LuaHostFunctions(engine: engine, L: L).run(host)
}

private let luaCountHook: atoll_lua_hook = { state in
    guard let L = state, let engine = LuaEngine.active, let message = engine.host?.scriptTick() else { return 0 }
    engine.pushErrorTable(message)
    _ = L
    return 1
}
