import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollRESP
import NIOCore
import Testing

/// List commands in-process, and the blocking plumbing: parking, serving, timeouts.
@Suite struct ListCommandTests {
    /// Records what the server asks of a connection, in place of the NIO one.
    final class RecordingConnection: ClientConnection, @unchecked Sendable {
        var parkedUntil: [Int64] = []
        var replies: [String] = []
        func close() {}
        func send(_ bytes: [UInt8]) {}
        func blocked(until deadline: Int64) { parkedUntil.append(deadline) }
        func unblocked(reply: [UInt8]) { replies.append(String(decoding: reply, as: UTF8.self)) }
        func outboxReady() {}
    }

    /// A client with a recording connection, registered with a shared core (ids from 1).
    final class Client {
        let connection = RecordingConnection()
        let session: ClientSession
        var ctx: CommandContext
        init(_ core: ServerCore) {
            session = core.connect(address: "client", localAddress: "test", now: 0, connection: connection)!
            ctx = CommandContext(out: ReplyWriter(buffer: ByteBuffer()), client: session, server: core)
        }
        @discardableResult func run(_ words: String...) -> String {
            ctx.out.buffer.clear()
            ctx.args = words.map { Array($0.utf8) }
            ctx.server.execute(&ctx)
            return String(decoding: ctx.out.buffer.readableBytesView, as: UTF8.self)
        }
    }

    let nullArray = "*-1\r\n"

    @Test func pushesAndPopsKeepOrder() {
        let h = Harness()
        #expect(h.run("LPUSH", "k", "a", "b", "c") == int(3))
        #expect(h.run("RPUSH", "k", "z") == int(4))
        #expect(h.run("LRANGE", "k", "0", "-1") == array(bulk("c"), bulk("b"), bulk("a"), bulk("z")))
        #expect(h.run("RPOP", "k") == bulk("z"))
        #expect(h.run("LPOP", "k", "2") == array(bulk("c"), bulk("b")))
        #expect(h.run("RPOP", "k", "5") == array(bulk("a")))
        #expect(h.run("EXISTS", "k") == int(0))
        #expect(h.run("LPOP", "k") == nullBulk)
        #expect(h.run("LPOP", "k", "0") == nullArray)
    }

    @Test func pushxNeverCreatesAndWrongTypeIsChecked() {
        let h = Harness()
        #expect(h.run("LPUSHX", "k", "a") == int(0))
        #expect(h.run("EXISTS", "k") == int(0))
        h.run("SET", "s", "v")
        #expect(h.run("RPUSH", "s", "a") == err("WRONGTYPE Operation against a key holding the wrong kind of value"))
        #expect(h.run("LPOP", "k", "-1") == err("ERR value is out of range, must be positive"))
    }

    @Test func lrangeClampsIndexes() {
        let h = Harness()
        h.run("RPUSH", "k", "a", "b", "c", "d")
        #expect(h.run("LRANGE", "k", "-100", "1") == array(bulk("a"), bulk("b")))
        #expect(h.run("LRANGE", "k", "2", "100") == array(bulk("c"), bulk("d")))
        #expect(h.run("LRANGE", "k", "3", "1") == "*0\r\n")
        #expect(h.run("LRANGE", "k", "-9223372036854775808", "9223372036854775807") == array(bulk("a"), bulk("b"), bulk("c"), bulk("d")))
        #expect(h.run("LRANGE", "k", "x", "1") == notInteger)
    }

    @Test func indexesCountFromBothEnds() {
        let h = Harness()
        h.run("RPUSH", "k", "a", "b", "c")
        #expect(h.run("LINDEX", "k", "-1") == bulk("c"))
        #expect(h.run("LINDEX", "k", "3") == nullBulk)
        #expect(h.run("LSET", "k", "-3", "A") == ok)
        #expect(h.run("LSET", "k", "3", "x") == err("ERR index out of range"))
        #expect(h.run("LSET", "missing", "0", "x") == err("ERR no such key"))
        #expect(h.run("LINSERT", "k", "AFTER", "A", "a2") == int(4))
        #expect(h.run("LINSERT", "k", "BEFORE", "zz", "x") == int(-1))
        #expect(h.run("LRANGE", "k", "0", "-1") == array(bulk("A"), bulk("a2"), bulk("b"), bulk("c")))
    }

