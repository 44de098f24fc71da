import AtollBytes
@testable import AtollLua
import AtollRESP
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A `LuaHost` that answers `redis.call(name, ...)` with a canned raw reply per command name.
final class FakeHost: LuaHost {
    var replies: [String: String] = [:]
    var calls: [[String]] = []
    var logs: [(level: Int, message: String)] = []
    /// What `scriptTick` returns: a message kills the running script.
    var killMessage: String?

    func runCommand(_ args: [[UInt8]], resp3: Bool, reply: (UnsafeRawBufferPointer) -> Void) {
        let words = args.map { String(decoding: $0, as: UTF8.self) }
        calls.append(words)
        let canned = replies[words[0]] ?? "-ERR Unknown Redis command called from script\r\n"
        Array(canned.utf8).withUnsafeBytes(reply)
    }

    func permits(_ args: [[UInt8]]) -> Bool? { replies[String(decoding: args[0], as: UTF8.self)] != nil ? true : nil }

    func log(level: Int, message: [UInt8]) { logs.append((level, String(decoding: message, as: UTF8.self))) }

    func scriptTick() -> [UInt8]? { killMessage.map { Array($0.utf8) } }
}

/// Compiles and runs `script`, returning the raw reply (or the compile error reply).
func eval(_ engine: LuaEngine, _ script: String, host: FakeHost = FakeHost(), resp3: Bool = false,
          keys: [String] = [], argv: [String] = []) -> String {
    switch engine.load(Array(script.utf8)) {
    case .failure(let error):
        return "-\(error.message)\r\n"
    case .success(let sha):
        var out = ReplyWriter(buffer: ByteBuffer(), resp3: resp3)
        engine.run(sha, engine.scripts[sha]!, keys: keys.map { Array($0.utf8) }[...], argv: argv.map { Array($0.utf8) }[...],
                   host: host, out: &out)
        return String(decoding: out.buffer.readableBytesView, as: UTF8.self)
    }
}

func sha(_ script: String) -> String { String(decoding: sha1Hex(Array(script.utf8)), as: UTF8.self) }

@Suite struct LuaToRESPTests {
    let engine = LuaEngine()

    @Test(arguments: [
        ("return 1", ":1\r\n"), ("return 3.99", ":3\r\n"), ("return -3.99", ":-3\r\n"),
        ("return 1e20", ":-9223372036854775808\r\n"), ("return 0/0", ":-9223372036854775808\r\n"),
        ("return -0", ":0\r\n"), ("return 'hi'", "$2\r\nhi\r\n"), ("return ''", "$0\r\n\r\n"),
        ("return true", ":1\r\n"), ("return false", "$-1\r\n"), ("return nil", "$-1\r\n"),
        ("return {1, 'a', nil, 3}", "*2\r\n:1\r\n$1\r\na\r\n"), ("return {{1}, {}}", "*2\r\n*1\r\n:1\r\n*0\r\n"),
        ("return {ok = 'fine'}", "+fine\r\n"), ("return {ok = 'a\\r\\nb'}", "+a  b\r\n"),
        ("return {err = 'BAD thing'}", "-BAD thing\r\n"), ("return {err = ''}", "-\r\n"),
        ("return {err = 'x\\r\\n'}", "-x\r\n"), ("return {err = 'x\\0y'}", "-x\r\n"),
        ("return redis.error_reply('nospace')", "-ERR nospace\r\n"),
        ("return redis.error_reply('-CODE \\r\\nmsg\\r\\n')", "-CODE msg\r\n"),
        ("return redis.error_reply(5)", "-ERR wrong number or type of arguments\r\n"),
        ("return redis.status_reply('DONE')", "+DONE\r\n"),
        ("return {double = 2.5}", "$3\r\n2.5\r\n"), ("return {double = 0/0}", "$4\r\n-nan\r\n"),
        ("return {map = {a = 1}}", "*2\r\n$1\r\na\r\n:1\r\n"), ("return {set = {x = true}}", "*1\r\n$1\r\nx\r\n"),
        ("return {big_number = '12'}", "$2\r\n12\r\n"),
        ("return {verbatim_string = {format = 'txt', string = 'v'}}", "$1\r\nv\r\n"),
        ("return {verbatim_string = {format = 'txt'}}", "*0\r\n"),
        ("redis.setresp(3) return false", ":0\r\n"),
    ])
    func resp2(script: String, expected: String) {
        #expect(eval(engine, script) == expected)
    }

