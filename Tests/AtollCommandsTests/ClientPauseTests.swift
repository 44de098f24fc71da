import AtollCore
import AtollKeyspace
import Testing

/// CLIENT PAUSE in-process, on a `ManualClock`: the extension rules, the deadline, what WRITE
/// holds back, and expiry standing still.
@Suite struct ClientPauseTests {
    @Test func laterPausesOnlyExtendAndStrengthen() {
        let clock = ManualClock(millis: 1_000_000)
        let h = Harness(clock: clock)
        #expect(h.run("CLIENT", "PAUSE", "100", "WRITE") == ok)
        #expect(h.core.pauseMode == .write && h.core.pauseDeadline == 1_000_100)
        h.core.pauseClients(.all, until: 1_000_050)
        #expect(h.core.pauseMode == .all && h.core.pauseDeadline == 1_000_100)
        h.core.pauseClients(.write, until: 1_000_300)
        #expect(h.core.pauseMode == .all && h.core.pauseDeadline == 1_000_300)
        // Strictly after the deadline, as Redis compares.
        clock.set(millis: 1_000_300)
        #expect(h.core.checkPauseDeadline(now: clock.nowMillis()))
        clock.advance(byMillis: 1)
        #expect(!h.core.checkPauseDeadline(now: clock.nowMillis()))
        #expect(h.core.pauseMode == .off)
    }

    @Test func writePauseHoldsWritesAndEndsAtItsDeadline() {
        let clock = ManualClock(millis: 2_000_000)
        let h = Harness(clock: clock)
        #expect(h.run("SET", "k", "1") == ok)
        #expect(h.run("CLIENT", "PAUSE", "50", "WRITE") == ok)
        #expect(h.run("GET", "k") == bulk("1"))
        #expect(h.run("EVAL_RO", "return 1", "0") == int(1))
        // Held back: no reply, the client is postponed until the pause ends.
        #expect(h.run("INCR", "k") == "")
        #expect(h.client.paused && h.core.pausedClientCount == 1)
        clock.advance(byMillis: 51)
        h.core.checkPauseDeadline(now: clock.nowMillis())
        #expect(!h.client.paused && h.core.pausedClientCount == 0)
        #expect(h.run("INCR", "k") == int(2))
    }

    @Test func writePauseHoldsWhatMayReplicateAndExecWithWrites() {
        let h = Harness(clock: ManualClock(millis: 3_000_000))
        #expect(h.run("MULTI") == ok)
        #expect(h.run("SET", "k", "1") == "+QUEUED\r\n")
        #expect(h.run("CLIENT", "PAUSE", "1000", "WRITE") == "+QUEUED\r\n")
        #expect(h.run("EXEC") == array(ok, ok))
        for command in [["PFCOUNT", "h"], ["EVAL", "return 1", "0"], ["EVAL", "#!lua\nreturn 1", "0"]] {
            #expect(h.run(command) == "")
            h.core.unpauseClients()
            h.core.pauseClients(.write, until: 3_001_000)
        }
        #expect(h.run("EVAL", "#!lua flags=no-writes\nreturn 1", "0") == int(1))
        #expect(h.run("MULTI") == ok)
        #expect(h.run("GET", "k") == "+QUEUED\r\n")
        #expect(h.run("EXEC") == array(bulk("1")))
    }

    @Test func keysDoNotExpireWhilePaused() {
        let clock = ManualClock(millis: 4_000_000)
        let h = Harness(clock: clock)
        #expect(h.run("SET", "e", "v", "PX", "10") == ok)
        #expect(h.run("CLIENT", "PAUSE", "1000", "WRITE") == ok)
        clock.advance(byMillis: 20)
        #expect(h.run("GET", "e") == nullBulk)
        #expect(h.run("EXISTS", "e") == int(0))
        #expect(h.db.count == 1)
        h.core.unpauseClients()
        #expect(h.run("GET", "e") == nullBulk)
        #expect(h.db.count == 0)
    }
}
