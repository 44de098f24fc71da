import AtollCore
import AtollServer
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - A blocking POSIX client with a deadline on every read

struct ClientError: Error, CustomStringConvertible {
    let description: String
}

/// A plain TCP socket to the server. Every read has a deadline, so no test can hang.
final class RawClient {
    private let fd: Int32
    private(set) var isClosed = false

    /// Connects to 127.0.0.1:`port`. The descriptor is stored only once connected: a failed
    /// connect closes it here, and `deinit` (which runs for a fully initialised object even
    /// when `init` throws) must not close that number a second time, when another thread may
    /// already have been given it.
    init(port: Int) throws {
        #if canImport(Darwin)
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #else
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw ClientError(description: "socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let e = errno
            close(fd)
            throw ClientError(description: "connect() failed: \(e)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    func transmit(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError(description: "send() failed: \(errno)")
            }
            offset += n
        }
    }

    func transmit(_ text: String) throws { try transmit(Array(text.utf8)) }

    /// Reads until `count` bytes arrived, the peer closed, or `timeout` passed.
    func read(count: Int, timeout: Duration = .seconds(10)) -> [UInt8] {
        var out: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while out.count < count && !isClosed {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, ms)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }   // timeout slice: the loop re-checks the deadline
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n > 0 {
                out += chunk[0..<n]
            } else if n == 0 {
                isClosed = true
            } else if errno != EINTR && errno != EAGAIN {
                isClosed = true
            }
        }
        return out
    }

    /// Reads exactly as many bytes as `expected` has and returns them as text.
    func read(like expected: String, timeout: Duration = .seconds(10)) -> String {
        String(decoding: read(count: expected.utf8.count, timeout: timeout), as: UTF8.self)
    }

    /// True when the server closes the connection (EOF) within `timeout`, reading and returning
    /// whatever came before the close.
    func waitForClose(timeout: Duration = .seconds(10)) -> (closed: Bool, extra: [UInt8]) {
        let extra = read(count: Int.max, timeout: timeout)
        return (isClosed, extra)
    }
}

// MARK: - Helpers

func resp(_ args: String...) -> String {
    var s = "*\(args.count)\r\n"
    for a in args { s += "$\(a.utf8.count)\r\n\(a)\r\n" }
    return s
}

func bulk(_ s: String) -> String { "$\(s.utf8.count)\r\n\(s)\r\n" }

/// Starts a server on a free port, runs `body`, and always stops it.
func withServer(_ configure: (inout ServerConfiguration) -> Void = { _ in },
                _ body: (AtollServer) throws -> Void) throws {
    var config = ServerConfiguration()
    config.port = 0
    config.ioThreads = 1
    config.logLevel = "warning"
    configure(&config)
    let server = AtollServer(configuration: config)
    try server.start()
    defer { server.stop() }
    try body(server)
}

// MARK: - Tests

@Suite struct ServerTests {
    @Test func startsOnAFreePort() throws {
        try withServer { server in
            #expect(server.port > 0)
            #expect(server.port != 6379)
        }
    }

