import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollRESP
import Testing

/// The set type's commands (the SET string command is tested in StringCommandTests).
@Suite struct SetTypeCommandTests {
    let wrongType = err("WRONGTYPE Operation against a key holding the wrong kind of value")

    @Test func addRemoveAndMembership() {
        let h = Harness()
        #expect(h.run("SADD", "s", "a", "b", "a") == int(2))
        #expect(h.run("SADD", "s", "b", "c") == int(1))
        #expect(h.run("SCARD", "s") == int(3))
        #expect(h.run("SISMEMBER", "s", "a") == int(1))
        #expect(h.run("SISMEMBER", "s", "z") == int(0))
        #expect(h.run("SMISMEMBER", "s", "a", "z", "c") == array(int(1), int(0), int(1)))
        #expect(h.run("SMISMEMBER", "nokey", "a") == array(int(0)))
        #expect(h.run("SREM", "s", "a", "z") == int(1))
        #expect(h.run("SREM", "s", "b", "c") == int(2))
        #expect(h.run("EXISTS", "s") == int(0))
    }

    @Test func intsetsListAscending() {
        let h = Harness()
        h.run("SADD", "s", "10", "-5", "3", "0", "-9223372036854775808")
        #expect(h.run("SMEMBERS", "s") == array(bulk("-9223372036854775808"), bulk("-5"), bulk("0"), bulk("3"), bulk("10")))
        #expect(h.run("OBJECT", "ENCODING", "s") == bulk("intset"))
        #expect(h.run("SSCAN", "s", "77", "MATCH", "-*") == array(bulk("0"), array(bulk("-9223372036854775808"), bulk("-5"))))
    }

    @Test func encodingTransitions() {
        let h = Harness()
        h.run(["SADD", "s"] + (0..<512).map(String.init))
        #expect(h.run("OBJECT", "ENCODING", "s") == bulk("intset"))
        h.run("SADD", "s", "512")
        #expect(h.run("OBJECT", "ENCODING", "s") == bulk("hashtable"))
        h.run("SADD", "t", "1", "01")
        #expect(h.run("OBJECT", "ENCODING", "t") == bulk("hashtable"))
        h.run("SREM", "t", "01")
        #expect(h.run("OBJECT", "ENCODING", "t") == bulk("hashtable"))
        h.run("SADD", "u", "x")
        #expect(h.run("OBJECT", "ENCODING", "u") == bulk("hashtable"))
    }

    @Test func wrongTypes() {
        let h = Harness()
        h.run("SET", "str", "v")
        h.run("SADD", "s", "a")
        for command in [["SADD", "str", "a"], ["SMEMBERS", "str"], ["SPOP", "str"], ["SINTER", "s", "str"],
                        ["SUNION", "nokey", "str"], ["SMOVE", "s", "str", "a"], ["SSCAN", "str", "0"]] {
            #expect(h.run(command) == wrongType)
        }
        // A missing source makes SMOVE reply 0 before the destination's type is looked at.
        #expect(h.run("SMOVE", "nokey", "str", "a") == int(0))
        #expect(h.run("SINTER", "nokey", "str") == wrongType)
    }

    @Test func smove() {
        let h = Harness()
        h.run("SADD", "a", "1", "2")
        #expect(h.run("SMOVE", "a", "b", "1") == int(1))
        #expect(h.run("SMOVE", "a", "b", "9") == int(0))
        #expect(h.run("SMOVE", "a", "a", "2") == int(1))
        #expect(h.run("SMOVE", "a", "b", "2") == int(1))
        #expect(h.run("EXISTS", "a") == int(0))
        #expect(h.run("SMEMBERS", "b") == array(bulk("1"), bulk("2")))
        #expect(h.run("OBJECT", "ENCODING", "b") == bulk("intset"))
    }

    @Test func algebra() {
        let h = Harness()
        h.run("SADD", "a", "1", "2", "3", "4")
        h.run("SADD", "b", "3", "4", "5")
        #expect(h.run("SINTER", "a", "b") == array(bulk("3"), bulk("4")))
        #expect(h.run("SUNION", "a", "b") == array(bulk("1"), bulk("2"), bulk("3"), bulk("4"), bulk("5")))
        #expect(h.run("SDIFF", "a", "b") == array(bulk("1"), bulk("2")))
        #expect(h.run("SDIFF", "a", "a") == "*0\r\n")
        #expect(h.run("SINTER", "a", "nokey") == "*0\r\n")
        #expect(h.run("SINTERCARD", "2", "a", "b") == int(2))
        #expect(h.run("SINTERCARD", "2", "a", "b", "LIMIT", "1") == int(1))
        #expect(h.run("SINTERCARD", "0", "a") == err("ERR numkeys should be greater than 0"))
        #expect(h.run("SINTERCARD", "3", "a", "b") == err("ERR Number of keys can't be greater than number of args"))
        #expect(h.run("SINTERCARD", "1", "a", "LIMIT", "-1") == err("ERR LIMIT can't be negative"))
    }

