import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollRESP
import NIOCore
import Testing

@Suite struct DispatchTests {
    @Test func unknownCommand() {
        let h = Harness()
        #expect(h.run("FOO") == err("ERR unknown command 'FOO', with args beginning with: "))
        #expect(h.run("FOO", "a", "b") == err("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "))
        #expect(h.run("foo", "'a'") == err("ERR unknown command 'foo', with args beginning with: ''a'' "))
    }

    @Test func unknownCommandTruncatesArguments() {
        let h = Harness()
        let x = String(repeating: "x", count: 200)
        #expect(h.run("FOO", x, "y") == err("ERR unknown command 'FOO', with args beginning with: '\(String(repeating: "x", count: 128))' "))
        let a = String(repeating: "a", count: 100), b = String(repeating: "b", count: 100)
        #expect(h.run("FOO", a, b, "c") == err("ERR unknown command 'FOO', with args beginning with: '\(a)' '\(String(repeating: "b", count: 25))' "))
    }

    @Test func unknownCommandTextIsSanitised() {
        let h = Harness()
        #expect(h.run("FOO\r\nX") == err("ERR unknown command 'FOO  X', with args beginning with: "))
        // C string semantics: a NUL ends the name and each argument.
        #expect(h.runBytes([[70, 0, 79, 79], [97, 0, 98]]) == Array(err("ERR unknown command 'F', with args beginning with: 'a' ").utf8))
    }

    @Test func arityErrors() {
        let h = Harness()
        #expect(h.run("GET") == err("ERR wrong number of arguments for 'get' command"))
        #expect(h.run("GET", "a", "b") == err("ERR wrong number of arguments for 'get' command"))
        #expect(h.run("SET") == err("ERR wrong number of arguments for 'set' command"))
        #expect(h.run("CONFIG", "GET") == err("ERR wrong number of arguments for 'config|get' command"))
        #expect(h.run("config", "get") == err("ERR wrong number of arguments for 'config|get' command"))
        #expect(h.run("CONFIG") == err("ERR wrong number of arguments for 'config' command"))
        #expect(h.run("OBJECT") == err("ERR wrong number of arguments for 'object' command"))
        #expect(h.run("PING", "a", "b") == err("ERR wrong number of arguments for 'ping' command"))
        #expect(h.run("client", "help", "x") == err("ERR wrong number of arguments for 'client|help' command"))
    }

    @Test func unknownSubcommand() {
        let h = Harness()
        #expect(h.run("CONFIG", "FOO") == err("ERR unknown subcommand 'FOO'. Try CONFIG HELP."))
        #expect(h.run("config", "foo", "bar") == err("ERR unknown subcommand 'foo'. Try CONFIG HELP."))
        #expect(h.run("CLIENT", "NOPE") == err("ERR unknown subcommand 'NOPE'. Try CLIENT HELP."))
        #expect(h.run("OBJECT", "FOO", "k") == err("ERR unknown subcommand 'FOO'. Try OBJECT HELP."))
        #expect(h.run("COMMAND", "FOO") == err("ERR unknown subcommand 'FOO'. Try COMMAND HELP."))
    }

    @Test func commandCountersMove() {
        let h = Harness()
        let before = h.core.stats.totalCommands
        h.run("PING")
        h.run("NOPE")
        // An unknown command is refused before it runs: Redis does not count it.
        #expect(h.core.stats.totalCommands == before + 1)
        h.run("SET", "a", "1")
        #expect(h.core.dirty >= 1)
    }
}

@Suite struct AuthenticationTests {
    private func locked() -> Harness {
        Harness(authenticated: false) { $0.requirePass = "secret" }
    }

    @Test func noauthBeforeAuth() {
        let h = locked()
        #expect(h.run("GET", "k") == err("NOAUTH Authentication required."))
        #expect(h.run("PING") == err("NOAUTH Authentication required."))
        #expect(h.run("CLIENT", "ID") == err("NOAUTH Authentication required."))
        // Unknown-command and arity errors come before the authentication check.
        #expect(h.run("FOO", "bar") == err("ERR unknown command 'FOO', with args beginning with: 'bar' "))
        #expect(h.run("GET") == err("ERR wrong number of arguments for 'get' command"))
        #expect(h.core.keyspace.databases[0].count == 0)
    }

