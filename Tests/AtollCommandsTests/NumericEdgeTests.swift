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
}