    @Test func storeReplacesOrDeletes() {
        let h = Harness()
        h.run("SADD", "a", "1", "2")
        h.run("SET", "dest", "string")
        h.run("EXPIRE", "dest", "1000")
        #expect(h.run("SUNIONSTORE", "dest", "a", "nokey") == int(2))
        #expect(h.run("TYPE", "dest") == "+set\r\n")
        #expect(h.run("TTL", "dest") == int(-1))
        #expect(h.run("SINTERSTORE", "dest", "a", "nokey") == int(0))
        #expect(h.run("EXISTS", "dest") == int(0))
        h.run("HSET", "hash", "f", "v")
        #expect(h.run("SDIFFSTORE", "hash", "a") == int(2))
        #expect(h.run("SMEMBERS", "hash") == array(bulk("1"), bulk("2")))
    }

    @Test func spop() {
        let h = Harness()
        h.run("SADD", "s", "a", "b", "c", "d")
        let one = h.run("SPOP", "s")
        #expect(["a", "b", "c", "d"].map(bulk).contains(one))
        #expect(h.run("SCARD", "s") == int(3))
        let two = h.run("SPOP", "s", "2")
        #expect(two.hasPrefix("*2\r\n"))
        #expect(h.run("SCARD", "s") == int(1))
        #expect(h.run("SPOP", "s", "0") == "*0\r\n")
        #expect(h.run("SPOP", "s", "5").hasPrefix("*1\r\n"))
        #expect(h.run("EXISTS", "s") == int(0))
        #expect(h.run("SPOP", "s") == nullBulk)
        #expect(h.run("SPOP", "s", "-1") == err("ERR value is out of range, must be positive"))
        #expect(h.run("SPOP", "s", "1", "2") == syntaxError)
    }

    @Test func spopRebuildsTheRemainder() {
        let h = Harness()
        h.run(["SADD", "s"] + (0..<600).map(String.init))
        #expect(h.run("OBJECT", "ENCODING", "s") == bulk("hashtable"))
        #expect(h.run("SPOP", "s", "550").hasPrefix("*550\r\n"))
        #expect(h.run("SCARD", "s") == int(50))
        #expect(h.run("OBJECT", "ENCODING", "s") == bulk("intset"))
    }

    @Test func srandmember() {
        let h = Harness()
        h.run("SADD", "s", "3", "1", "2")
        #expect(h.run("SRANDMEMBER", "s", "3") == array(bulk("1"), bulk("2"), bulk("3")))
        #expect(h.run("SRANDMEMBER", "s", "-5").hasPrefix("*5\r\n"))
        let two = h.run("SRANDMEMBER", "s", "2")
        #expect(Set(two.split(separator: "\r\n").dropFirst().filter { !$0.hasPrefix("$") }).count == 2)
        #expect(h.run("SRANDMEMBER", "nokey", "2") == "*0\r\n")
        #expect(h.run("SRANDMEMBER", "s", "-9223372036854775808") == err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        #expect(h.run("SCARD", "s") == int(3))
    }

    @Test func repeatingPicksStopAtTheReplyLimit() {
        let h = Harness()
        h.run("SADD", "s", "a")
        h.ctx.out.limit = 1000
        let reply = h.run("SRANDMEMBER", "s", "-300")
        #expect(h.ctx.out.overflowed)
        #expect(reply.hasPrefix("*300\r\n$1\r\na\r\n") && reply.utf8.count < 1010)
        h.ctx.out.clearOverflow()
        #expect(h.run("SRANDMEMBER", "s", "-4611686018427387904").isEmpty && h.ctx.out.overflowed)
    }

    @Test func resp3Sets() {
        let h = Harness()
        h.run("HELLO", "3")
        h.run("SADD", "s", "1")
        #expect(h.run("SMEMBERS", "s") == "~1\r\n" + bulk("1"))
        #expect(h.run("SMEMBERS", "nokey") == "~0\r\n")
        #expect(h.run("SRANDMEMBER", "s", "1") == array(bulk("1")))
        #expect(h.run("SPOP", "s", "1") == "~1\r\n" + bulk("1"))
    }

    @Test func bigSetRandomPicksAreDistinct() {
        let h = Harness()
        h.run(["SADD", "s"] + (0..<2000).map { "m\($0)" })
        let reply = h.run("SRANDMEMBER", "s", "100")
        let members = reply.split(separator: "\r\n").filter { $0.hasPrefix("m") }
        #expect(members.count == 100)
        #expect(Set(members).count == 100)
        let popped = h.run("SPOP", "s", "1500").split(separator: "\r\n").filter { $0.hasPrefix("m") }
        #expect(Set(popped).count == 1500)
        #expect(h.run("SCARD", "s") == int(500))
    }
}
