import AtollCommands
import AtollCore
import AtollKeyspace
import Testing

@Suite struct ConfigCommandTests {
    @Test func setAndGetRoundTrip() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "hz", "50") == ok)
        #expect(h.run("CONFIG", "GET", "hz") == array(bulk("hz"), bulk("50")))
        #expect(h.core.config.hz == 50)
        #expect(h.run("CONFIG", "SET", "maxclients", "123") == ok)
        #expect(h.run("CONFIG", "GET", "maxclients") == array(bulk("maxclients"), bulk("123")))
        #expect(h.run("CONFIG", "SET", "loglevel", "WARNING") == ok)
        #expect(h.run("CONFIG", "GET", "loglevel") == array(bulk("loglevel"), bulk("warning")))
        #expect(h.run("CONFIG", "SET", "proto-max-bulk-len", "2mb") == ok)
        #expect(h.run("CONFIG", "GET", "proto-max-bulk-len") == array(bulk("proto-max-bulk-len"), bulk("2097152")))
        #expect(h.run("CONFIG", "SET", "slowlog-max-len", "10") == ok)
        #expect(h.run("CONFIG", "GET", "slowlog-max-len") == array(bulk("slowlog-max-len"), bulk("10")))
        #expect(h.run("CONFIG", "SET", "requirepass", "pw") == ok)
        #expect(h.core.config.requirePass == "pw")
    }

    @Test func setSeveralAtOnceIsAtomic() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "hz", "20", "timeout", "5") == ok)
        #expect(h.run("CONFIG", "GET", "hz") == array(bulk("hz"), bulk("20")))
        #expect(h.run("CONFIG", "GET", "timeout") == array(bulk("timeout"), bulk("5")))
        #expect(h.run("CONFIG", "SET", "hz", "30", "timeout", "abc")
                == err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"))
        #expect(h.run("CONFIG", "GET", "hz") == array(bulk("hz"), bulk("20")))
    }

    @Test func setErrors() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "hz", "abc")
                == err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"))
        #expect(h.run("CONFIG", "SET", "nosuch", "1") == err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"))
        #expect(h.run("CONFIG", "SET", "maxclients", "0")
            .hasPrefix("-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and "))
        #expect(h.run("CONFIG", "SET", "timeout", "-1")
                == err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive"))
        #expect(h.run("CONFIG", "SET", "timeout", "1.5")
                == err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"))
        #expect(h.run("CONFIG", "SET", "port", "1").hasPrefix("-ERR CONFIG SET failed (possibly related to argument 'port')"))
        #expect(h.run("CONFIG", "SET", "hz") == err("ERR wrong number of arguments for 'config|set' command"))
        #expect(h.core.config.hz == 10)
        #expect(h.core.config.timeout == 0)
        #expect(h.core.config.port == 6379)
    }

    @Test
    func setErrorTextsAsRedis() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "hz", "30", "hz", "40")
                == err("ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"))
        #expect(h.run("CONFIG", "SET", "hz", "1", "timeout") == syntaxError)
    }

    @Test
    func hzIsClamped() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "hz", "0") == ok)
        #expect(h.run("CONFIG", "GET", "hz") == array(bulk("hz"), bulk("1")))
        #expect(h.run("CONFIG", "SET", "hz", "501") == ok)
        #expect(h.run("CONFIG", "GET", "hz") == array(bulk("hz"), bulk("500")))
    }

    @Test
    func integerConfigValuesAreStrict() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "hz", "07")
                == err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"))
        #expect(h.run("CONFIG", "SET", "hz", "+7")
                == err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"))
    }

    @Test
    func loglevelChoicesAsRedis70() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "loglevel", "nothing")
                == err("ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"))
    }

    @Test func getPatterns() {
        let h = Harness()
        #expect(h.run("CONFIG", "GET", "maxclient*") == array(bulk("maxclients"), bulk("10000")))
        #expect(h.run("CONFIG", "GET", "nosuch") == "*0\r\n")
        #expect(h.run("CONFIG", "GET", "hz", "hz") == array(bulk("hz"), bulk("10")))
        #expect(h.run("CONFIG", "GET", "save") == array(bulk("save"), bulk("")))
        #expect(h.run("CONFIG", "GET", "appendonly") == array(bulk("appendonly"), bulk("no")))
        let both = h.run("CONFIG", "GET", "hz", "timeout")
        #expect(both.hasPrefix("*4\r\n"))
        #expect(both.contains(bulk("hz") + bulk("10")))
        #expect(both.contains(bulk("timeout") + bulk("0")))
        let all = h.run("CONFIG", "GET", "*")
        #expect(all.contains(bulk("port") + bulk("6379")))
        #expect(all.contains(bulk("databases") + bulk("16")))
    }

    @Test
    func getEchoesNameAsTyped() {
        let h = Harness()
        #expect(h.run("CONFIG", "GET", "HZ") == array(bulk("HZ"), bulk("10")))
    }

    @Test func getIsCaseInsensitive() {
        let h = Harness()
        #expect(h.run("CONFIG", "GET", "HZ").hasPrefix("*2\r\n"))
        #expect(h.run("CONFIG", "GET", "HZ").hasSuffix(bulk("10")))
    }

    @Test func resetstat() {
        let h = Harness()
        h.run("GET", "a")
        #expect(h.core.keyspace.stats.keyspaceMisses == 1)
        #expect(h.run("CONFIG", "RESETSTAT") == ok)
        #expect(h.core.keyspace.stats.keyspaceMisses == 0)
    }
}

