/// Functions: FUNCTION LOAD / DELETE / FLUSH / LIST / STATS / KILL / HELP and FCALL, FCALL_RO.
///
/// Libraries live in the same Lua engine as EVAL scripts (see `LuaFunctions`); a function
/// runs like a script, under the keyspace guard, with its flags deciding whether it may write.
/// FUNCTION DUMP and RESTORE move libraries as Redis's payloads (see `FunctionPayload`).
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollLua
import AtollRESP

package enum FunctionCommands {
    package static let commands: [CommandBinding] = [
        .init("fcall", [.script, .mayReplicate], flags: functionFlags, fcall),
        .init("fcall_ro", .script, flags: functionFlags, fcallRo),
        .init("function|flush", functionFlush),
        .init("function|kill", functionKill),
        .init("function|load", .runsLua, functionLoad),
        .init("function|stats", functionStats),
        .init("function|restore", .runsLua, functionRestore),
        .init("function|dump", functionDump),
        .init("function|delete", functionDelete),
        .init("function|list", functionList),
        .init("function|help", functionHelp),
    ]

    // MARK: - FCALL

    /// The flags a function runs with: always those it declares, as in Redis.
    static let functionFlags: FlagsResolver = { server, tableFlags, args in
        guard let function = server.scripting.engine.functions[String(decoding: args[1], as: UTF8.self).lowercased()] else {
            return nil
        }
        return scriptCommandFlags(tableFlags, declaringNoWrites: function.noWrites, allowingOOM: function.allowOOM,
                                  allowingStale: function.allowStale)
    }

    static func fcall(_ c: inout CommandContext) { call(&c, readOnly: false) }
    static func fcallRo(_ c: inout CommandContext) { call(&c, readOnly: true) }

    private static func call(_ c: inout CommandContext, readOnly: Bool) {
        let scripting = c.server.scripting
        guard let function = scripting.engine.functions[String(decoding: c.args[1], as: UTF8.self).lowercased()] else {
            return c.out.error("ERR Function not found")
        }
        guard let numkeys = parseStrictInt64(c.args[2]) else { return c.out.error("ERR Bad number of keys provided") }
        if numkeys > Int64(c.args.count - 3) { return c.out.error("ERR Number of keys can't be greater than number of args") }
        if numkeys < 0 { return c.out.error("ERR Number of keys can't be negative") }
        if readOnly && !function.noWrites {
            return c.out.error("ERR Can not execute a script with write flag using *_ro command.")
        }
        let keyEnd = 3 + Int(numkeys)
        let args = c.args
        scripting.run(&c, isFunction: true, readOnly: readOnly || function.noWrites, allowOOM: function.allowOOM) { run, out in
            scripting.engine.call(function, keys: args[3..<keyEnd], args: args[keyEnd...], host: run, out: &out)
        }
    }

    // MARK: - FUNCTION

    static func functionLoad(_ c: inout CommandContext) {
        var replace = false
        if c.args.count == 4 {
            guard c.argIs(2, "replace") else { return c.out.error("ERR Unknown option given: \(String(decoding: c.args[2], as: UTF8.self))") }
            replace = true
        } else if c.args.count > 4 {
            return c.out.error("ERR Unknown option given: \(String(decoding: c.args[2], as: UTF8.self))")
        }
        switch c.server.scripting.engine.loadLibrary(c.args[c.args.count - 1], replace: replace) {
        case .failure(let error): c.out.error(error.message)
        case .success(let name):
            c.server.dirty += 1
            c.out.bulk(name)
        }
    }

    static func functionDelete(_ c: inout CommandContext) {
        guard c.server.scripting.engine.deleteLibrary(String(decoding: c.args[2], as: UTF8.self)) else {
            return c.out.error("ERR Library not found")
        }
        c.server.dirty += 1
        c.out.ok()
    }

    static func functionFlush(_ c: inout CommandContext) {
        if c.args.count > 3 || (c.args.count == 3 && !c.argIs(2, "sync") && !c.argIs(2, "async")) {
            return c.out.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
        }
        c.server.scripting.engine.flushLibraries()
        c.server.dirty += 1
        c.out.ok()
    }

    /// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]`, libraries in name order.
    static func functionList(_ c: inout CommandContext) {
        var pattern: [UInt8]?
        var withCode = false
        var j = 2
        while j < c.args.count {
            if c.argIs(j, "withcode") && !withCode {
                withCode = true
                j += 1
            } else if c.argIs(j, "libraryname") && pattern == nil {
                guard j + 1 < c.args.count else { return c.out.error("ERR library name argument was not given") }
                pattern = c.args[j + 1]
                j += 2
            } else {
                return c.out.error("ERR Unknown argument \(String(decoding: c.args[j], as: UTF8.self))")
            }
        }
        let engine = c.server.scripting.engine
        let libraries = engine.libraries.values
            .filter { pattern == nil || globMatch(pattern!, Array($0.name.utf8)) }
            .sorted { $0.name < $1.name }
        c.out.arrayHeader(libraries.count)
        for library in libraries {
            c.out.mapHeader(withCode ? 4 : 3)
            c.out.bulk("library_name")
            c.out.bulk(library.name)
            c.out.bulk("engine")
            c.out.bulk("LUA")
            c.out.bulk("functions")
            c.out.arrayHeader(library.functionNames.count)
            for name in library.functionNames {
                guard let function = engine.functions[name.lowercased()] else { continue }
                c.out.mapHeader(3)
                c.out.bulk("name")
                c.out.bulk(function.name)
                c.out.bulk("description")
                if let description = function.description { c.out.bulk(description) } else { c.out.null() }
                c.out.bulk("flags")
                c.out.setHeader(function.flags.count)
                for flag in function.flags { c.out.status(text: flag) }
            }
            if withCode {
                c.out.bulk("library_code")
                c.out.bulk(library.code)
            }
        }
    }

    /// No function runs while this runs (a running one is reported by the busy path).
    static func functionStats(_ c: inout CommandContext) {
        let engine = c.server.scripting.engine
        c.out.mapHeader(2)
        c.out.bulk("running_script")
        c.out.null()
        c.out.bulk("engines")
        c.out.mapHeader(1)
        c.out.bulk("LUA")
        c.out.mapHeader(2)
        c.out.bulk("libraries_count")
        c.out.integer(engine.libraries.count)
        c.out.bulk("functions_count")
        c.out.integer(engine.functions.count)
    }

    static func functionKill(_ c: inout CommandContext) {
        c.out.staticError("-NOTBUSY No scripts in execution right now.\r\n")
    }

    static func functionDump(_ c: inout CommandContext) {
        let libraries = c.server.scripting.engine.libraries.values.sorted { $0.name < $1.name }
        c.out.bulk(FunctionPayload.dump(libraries.map(\.code)))
    }

    /// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`: all the payload's libraries, or none.
    static func functionRestore(_ c: inout CommandContext) {
        enum Policy { case flush, append, replace }
        var policy = Policy.append
        if c.args.count > 4 {
            return c.out.error("ERR unknown subcommand or wrong number of arguments for '\(String(decoding: c.args[1], as: UTF8.self))'. Try FUNCTION HELP.")
        }
        if c.args.count == 4 {
            if c.argIs(3, "flush") { policy = .flush }
            else if c.argIs(3, "append") { policy = .append }
            else if c.argIs(3, "replace") { policy = .replace }
            else { return c.out.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.") }
        }
        let codes: [[UInt8]]
        switch FunctionPayload.parse(c.args[2]) {
        case .failure(let error): return c.out.error(error.message)
        case .success(let parsed): codes = parsed
        }
        let engine = c.server.scripting.engine
        if policy == .append {
            for code in codes {
                if case .success(let name) = LuaEngine.libraryName(code), engine.libraries[name.lowercased()] != nil {
                    return c.out.error("ERR Library \(name) already exists")
                }
            }
        }
        let before = engine.libraries.values.map(\.code)
        if policy == .flush { engine.flushLibraries() }
        for code in codes {
            if case .failure(let error) = engine.loadLibrary(code, replace: policy != .append) {
                // All or nothing: put the libraries back as they were.
                engine.flushLibraries()
                for old in before { _ = engine.loadLibrary(old, replace: false) }
                return c.out.error(error.message)
            }
        }
        c.server.dirty += 1
        c.out.ok()
    }

    static func functionHelp(_ c: inout CommandContext) {
        replyHelp(&c, "FUNCTION", [
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ])
    }
}
