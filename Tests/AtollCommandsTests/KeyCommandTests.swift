import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import Testing

@Suite struct RenameCommandTests {
    @Test func renameKeepsTTL() {
        let h = Harness()
        h.run("SET", "a", "v", "EX", "1000")
        #expect(h.run("RENAME", "a", "b") == ok)
        #expect((999...1000).contains(h.integer("TTL", "b") ?? -100))
        #expect(h.run("EXISTS", "a") == int(0))
        #expect(h.run("GET", "b") == bulk("v"))
        #expect(h.db.expiresCount == 1)
        #expect(h.db.count == 1)
    }

    @Test func renameOverwritesTargetAndItsTTL() {
        let h = Harness()
        h.run("SET", "p", "1")
        h.run("EXPIRE", "p", "1000")
        h.run("SET", "q", "2")
        #expect(h.run("RENAME", "q", "p") == ok)
        #expect(h.run("TTL", "p") == int(-1))
        #expect(h.run("GET", "p") == bulk("2"))
        #expect(h.db.expiresCount == 0)
        #expect(h.db.count == 1)
    }

    @Test func renameErrorsAndSameName() {
        let h = Harness()
        #expect(h.run("RENAME", "a", "b") == err("ERR no such key"))
        h.run("SET", "b", "v")
        #expect(h.run("RENAME", "b", "b") == ok)
        #expect(h.run("GET", "b") == bulk("v"))
        #expect(h.run("RENAMENX", "missing", "z") == err("ERR no such key"))
    }

    @Test func renamenx() {
        let h = Harness()
        h.run("SET", "c", "x")
        h.run("SET", "d", "y")
        #expect(h.run("RENAMENX", "c", "d") == int(0))
        #expect(h.run("GET", "d") == bulk("y"))
        #expect(h.run("RENAMENX", "c", "e") == int(1))
        #expect(h.run("GET", "e") == bulk("x"))
        #expect(h.run("RENAMENX", "e", "e") == int(0))
    }
}

@Suite struct CopyCommandTests {
    @Test func copyKeepsTTLAndRespectsReplace() {
        let h = Harness()
        h.run("SET", "a", "v", "EX", "1000")
        #expect(h.run("COPY", "a", "b") == int(1))
        #expect(h.run("GET", "b") == bulk("v"))
        #expect((999...1000).contains(h.integer("TTL", "b") ?? -100))
        #expect(h.run("COPY", "a", "b") == int(0))
        h.run("SET", "a", "v2")
        #expect(h.run("COPY", "a", "b") == int(0))
        #expect(h.run("GET", "b") == bulk("v"))
        #expect(h.run("COPY", "a", "b", "REPLACE") == int(1))
        #expect(h.run("GET", "b") == bulk("v2"))
        #expect(h.run("TTL", "b") == int(-1))
        #expect(h.run("COPY", "a", "b", "REPLACE", "REPLACE") == int(1))
        #expect(h.run("COPY", "missing", "b") == int(0))
    }

    @Test func copyToAnotherDatabase() {
        let h = Harness()
        h.run("SET", "a", "v")
        #expect(h.run("COPY", "a", "b", "DB", "1") == int(1))
        #expect(h.run("COPY", "a", "b", "db", "1") == int(0))
        #expect(h.run("COPY", "a", "b", "db", "1", "replace") == int(1))
        #expect(h.run("COPY", "a", "a", "DB", "1") == int(1))
        #expect(h.run("EXISTS", "b") == int(0))
        #expect(h.run("SELECT", "1") == ok)
        #expect(h.run("GET", "a") == bulk("v"))
        #expect(h.run("GET", "b") == bulk("v"))
        #expect(h.core.keyspace.databases[0].count == 1)
        #expect(h.core.keyspace.databases[1].count == 2)
    }