    @Test(arguments: [
        ("return true", ":1\r\n"), ("return false", "_\r\n"), ("redis.setresp(3) return true", "#t\r\n"),
        ("redis.setresp(3) return false", "#f\r\n"), ("return {double = 2.5}", ",2.5\r\n"),
        ("return {double = 1/0}", ",inf\r\n"), ("return {map = {a = 1}}", "%1\r\n$1\r\na\r\n:1\r\n"),
        ("return {set = {x = true}}", "~1\r\n$1\r\nx\r\n"), ("return {big_number = '1\\n2'}", "(1 2\r\n"),
        ("return {verbatim_string = {format = 'mkd', string = 'v'}}", "=5\r\nmkd:v\r\n"),
        ("return {verbatim_string = {format = 'tx', string = 'v'}}", "=5\r\ntx :v\r\n"),
        ("return {verbatim_string = {format = 'txtx', string = 'v'}}", "=5\r\ntxt:v\r\n"),
    ])
    func resp3(script: String, expected: String) {
        #expect(eval(engine, script, resp3: true) == expected)
    }

    @Test func selfContainingTableIsCutAtTheStackLimit() {
        let reply = eval(engine, "local t = {} t[1] = t return t")
        #expect(reply.hasPrefix("*1\r\n*1\r\n"))
        #expect(reply.hasSuffix("-ERR reached lua stack limit\r\n"))
    }

    @Test func keysAndArgv() {
        #expect(eval(engine, "return {KEYS[1], ARGV[1], ARGV[2], #KEYS}", keys: ["k"], argv: ["a", "b"])
            == "*4\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\nb\r\n:1\r\n")
        #expect(eval(engine, "return #KEYS + #ARGV") == ":0\r\n")
    }
}

@Suite struct RESPToLuaTests {
    let engine = LuaEngine()
    let host: FakeHost = {
        let host = FakeHost()
        host.replies = [
            "status": "+OK\r\n", "int": ":42\r\n", "bulk": "$3\r\na\0b\r\n", "null": "$-1\r\n",
            "nullarray": "*-1\r\n", "array": "*3\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n",
            "wrongtype": "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            "map": "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n:2\r\n", "set": "~2\r\n$1\r\na\r\n$1\r\nb\r\n",
            "double": ",3.5\r\n", "true": "#t\r\n", "false": "#f\r\n", "nil": "_\r\n",
            "big": "(123456789012345678901234567890\r\n", "verbatim": "=8\r\ntxt:abcd\r\n",
        ]
        return host
    }()

    @Test(arguments: [
        ("return redis.call('status')", "+OK\r\n"),
        ("return redis.call('status').ok", "$2\r\nOK\r\n"),
        ("return {redis.call('int'), type(redis.call('int'))}", "*2\r\n:42\r\n$6\r\nnumber\r\n"),
        ("return #redis.call('bulk')", ":3\r\n"),
        ("return {type(redis.call('null')), type(redis.call('nullarray'))}", "*2\r\n$7\r\nboolean\r\n$7\r\nboolean\r\n"),
        ("return redis.call('array')", "*3\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n"),
        ("return redis.pcall('wrongtype').err", "$65\r\nWRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("return tostring(redis.pcall('wrongtype').ignore_error_stats_update)", "$4\r\ntrue\r\n"),
        ("local r = redis.call('map').map return {r.a, r.b[1]}", "*2\r\n:1\r\n:2\r\n"),
        ("local s = redis.call('set').set return {tostring(s.a), tostring(s.b)}", "*2\r\n$4\r\ntrue\r\n$4\r\ntrue\r\n"),
        ("return tostring(redis.call('double').double)", "$3\r\n3.5\r\n"),
        ("return {type(redis.call('true')), tostring(redis.call('false'))}", "*2\r\n$7\r\nboolean\r\n$5\r\nfalse\r\n"),
        ("return type(redis.call('nil'))", "$3\r\nnil\r\n"),
        ("return redis.call('big').big_number", "$30\r\n123456789012345678901234567890\r\n"),
        ("local v = redis.call('verbatim').verbatim_string return {v.format, v.string}", "*2\r\n$3\r\ntxt\r\n$4\r\nabcd\r\n"),
        ("local ok, e = pcall(redis.call, 'wrongtype') return e", "$65\r\nWRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("return redis.pcall('nosuch')", "-ERR Unknown Redis command called from script\r\n"),
        ("return redis.pcall()", "-ERR Please specify at least one argument for this redis lib call\r\n"),
        ("return redis.pcall('int', {})", "-ERR Lua redis lib command arguments must be strings or integers\r\n"),
        ("return redis.acl_check_cmd('int')", ":1\r\n"),
    ])
    func conversions(script: String, expected: String) {
        #expect(eval(engine, script, host: host) == expected)
    }

    @Test func callRaisesWithTheCommandsError() {
        let script = "redis.call('wrongtype')"
        #expect(eval(engine, script, host: host)
            == "-WRONGTYPE Operation against a key holding the wrong kind of value script: \(sha(script)), on @user_script:1.\r\n")
    }

    @Test func numbersArePassedWith17Digits() {
        _ = eval(engine, "redis.call('int', 0.1, 3, -0.5, 'x')", host: host)
        #expect(host.calls.last == ["int", "0.10000000000000001", "3", "-0.5", "x"])
    }

    @Test func logReachesTheHost() {
        #expect(eval(engine, "redis.log(redis.LOG_WARNING, 'a', 'b')", host: host) == "$-1\r\n")
        #expect(host.logs.last?.level == 3)
        #expect(host.logs.last?.message == "a b")
    }

    @Test func hookKillsALoopingScript() {
        let host = FakeHost()
        host.killMessage = "ERR Script killed by user with SCRIPT KILL..."
        let script = "while true do end"
        #expect(eval(engine, script, host: host)
            == "-ERR Script killed by user with SCRIPT KILL... script: \(sha(script)), on @user_script:1.\r\n")
        #expect(eval(engine, "return 1") == ":1\r\n")
    }
}

