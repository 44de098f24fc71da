import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollRESP
import NIOCore
import Testing

@Suite struct SortedSetCommandTests {
    @Test func addScoreAndRangeWithScores() {
        let h = Harness()
        #expect(h.run("ZADD", "z", "1.1", "a", "2", "b", "-inf", "c") == int(3))
        #expect(h.run("ZSCORE", "z", "a") == bulk("1.1000000000000001"))
        #expect(h.run("ZRANGE", "z", "0", "-1", "WITHSCORES")
            == array(bulk("c"), bulk("-inf"), bulk("a"), bulk("1.1000000000000001"), bulk("b"), bulk("2")))
        #expect(h.run("ZRANGE", "z", "0", "0", "REV") == array(bulk("b")))
        #expect(h.run("ZRANK", "z", "b") == int(2))
        #expect(h.run("ZREVRANK", "z", "b") == int(0))
        #expect(h.run("OBJECT", "ENCODING", "z") == bulk("listpack"))
    }

    @Test func addOptionErrors() {
        let h = Harness()
        #expect(h.run("ZADD", "z", "NX", "XX", "1", "a") == err("ERR XX and NX options at the same time are not compatible"))
        #expect(h.run("ZADD", "z", "GT", "LT", "1", "a") == err("ERR GT, LT, and/or NX options at the same time are not compatible"))
        #expect(h.run("ZADD", "z", "INCR", "1", "a", "2", "b") == err("ERR INCR option supports a single increment-element pair"))
        #expect(h.run("ZADD", "z", "nan", "a") == notFloat)
        #expect(h.run("ZADD", "z", "1") == err("ERR wrong number of arguments for 'zadd' command"))
        #expect(h.run("EXISTS", "z") == int(0))
        h.run("ZADD", "z", "inf", "a")
        #expect(h.run("ZINCRBY", "z", "-inf", "a") == err("ERR resulting score is not a number (NaN)"))
    }

    @Test func randomMemberCountsAtTheWithScoresBound() {
        let h = Harness()
        h.run("ZADD", "z", "1", "a")
        // Redis's bound is ±LONG_MAX/2: -2^62 is one past it (doubling it would overflow).
        #expect(h.run("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES") == err("ERR value is out of range"))
        #expect(h.run("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES") == err("ERR value is out of range"))
        #expect(h.run("ZRANDMEMBER", "z", "-9223372036854775808")
            == err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"))
        #expect(h.run("ZRANDMEMBER", "z", "4611686018427387903", "WITHSCORES") == array(bulk("a"), bulk("1")))
    }

    @Test func repeatingRandomMembersStopAtTheReplyLimit() {
        let h = Harness()
        h.run("ZADD", "z", "1", "a")
        h.ctx.out.limit = 1000
        // Past the bound the header alone cannot fit: nothing is written.
        h.run("ZRANDMEMBER", "z", "-4611686018427387903", "WITHSCORES")
        #expect(h.ctx.out.overflowed && h.ctx.out.buffer.readableBytes == 0)
        h.ctx.out.clearOverflow()
        // 100 pairs fit their header, not their elements: the loop stops at the limit.
        let reply = h.run("ZRANDMEMBER", "z", "-100", "WITHSCORES")
        #expect(h.ctx.out.overflowed)
        #expect(reply.hasPrefix("*200\r\n$1\r\na\r\n$1\r\n1\r\n") && reply.utf8.count < 1100)
    }

    @Test func negativeZeroIsStoredAsZeroWhileCompact() {
        let h = Harness()
        h.run("ZADD", "z", "-0", "m")
        #expect(h.run("ZSCORE", "z", "m") == bulk("0"))
        h.run("CONFIG", "SET", "zset-max-listpack-entries", "0")
        h.run("ZADD", "big", "-0", "m")
        #expect(h.run("ZSCORE", "big", "m") == bulk("-0"))
        #expect(h.run("OBJECT", "ENCODING", "big") == bulk("skiplist"))
    }

    @Test func scoreAndLexRanges() {
        let h = Harness()
        h.run("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
        #expect(h.run("ZRANGEBYSCORE", "z", "(1", "3") == array(bulk("b"), bulk("c")))
        #expect(h.run("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2") == array(bulk("c"), bulk("b")))
        #expect(h.run("ZCOUNT", "z", "x", "1") == err("ERR min or max is not a float"))
        h.run("ZADD", "l", "0", "a", "0", "b", "0", "c")
        #expect(h.run("ZRANGEBYLEX", "l", "(a", "+") == array(bulk("b"), bulk("c")))
        #expect(h.run("ZLEXCOUNT", "l", "a", "+") == err("ERR min or max not valid string range item"))
        #expect(h.run("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1")
            == err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"))
        #expect(h.run("ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES")
            == err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"))
    }

    @Test func popsAndRemovalDeleteTheEmptyKey() {
        let h = Harness()
        h.run("ZADD", "z", "1", "a", "2", "b", "3", "c")
        #expect(h.run("ZPOPMAX", "z", "2") == array(bulk("c"), bulk("3"), bulk("b"), bulk("2")))
        #expect(h.run("ZMPOP", "1", "z", "MIN") == array(bulk("z"), array(array(bulk("a"), bulk("1")))))
        #expect(h.run("EXISTS", "z") == int(0))
        #expect(h.run("ZPOPMIN", "z") == "*0\r\n")
        #expect(h.run("ZMPOP", "1", "z", "MIN") == "*-1\r\n")
    }

    @Test func blockingPopInsideMultiRepliesAtOnce() {
        let h = Harness()
        h.run("MULTI")
        h.run("BZPOPMIN", "nothing", "0")
        #expect(h.run("EXEC") == array("*-1\r\n"))
    }

    @Test func setsCountAsScoreOneInUnions() {
        let h = Harness()
        h.run("SADD", "s", "a", "x")
        h.run("ZADD", "z", "5", "a", "7", "b")
        #expect(h.run("ZUNION", "2", "z", "s", "WEIGHTS", "2", "3", "WITHSCORES")
            == array(bulk("x"), bulk("3"), bulk("a"), bulk("13"), bulk("b"), bulk("14")))
        #expect(h.run("ZINTERSTORE", "d", "2", "z", "s", "AGGREGATE", "MIN") == int(1))
        #expect(h.run("ZRANGE", "d", "0", "-1", "WITHSCORES") == array(bulk("a"), bulk("1")))
        #expect(h.run("ZDIFF", "2", "z", "s") == array(bulk("b")))
        #expect(h.run("ZINTERCARD", "2", "z", "s") == int(1))
        #expect(h.run("ZUNIONSTORE", "d", "0", "z") == err("ERR at least 1 input key is needed for 'zunionstore' command"))
        #expect(h.run("ZUNION", "2", "z", "s", "WEIGHTS", "1", "x") == err("ERR weight value is not a float"))
        #expect(h.run("ZINTERSTORE", "d", "2", "z", "missing") == int(0))
        #expect(h.run("EXISTS", "d") == int(0))
    }

    @Test func zscanOfACompactSetIsOneOrderedPage() {
        let h = Harness()
        h.run("ZADD", "z", "2", "b", "1", "a", "1e18", "c")
        #expect(h.run("ZSCAN", "z", "0")
            == array(bulk("0"), array(bulk("a"), bulk("1"), bulk("b"), bulk("2"), bulk("c"), bulk("1000000000000000000"))))
    }
}