    @Test func copyErrors() {
        let h = Harness()
        h.run("SET", "a", "v")
        #expect(h.run("COPY", "a", "a") == err("ERR source and destination objects are the same"))
        #expect(h.run("COPY", "a", "b", "DB", "16") == err("ERR DB index is out of range"))
        #expect(h.run("COPY", "a", "b", "DB", "-1") == err("ERR DB index is out of range"))
        #expect(h.run("COPY", "missing", "b", "DB", "99") == err("ERR DB index is out of range"))
        #expect(h.run("COPY", "a", "b", "DB", "x") == notInteger)
        #expect(h.run("COPY", "a", "b", "FOO") == syntaxError)
        #expect(h.run("COPY", "a", "b", "DB") == syntaxError)
        #expect(h.run("EXISTS", "b") == int(0))
    }

    @Test
    func databaseIndexOutOfIntRange() {
        // Redis 7.0 parses the index with getIntFromObjectOrReply.
        let h = Harness()
        h.run("SET", "a", "v")
        let message = err("ERR value is out of range, value must between -2147483648 and 2147483647")
        #expect(h.run("COPY", "a", "b", "DB", "4294967296") == message)
        #expect(h.run("MOVE", "a", "4294967296") == message)
    }

    @Test func move() {
        let h = Harness()
        h.run("SET", "a", "v", "EX", "1000")
        #expect(h.run("MOVE", "a", "1") == int(1))
        #expect(h.run("EXISTS", "a") == int(0))
        #expect(h.run("MOVE", "a", "1") == int(0))
        #expect(h.run("MOVE", "a", "0") == err("ERR source and destination objects are the same"))
        #expect(h.run("MOVE", "a", "16") == err("ERR DB index is out of range"))
        #expect(h.run("MOVE", "a", "x") == notInteger)
        h.run("SELECT", "1")
        #expect((999...1000).contains(h.integer("TTL", "a") ?? -100))
        h.run("SET", "b", "1")
        h.run("SELECT", "0")
        h.run("SET", "b", "0")
        #expect(h.run("MOVE", "b", "1") == int(0))   // target exists
        #expect(h.core.keyspace.databases[0].expiresCount == 0)
        #expect(h.core.keyspace.databases[1].expiresCount == 1)
    }
}

