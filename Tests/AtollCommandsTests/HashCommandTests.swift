import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollRESP
import Testing

@Suite struct HashCommandTests {
    @Test func setGetAndCount() {
        let h = Harness()
        #expect(h.run("HSET", "h", "a", "1", "b", "2") == int(2))
        #expect(h.run("HSET", "h", "a", "3", "c", "4") == int(1))
        #expect(h.run("HGET", "h", "a") == bulk("3"))
        #expect(h.run("HGET", "h", "zz") == nullBulk)
        #expect(h.run("HGET", "nokey", "a") == nullBulk)
        #expect(h.run("HLEN", "h") == int(3))
        #expect(h.run("HMGET", "h", "a", "zz", "c") == array(bulk("3"), nullBulk, bulk("4")))
        #expect(h.run("HMSET", "h", "d", "5") == ok)
        #expect(h.run("HSETNX", "h", "d", "6") == int(0))
        #expect(h.run("HSETNX", "h", "e", "6") == int(1))
        #expect(h.run("HEXISTS", "h", "e") == int(1))
        #expect(h.run("HSTRLEN", "h", "e") == int(1))
    }

    /// HSET creating a hash makes its block big enough for the pairs given, unless the hash
    /// will convert (a long value, too many fields): then no room is kept that stays unused.
    @Test func creationSizesTheBlockOnlyForACompactHash() {
        let h = Harness()
        h.run("HSET", "small", "field1", "value1", "field2", "value2")
        guard case .hash(let small)? = h.db.peek(Bytes(Array("small".utf8)), now: 0)?.value else {
            Issue.record("no hash")
            return
        }
        #expect(small.compact && small.capacity >= 28 && small.capacity < 64)
        h.run("HSET", "long", "f", String(repeating: "v", count: 100_000))
        guard case .hash(let long)? = h.db.peek(Bytes(Array("long".utf8)), now: 0)?.value else {
            Issue.record("no hash")
            return
        }
        #expect(!long.compact && long.capacity < 64)
        #expect(h.run("HSTRLEN", "long", "f") == int(100_000))
    }

    @Test func smallHashesKeepInsertionOrder() {
        let h = Harness()
        h.run("HSET", "h", "z", "1", "a", "2", "m", "3")
        h.run("HDEL", "h", "a")
        h.run("HSET", "h", "b", "4", "z", "5")
        #expect(h.run("HKEYS", "h") == array(bulk("z"), bulk("m"), bulk("b")))
        #expect(h.run("HVALS", "h") == array(bulk("5"), bulk("3"), bulk("4")))
        #expect(h.run("HGETALL", "h") == array(bulk("z"), bulk("5"), bulk("m"), bulk("3"), bulk("b"), bulk("4")))
    }

    @Test func oddArgumentsAreAnArityError() {
        let h = Harness()
        #expect(h.run("HSET", "h", "f", "v", "g") == err("ERR wrong number of arguments for 'hset' command"))
        #expect(h.run("HMSET", "h", "f", "v", "g") == err("ERR wrong number of arguments for 'hmset' command"))
        #expect(h.run("EXISTS", "h") == int(0))
    }

    @Test func lastHdelDeletesTheKey() {
        let h = Harness()
        h.run("HSET", "h", "a", "1", "b", "2")
        #expect(h.run("HDEL", "h", "a", "zz") == int(1))
        #expect(h.run("HDEL", "h", "b", "b") == int(1))
        #expect(h.run("EXISTS", "h") == int(0))
        #expect(h.run("HDEL", "h", "b") == int(0))
    }

    @Test func wrongType() {
        let h = Harness()
        h.run("SET", "s", "v")
        let wrongType = err("WRONGTYPE Operation against a key holding the wrong kind of value")
        for command in [["HSET", "s", "f", "v"], ["HGET", "s", "f"], ["HGETALL", "s"], ["HDEL", "s", "f"],
                        ["HINCRBY", "s", "f", "1"], ["HRANDFIELD", "s"], ["HSCAN", "s", "0"]] {
            #expect(h.run(command) == wrongType)
        }
        #expect(h.run("GET", "s") == bulk("v"))
    }

    @Test func hincrby() {
        let h = Harness()
        #expect(h.run("HINCRBY", "h", "n", "5") == int(5))
        #expect(h.run("HINCRBY", "h", "n", "-7") == int(-2))
        h.run("HSET", "h", "max", "9223372036854775807", "s", "abc")
        #expect(h.run("HINCRBY", "h", "max", "1") == err("ERR increment or decrement would overflow"))
        #expect(h.run("HINCRBY", "h", "s", "1") == err("ERR hash value is not an integer"))
        #expect(h.run("HINCRBY", "h", "n", "x") == notInteger)
        #expect(h.run("HINCRBY", "new", "n", "x") == notInteger)
        #expect(h.run("EXISTS", "new") == int(0))
    }

    @Test func hincrbyfloat() {
        let h = Harness()
        #expect(h.run("HINCRBYFLOAT", "h", "f", "1.5") == bulk("1.5"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "0.1") == bulk("1.6"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "-1.6") == bulk("0"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "1e3") == bulk("1000"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "inf") == err("ERR value is NaN or Infinity"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "abc") == notFloat)
        h.run("HSET", "h", "s", "abc", "big", "1.1e4932")
        #expect(h.run("HINCRBYFLOAT", "h", "s", "1") == err("ERR hash value is not a float"))
        #expect(h.run("HINCRBYFLOAT", "h", "big", "1.1e4932") == err("ERR increment would produce NaN or Infinity"))
        #expect(h.run("HINCRBYFLOAT", "new", "f", "inf") == err("ERR value is NaN or Infinity"))
        #expect(h.run("EXISTS", "new") == int(0))
    }

