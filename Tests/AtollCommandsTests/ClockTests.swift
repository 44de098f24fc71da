import AtollCore
import Testing

/// Time-based behaviour driven by a `ManualClock`: no sleeping, exact boundaries.
@Suite struct ClockTests {
    @Test func keysExpireExactlyAfterTheirDeadline() {
        let clock = ManualClock(millis: 1_000_000)
        let h = Harness(clock: clock)
        #expect(h.run("SET", "k", "v", "PX", "100") == "+OK\r\n")
        #expect(h.run("PTTL", "k") == int(100))
        clock.advance(byMillis: 60)
        #expect(h.run("PTTL", "k") == int(40))
        clock.advance(byMillis: 40)
        // At the deadline the key is still there; Redis expires it strictly after.
        #expect(h.run("GET", "k") == bulk("v"))
        #expect(h.run("PTTL", "k") == int(0))
        clock.advance(byMillis: 1)
        #expect(h.run("GET", "k") == "$-1\r\n")
        #expect(h.run("EXISTS", "k") == int(0))
    }

    @Test func absoluteExpiryTimesAreReadFromTheClock() {
        let clock = ManualClock(millis: 5_000_000)
        let h = Harness(clock: clock)
        h.run("SET", "k", "v")
        #expect(h.run("PEXPIREAT", "k", "5000500") == int(1))
        #expect(h.run("PEXPIRETIME", "k") == int(5_000_500))
        #expect(h.run("TTL", "k") == int(1))
        clock.set(millis: 5_000_501)
        #expect(h.run("TTL", "k") == int(-2))
        h.run("SET", "past", "v")
        #expect(h.run("PEXPIREAT", "past", "5000000") == int(1))
        #expect(h.run("EXISTS", "past") == int(0))
    }

    @Test func lastsaveStartsAtTheClocksTime() {
        let h = Harness(clock: ManualClock(millis: 1_234_567_000))
        #expect(h.run("LASTSAVE") == int(1_234_567))
    }
}
