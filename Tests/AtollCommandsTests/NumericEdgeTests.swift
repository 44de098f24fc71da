import AtollCommands
import Testing

/// Client numbers at the edges of their types: exact Redis errors, no arithmetic traps.
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
        // Redis answers *0 to the EVAL one (it casts the count to a C int); Atoll must not trap.
        #expect(h.run("COMMAND", "GETKEYS", "EVAL", "s", "9223372036854775807", "k") == invalid)
        #expect(h.run("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "9223372036854775807", "a") == invalid)
        #expect(h.run("COMMAND", "GETKEYS", "EVAL", "s", "1", "k") == array(bulk("k")))
    }
}