    @Test func ping() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit(resp("PING"))
            #expect(c.read(like: "+PONG\r\n") == "+PONG\r\n")
            try c.transmit(resp("PING", "hello"))
            #expect(c.read(like: bulk("hello")) == bulk("hello"))
        }
    }

    @Test func pipelineOfOneHundredSetsAndGets() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            var request = ""
            var expected = ""
            for i in 0..<100 {
                request += resp("SET", "key:\(i)", "value-\(i)")
                request += resp("GET", "key:\(i)")
                expected += "+OK\r\n" + bulk("value-\(i)")
            }
            try c.transmit(request)
            let reply = c.read(like: expected)
            #expect(reply == expected)
            try c.transmit(resp("DBSIZE"))
            #expect(c.read(like: ":100\r\n") == ":100\r\n")
        }
    }

    @Test func inlineCommands() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit("PING\r\nSET a \"hello world\"\r\n\r\nGET a\nECHO 'x y'\r\n")
            let expected = "+PONG\r\n+OK\r\n" + bulk("hello world") + bulk("x y")
            #expect(c.read(like: expected) == expected)
        }
    }

    @Test func commandSplitAcrossWrites() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            let request = Array(resp("SET", "split", "a\r\nb").utf8) + Array("GET split\r\n".utf8)
            // A few bytes per write; the server must wait for the rest each time.
            var i = 0
            while i < request.count {
                try c.transmit(Array(request[i..<min(i + 3, request.count)]))
                i += 3
            }
            let expected = "+OK\r\n" + bulk("a\r\nb")
            #expect(c.read(like: expected) == expected)
        }
    }

    @Test func malformedRequestRepliesThenCloses() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit("*1\r\nx3\r\n")
            let expected = "-ERR Protocol error: expected '$', got 'x'\r\n"
            #expect(c.read(like: expected) == expected)
            let (closed, extra) = c.waitForClose()
            #expect(closed)
            #expect(extra.isEmpty)
        }
    }

    @Test func commandsBeforeAProtocolErrorStillRun() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit(resp("SET", "k", "v") + "PING\r\n*abc\r\n" + resp("SET", "k", "never"))
            let expected = "+OK\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"
            #expect(c.read(like: expected) == expected)
            #expect(c.waitForClose().closed)
            // The command after the bad one was never run.
            let d = try RawClient(port: server.port)
            try d.transmit(resp("GET", "k"))
            #expect(d.read(like: bulk("v")) == bulk("v"))
        }
    }

    @Test func otherProtocolErrors() throws {
        let cases: [(String, String)] = [
            ("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
            ("*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
            ("SET \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ]
        try withServer { server in
            for (request, expected) in cases {
                let c = try RawClient(port: server.port)
                try c.transmit(request)
                #expect(c.read(like: expected) == expected, "\(request.debugDescription)")
                #expect(c.waitForClose().closed, "\(request.debugDescription)")
            }
        }
    }

    @Test func tooBigInlineRequestCloses() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit(String(repeating: "a", count: 70 * 1024))
            let expected = "-ERR Protocol error: too big inline request\r\n"
            #expect(c.read(like: expected) == expected)
            #expect(c.waitForClose().closed)
        }
    }

    @Test func largeValueRoundTrip() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            var value = [UInt8](repeating: 0, count: 1 << 20)
            for i in value.indices { value[i] = UInt8(truncatingIfNeeded: i &* 31) }
            var request = Array("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$\(value.count)\r\n".utf8) + value + [13, 10]
            request += Array(resp("GET", "big").utf8)
            try c.transmit(request)
            let expected = Array("+OK\r\n$\(value.count)\r\n".utf8) + value + [13, 10]
            let reply = c.read(count: expected.count)
            #expect(reply.count == expected.count)
            #expect(reply == expected)
        }
    }

    @Test func quitRepliesThenCloses() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit(resp("QUIT") + resp("PING"))
            #expect(c.read(like: "+OK\r\n") == "+OK\r\n")
            let (closed, extra) = c.waitForClose()
            #expect(closed)
            #expect(extra.isEmpty)   // nothing after QUIT is answered
        }
    }

    @Test func clientsShareTheKeyspace() throws {
        try withServer { server in
            let a = try RawClient(port: server.port)
            let b = try RawClient(port: server.port)
            try a.transmit(resp("SET", "shared", "1"))
            #expect(a.read(like: "+OK\r\n") == "+OK\r\n")
            try b.transmit(resp("INCR", "shared"))
            #expect(b.read(like: ":2\r\n") == ":2\r\n")
            try a.transmit(resp("GET", "shared"))
            #expect(a.read(like: bulk("2")) == bulk("2"))
        }
    }

    @Test func resp3SurvivesAcrossReads() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit(resp("HELLO", "3"))
            // The first connection of a fresh server gets client id 1.
            let hello = "%7\r\n" + bulk("server") + bulk("redis") + bulk("version") + bulk("7.0.15") + bulk("proto") + ":3\r\n"
                + bulk("id") + ":1\r\n" + bulk("mode") + bulk("standalone") + bulk("role") + bulk("master")
                + bulk("modules") + "*0\r\n"
            #expect(c.read(like: hello) == hello)
            // A later read builds a new reply writer: it must still speak RESP3.
            try c.transmit(resp("GET", "missing"))
            #expect(c.read(like: "_\r\n") == "_\r\n")
            try c.transmit(resp("CONFIG", "GET", "hz"))
            let map = "%1\r\n" + bulk("hz") + bulk("10")
            #expect(c.read(like: map) == map)
        }
    }

    @Test func clientReplyOffAcrossReads() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            try c.transmit(resp("CLIENT", "REPLY", "OFF"))
            try c.transmit(resp("SET", "k", "v"))
            try c.transmit(resp("CLIENT", "REPLY", "ON"))
            try c.transmit(resp("GET", "k"))
            let expected = "+OK\r\n" + bulk("v")
            #expect(c.read(like: expected) == expected)
        }
    }

    @Test func authenticationAndUnauthenticatedLimits() throws {
        try withServer({ $0.requirePass = "pw" }) { server in
            let c = try RawClient(port: server.port)
            try c.transmit(resp("GET", "k"))
            #expect(c.read(like: "-NOAUTH Authentication required.\r\n") == "-NOAUTH Authentication required.\r\n")
            try c.transmit("*11\r\n")
            let expected = "-ERR Protocol error: unauthenticated multibulk length\r\n"
            #expect(c.read(like: expected) == expected)
            #expect(c.waitForClose().closed)

            let d = try RawClient(port: server.port)
            try d.transmit("*2\r\n$4\r\nAUTH\r\n$20000\r\n")
            let bulkError = "-ERR Protocol error: unauthenticated bulk length\r\n"
            #expect(d.read(like: bulkError) == bulkError)
            #expect(d.waitForClose().closed)

            // After AUTH the limits are lifted.
            let e = try RawClient(port: server.port)
            try e.transmit(resp("AUTH", "pw"))
            #expect(e.read(like: "+OK\r\n") == "+OK\r\n")
            let big = String(repeating: "z", count: 20000)
            try e.transmit(resp("SET", "big", big) + resp("STRLEN", "big"))
            #expect(e.read(like: "+OK\r\n:20000\r\n") == "+OK\r\n:20000\r\n")
        }
    }

    @Test func blockingTimeoutAfterAScriptInTheSameBatch() throws {
        try withServer { server in
            let c = try RawClient(port: server.port)
            // The batch goes to the script thread, where BLPOP parks: its timeout is armed once
            // the batch is back on the loop.
            try c.transmit(resp("EVAL", "return 1", "0") + resp("BLPOP", "nokey", "0.1"))
            #expect(c.read(like: ":1\r\n*-1\r\n", timeout: .seconds(5)) == ":1\r\n*-1\r\n")
            try c.transmit(resp("PING"))
            #expect(c.read(like: "+PONG\r\n") == "+PONG\r\n")
        }
    }

    @Test func stopClosesConnections() throws {
        var config = ServerConfiguration()
        config.port = 0
        config.ioThreads = 1
        config.logLevel = "warning"
        let server = AtollServer(configuration: config)
        try server.start()
        let c = try RawClient(port: server.port)
        try c.transmit(resp("PING"))
        #expect(c.read(like: "+PONG\r\n") == "+PONG\r\n")
        server.stop()
        #expect(c.waitForClose().closed)
        server.stop()   // a second stop is harmless
        #expect(throws: (any Error).self) { _ = try RawClient(port: server.port) }
    }
}
