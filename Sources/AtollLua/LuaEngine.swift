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
    /// Runs one command for `redis.call`/`redis.pcall` and hands its raw RESP reply (an error
    /// reply for commands scripts may not run), in RESP3 when `resp3` is set, to `reply`. The
    /// bytes are only valid during that call.
    func runCommand(_ args: [[UInt8]], resp3: Bool, reply: (UnsafeRawBufferPointer) -> Void)
    /// `redis.acl_check_cmd`: whether the script's user may run `args`, or nil when they name
    /// no command (and subcommand) the server knows.
    func permits(_ args: [[UInt8]]) -> Bool?
    /// `redis.log(level, message)`.
    func log(level: Int, message: [UInt8])
    /// Called every `LuaEngine.hookInterval` instructions; returns an error message to abort
    /// the script (SCRIPT KILL), or nil to go on.
    func scriptTick() -> [UInt8]?
}

public final class LuaEngine {
    // Unchecked (`@exclusivity`): touched on every script run and `redis.call`, only under the
    // keyspace lock on the script thread; none of these accesses spans a call into Lua.
    /// Bytes the Lua heap may grow to while scripts run; allocations beyond fail the script.
    public static let memoryLimit = 512 * 1024 * 1024
    /// Instructions between two calls of `LuaHost.scriptTick`.
    public static let hookInterval: Int32 = 100_000
    /// Scripts between two forced collection steps, and the heap size below which none is
    /// forced (see `collectGarbage(after:)`).
    static let collectionPeriod = 50
    static let forcedCollectionFloor = 1 << 20

    /// The VM; SCRIPT FLUSH replaces it with a fresh one, as Redis does.
    @exclusivity(unchecked) private(set) var L: OpaquePointer
    private let memoryLimit: Int
    /// The caller of the script being run; set only for the duration of a call.
    @exclusivity(unchecked) var host: (any LuaHost)?
    /// `redis.setresp`: the protocol of replies handed to the script.
    @exclusivity(unchecked) var replyResp3 = false
    /// Cached scripts by SHA-1 (EVALSHA, SCRIPT EXISTS, persistence).
    public private(set) var scripts: [Bytes: CachedScript] = [:]
    /// The read-only globals proxy every script function runs with.
    private var globalsRef: Int32 = 0
    /// The table behind that proxy, where KEYS and ARGV are set.
    @exclusivity(unchecked) private var realGlobalsRef: Int32 = 0
    @exclusivity(unchecked) var errorHandlerRef: Int32 = 0
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
    /// While a library's code runs (FUNCTION LOAD), when it must have finished: it is
    /// stopped with Redis's `FUNCTION LOAD timeout` past `LuaEngine.loadTimeout`.
    var loadDeadline: ContinuousClock.Instant?
    /// How long a library's code may run when it is loaded (Redis's LOAD_TIMEOUT_MS).
    static let loadTimeout = Duration.milliseconds(500)
    @exclusivity(unchecked) private var callsSinceCollection = 0
    /// The argument list of `redis.call`, emptied after each call but keeping its capacity,
    /// and the arrays its arguments were copied into (see `LuaHostFunctions.arguments`).
    @exclusivity(unchecked) var callArguments: [[UInt8]] = []
    @exclusivity(unchecked) var argumentPool = CallArgumentPool()

    public init(memoryLimit: Int = LuaEngine.memoryLimit) {
        self.memoryLimit = memoryLimit
        L = LuaEngine.newState(memoryLimit: memoryLimit)
        atoll_lua_set_callback(luaHostCallback)
        buildSandbox()
    }

    private static func newState(memoryLimit: Int) -> OpaquePointer {
        guard let state = atoll_lua_open() else { fatalError("cannot create the Lua state") }
        atoll_lua_set_memory_limit(state, memoryLimit)
        precondition(atoll_lua_open_libraries(state) == 0, "cannot open the Lua libraries")
        return state
    }

    /// The engine that owns `L` (any thread of its state).
    static func owning(_ L: OpaquePointer) -> LuaEngine? {
        atoll_lua_context(L).map { Unmanaged<LuaEngine>.fromOpaque($0).takeUnretainedValue() }
    }

    deinit { atoll_lua_close(L) }