@Suite struct ErrorTests {
    let engine = LuaEngine()

    @Test func compileErrors() {
        #expect(eval(engine, "return 1 +")
            == "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n")
        #expect(eval(engine, "\n\nx(") == "-ERR Error compiling script (new function): user_script:3: unexpected symbol near '<eof>'\r\n")
        // A shebang line counts as a line.
        #expect(eval(engine, "#!lua\nreturn 1 +").contains("user_script:2:"))
    }

    @Test func runtimeErrors() {
        let script = "error('boom')"
        #expect(eval(engine, script) == "-ERR user_script:1: boom script: \(sha(script)), on @user_script:1.\r\n")
        let table = "error({err = 'MY own'})"
        #expect(eval(engine, table) == "-MY own script: \(sha(table)), on @user_script:1.\r\n")
        let pcalled = "return {pcall(function() error({err = 'x'}) end)}"
        #expect(eval(engine, pcalled) == "*2\r\n$-1\r\n$1\r\nx\r\n")
    }

    @Test func garbageABigScriptLeavesIsReclaimedWithinTwoPeriods() {
        let engine = LuaEngine()
        // The full collection while the table is live sets Lua's own threshold at twice its size:
        // the small scripts after it allocate far too little to start another cycle.
        let big = "local t = {} for i = 1, 300000 do t[i] = i end collectgarbage('collect') return #t"
        #expect(eval(engine, big) == ":300000\r\n")
        #expect(engine.memoryUsed > 4 * LuaEngine.forcedCollectionFloor)
        for _ in 0..<(2 * LuaEngine.collectionPeriod) { _ = eval(engine, "return 1") }
        #expect(engine.memoryUsed < LuaEngine.forcedCollectionFloor)
    }

    @Test func memoryLimitGivesAnErrorAndTheEngineStaysUsable() {
        let small = LuaEngine(memoryLimit: 8 * 1024 * 1024)
        let script = "local t = {} for i = 1, 1e8 do t[i] = i end"
        #expect(eval(small, script) == "-ERR Error running script \(sha(script)), not enough memory\r\n")
        #expect(small.memoryUsed < 8 * 1024 * 1024)
        for _ in 0..<3 {
            #expect(eval(small, "local t = {} for i = 1, 10000 do t[i] = 'v' .. i end return #t") == ":10000\r\n")
        }
        #expect(eval(small, "return {pcall(string.rep, 'x', 1e8)}") == "*2\r\n$-1\r\n$17\r\nnot enough memory\r\n")
    }
}

@Suite struct SandboxTests {
    let engine = LuaEngine()