@Suite struct ConfigurationFileTests {
    @Test func loadsRedisConfSyntax() throws {
        var config = ServerConfiguration()
        try config.load("""
        # A comment line
        port 7000

           hz 20
        \t# indented comment
        requirepass "pass word"
        bind 127.0.0.1 ::1
        loglevel warning
        maxclients 50
        proto-max-bulk-len 1gb
        timeout 30
        databases 4
        active-expire-enabled no
        """)
        #expect(config.port == 7000)
        #expect(config.hz == 20)
        #expect(config.requirePass == "pass word")
        #expect(config.bind == ["127.0.0.1", "::1"])
        #expect(config.logLevel == "warning")
        #expect(config.maxClients == 50)
        #expect(config.protoMaxBulkLen == 1 << 30)
        #expect(config.timeout == 30)
        #expect(config.databases == 4)
        #expect(config.activeExpireEnabled == false)
    }

    @Test func laterLinesWinAndNamesAreCaseInsensitive() throws {
        var config = ServerConfiguration()
        try config.load("hz 20\nHZ 30\n")
        #expect(config.hz == 30)
    }

    @Test func quotedValues() throws {
        var config = ServerConfiguration()
        try config.load("port 7001\nrequirepass 'it\\'s'\nlogfile \"/tmp/a b.log\"\nbind \"127.0.0.1\" '::1'\n")
        #expect(config.port == 7001)
        #expect(config.requirePass == "it's")
        #expect(config.logFile == "/tmp/a b.log")
        #expect(config.bind == ["127.0.0.1", "::1"])
    }

    @Test
    func crlfLines() throws {
        var config = ServerConfiguration()
        try config.load("port 7001\r\nhz 20\r\n")
        #expect(config.port == 7001)
        #expect(config.hz == 20)
    }

    @Test func emptyTextChangesNothing() throws {
        var config = ServerConfiguration()
        try config.load("")
        try config.load("\n\n# only comments\n")
        #expect(config.port == 6379)
        #expect(config.hz == 10)
    }

    @Test func unknownDirectiveIsAnError() {
        var config = ServerConfiguration()
        do {
            try config.load("port 7000\nfoo bar\n")
            Issue.record("no error for an unknown directive")
        } catch {
            #expect("\(error)".contains("Bad directive or wrong number of arguments"))
            #expect("\(error)".contains("foo"))
        }
    }

    @Test func unbalancedQuotesAreAnError() {
        var config = ServerConfiguration()
        #expect(throws: ConfigError.self) { try config.load("requirepass \"abc\n") }
        do {
            try config.load("requirepass \"abc\n")
        } catch {
            #expect("\(error)".contains("Unbalanced quotes"))
        }
    }

    @Test func badValuesAreErrors() {
        for text in ["hz abc", "port 70000", "loglevel loud", "maxclients 0", "active-expire-enabled maybe", "hz 1 2"] {
            var config = ServerConfiguration()
            #expect(throws: ConfigError.self, "\(text)") { try config.load(text) }
        }
    }

    @Test func parameterLookup() {
        #expect(ConfigParameter.named("HZ")?.name == "hz")
        #expect(ConfigParameter.named("nope") == nil)
        var config = ServerConfiguration()
        #expect(ConfigParameter.named("timeout")?.apply(["12"], to: &config) == nil)
        #expect(config.timeout == 12)
        #expect(ConfigParameter.named("timeout")?.value(in: config) == "12")
    }

    @Test func memoryValues() {
        #expect(parseMemory("100") == 100)
        #expect(parseMemory("1k") == 1000)
        #expect(parseMemory("1kb") == 1024)
        #expect(parseMemory("2MB") == 2 << 20)
        #expect(parseMemory("1g") == 1_000_000_000)
        #expect(parseMemory("1gb") == 1 << 30)
        #expect(parseMemory("5b") == 5)
        #expect(parseMemory("-1") == nil)
        #expect(parseMemory("abc") == nil)
        #expect(parseMemory("") == 0)  // memtoull reads no digits as 0
    }
}