    @Test func authWithPassword() {
        let h = locked()
        let wrongpass = err("WRONGPASS invalid username-password pair or user is disabled.")
        #expect(h.run("AUTH", "wrong") == wrongpass)
        #expect(h.run("AUTH", "default", "wrong") == wrongpass)
        #expect(h.run("AUTH", "bob", "secret") == wrongpass)
        #expect(h.run("AUTH", "a", "b", "c") == syntaxError)
        #expect(!h.client.authenticated)
        #expect(h.run("AUTH", "secret") == ok)
        #expect(h.client.authenticated)
        #expect(h.run("GET", "k") == nullBulk)
    }

    @Test func authWithUserAndPassword() {
        let h = locked()
        #expect(h.run("AUTH", "default", "secret") == ok)
        #expect(h.run("SET", "k", "v") == ok)
    }

    @Test func authWithoutConfiguredPassword() {
        let h = Harness()
        #expect(h.run("AUTH", "x") == err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"))
        // With no password the default user accepts any password in the two-argument form.
        #expect(h.run("AUTH", "default", "anything") == ok)
    }

    @Test func helloAuthenticates() {
        let h = locked()
        #expect(h.run("HELLO", "3", "AUTH", "default", "wrong") == err("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(!h.client.authenticated)
        let reply = h.run("HELLO", "3", "AUTH", "default", "secret")
        #expect(reply.hasPrefix("%7\r\n"))
        #expect(h.client.authenticated)
        #expect(h.run("GET", "k") == "_\r\n")
    }

    @Test
    func helloWithoutAuthText() {
        let h = locked()
        #expect(h.run("HELLO", "3") == err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"))
    }

    @Test func helloWithoutAuthIsRefused() {
        let h = locked()
        #expect(h.run("HELLO", "3").hasPrefix("-NOAUTH HELLO must be called with the client already authenticated"))
        #expect(!h.client.resp3)
    }
}

@Suite struct HelloTests {
    private func helloReply(proto: Int, id: Int = 1) -> String {
        let body = bulk("server") + bulk("redis") + bulk("version") + bulk("7.0.15") + bulk("proto") + int(Int64(proto))
            + bulk("id") + int(Int64(id)) + bulk("mode") + bulk("standalone") + bulk("role") + bulk("master")
            + bulk("modules") + "*0\r\n"
        return (proto == 3 ? "%7\r\n" : "*14\r\n") + body
    }

    @Test func hello3SwitchesToResp3() {
        let h = Harness()
        #expect(h.run("HELLO", "3") == helloReply(proto: 3))
        #expect(h.client.resp3)
        #expect(h.run("GET", "missing") == "_\r\n")
        #expect(h.run("SET", "k", "v") == ok)
        #expect(h.run("GET", "k") == bulk("v"))
        #expect(h.run("CONFIG", "GET", "hz") == "%1\r\n" + bulk("hz") + bulk("10"))
        #expect(h.run("HELLO", "2") == helloReply(proto: 2))
        #expect(!h.client.resp3)
        #expect(h.run("GET", "missing") == nullBulk)
        #expect(h.run("CONFIG", "GET", "hz") == array(bulk("hz"), bulk("10")))
    }

    @Test func helloWithoutVersionKeepsProtocol() {
        let h = Harness()
        #expect(h.run("HELLO") == helloReply(proto: 2))
        h.run("HELLO", "3")
        #expect(h.run("HELLO") == helloReply(proto: 3))
    }

    @Test func helloErrors() {
        let h = Harness()
        #expect(h.run("HELLO", "4") == err("NOPROTO unsupported protocol version"))
        #expect(h.run("HELLO", "1") == err("NOPROTO unsupported protocol version"))
        #expect(h.run("HELLO", "abc") == err("ERR Protocol version is not an integer or out of range"))
        #expect(h.run("HELLO", "3", "FOO") == err("ERR Syntax error in HELLO option 'FOO'"))
        #expect(h.run("HELLO", "3", "AUTH", "default") == err("ERR Syntax error in HELLO option 'AUTH'"))
        #expect(h.run("HELLO", "3", "SETNAME", "a", "b") == err("ERR Syntax error in HELLO option 'b'"))
        #expect(!h.client.resp3)
    }

    @Test func helloSetname() {
        let h = Harness()
        #expect(h.run("HELLO", "2", "SETNAME", "myname") == helloReply(proto: 2))
        #expect(h.run("CLIENT", "GETNAME") == bulk("myname"))
        #expect(h.run("HELLO", "3", "AUTH", "default", "x", "SETNAME", "n") == helloReply(proto: 3))
        #expect(h.run("CLIENT", "GETNAME") == bulk("n"))
    }

