import AtollCommands
import AtollCore
import AtollRESP
import NIOCore
import Testing

/// Client numbers at the edges of their types: exact Redis errors, no arithmetic traps, and
/// replies past the writer's limit stopped rather than grown (see `ReplyWriter.limit`).
@Suite struct NumericEdgeTests {
    @Test func selectOutsideIntIsOutOfRange() {
        let h = Harness()
        #expect(h.run("SELECT", "2147483648") == err("ERR value is out of range, value must between -2147483648 and 2147483647"))
        #expect(h.run("SELECT", "-9223372036854775808") == err("ERR value is out of range, value must between -2147483648 and 2147483647"))
        #expect(h.run("SELECT", "9223372036854775808") == notInteger)
        #expect(h.run("SELECT", "16") == err("ERR DB index is out of range"))
    }

    @Test func getkeysWithMoreKeysThanArguments() {
        let h = Harness()
        let invalid = err("ERR Invalid arguments specified for command")
        // EVAL's keys are optional: a count that does not fit gets the empty reply, as in Redis;
        // Atoll must not trap on it.
        #expect(h.run("COMMAND", "GETKEYS", "EVAL", "s", "9223372036854775807", "k") == "*0\r\n")
        #expect(h.run("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "9223372036854775807", "a") == invalid)
        #expect(h.run("COMMAND", "GETKEYS", "EVAL", "s", "1", "k") == array(bulk("k")))
    }

    @Test func aScriptCallPastTheLimitIsAnError() {
        let h = Harness()
        h.run("SADD", "s", "a")
        let error = err("ERR The reply of the command called from script is too large")
        #expect(h.run("EVAL", "return redis.pcall('srandmember', 's', ARGV[1])", "0", "-4611686018427387904") == error)
        #expect(h.run("EVAL", "return redis.pcall('srandmember', 's', ARGV[1])", "0", "-2") == array(bulk("a"), bulk("a")))
        #expect(!h.ctx.out.overflowed)
    }

    @Test func aBatchStopsAtTheCommandThatOverflowed() {
        let h = Harness()
        h.run("SADD", "s", "a")
        var batch = CommandBatch()
        for command in [["SRANDMEMBER", "s", "-4611686018427387904"], ["SET", "after", "1"]] {
            batch.append(command.map { Array($0.utf8) })
        }
        h.ctx.out.buffer.clear()
        #expect(h.core.executeBatch(&h.ctx, &batch) == 1)
        #expect(h.ctx.out.overflowed)
        h.ctx.out.clearOverflow()
        #expect(h.run("EXISTS", "after") == int(0))
    }

    @Test func aTransactionRunsWholeAndOverflows() {
        let h = Harness()
        h.run("SADD", "s", "a")
        h.run("MULTI")
        h.run("SRANDMEMBER", "s", "-4611686018427387904")
        h.run("SET", "after", "1")
        h.run("EXEC")
        #expect(h.ctx.out.overflowed)
        h.ctx.out.clearOverflow()
        #expect(h.run("GET", "after") == bulk("1"))
    }
}
