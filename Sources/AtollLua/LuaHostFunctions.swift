/// The `redis` functions scripts call (`redis.call`, `redis.pcall`, `redis.error_reply`, ...)
/// and the sandbox's two guards (missing global, read-only table), in Swift.
///
/// Each returns the number of results pushed, or -1 with an error value on top of the
/// stack, which the C trampoline then raises: nothing here may call a Lua function that
/// raises an error itself.
import AtollBytes
import CLua
import CLuaBridge

struct LuaHostFunctions {
    let engine: LuaEngine
    let L: OpaquePointer

    func run(_ function: LuaSandbox.Host) -> Int32 {
        switch function {
        case .call: return command(raise: true)
        case .pcall: return command(raise: false)
        case .errorReply: return errorReply()
        case .statusReply: return statusReply()
        case .sha1hex: return sha1hex()
        case .log: return log()
        case .setresp: return setresp()
        case .setRepl: return setRepl()
        case .replicateCommands:
            lua_pushboolean(L, 1)
            return 1
        case .missingGlobal:
            let name = lua_type(L, 2) == LUA_TSTRING ? luaBytes(L, 2) : []
            return raise(Array("Script attempted to access nonexistent global variable '".utf8) + name + [39], withPosition: true)
        case .readonlyTable:
            return raise(Array("Attempt to modify a readonly table".utf8), withPosition: true)
        case .breakpoint:
            lua_pushboolean(L, 0)
            return 1
        case .debug:
            return 0
        case .registerFunction:
            return registerFunction()
        case .aclCheckCmd:
            guard lua_gettop(L) >= 1 else { return raiseTable("ERR Please specify at least one argument for this redis lib call") }
            lua_pushboolean(L, 1)
            return 1
        }
    }

    // MARK: - redis.call / redis.pcall

    private func command(raise: Bool) -> Int32 {
        let argc = lua_gettop(L)
        guard argc > 0 else {
            return fail("ERR Please specify at least one argument for this redis lib call", raise: raise)
        }
        var args: [[UInt8]] = []
        args.reserveCapacity(Int(argc))
        for i in 1...argc {
            let t = lua_type(L, i)
            guard t == LUA_TSTRING || t == LUA_TNUMBER else {
                return fail("ERR Lua redis lib command arguments must be strings or integers", raise: raise)
            }
            args.append(luaBytes(L, i))
        }
        guard let host = engine.host else { return fail("ERR no script host", raise: raise) }
        let reply = host.runCommand(args, resp3: engine.replyResp3)
        lua_settop(L, 0)
        if reply.first == UInt8(ascii: "-") {
            var message = Array(reply.dropFirst())
            while let last = message.last, last == 10 || last == 13 { message.removeLast() }
            engine.pushErrorTable(message)
            return raise ? -1 : 1
        }
        var decoder = LuaReplyDecoder(L: L, bytes: reply)
        decoder.push()
        return 1
    }

    private func fail(_ message: String, raise: Bool) -> Int32 {
        lua_settop(L, 0)
        engine.pushErrorTable(Array(message.utf8))
        return raise ? -1 : 1
    }

    // MARK: - Reply helpers

    /// The one string argument of `redis.error_reply` / `redis.status_reply`; nil after
    /// pushing the error table Redis returns for anything else.
    private func singleStringArgument() -> [UInt8]? {
        guard lua_gettop(L) == 1, lua_type(L, 1) == LUA_TSTRING else {
            engine.pushErrorTable(Array("ERR wrong number or type of arguments".utf8))
            return nil
        }
        let text = luaBytes(L, 1)
        lua_settop(L, 0)
        return text
    }

    private func errorReply() -> Int32 {
        guard var text = singleStringArgument() else { return 1 }
        // Redis's rule: "-CODE msg" keeps its code; anything else is "CODE msg" already.
        if text.first == UInt8(ascii: "-") {
            text.removeFirst()
            if !text.contains(32) { text = Array("ERR ".utf8) + text }
        }
        engine.pushErrorTable(text)
        return 1
    }

    private func statusReply() -> Int32 {
        guard let text = singleStringArgument() else { return 1 }
        lua_createtable(L, 0, 1)
        engine.pushBytes(text)
        lua_setfield(L, -2, "ok")
        return 1
    }

    private func sha1hex() -> Int32 {
        guard lua_gettop(L) == 1 else { return raiseTable("ERR wrong number of arguments") }
        let digest = sha1Hex(luaBytes(L, 1))
        lua_settop(L, 0)
        engine.pushBytes(digest)
        return 1
    }

    private func log() -> Int32 {
        let argc = lua_gettop(L)
        guard argc >= 2 else { return raiseTable("ERR redis.log() requires two arguments or more.") }
        guard lua_type(L, 1) == LUA_TNUMBER else { return raiseTable("ERR First argument must be a number (log level).") }
        let level = Int(lua_tointeger(L, 1))
        guard (0...3).contains(level) else { return raiseTable("ERR Invalid debug level.") }
        var message: [UInt8] = []
        for i in 2...argc {
            if i > 2 { message.append(32) }
            message += luaBytes(L, i)
        }
        engine.host?.log(level: level, message: message)
        return 0
    }

    private func setresp() -> Int32 {
        guard lua_gettop(L) == 1 else { return raiseTable("ERR redis.setresp() requires one argument.") }
        let version = lua_tointeger(L, 1)
        guard version == 2 || version == 3 else { return raiseTable("ERR RESP version must be 2 or 3.") }
        engine.replyResp3 = version == 3
        return 0
    }

    private func setRepl() -> Int32 {
        guard lua_gettop(L) == 1 else { return raiseTable("ERR redis.set_repl() requires one argument.") }
        let flags = lua_tointeger(L, 1)
        guard (0...3).contains(flags) else {
            return raiseTable("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
        }
        return 0
    }

    // MARK: - Raising

    /// Raises a plain message, prefixed with the script position as Lua's `error` would.
    private func raise(_ message: [UInt8], withPosition: Bool) -> Int32 {
        var text = message
        if withPosition {
            var ar = lua_Debug()
            if lua_getstack(L, 1, &ar) != 0, lua_getinfo(L, "Sl", &ar) != 0, ar.currentline > 0 {
                let source = withUnsafeBytes(of: ar.short_src) { raw in
                    Array(raw.prefix(while: { $0 != 0 }))
                }
                text = source + Array(":\(ar.currentline): ".utf8) + text
            }
        }
        lua_settop(L, 0)
        engine.pushBytes(text)
        return -1
    }

    /// Raises an error table `{err = message}`.
    private func raiseTable(_ message: String) -> Int32 {
        lua_settop(L, 0)
        engine.pushErrorTable(Array(message.utf8))
        return -1
    }
}

extension LuaEngine {
    /// Pushes Redis's error table `{err = message}`.
    func pushErrorTable(_ message: [UInt8]) {
        lua_createtable(L, 0, 1)
        pushBytes(message)
        lua_setfield(L, -2, "err")
    }
}