    /// Bytes currently used by the Lua heap (INFO `used_memory_lua`).
    public var memoryUsed: Int { atoll_lua_memory_used(L) }

    /// Makes the state this engine's (its context, unretained: the engine owns the state) and
    /// sets up the sandbox in it.
    private func buildSandbox() {
        atoll_lua_set_context(L, Unmanaged.passUnretained(self).toOpaque())
        let code = Array(LuaSandbox.setup.utf8)
        let status = withCChars(code) { atoll_lua_load(L, $0, $1, "=sandbox") }
        precondition(status == 0, "sandbox does not compile: \(popString())")
        lua_createtable(L, Int32(LuaSandbox.Host.allCases.count), 0)
        for host in LuaSandbox.Host.allCases {
            atoll_lua_push_host_function(L, host.rawValue)
            lua_rawseti(L, -2, host.rawValue)
        }
        atoll_lua_push_sandbox_kit(L)
        precondition(atoll_lua_pcall(L, 2, 6, 0) == 0, "sandbox setup failed: \(popString())")
        functionLoadRef = luaL_ref(L, LUA_REGISTRYINDEX)
        functionRuntimeRef = luaL_ref(L, LUA_REGISTRYINDEX)
        functionMetaRef = luaL_ref(L, LUA_REGISTRYINDEX)
        functionGlobalsRef = luaL_ref(L, LUA_REGISTRYINDEX)
        realGlobalsRef = luaL_ref(L, LUA_REGISTRYINDEX)
        // Chunks compiled later (loadstring) and coroutines see the proxy as their globals too.
        lua_pushvalue(L, -1)
        lua_replace(L, LUA_GLOBALSINDEX)
        globalsRef = luaL_ref(L, LUA_REGISTRYINDEX)
        lua_getfield(L, LUA_GLOBALSINDEX, "__redis__err__handler")
        errorHandlerRef = luaL_ref(L, LUA_REGISTRYINDEX)
    }

    // MARK: - The script cache

    public func contains(_ sha: Bytes) -> Bool { scripts[sha] != nil }

    /// Compiles `body` (unless cached) and returns its SHA-1, or Redis's compile error text.
    /// `sha`, when the caller has it already, must be the SHA-1 of `body`.
    public func load(_ body: [UInt8], sha known: Bytes? = nil) -> Result<Bytes, ScriptError> {
        let sha = known ?? Bytes(sha1Hex(body))
        if scripts[sha] != nil { return .success(sha) }
        // A shebang line stays, as a comment, so that line numbers match Redis's.
        var source = body
        if source.starts(with: [35, 33]) { source.replaceSubrange(0..<2, with: [45, 45]) }
        let status = withCChars(source) { atoll_lua_load(L, $0, $1, "@user_script") }
        if status != 0 {
            return .failure(ScriptError("ERR Error compiling script (new function): " + popString()))
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, globalsRef)
        lua_setfenv(L, -2)
        scripts[sha] = CachedScript(body: body, ref: luaL_ref(L, LUA_REGISTRYINDEX))
        return .success(sha)
    }

    /// SCRIPT FLUSH: forgets every cached script and starts over with a new VM, so that no
    /// state scripts left behind (cjson settings, ...) survives. Function libraries are
    /// loaded again into the new VM.
    public func flush() {
        let kept = libraries.values.map(\.code)
        atoll_lua_close(L)
        L = LuaEngine.newState(memoryLimit: memoryLimit)
        buildSandbox()
        scripts = [:]
        libraries = [:]
        functions = [:]
        for code in kept { _ = loadLibrary(code, replace: false) }
    }

    // MARK: - Running

