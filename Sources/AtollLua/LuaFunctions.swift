/// Redis 7.0 Functions on the Lua engine: libraries loaded with `#!lua name=<lib>` code that
/// calls `redis.register_function`, and the functions they register, called by FCALL with
/// `(keys, args)` as arguments.
///
/// Library code runs once, at load, with a tiny API (`redis.register_function`, `redis.log`);
/// the functions it registers later run with the function globals (see LuaSandbox).
import AtollBytes
import AtollRESP
import CLua
import CLuaBridge

public struct LuaLibrary: Sendable {
    public let name: String
    public let code: [UInt8]
    /// Names of its functions, in registration order.
    public var functionNames: [String]
}

public struct LuaFunction: Sendable {
    public let name: String
    public let library: String
    public let description: String?
    /// Flags as given (`no-writes`, `allow-oom`, `allow-stale`, `no-cluster`, `allow-cross-slot-keys`).
    public let flags: [String]
    /// The callback, in the Lua registry.
    let ref: Int32
    public var noWrites: Bool { flags.contains("no-writes") }
    public var allowOOM: Bool { flags.contains("allow-oom") }
    public var allowStale: Bool { flags.contains("allow-stale") }
}

/// The flags a function may declare.
let functionFlagNames: Set<String> = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]

/// Library and function names: letters, digits and underscores, at least one.
func isValidLibraryName(_ name: [UInt8]) -> Bool {
    !name.isEmpty && name.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
}

extension LuaEngine {
    /// FUNCTION LOAD: compiles and runs `code`, registering its functions. Returns the
    /// library's name, or Redis's error text.
    public func loadLibrary(_ code: [UInt8], replace: Bool) -> Result<String, ScriptError> {
        let name: String
        switch Self.libraryName(code) {
        case .failure(let error): return .failure(error)
        case .success(let n): name = n
        }
        if libraries[name.lowercased()] != nil && !replace { return .failure(ScriptError("ERR Library '\(name)' already exists")) }
        var source = code
        source.replaceSubrange(0..<2, with: [45, 45])
        let status = withCChars(source) { atoll_lua_load(L, $0, $1, "@user_function") }
        if status != 0 { return .failure(ScriptError("ERR Error compiling function: " + popString())) }
        lua_rawgeti(L, LUA_REGISTRYINDEX, functionGlobalsRef)
        lua_setfenv(L, -2)
        // Run it with the load-time API behind the function globals.
        setFunctionGlobals(to: functionLoadRef)
        registering = []
        lua_rawgeti(L, LUA_REGISTRYINDEX, errorHandlerRef)
        lua_insert(L, -2)
        loadDeadline = .now + LuaEngine.loadTimeout
        atoll_lua_set_hook(L, luaCountHook, LuaEngine.hookInterval)
        let run = atoll_lua_pcall(L, 0, 0, -2)
        atoll_lua_set_hook(L, luaCountHook, 0)
        loadDeadline = nil
        setFunctionGlobals(to: functionRuntimeRef)
        let registered = (registering ?? []).map {
            LuaFunction(name: $0.name, library: name, description: $0.description, flags: $0.flags, ref: $0.ref)
        }
        registering = nil
        if run != 0 {
            let message = String(decoding: lua_type(L, -1) == LUA_TTABLE ? errorText() : bytes(at: -1), as: UTF8.self)
            lua_settop(L, 0)
            release(registered)
            return .failure(ScriptError("ERR Error registering functions: " + message))
        }
        lua_settop(L, 0)
        if registered.isEmpty { return .failure(ScriptError("ERR No functions registered")) }
        for function in registered {
            if let existing = functions[function.name.lowercased()], existing.library.lowercased() != name.lowercased() {
                release(registered)
                return .failure(ScriptError("ERR Function \(function.name) already exists"))
            }
        }
        deleteLibrary(name)
        for function in registered { functions[function.name.lowercased()] = function }
        libraries[name.lowercased()] = LuaLibrary(name: name, code: code, functionNames: registered.map(\.name))
        return .success(name)
    }

