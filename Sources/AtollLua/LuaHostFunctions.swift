/// The `redis` functions scripts call (`redis.call`, `redis.pcall`, `redis.error_reply`, ...),
/// in Swift.
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
        case .breakpoint:
            lua_pushboolean(L, 0)
            return 1
        case .debug:
            return 0
        case .aclCheckCmd: return aclCheckCmd()
        case .registerFunction: return registerFunction()
        }
    }

    // MARK: - redis.call / redis.pcall / redis.acl_check_cmd

    /// The command line a script passes; nil after pushing the error table Redis gives.
    /// Numbers become text with 17 significant digits, as in Redis. Strings come from the
    /// engine's `CallArgumentPool`, so repeated ones cost no allocation; the list itself is
    /// the previous call's storage.
    private func arguments() -> [[UInt8]]? {
        let argc = lua_gettop(L)
        guard argc > 0 else {
            pushErrorTable(L, "ERR Please specify at least one argument for this redis lib call")
            return nil
        }
        var args = engine.callArguments
        engine.callArguments = []
        for i in 1...argc {
            switch lua_type(L, i) {
            case LUA_TNUMBER:
                args.append(formattedNumber(lua_tonumber(L, i), at: Int(i) - 1))
            case LUA_TSTRING:
                var length = 0
                let text = UnsafeRawBufferPointer(start: lua_tolstring(L, i, &length), count: length)
                args.append(engine.argumentPool.array(for: text, at: Int(i) - 1))
            default:
                lua_settop(L, 0)
                pushErrorTable(L, "ERR Lua redis lib command arguments must be strings or integers")
                return nil
            }
        }
        lua_settop(L, 0)
        return args
    }

    private func command(raise: Bool) -> Int32 {
        guard var args = arguments() else { return raise ? -1 : 1 }
        guard let host = engine.host else {
            pushErrorTable(L, "ERR redis.call/pcall can only be called inside a script invocation")
            return -1
        }
        var failed = false
        host.runCommand(args, resp3: engine.replyResp3) { reply in
            if reply.first == UInt8(ascii: "-") {
                pushCommandError(L, reply.dropLast(2))
                failed = true
            } else {
                var decoder = LuaReplyDecoder(L: L, bytes: reply)
                decoder.push()
            }
        }
        // The list's storage stays for the next call (the host no longer holds it), none of
        // its arguments.
        args.removeAll(keepingCapacity: true)
        engine.callArguments = args
        return failed && raise ? -1 : 1
    }

    private func aclCheckCmd() -> Int32 {
        guard let args = arguments() else { return -1 }
        guard let permitted = engine.host?.permits(args) else {
            pushErrorTable(L, "ERR Invalid command passed to redis.acl_check_cmd()")
            return -1
        }
        lua_pushboolean(L, permitted ? 1 : 0)
        return 1
    }

    // MARK: - Reply helpers

    /// The one string argument of `redis.error_reply` / `redis.status_reply`; nil after
    /// pushing the error table Redis returns for anything else.
    private func singleStringArgument() -> [UInt8]? {
        guard lua_gettop(L) == 1, lua_type(L, 1) == LUA_TSTRING else {
            pushErrorTable(L, "ERR wrong number or type of arguments")
            return nil
        }
        let text = luaBytes(L, 1)
        lua_settop(L, 0)
        return text
    }

    private func errorReply() -> Int32 {
        guard let text = singleStringArgument() else { return 1 }
        let message = cString(text)
        pushRedisError(L, message.first == UInt8(ascii: "-") ? message : [UInt8(ascii: "-")] + message)
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
        guard lua_isnumber(L, 1) != 0 else { return raiseTable("ERR First argument must be a number (log level).") }
        let level = cInt(lua_tonumber(L, 1))
        guard (0...3).contains(level) else { return raiseTable("ERR Invalid debug level.") }
        var message: [UInt8] = []
        for i in 2...argc where lua_isstring(L, i) != 0 {
            if !message.isEmpty { message.append(32) }
            message += luaBytes(L, i)
        }
        engine.host?.log(level: Int(level), message: message)
        return 0
    }

    private func setresp() -> Int32 {
        guard lua_gettop(L) == 1 else { return raiseTable("ERR redis.setresp() requires one argument.") }
        let version = cInt(lua_tonumber(L, 1))
        guard version == 2 || version == 3 else { return raiseTable("ERR RESP version must be 2 or 3.") }
        engine.replyResp3 = version == 3
        return 0
    }

    private func setRepl() -> Int32 {
        // Redis's message says "two" for the one argument it wants.
        guard lua_gettop(L) == 1 else { return raiseTable("ERR redis.set_repl() requires two arguments.") }
        guard cInt(lua_tonumber(L, 1)) & ~3 == 0 else {
            return raiseTable("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
        }
        return 0
    }

    // MARK: - Raising

    /// Raises an error table `{err = message}`.
    private func raiseTable(_ message: String) -> Int32 {
        lua_settop(L, 0)
        pushErrorTable(L, message)
        return -1
    }

    /// A number passed as argument `index` of a call, as Redis formats it (`%.17g`), through
    /// the argument pool. `%.17g` writes an integral value below 10^17 as its plain digits:
    /// those (nearly every number a script passes) skip printf. -0 ("-0") does not.
    private func formattedNumber(_ value: Double, at index: Int) -> [UInt8] {
        if value.rounded(.towardZero) == value, abs(value) < 1e17, !(value == 0 && value.sign == .minus) {
            return Bytes(decimal: Int64(value)).withUnsafeBytes { engine.argumentPool.array(for: $0, at: index) }
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let n = Int(atoll_format_number(value, buffer.baseAddress, 64))
            return engine.argumentPool.array(for: UnsafeRawBufferPointer(start: buffer.baseAddress, count: n), at: index)
        }
    }
}

/// C's `(int)` conversion of a double on x86-64: out-of-range values and NaN give INT_MIN.
func cInt(_ d: Double) -> Int32 {
    guard d.isFinite, d > -2147483649.0, d < 2147483648.0 else { return Int32.min }
    return Int32(d.rounded(.towardZero))
}