    @Test func lposRankCountAndMaxlen() {
        let h = Harness()
        h.run("RPUSH", "k", "a", "b", "a", "c", "a")
        #expect(h.run("LPOS", "k", "a") == int(0))
        #expect(h.run("LPOS", "k", "a", "RANK", "-1") == int(4))
        #expect(h.run("LPOS", "k", "a", "RANK", "2", "COUNT", "0") == array(int(2), int(4)))
        #expect(h.run("LPOS", "k", "a", "COUNT", "0", "MAXLEN", "3") == array(int(0), int(2)))
        #expect(h.run("LPOS", "k", "a", "RANK", "4") == nullBulk)
        // Redis 7.0 negates the rank in C: the minimum stays negative and takes every match.
        #expect(h.run("LPOS", "k", "a", "RANK", "-9223372036854775808", "COUNT", "1") == array(int(4), int(2), int(0)))
        #expect(h.run("LPOS", "k", "a", "RANK", "0").hasPrefix("-ERR RANK can't be zero"))
        #expect(h.run("LPOS", "k", "a", "COUNT", "-1") == err("ERR COUNT can't be negative"))
    }

    @Test func lremFromEitherEndAndLtrimToNothing() {
        let h = Harness()
        h.run("RPUSH", "k", "x", "a", "x", "b", "x")
        #expect(h.run("LREM", "k", "-2", "x") == int(2))
        #expect(h.run("LRANGE", "k", "0", "-1") == array(bulk("x"), bulk("a"), bulk("b")))
        #expect(h.run("LREM", "k", "1", "zz") == int(0))
        #expect(h.run("LREM", "k", "0", "x") == int(1))
        #expect(h.run("LTRIM", "k", "5", "10") == ok)
        #expect(h.run("EXISTS", "k") == int(0))
    }

    @Test func lmoveRotatesOneList() {
        let h = Harness()
        h.run("RPUSH", "k", "a", "b", "c")
        #expect(h.run("LMOVE", "k", "k", "LEFT", "RIGHT") == bulk("a"))
        #expect(h.run("RPOPLPUSH", "k", "k") == bulk("a"))
        #expect(h.run("LRANGE", "k", "0", "-1") == array(bulk("a"), bulk("b"), bulk("c")))
        h.run("RPUSH", "one", "x")
        #expect(h.run("LMOVE", "one", "one", "RIGHT", "LEFT") == bulk("x"))
        #expect(h.run("LLEN", "one") == int(1))
        h.run("SET", "s", "v")
        #expect(h.run("LMOVE", "k", "s", "LEFT", "LEFT").hasPrefix("-WRONGTYPE"))
        #expect(h.run("LLEN", "k") == int(3))
        #expect(h.run("LMOVE", "k", "d", "UP", "LEFT") == syntaxError)
    }

    @Test func lmpopTakesTheFirstNonEmptyKey() {
        let h = Harness()
        h.run("RPUSH", "b", "1", "2", "3")
        #expect(h.run("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2") == array(bulk("b"), array(bulk("3"), bulk("2"))))
        #expect(h.run("LMPOP", "1", "a", "LEFT") == nullArray)
        #expect(h.run("LMPOP", "0", "a", "LEFT") == err("ERR numkeys should be greater than 0"))
        #expect(h.run("LMPOP", "2", "a", "LEFT") == syntaxError)
        #expect(h.run("LMPOP", "1", "b", "LEFT", "COUNT", "0") == err("ERR count should be greater than 0"))
    }

    @Test func blockingCommandsInsideMultiReplyAtOnce() {
        let h = Harness()
        h.run("MULTI")
        h.run("BLPOP", "q", "0")
        h.run("BLMOVE", "q", "d", "LEFT", "RIGHT", "0")
        h.run("BLMPOP", "0", "1", "q", "LEFT")
        #expect(h.run("EXEC") == array(nullArray, nullBulk, nullArray))
        #expect(h.client.blocked == nil)
        #expect(h.core.blocking.blockedClients == 0)
    }