@Suite struct SaveRuleConfigTests {
    @Test func saveLinesAddUpAsInRedis() throws {
        var config = ServerConfiguration()
        try config.load("save 3600 1\nsave 300 100 60 10000\n")
        #expect(config.saveRules == [SaveRule(seconds: 3600, changes: 1), SaveRule(seconds: 300, changes: 100),
                                     SaveRule(seconds: 60, changes: 10000)])
        try config.load("save \"\"\n")
        #expect(config.saveRules.isEmpty)
        #expect(throws: ConfigError.self) { try config.load("save 10\n") }
    }
}

@Suite struct ProtectedConfigTests {
    let protectedError = { (name: String) in err("ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set protected config") }
    let debugRefused = err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")

    @Test func dirAndDbfilenameAreRefusedByDefault() {
        let h = Harness()
        #expect(h.run("CONFIG", "SET", "dir", "/tmp") == protectedError("dir"))
        #expect(h.run("CONFIG", "SET", "dbfilename", "evil.sh") == protectedError("dbfilename"))
        #expect(h.core.config.dbFilename == "dump.rdb")
        // Names are checked before any value: the protected one is named, not hz's bad value.
        #expect(h.run("CONFIG", "SET", "hz", "abc", "dir", "/tmp") == protectedError("dir"))
        #expect(h.run("CONFIG", "SET", "hz", "20", "dbfilename", "x.rdb") == protectedError("dbfilename"))
        #expect(h.core.config.hz == 10)
    }

    @Test func allowedDirMustBeADirectoryAndDbfilenameAName() {
        let h = Harness { $0.enableProtectedConfigs = .yes }
        #expect(h.run("CONFIG", "SET", "dir", "/tmp/../tmp") == ok)
        #expect(h.run("CONFIG", "GET", "dir") == array(bulk("dir"), bulk("/tmp")))
        #expect(h.run("CONFIG", "SET", "dir", "/nonexistent")
                == err("ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"))
        #expect(h.run("CONFIG", "SET", "dir", "/etc/passwd")
                == err("ERR CONFIG SET failed (possibly related to argument 'dir') - Not a directory"))
        for name in ["../x.rdb", "/etc/cron.d/x", "a\\b"] {
            #expect(h.run("CONFIG", "SET", "dbfilename", name)
                    == err("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"))
        }
        #expect(h.run("CONFIG", "SET", "dbfilename", "x.rdb") == ok)
        #expect(h.core.config.dir == "/tmp")
        #expect(h.core.config.dbFilename == "x.rdb")
    }

    @Test func localAdmitsLoopbackClientsOnly() {
        func client(_ address: String) -> ClientSession {
            ClientSession(id: 1, authenticated: true, address: address, localAddress: "127.0.0.1:6379", now: 0, connection: nil)
        }
        for address in ["127.0.0.1:5000", "::1:5000", "unix:/tmp/atoll.sock"] {
            #expect(ProtectedAccess.local.allows(client(address)), "\(address)")
            #expect(!ProtectedAccess.no.allows(client(address)), "\(address)")
        }
        for address in ["127.0.0.2:5000", "10.0.0.1:6379", "::ffff:127.0.0.1:5000"] {
            #expect(!ProtectedAccess.local.allows(client(address)), "\(address)")
            #expect(ProtectedAccess.yes.allows(client(address)), "\(address)")
        }
    }

    @Test func debugNeedsEnableDebugCommand() {
        let refused = Harness()
        #expect(refused.run("DEBUG", "HELP") == debugRefused)
        // Before authentication and arity of subcommands, as in Redis; arity itself comes first.
        #expect(Harness(authenticated: false).run("DEBUG", "HELP") == debugRefused)
        #expect(refused.run("DEBUG") == err("ERR wrong number of arguments for 'debug' command"))
        let allowed = Harness { $0.enableDebugCommand = .yes }
        #expect(allowed.run("DEBUG", "HELP").hasPrefix("*"))
    }

    @Test func enableSettingsAreImmutable() {
        let h = Harness()
        for name in ["enable-protected-configs", "enable-debug-command"] {
            #expect(h.run("CONFIG", "SET", name, "yes")
                    == err("ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config"))
            #expect(h.run("CONFIG", "GET", name) == array(bulk(name), bulk("no")))
        }
    }

    @Test func fileAcceptsTheDirectivesAsRedis() throws {
        var config = ServerConfiguration()
        try config.load("enable-protected-configs LOCAL\nenable-debug-command yes\ndbfilename x.rdb\nappenddirname ..\n")
        #expect(config.enableProtectedConfigs == .local)
        #expect(config.enableDebugCommand == .yes)
        #expect(config.dbFilename == "x.rdb")
        #expect(config.appendDirName == "..")  // Redis only refuses separators
        let refusals = [
            "enable-debug-command maybe": "argument(s) must be one of the following: no, yes, local",
            "dbfilename ../x.rdb": "dbfilename can't be a path, just a filename",
            "appendfilename a/b": "appendfilename can't be a path, just a filename",
            "appenddirname a/b": "appenddirname can't be a path, just a dirname",
            "dir /nonexistent": "No such file or directory",
        ]
        for (line, reason) in refusals {
            var config = ServerConfiguration()
            #expect(throws: ConfigError.self, "\(line)") { try config.load(line) }
            do { try config.load(line) } catch { #expect("\(error)".hasSuffix("\n\(reason)"), "\(line): \(error)") }
        }
    }
}