    @Test func encodingThresholds() {
        let h = Harness()
        h.run(["HSET", "h"] + (0..<512).flatMap { ["f\($0)", "v"] })
        #expect(h.run("OBJECT", "ENCODING", "h") == bulk("listpack"))
        h.run("HSET", "h", "one-more", "v")
        #expect(h.run("OBJECT", "ENCODING", "h") == bulk("hashtable"))
        h.run("HSET", "v", "f", String(repeating: "x", count: 64))
        #expect(h.run("OBJECT", "ENCODING", "v") == bulk("listpack"))
        h.run("HSET", "v", "g", String(repeating: "x", count: 65))
        #expect(h.run("OBJECT", "ENCODING", "v") == bulk("hashtable"))
        h.run("HSET", "n", "f", "v")
        #expect(h.run("HSETNX", "n", "f", String(repeating: "x", count: 65)) == int(0))
        #expect(h.run("OBJECT", "ENCODING", "n") == bulk("listpack"))
        h.run("HINCRBYFLOAT", "r", "f", "1e100")
        #expect(h.run("OBJECT", "ENCODING", "r") == bulk("hashtable"))
    }

    @Test func hrandfield() {
        let h = Harness()
        #expect(h.run("HRANDFIELD", "nokey") == nullBulk)
        #expect(h.run("HRANDFIELD", "nokey", "3") == "*0\r\n")
        h.run("HSET", "h", "a", "1", "b", "2", "c", "3")
        #expect(["a", "b", "c"].map(bulk).contains(h.run("HRANDFIELD", "h")))
        #expect(h.run("HRANDFIELD", "h", "5", "WITHVALUES") == array(bulk("a"), bulk("1"), bulk("b"), bulk("2"), bulk("c"), bulk("3")))
        #expect(h.run("HRANDFIELD", "h", "-7").hasPrefix("*7\r\n"))
        let two = h.run("HRANDFIELD", "h", "2")
        #expect(two.hasPrefix("*2\r\n"))
        #expect(Set(two.split(separator: "\r\n").filter { ["a", "b", "c"].contains($0) }).count == 2)
        #expect(h.run("HRANDFIELD", "h", "1", "WITHVALUE") == syntaxError)
        #expect(h.run("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES") == err("ERR value is out of range"))
        #expect(h.run("HRANDFIELD", "h", "-9223372036854775808") == err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        h.run("HELLO", "3")
        #expect(h.run("HRANDFIELD", "h", "1", "WITHVALUES").hasPrefix("*1\r\n*2\r\n"))
    }

    @Test func repeatingFieldsStopAtTheReplyLimit() {
        let h = Harness()
        h.run("HSET", "h", "f", "v")
        h.ctx.out.limit = 1000
        let reply = h.run("HRANDFIELD", "h", "-100", "WITHVALUES")
        #expect(h.ctx.out.overflowed)
        #expect(reply.hasPrefix("*200\r\n$1\r\nf\r\n$1\r\nv\r\n") && reply.utf8.count < 1010)
        h.ctx.out.clearOverflow()
        #expect(h.run("HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES").isEmpty && h.ctx.out.overflowed)
    }

    @Test func hscan() {
        let h = Harness()
        h.run("HSET", "h", "a", "1", "b", "2", "ab", "3")
        #expect(h.run("HSCAN", "h", "0") == array(bulk("0"), array(bulk("a"), bulk("1"), bulk("b"), bulk("2"), bulk("ab"), bulk("3"))))
        #expect(h.run("HSCAN", "h", "0", "MATCH", "a*", "COUNT", "1") == array(bulk("0"), array(bulk("a"), bulk("1"), bulk("ab"), bulk("3"))))
        #expect(h.run("HSCAN", "h", "x") == err("ERR invalid cursor"))
        #expect(h.run("HSCAN", "h", "0", "TYPE", "hash") == syntaxError)
        #expect(h.run("HSCAN", "nokey", "0", "FOO") == array(bulk("0"), "*0\r\n"))
        // A hash table is scanned slot by slot; a full iteration sees every field once.
        h.run(["HSET", "big"] + (0..<600).flatMap { ["f\($0)", "v"] })
        var cursor = "0", seen = Set<String>(), calls = 0
        repeat {
            let reply = h.run("HSCAN", "big", cursor, "COUNT", "50")
            let lines = reply.split(separator: "\r\n").map(String.init)
            cursor = lines[2]
            seen.formUnion(lines.filter { $0.hasPrefix("f") })
            calls += 1
        } while cursor != "0" && calls < 1000
        #expect(seen.count == 600)
        #expect(calls > 1)
    }

    @Test func resp3Map() {
        let h = Harness()
        h.run("HELLO", "3")
        h.run("HSET", "h", "a", "1")
        #expect(h.run("HGETALL", "h") == "%1\r\n" + bulk("a") + bulk("1"))
        #expect(h.run("HGETALL", "nokey") == "%0\r\n")
        #expect(h.run("HGET", "h", "zz") == "_\r\n")
    }

    @Test func binarySafeFieldsAndValues() {
        let h = Harness()
        let field: [UInt8] = [0, 255, 13, 10], value: [UInt8] = [13, 10, 0]
        #expect(h.runBytes([Array("HSET".utf8), Array("h".utf8), field, value]) == Array(int(1).utf8))
        #expect(h.runBytes([Array("HGET".utf8), Array("h".utf8), field]) == Array("$3\r\n".utf8) + value + [13, 10])
        #expect(h.runBytes([Array("HEXISTS".utf8), Array("h".utf8), [0, 255]]) == Array(int(0).utf8))
    }
}