@Suite struct ExpireCommandTests {
    @Test func conditions() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", "100", "XX") == int(0))
        #expect(h.run("TTL", "k") == int(-1))
        #expect(h.run("EXPIRE", "k", "100", "NX") == int(1))
        #expect((99...100).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("EXPIRE", "k", "200", "NX") == int(0))
        #expect(h.run("EXPIRE", "k", "200", "GT") == int(1))
        #expect((199...200).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("EXPIRE", "k", "100", "GT") == int(0))
        #expect(h.run("EXPIRE", "k", "50", "LT") == int(1))
        #expect((49...50).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("EXPIRE", "k", "60", "LT") == int(0))
        #expect(h.run("EXPIRE", "k", "60", "XX") == int(1))
        #expect((59...60).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("PERSIST", "k") == int(1))
        #expect(h.run("PERSIST", "k") == int(0))
        // A key without TTL counts as an infinite TTL: GT never applies, LT always does.
        #expect(h.run("EXPIRE", "k", "10", "GT") == int(0))
        #expect(h.run("TTL", "k") == int(-1))
        #expect(h.run("EXPIRE", "k", "10", "xx", "gt") == int(0))
        #expect(h.run("EXPIRE", "k", "10", "LT") == int(1))
        #expect((9...10).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("EXPIRE", "k", "1000", "NX", "NX") == int(0))
        #expect(h.run("EXPIRE", "missing", "10") == int(0))
    }

    @Test func optionErrors() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", "10", "NX", "XX") == err("ERR NX and XX, GT or LT options at the same time are not compatible"))
        #expect(h.run("EXPIRE", "k", "10", "NX", "GT") == err("ERR NX and XX, GT or LT options at the same time are not compatible"))
        #expect(h.run("EXPIRE", "k", "10", "GT", "LT") == err("ERR GT and LT options at the same time are not compatible"))
        #expect(h.run("EXPIRE", "k", "10", "FOO") == err("ERR Unsupported option FOO"))
        #expect(h.run("EXPIRE", "k", "abc") == notInteger)
        // Options are checked before the time argument.
        #expect(h.run("EXPIRE", "k", "abc", "FOO") == err("ERR Unsupported option FOO"))
        #expect(h.run("EXPIRE", "k", "9223372036854775807") == err("ERR invalid expire time in 'expire' command"))
        #expect(h.run("EXPIRE", "k", "9223372036854775") == err("ERR invalid expire time in 'expire' command"))
        #expect(h.run("PEXPIRE", "k", "9223372036854775807") == err("ERR invalid expire time in 'pexpire' command"))
        #expect(h.run("TTL", "k") == int(-1))
    }

    @Test func nonPositiveTimesDelete() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", "-1") == int(1))
        #expect(h.run("EXISTS", "k") == int(0))
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", "0") == int(1))
        #expect(h.run("EXISTS", "k") == int(0))
        h.run("SET", "k", "v")
        #expect(h.run("EXPIREAT", "k", "1") == int(1))
        #expect(h.run("EXISTS", "k") == int(0))
        #expect(h.db.count == 0)
        #expect(h.db.expiresCount == 0)
    }

    @Test func absoluteTimes() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIREAT", "k", "\(year3000Seconds)") == int(1))
        #expect(h.run("EXPIRETIME", "k") == int(year3000Seconds))
        #expect(h.run("PEXPIREAT", "k", "\(year3000Seconds * 1000 + 123)") == int(1))
        #expect(h.run("PEXPIRETIME", "k") == int(year3000Seconds * 1000 + 123))
        // EXPIRETIME rounds to the nearest second, as TTL does.
        #expect(h.run("PEXPIREAT", "k", "\(year3000Seconds * 1000 + 600)") == int(1))
        #expect(h.run("EXPIRETIME", "k") == int(year3000Seconds + 1))
        #expect(h.run("PEXPIREAT", "k", "\(year3000Seconds * 1000 + 499)") == int(1))
        #expect(h.run("EXPIRETIME", "k") == int(year3000Seconds))
    }

    @Test func ttlReplies() {
        let h = Harness()
        #expect(h.run("TTL", "missing") == int(-2))
        #expect(h.run("PTTL", "missing") == int(-2))
        #expect(h.run("EXPIRETIME", "missing") == int(-2))
        #expect(h.run("PEXPIRETIME", "missing") == int(-2))
        h.run("SET", "p", "v")
        #expect(h.run("TTL", "p") == int(-1))
        #expect(h.run("PTTL", "p") == int(-1))
        #expect(h.run("EXPIRETIME", "p") == int(-1))
        h.run("PEXPIRE", "p", "1000000")
        #expect((999_000...1_000_000).contains(h.integer("PTTL", "p") ?? -100))
    }

    @Test func ttlRoundsToNearestSecond() {
        // TTL is (ms + 500) / 1000: 2900 ms left reads 3 (not floor's 2), 2400 ms reads 2 (not
        // ceil's 3), as long as less than 400 ms pass between the two commands.
        let h = Harness()
        h.run("SET", "r", "v")
        #expect(h.run("PEXPIRE", "r", "2900") == int(1))
        #expect(h.run("TTL", "r") == int(3))
        #expect(h.run("PEXPIRE", "r", "2400") == int(1))
        #expect(h.run("TTL", "r") == int(2))
        #expect(h.run("PEXPIRE", "r", "1400") == int(1))
        #expect(h.run("TTL", "r") == int(1))
    }

    @Test func lazyExpiryThroughCommands() {
        let h = Harness()
        // Stored directly with an expiry in the past: every read sees nothing.
        h.core.keyspace.databases[0].store(Bytes(Array("gone".utf8)), Entry(value: .string(Bytes(Array("x".utf8))), expireAt: 1))
        #expect(h.db.count == 1)
        #expect(h.run("GET", "gone") == nullBulk)
        #expect(h.db.count == 0)
        #expect(h.core.keyspace.stats.expiredKeys == 1)
    }
}