    /// The `name=` of a library's `#!lua` first line, or Redis's error for a bad line.
    public static func libraryName(_ code: [UInt8]) -> Result<String, ScriptError> {
        guard code.starts(with: [35, 33]) else { return .failure(ScriptError("ERR Missing library metadata")) }
        let lineEnd = code.firstIndex(of: 10) ?? code.count
        let parts = String(decoding: code[2..<lineEnd], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        let engine = parts.first.map(String.init) ?? ""
        guard engine.lowercased() == "lua" else { return .failure(ScriptError("ERR Engine '\(engine)' not found")) }
        var name: String?
        for part in parts.dropFirst() {
            guard part.hasPrefix("name=") else { return .failure(ScriptError("ERR Invalid metadata value given: \(part)")) }
            if name != nil { return .failure(ScriptError("ERR Invalid metadata value, name argument was given multiple times")) }
            name = String(part.dropFirst(5))
        }
        guard let name else { return .failure(ScriptError("ERR Library name was not given")) }
        guard isValidLibraryName(Array(name.utf8)) else {
            return .failure(ScriptError("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"))
        }
        return .success(name)
    }

    /// FUNCTION DELETE; false if there is no such library.
    @discardableResult
    public func deleteLibrary(_ name: String) -> Bool {
        guard let library = libraries.removeValue(forKey: name.lowercased()) else { return false }
        for functionName in library.functionNames {
            if let function = functions.removeValue(forKey: functionName.lowercased()) {
                luaL_unref(L, LUA_REGISTRYINDEX, function.ref)
            }
        }
        return true
    }

    /// FUNCTION FLUSH.
    public func flushLibraries() {
        for name in Array(libraries.keys) { deleteLibrary(name) }
        lua_gc(L, LUA_GCCOLLECT, 0)
    }

    /// FCALL: runs `function` with `keys` and `args` as its two arguments.
    public func call(_ function: LuaFunction, keys: ArraySlice<[UInt8]>, args: ArraySlice<[UInt8]>,
                     host: any LuaHost, out: inout ReplyWriter) {
        invoke(name: Array(function.name.utf8), arguments: 2, host: host, out: &out) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, function.ref)
            pushArray(keys)
            pushArray(args)
        }
    }

    private func setFunctionGlobals(to ref: Int32) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, functionMetaRef)
        lua_pushstring(L, "__index")
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref)
        lua_rawset(L, -3)
        lua_settop(L, -2)
    }

    private func release(_ registered: [LuaFunction]) {
        for function in registered { luaL_unref(L, LUA_REGISTRYINDEX, function.ref) }
    }
}

extension LuaHostFunctions {
    /// `redis.register_function(name, callback)` or `redis.register_function{function_name=,
    /// callback=, flags=, description=}`, only while a library loads.
    func registerFunction() -> Int32 {
        guard engine.registering != nil else {
            return raiseError("ERR redis.register_function can only be called on FUNCTION LOAD command")
        }
        let argc = lua_gettop(L)
        var name: [UInt8]?
        var flags: [String] = []
        var description: String?
        if argc == 1 {
            guard lua_type(L, 1) == LUA_TTABLE else {
                return raiseError("ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
            }
            var callbackFound = false
            lua_settop(L, 2)   // slot 2 will hold the callback
            lua_pushnil(L)
            while lua_next(L, 1) != 0 {
                guard lua_type(L, -2) == LUA_TSTRING else {
                    return raiseError("ERR named argument key given to redis.register_function is not a string")
                }
                let key = String(decoding: luaBytes(L, -2), as: UTF8.self)
                switch key {
                case "function_name":
                    guard lua_type(L, -1) == LUA_TSTRING else { return raiseError("ERR function_name argument given to redis.register_function must be a string") }
                    name = luaBytes(L, -1)
                case "description":
                    guard lua_type(L, -1) == LUA_TSTRING else { return raiseError("ERR description argument given to redis.register_function must be a string") }
                    description = String(decoding: luaBytes(L, -1), as: UTF8.self)
                case "callback":
                    guard lua_type(L, -1) == LUA_TFUNCTION else { return raiseError("ERR callback argument given to redis.register_function must be a function") }
                    lua_pushvalue(L, -1)
                    lua_replace(L, 2)
                    callbackFound = true
                case "flags":
                    guard lua_type(L, -1) == LUA_TTABLE else { return raiseError("ERR flags argument to redis.register_function must be a table representing function flags") }
                    var i: Int32 = 1
                    while true {
                        lua_rawgeti(L, -1, i)
                        let type = lua_type(L, -1)
                        let flag = type == LUA_TSTRING ? String(decoding: luaBytes(L, -1), as: UTF8.self) : ""
                        lua_settop(L, -2)
                        if type == LUA_TNIL { break }
                        guard functionFlagNames.contains(flag) else { return raiseError("ERR unknown flag given") }
                        flags.append(flag)
                        i += 1
                    }
                default:
                    return raiseError("ERR unknown argument given to redis.register_function")
                }
                lua_settop(L, -2)
            }
            guard name != nil else { return raiseError("ERR redis.register_function must get a function name argument") }
            guard callbackFound else { return raiseError("ERR redis.register_function must get a callback argument") }
        } else if argc == 2 {
            guard lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER else {
                return raiseError("ERR first argument to redis.register_function must be a string")
            }
            guard lua_type(L, 2) == LUA_TFUNCTION else { return raiseError("ERR second argument to redis.register_function must be a function") }
            name = luaBytes(L, 1)
        } else {
            return raiseError("ERR wrong number of arguments to redis.register_function")
        }
        // (Redis reuses the library-name message here.)
        guard let name, isValidLibraryName(name) else {
            return raiseError("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
        }
        let functionName = String(decoding: name, as: UTF8.self)
        if engine.registering!.contains(where: { $0.name.lowercased() == functionName.lowercased() }) {
            return raiseError("ERR Function already exists in the library")
        }
        lua_settop(L, 2)
        let ref = luaL_ref(L, LUA_REGISTRYINDEX)
        engine.registering!.append(LuaFunction(name: functionName, library: "", description: description, flags: flags, ref: ref))
        lua_settop(L, 0)
        return 0
    }

    private func raiseError(_ message: String) -> Int32 {
        lua_settop(L, 0)
        pushErrorTable(L, Array(message.utf8))
        return -1
    }
}