    @Test(arguments: ["os", "io", "print", "dofile", "loadfile", "require", "debug", "package", "setfenv", "newproxy"])
    func missingGlobals(name: String) {
        let script = "return \(name)"
        #expect(eval(engine, script)
            == "-ERR user_script:1: Script attempted to access nonexistent global variable '\(name)' script: \(sha(script)), on @user_script:1.\r\n")
    }

    @Test(arguments: ["x = 1", "string.x = 1", "redis.call = nil", "getmetatable('').__index = {}", "_G.y = 2"])
    func writesAreRefused(script: String) {
        #expect(eval(engine, script)
            == "-ERR user_script:1: Attempt to modify a readonly table script: \(sha(script)), on @user_script:1.\r\n")
    }

    @Test(arguments: ["rawset(_G, 'x', 1)", "setmetatable(string, {})", "table.insert(math, 1)"])
    func builtinWritesAreRefused(script: String) {
        #expect(eval(engine, script)
            == "-ERR Attempt to modify a readonly table script: \(sha(script)), on @user_script:1.\r\n")
    }

    @Test func nothingLeaksBetweenScripts() {
        _ = eval(engine, "return loadstring('leak = 1')()")
        _ = eval(engine, "table.insert(_G, 'leak')")
        _ = eval(engine, "local co = coroutine.create(function() leak = 1 end) coroutine.resume(co)")
        #expect(eval(engine, "return {rawget(_G, 'leak'), rawget(_G, 1), ('x'):rep(2)}") == "*0\r\n")
        #expect(eval(engine, "return ('x'):rep(2)") == "$2\r\nxx\r\n")
    }

    @Test func librariesCanBeWalked() {
        #expect(eval(engine, "local n = 0 for k in pairs(string) do n = n + 1 end return n") == ":15\r\n")
        #expect(eval(engine, "return getmetatable('').__index == string") == ":1\r\n")
        #expect(eval(engine, "return type(getmetatable(_G).__index)") == "$8\r\nfunction\r\n")
    }

    @Test func randomIsRedissGenerator() {
        #expect(eval(engine, "math.randomseed(5) return {math.random(1000), math.random(1000)}") == "*2\r\n:525\r\n:273\r\n")
    }
}

@Suite struct LoadTests {
    /// `load`'s chunk name stays alive while its reader runs a collection (CVE-2025-49844).
    /// Freed memory is filled with 'Z' meanwhile (glibc's M_PERTURB), so that a name read
    /// after it was freed shows.
    @Test func chunkNameSurvivesACollectionInTheReader() {
        let engine = LuaEngine()
        // mallopt(M_PERTURB, 'Z'); not in the Glibc module, so looked up by name.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt"), to: Mallopt.self)
        _ = mallopt(-6, 90)
        defer { _ = mallopt(-6, 0) }
        let script = """
            local n = 0
            local f, e = load(function()
              n = n + 1
              if n == 2 then collectgarbage() collectgarbage() end
              if n == 1 then return '' elseif n == 2 then return 'x(' end
            end)
            return e
            """
        #expect(eval(engine, script) == "$40\r\n(load):1: unexpected symbol near '<eof>'\r\n")
    }
}

@Suite struct EngineLifecycleTests {
    @Test func flushStartsANewState() {
        let engine = LuaEngine()
        #expect(eval(engine, "cjson.encode_max_depth(2) return 1") == ":1\r\n")
        #expect(eval(engine, "return cjson.encode({{{1}}})").hasPrefix("-ERR user_script:1: Cannot serialise"))
        engine.flush()
        #expect(engine.scripts.isEmpty)
        #expect(eval(engine, "return cjson.encode({{{1}}})") == "$7\r\n[[[1]]]\r\n")
    }

    @Test func enginesRunSideBySide() async {
        // Each engine's callbacks reach its own host, whatever runs on other threads.
        await withTaskGroup(of: Bool.self) { group in
            for i in 0..<4 {
                group.addTask {
                    let engine = LuaEngine()
                    let host = FakeHost()
                    host.replies = ["who": ":\(i)\r\n"]
                    return (0..<300).allSatisfy { _ in
                        eval(engine, "return redis.call('who')", host: host) == ":\(i)\r\n"
                    }
                }
            }
            for await sameHost in group { #expect(sameHost) }
        }
    }
}

@Suite struct TruncationTests {
    @Test(arguments: [
        (3.99, Int64(3)), (-3.99, -3), (0.0, 0), (-0.0, 0), (9.2e18, 9_200_000_000_000_000_000 as Int64),
        (9.3e18, Int64.min), (-9.3e18, Int64.min), (Double.infinity, Int64.min), (-Double.infinity, Int64.min),
        (Double.nan, Int64.min), (-9223372036854775808.0, Int64.min),
    ])
    func truncatedIntegerIsCsCast(value: Double, expected: Int64) {
        #expect(truncatedInteger(value) == expected)
    }

    @Test(arguments: [(3.7, Int32(3)), (-0.5, 0), (2147483647.9, Int32.max), (2147483648.0, Int32.min), (Double.nan, Int32.min)])
    func cIntIsCsIntCast(value: Double, expected: Int32) {
        #expect(cInt(value) == expected)
    }
}