    /// Runs the cached script `sha` with `KEYS` and `ARGV`, writing its reply (or error) to `out`.
    public func run(_ sha: Bytes, _ script: CachedScript, keys: ArraySlice<[UInt8]>, argv: ArraySlice<[UInt8]>,
                    host: any LuaHost, out: inout ReplyWriter) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, realGlobalsRef)
        setGlobalArray("KEYS", keys, &keysTable)
        setGlobalArray("ARGV", argv, &argvTable)
        lua_settop(L, 0)
        invoke(name: sha.array, arguments: 0, host: host, out: &out) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, script.ref)
        }
    }

    /// Calls a Lua function under the error handler with the instruction hook armed, then
    /// writes its result or Redis's error rendering (`name`: the SHA-1, or the function's
    /// name for FCALL). `push` pushes the function and then its `arguments` arguments.
    func invoke(name: @autoclosure () -> [UInt8], arguments: Int32, host: any LuaHost, out: inout ReplyWriter,
                push: () -> Void) {
        self.host = host
        replyResp3 = false
        defer { self.host = nil }
        lua_rawgeti(L, LUA_REGISTRYINDEX, errorHandlerRef)
        push()
        atoll_lua_set_hook(L, luaCountHook, LuaEngine.hookInterval)
        let status = atoll_lua_pcall(L, arguments, 1, -(arguments + 2))
        // The hook stays armed while the result is read: reading an error table may run
        // its metamethods, which must stay killable like the rest of the script.
        if status != 0 {
            writeScriptError(name: name(), out: &out)
        } else {
            LuaReplyEncoder(L: L, scriptResp3: replyResp3).write(&out)
        }
        atoll_lua_set_hook(L, luaCountHook, 0)
        lua_settop(L, 0)
        collectGarbage(after: status)
    }

    /// After a memory error the garbage of the failed script goes at once, so that the next
    /// script does not fail on it. Otherwise Lua's incremental collector, paced by allocation,
    /// keeps the heap within about twice its live size; every `collectionPeriod` scripts a
    /// forced step (Redis forces one on every 50th script) also reclaims what a big script
    /// left behind, which that pacing could leave for a long time. The step is forced only
    /// once the heap passes `forcedCollectionFloor`: on a small heap it amounts to a whole
    /// collection cycle, and doing that every 50 scripts cost about 7% of a short EVALSHA.
    private func collectGarbage(after status: Int32) {
        callsSinceCollection += 1
        if status == LUA_ERRMEM {
            lua_gc(L, LUA_GCCOLLECT, 0)
        } else if callsSinceCollection >= LuaEngine.collectionPeriod {
            callsSinceCollection = 0
            if memoryUsed > LuaEngine.forcedCollectionFloor { lua_gc(L, LUA_GCSTEP, Int32(LuaEngine.collectionPeriod)) }
        }
    }

    /// Redis's rendering of a failed script: `-<err> script: <name>, on <source>:<line>.` for
    /// an error table (the usual case), `-ERR Error running script <name>, <message>` for
    /// anything else (a memory error). The parts are read as C strings, as Redis does.
    func writeScriptError(name: [UInt8], out: inout ReplyWriter) {
        guard lua_type(L, -1) == LUA_TTABLE else {
            let message = lua_isstring(L, -1) != 0 ? Array(cString(bytes(at: -1)).prefix(100)) : Array("execution failure".utf8)
            out.errorLine(Array("-ERR Error running script ".utf8) + name + [44, 32] + message)
            return
        }
        let counted = !LuaReplyEncoder(L: L, scriptResp3: false).ignoresErrorStats()
        if atoll_lua_error_fields(L) != 0 && atoll_lua_killed(L) != 0 {
            // Killed while its fields were read (an __index that loops): report the kill.
            lua_settop(L, -4)
            atoll_lua_push_kill_error(L)
            return writeScriptError(name: name, out: &out)
        }
        var text = [UInt8(ascii: "-")] + optionalString(at: -3)
        if lua_isstring(L, -1) != 0, lua_isstring(L, -2) != 0 {
            text += Array(" script: ".utf8) + name + Array(", on ".utf8) + optionalString(at: -2)
                + [58] + optionalString(at: -1) + [46]
        }
        lua_settop(L, -4)
        out.errorLine(text, counted: counted)
    }

    /// The `err` text of the error table on top of the stack (read without metamethods).
    func errorText() -> [UInt8] {
        lua_pushstring(L, "err")
        lua_rawget(L, -2)
        defer { lua_settop(L, -2) }
        return lua_isstring(L, -1) != 0 ? bytes(at: -1) : []
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

    /// The C string at `index`, or nothing for nil.
    private func optionalString(at index: Int32) -> [UInt8] {
        lua_isstring(L, index) != 0 ? cString(bytes(at: index)) : []
    }

    /// Sets `name` in the real globals table (on top of the stack) to an array of `items`.
    /// The last run's table is filled again when the script left it a plain array: scripts
    /// cannot keep a reference past their run (every table they can reach that outlives it is
    /// read-only), so no one can tell, and a short script then allocates nothing and leaves
    /// no garbage to collect.
    private func setGlobalArray(_ name: StaticString, _ items: ArraySlice<[UInt8]>, _ kept: inout KeptArray) {
        lua_pushlstring(L, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), name.utf8CodeUnitCount)
        lua_pushvalue(L, -1)
        lua_rawget(L, -3)
        if kept.refills < KeptArray.maxRefills && refill(items, lastCount: kept.count) {
            kept.refills += 1
        } else {
            lua_settop(L, -2)
            pushArray(items)
            kept.refills = 0
        }
        kept.count = items.count
        lua_rawset(L, -3)
    }

    /// Fills the table on top of the stack with `items` in place, provided it is a table
    /// without a metatable holding nothing but the last run's `lastCount` items (changed or
    /// not); otherwise returns false, with the value left on top.
    private func refill(_ items: ArraySlice<[UInt8]>, lastCount: Int) -> Bool {
        guard lua_type(L, -1) == LUA_TTABLE else { return false }
        if lua_getmetatable(L, -1) != 0 {
            lua_settop(L, -2)
            return false
        }
        var i: Int32 = 1
        for item in items {
            pushBytes(item)
            lua_rawseti(L, -2, i)
            i += 1
        }
        while i <= lastCount {
            lua_pushnil(L)
            lua_rawseti(L, -2, i)
            i += 1
        }
        // Anything else the script put in (a field, an element past the end) makes the count
        // exceed the items. The whole table is walked: a walk from the last item would miss
        // keys in hash slots before it, where Lua keeps integer keys beyond the array part.
        var entries = 0
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            lua_settop(L, -2)
            entries += 1
            if entries > items.count {
                lua_settop(L, -2)
                return false
            }
        }
        return entries == items.count
    }

    /// What `setGlobalArray` knows of the table it last set: how many items it got, and how
    /// many runs in a row have refilled it. A table is refilled at most `maxRefills` times:
    /// refilling never makes Lua resize it, so a table a script grew and emptied again keeps
    /// its empty slots, and every check walks them; a new table bounds that.
    struct KeptArray {
        var count = 0
        var refills = 0
        static let maxRefills = 100
    }

    @exclusivity(unchecked) private var keysTable = KeptArray()
    @exclusivity(unchecked) private var argvTable = KeptArray()

    // MARK: - Stack helpers

    func pushBytes(_ bytes: [UInt8]) { pushLuaBytes(L, bytes) }

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