    @Test func resetGoesBackToResp2() {
        let h = Harness()
        h.run("HELLO", "3")
        h.run("SELECT", "2")
        #expect(h.run("RESET") == "+RESET\r\n")
        #expect(!h.client.resp3)
        #expect(h.client.db == 0)
        #expect(h.run("GET", "missing") == nullBulk)
    }
}

@Suite struct ClientReplyTests {
    @Test func offSuppressesReplies() {
        let h = Harness()
        #expect(h.run("CLIENT", "REPLY", "OFF") == "")
        #expect(h.run("SET", "k", "v") == "")
        #expect(h.run("PING") == "")
        #expect(h.run("CLIENT", "REPLY", "ON") == ok)
        #expect(h.run("GET", "k") == bulk("v"))        // the command still ran
    }

    @Test func skipSuppressesTheNextReplyOnly() {
        let h = Harness()
        #expect(h.run("CLIENT", "REPLY", "SKIP") == "")
        #expect(h.run("PING") == "")
        #expect(h.run("PING") == "+PONG\r\n")
        #expect(h.run("CLIENT", "REPLY", "FOO") == syntaxError)
    }

    @Test func skipWhileOffIsIgnored() {
        let h = Harness()
        h.run("CLIENT", "REPLY", "OFF")
        #expect(h.run("CLIENT", "REPLY", "SKIP") == "")
        #expect(h.run("PING") == "")
        #expect(h.run("CLIENT", "REPLY", "ON") == ok)
        #expect(h.run("PING") == "+PONG\r\n")
    }

    @Test
    func skipTwice() {
        // Redis 7.0: the second SKIP is itself skipped and arms the skip again, so the next
        // PING is silent too.
        let h = Harness()
        #expect(h.run("CLIENT", "REPLY", "SKIP") == "")
        #expect(h.run("CLIENT", "REPLY", "SKIP") == "")
        #expect(h.run("PING") == "")
        #expect(h.run("PING") == "+PONG\r\n")
    }

    @Test
    func rejectedCommandsAreSuppressedToo() {
        // Redis 7.0 suppresses every reply while OFF, errors from the dispatcher included, and a
        // rejected command consumes a pending SKIP.
        let h = Harness()
        h.run("CLIENT", "REPLY", "OFF")
        #expect(h.run("GET", "nope", "extra") == "")
        #expect(h.run("FOO") == "")
        #expect(h.run("CLIENT", "REPLY", "ON") == ok)
        #expect(h.run("CLIENT", "REPLY", "SKIP") == "")
        #expect(h.run("FOO") == "")
        #expect(h.run("PING") == "+PONG\r\n")
    }

    @Test func repliesWrittenBeforeAreKept() {
        // Suppression removes only what the suppressed command wrote.
        let h = Harness()
        h.ctx.out.buffer.clear()
        h.ctx.out.buffer.writeString("+EARLIER\r\n")
        h.ctx.args = [Array("CLIENT".utf8), Array("REPLY".utf8), Array("OFF".utf8)]
        h.core.execute(&h.ctx)
        h.ctx.args = [Array("PING".utf8)]
        h.core.execute(&h.ctx)
        #expect(String(decoding: h.ctx.out.buffer.readableBytesView, as: UTF8.self) == "+EARLIER\r\n")
    }
}

@Suite struct MiscConnectionTests {
    @Test func pingEchoSelect() {
        let h = Harness()
        #expect(h.run("PING") == "+PONG\r\n")
        #expect(h.run("PING", "hi") == bulk("hi"))
        #expect(h.run("ECHO", "hello") == bulk("hello"))
        #expect(h.run("SELECT", "15") == ok)
        #expect(h.client.db == 15)
        #expect(h.run("SELECT", "16") == err("ERR DB index is out of range"))
        #expect(h.run("SELECT", "x") == notInteger)
        #expect(h.client.db == 15)
    }

    @Test func clientNames() {
        let h = Harness()
        #expect(h.run("CLIENT", "GETNAME") == nullBulk)
        #expect(h.run("CLIENT", "SETNAME", "worker-1") == ok)
        #expect(h.run("CLIENT", "GETNAME") == bulk("worker-1"))
        #expect(h.run("CLIENT", "SETNAME", "has space") == err("ERR Client names cannot contain spaces, newlines or special characters."))
        #expect(h.run("CLIENT", "GETNAME") == bulk("worker-1"))
        #expect(h.run("CLIENT", "ID") == int(1))
    }

    @Test func quitAsksToClose() {
        let h = Harness()
        #expect(h.run("QUIT") == ok)
        #expect(h.client.closeAfterReply)
    }
}
