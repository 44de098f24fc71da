import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollRESP
import NIOCore
import Testing

/// MULTI/EXEC/DISCARD/WATCH in-process: one server core, two clients.
@Suite struct TransactionTests {
    /// A second client on the same core.
    final class Other {
        let client = ClientSession(id: 2, authenticated: true, address: "other", localAddress: "test", now: 0, connection: nil)
        var ctx: CommandContext
        init(_ core: ServerCore) {
            ctx = CommandContext(out: ReplyWriter(buffer: ByteBuffer()), client: client, server: core)
        }
        @discardableResult func run(_ words: String...) -> String {
            ctx.out.buffer.clear()
            ctx.args = words.map { Array($0.utf8) }
            ctx.server.execute(&ctx)
            return String(decoding: ctx.out.buffer.readableBytesView, as: UTF8.self)
        }
    }

    @Test func queuesAndRunsInOrder() {
        let h = Harness()
        #expect(h.run("MULTI") == ok)
        #expect(h.run("SET", "a", "1") == "+QUEUED\r\n")
        #expect(h.run("INCR", "a") == "+QUEUED\r\n")
        #expect(h.run("GET", "a") == "+QUEUED\r\n")
        #expect(h.run("EXEC") == array(ok, int(2), bulk("2")))
        #expect(h.run("EXEC") == err("ERR EXEC without MULTI"))
    }

    @Test func queueTimeErrorsAbortAndRunTimeErrorsDoNot() {
        let h = Harness()
        h.run("MULTI")
        #expect(h.run("NOPE") == err("ERR unknown command 'NOPE', with args beginning with: "))
        #expect(h.run("SET", "x") == err("ERR wrong number of arguments for 'set' command"))
        h.run("SET", "b", "1")
        #expect(h.run("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
        #expect(h.run("EXISTS", "b") == int(0))
        h.run("SET", "s", "text")
        h.run("MULTI")
        h.run("INCR", "s")
        h.run("SET", "c", "1")
        #expect(h.run("EXEC") == array(err("ERR value is not an integer or out of range"), ok))
        #expect(h.run("GET", "c") == bulk("1"))
    }

    @Test func refusalsAndDiscard() {
        let h = Harness()
        #expect(h.run("DISCARD") == err("ERR DISCARD without MULTI"))
        h.run("MULTI")
        #expect(h.run("MULTI") == err("ERR MULTI calls can not be nested"))
        #expect(h.run("WATCH", "k") == err("ERR WATCH inside MULTI is not allowed"))
        h.run("SET", "k", "v")
        #expect(h.run("DISCARD") == ok)
        #expect(h.run("EXISTS", "k") == int(0))
    }

    @Test func watchedKeyWrittenByAnotherClientAborts() {
        let h = Harness()
        let other = Other(h.core)
        h.run("SET", "balance", "100")
        h.run("WATCH", "balance")
        other.run("SET", "balance", "100")   // same value still counts
        h.run("MULTI")
        h.run("SET", "balance", "50")
        #expect(h.run("EXEC") == "*-1\r\n")
        #expect(h.run("GET", "balance") == bulk("100"))
        // Watches are gone after EXEC: the next transaction commits.
        h.run("MULTI")
        h.run("SET", "balance", "50")
        #expect(h.run("EXEC") == array(ok))
    }

    @Test func untouchedWatchCommitsAndWritesThatDoNothingDoNotTouch() {
        let h = Harness()
        let other = Other(h.core)
        h.run("WATCH", "k")
        other.run("SET", "other", "1")
        other.run("DEL", "k")                  // k does not exist: nothing deleted
        other.run("SET", "k2", "1", "XX")      // not set
        h.run("MULTI")
        h.run("SET", "k", "1")
        #expect(h.run("EXEC") == array(ok))
    }

    @Test func watchIsPerDatabaseAndUnwatchClears() {
        let h = Harness()
        let other = Other(h.core)
        h.run("SELECT", "1")
        h.run("WATCH", "k")
        other.run("SET", "k", "db0")           // other client is in db 0
        h.run("MULTI")
        h.run("PING")
        #expect(h.run("EXEC") == array("+PONG\r\n"))
        h.run("WATCH", "k")
        other.run("SELECT", "1")
        other.run("SET", "k", "db1")
        #expect(h.run("UNWATCH") == ok)
        h.run("MULTI")
        h.run("PING")
        #expect(h.run("EXEC") == array("+PONG\r\n"))
    }

    @Test func watchedKeyThatExpiresAborts() {
        let h = Harness()
        h.run("SET", "lock", "1", "EX", "100")
        h.run("WATCH", "lock")
        // Let the key's time pass without sleeping.
        h.core.keyspace.databases[0].setExpiry(Bytes(Array("lock".utf8)), 1)
        h.run("MULTI")
        h.run("PING")
        #expect(h.run("EXEC") == "*-1\r\n")
    }

    @Test func flushdbTouchesOnlyExistingWatchedKeys() {
        let h = Harness()
        let other = Other(h.core)
        h.run("WATCH", "missing")
        other.run("SET", "unrelated", "1")
        other.run("FLUSHDB")
        h.run("MULTI")
        h.run("PING")
        #expect(h.run("EXEC") == array("+PONG\r\n"))
        h.run("SET", "present", "1")
        h.run("WATCH", "present")
        other.run("FLUSHDB")
        h.run("MULTI")
        h.run("PING")
        #expect(h.run("EXEC") == "*-1\r\n")
    }

    @Test func infoCountsTransactions() {
        let h = Harness()
        let other = Other(h.core)
        h.run("MULTI"); h.run("PING"); h.run("EXEC")
        h.run("MULTI"); h.run("NOPE"); h.run("EXEC")
        h.run("WATCH", "w"); other.run("SET", "w", "1"); h.run("MULTI"); h.run("EXEC")
        let info = h.run("INFO", "stats")
        #expect(info.contains("atoll_transactions_executed:1"))
        #expect(info.contains("atoll_transactions_execabort:1"))
        #expect(info.contains("atoll_transactions_aborted_by_watch:1"))
    }
}