/// Calls `body` with the bytes as C characters (never a null pointer) and their count.
func withCChars<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) -> R) -> R {
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return body("", 0) }
        return body(base.assumingMemoryBound(to: CChar.self), raw.count)
    }
}

func pushLuaBytes(_ L: OpaquePointer, _ bytes: [UInt8]) {
    withCChars(bytes) { lua_pushlstring(L, $0, $1) }
}

/// The bytes of the string (or number, converted in place as Lua does) at `index`.
func luaBytes(_ L: OpaquePointer, _ index: Int32) -> [UInt8] {
    var length = 0
    guard let p = lua_tolstring(L, index, &length) else { return [] }
    return [UInt8](UnsafeRawBufferPointer(start: p, count: length))
}

// MARK: - C entry points

private let luaHostCallback: atoll_lua_callback = { state, id in
    guard let L = state, let engine = LuaEngine.owning(L), let host = LuaSandbox.Host(rawValue: id) else { return 0 }
    return LuaHostFunctions(engine: engine, L: L).run(host)
}

let luaCountHook: atoll_lua_hook = { state in
    guard let L = state, let engine = LuaEngine.owning(L) else { return 0 }
    if let deadline = engine.loadDeadline {
        guard ContinuousClock.now > deadline else { return 0 }
        pushErrorTable(L, "ERR FUNCTION LOAD timeout")
        return 1
    }
    guard let message = engine.host?.scriptTick() else { return 0 }
    pushErrorTable(L, message)
    return 1
}