    @Test func blockingPopWithoutDataParksTheClient() {
        let h = Harness()
        #expect(h.run("BLPOP", "q", "0") == "")
        #expect(h.ctx.blockRequested)
        #expect(h.client.blocked?.keys == [Bytes(Array("q".utf8))])
        #expect(h.client.blocked?.deadline == 0)
        #expect(h.core.blocking.blockedClients == 1)
        #expect(h.core.blocking.clientsWithTimeout == 0)
    }

    @Test func timeoutArgumentFollowsRedis() {
        let h = Harness()
        #expect(h.run("BLPOP", "q", "-1") == err("ERR timeout is negative"))
        #expect(h.run("BLPOP", "q", "inf") == err("ERR timeout is negative"))
        #expect(h.run("BLPOP", "q", "1e20") == err("ERR timeout is negative"))
        #expect(h.run("BLPOP", "q", "nan") == err("ERR timeout is not a float or out of range"))
        #expect(h.run("BLPOP", "q", " 1") == err("ERR timeout is not a float or out of range"))
        // 0.0001 s rounds up to 1 ms; -0.0001 s rounds up to 0, which waits for ever.
        #expect(h.run("BLPOP", "q", "0.0001") == "")
        #expect(h.client.blocked.map { $0.deadline - h.ctx.now } == 1)
    }

    @Test func aWaiterIsServedFromTheKeyThatWokeIt() {
        let core = ServerCore(config: ServerConfiguration())
        let waiter = Client(core), pusher = Client(core)
        #expect(waiter.run("BLPOP", "a", "b", "5") == "")
        #expect(waiter.connection.parkedUntil.count == 1)
        #expect(core.blocking.clientsWithTimeout == 1)
        pusher.run("MULTI")
        pusher.run("RPUSH", "b", "x")
        pusher.run("RPUSH", "a", "y")
        #expect(waiter.connection.replies.isEmpty)
        #expect(pusher.run("EXEC") == array(int(1), int(1)))
        #expect(waiter.connection.replies == [array(bulk("b"), bulk("x"))])
        #expect(waiter.session.blocked == nil)
        #expect(pusher.run("LRANGE", "a", "0", "-1") == array(bulk("y")))
        #expect(core.blocking.clientsWithTimeout == 0)
    }

    @Test func timeoutsAndUnblockReleaseWithTheNullArray() {
        let core = ServerCore(config: ServerConfiguration())
        let waiter = Client(core), other = Client(core)
        waiter.run("BRPOPLPUSH", "q", "d", "10")
        let deadline = waiter.session.blocked!.deadline
        #expect(core.blockTimedOut(waiter.session, now: deadline - 1) == deadline)
        #expect(waiter.connection.replies.isEmpty)
        #expect(core.blockTimedOut(waiter.session, now: deadline) == nil)
        #expect(waiter.connection.replies == [nullArray])
        waiter.run("BLMOVE", "q", "d", "LEFT", "LEFT", "0")
        let id = String(waiter.session.id)
        #expect(other.run("CLIENT", "UNBLOCK", id, "ERROR") == int(1))
        #expect(other.run("CLIENT", "UNBLOCK", id) == int(0))
        #expect(waiter.connection.replies.last == err("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
        #expect(core.blocking.blockedClients == 0)
    }

    @Test func clientReplySkipDropsTheReplyGivenOnRelease() {
        let core = ServerCore(config: ServerConfiguration())
        let waiter = Client(core), pusher = Client(core)
        waiter.run("CLIENT", "REPLY", "SKIP")
        #expect(waiter.run("BLPOP", "q", "0") == "")
        pusher.run("RPUSH", "q", "a", "b")
        #expect(waiter.connection.replies == [""])
        #expect(waiter.run("LPOP", "q") == bulk("b"))
    }
}