@Suite struct MemoryLimitConfigTests {
    @Test func theLimitAndPolicyAreSetReadAndShown() throws {
        let h = Harness()
        #expect(h.run("CONFIG", "GET", "maxmemory") == array(bulk("maxmemory"), bulk("0")))
        #expect(h.run("CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "ALLKEYS-LFU") == ok)
        #expect(h.run("CONFIG", "GET", "maxmemory") == array(bulk("maxmemory"), bulk("1073741824")))
        #expect(h.run("CONFIG", "GET", "maxmemory-policy") == array(bulk("maxmemory-policy"), bulk("allkeys-lfu")))
        #expect(h.run("CONFIG", "SET", "maxmemory", "-1")
                == err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"))
        let info = h.run("INFO", "memory")
        #expect(info.contains("maxmemory:1073741824\r\nmaxmemory_human:1.00G\r\nmaxmemory_policy:allkeys-lfu\r\n"))
        var config = ServerConfiguration()
        try config.load("maxmemory 100mb\nmaxmemory-policy volatile-ttl\nmaxmemory-samples 9\nlfu-decay-time 0\n")
        #expect(config.maxMemory == 100 << 20 && config.maxMemoryPolicy == .volatileTTL)
        #expect(config.maxMemorySamples == 9 && config.lfuDecayTime == 0)
        #expect(throws: ConfigError.self) { try config.load("maxmemory-policy lru") }
    }

    @Test func overTheLimitWritesAreRefusedAndReadsServed() {
        let h = Harness()
        #expect(h.run("SET", "k", "v") == ok)
        #expect(h.run("CONFIG", "SET", "maxmemory", "1") == ok)
        #expect(h.run("SET", "k", "w") == err("OOM command not allowed when used memory > 'maxmemory'."))
        #expect(h.run("GET", "k") == bulk("v"))
        #expect(h.run("CONFIG", "SET", "maxmemory-policy", "allkeys-random") == ok)
        // Every key is evicted, and still memory is over one byte: the write is refused.
        #expect(h.run("SET", "k2", "w") == err("OOM command not allowed when used memory > 'maxmemory'."))
        #expect(h.run("EXISTS", "k") == int(0))
        #expect(h.run("INFO", "stats").contains("\r\nevicted_keys:1\r\n"))
        #expect(h.run("CONFIG", "SET", "maxmemory", "0") == ok)
    }

    /// REPLICAOF keeps `replicaof` current, as Sentinel relies on: CONFIG GET shows the master
    /// followed now, and CONFIG REWRITE writes its line, or removes the file's once a primary.
    @Test func replicaofFollowsTheRole() {
        let h = Harness()
        let file = "# the operator's comment\nreplicaof 10.0.0.9 6000\n"
        #expect(h.run("REPLICAOF", "127.0.0.1", "6380") == ok)
        #expect(h.run("CONFIG", "GET", "replicaof") == array(bulk("replicaof"), bulk("127.0.0.1 6380")))
        #expect(h.run("CONFIG", "GET", "slaveof") == array(bulk("slaveof"), bulk("127.0.0.1 6380")))
        let following = h.core.config.rewrittenConfigFile(file, userLines: []).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(Array(following.prefix(2)) == ["# the operator's comment", "replicaof 127.0.0.1 6380"])
        #expect(h.run("INFO", "replication").contains("\r\nmaster_link_down_since_seconds:-1\r\n"))
        #expect(h.run("REPLICAOF", "NO", "ONE") == ok)
        #expect(h.run("CONFIG", "GET", "replicaof") == array(bulk("replicaof"), bulk("")))
        let primary = h.core.config.rewrittenConfigFile(file, userLines: [])
        #expect(primary.hasPrefix("# the operator's comment\n\n"))
        #expect(!primary.contains("replicaof"))
    }
}