@Suite struct KeyspaceCommandTests {
    @Test func delExistsTypeDbsize() {
        let h = Harness()
        h.run("MSET", "a", "1", "b", "2", "c", "3")
        #expect(h.run("EXISTS", "a", "a", "nope", "b") == int(3))
        #expect(h.run("DEL", "a", "nope", "a") == int(1))
        #expect(h.run("UNLINK", "b") == int(1))
        #expect(h.run("TYPE", "c") == "+string\r\n")
        #expect(h.run("TYPE", "a") == "+none\r\n")
        #expect(h.run("DBSIZE") == int(1))
        #expect(h.run("FLUSHDB") == ok)
        #expect(h.run("DBSIZE") == int(0))
        #expect(h.run("FLUSHDB", "NOW") == syntaxError)
    }

    @Test func keysAndScan() {
        let h = Harness()
        for i in 0..<50 { h.run("SET", "user:\(i)", "x") }
        h.run("SET", "other", "y")
        let keys = h.run("KEYS", "user:1*")
        #expect(keys.hasPrefix("*11\r\n"))   // user:1 and user:10...user:19
        var seen = Set<String>()
        var cursor = "0"
        var calls = 0
        repeat {
            let reply = h.run("SCAN", cursor, "MATCH", "user:*", "COUNT", "7")
            var lines = reply.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first == "*2")
            cursor = lines[2]
            lines = Array(lines.dropFirst(4))
            for (i, line) in lines.enumerated() where i % 2 == 1 { seen.insert(line) }
            calls += 1
        } while cursor != "0" && calls < 100
        #expect(cursor == "0")
        #expect(seen.count == 50)
        #expect(!seen.contains("other"))
        #expect(h.run("SCAN", "abc") == err("ERR invalid cursor"))
        #expect(h.run("SCAN", "").hasPrefix("*2\r\n"))   // an empty cursor reads as 0, as strtoul does
        #expect(h.run("SCAN", "0", "COUNT", "0") == syntaxError)
        #expect(h.run("SCAN", "0", "FOO", "bar") == syntaxError)
    }

    @Test func randomkey() {
        let h = Harness()
        #expect(h.run("RANDOMKEY") == nullBulk)
        h.run("SET", "only", "x")
        #expect(h.run("RANDOMKEY") == bulk("only"))
    }

    @Test func swapdb() {
        let h = Harness()
        h.run("SET", "a", "0")
        #expect(h.run("SWAPDB", "0", "1") == ok)
        #expect(h.run("EXISTS", "a") == int(0))
        h.run("SELECT", "1")
        #expect(h.run("GET", "a") == bulk("0"))
        #expect(h.run("SWAPDB", "0", "16") == err("ERR DB index is out of range"))
        #expect(h.run("SWAPDB", "x", "1") == err("ERR invalid first DB index"))
        #expect(h.run("SWAPDB", "0", "y") == err("ERR invalid second DB index"))
    }

    @Test func objectEncoding() {
        let h = Harness()
        h.run("SET", "i", "123")
        #expect(h.run("OBJECT", "ENCODING", "i") == bulk("int"))
        h.run("SET", "s", "abc")
        #expect(h.run("OBJECT", "ENCODING", "s") == bulk("embstr"))
        h.run("SET", "l", String(repeating: "x", count: 45))
        #expect(h.run("OBJECT", "ENCODING", "l") == bulk("raw"))
        h.run("SET", "big", "12345678901234567890")
        #expect(h.run("OBJECT", "ENCODING", "big") == bulk("embstr"))
        h.run("SETRANGE", "s", "0", "x")
        #expect(h.run("OBJECT", "ENCODING", "s") == bulk("raw"))
        #expect(h.run("OBJECT", "ENCODING", "missing") == nullBulk)
        h.run("INCR", "c")
        #expect(h.run("OBJECT", "REFCOUNT", "c") == int(2147483647))
    }
}
