/// TLS: `rediss://` URLs and `ConnectionConfiguration.tls`, against an in-process Atoll that
/// listens on a TLS port only, with certificates the test makes (a CA of its own and a server
/// certificate for 127.0.0.1). These run whatever `ATOLL_CLIENT_TEST_URL` says, since the
/// plain-text server there has no TLS port.
import AtollClient
import NIOSSL
import Testing

@Suite(.serialized, .timeLimit(.minutes(2))) struct TLSTests {
    @Test func urlSchemeChoosesTLS() throws {
        let secure = try #require(ConnectionConfiguration(url: "rediss://user:pw@127.0.0.1:6380/2"))
        #expect(secure.tls != nil)
        #expect(secure.port == 6380 && secure.database == 2 && secure.username == "user" && secure.password == "pw")
        #expect(secure.tlsServerName == nil, "an IP address is checked as such, not sent as SNI")
        #expect(ConnectionConfiguration(url: "rediss://cache.internal")?.tlsServerName == "cache.internal")
        #expect(try #require(ConnectionConfiguration(url: "redis://127.0.0.1")).tls == nil)
    }

    @Test func connectsOverTLSTrustingTheTestCA() async throws {
        try await withTLSServer { port, certificates async throws in
            var configuration = try #require(ConnectionConfiguration(url: "rediss://127.0.0.1:\(port)"))
            configuration.tls?.trustRoots = .file(certificates.ca)
            configuration.connectTimeout = .seconds(5)
            configuration.commandTimeout = .seconds(10)

            let connection = try await RedisConnection.connect(configuration: configuration)
            #expect(connection.protocolVersion == 3)
            #expect(try await connection.send("PING").string() == "PONG")
            await connection.close()

            // The pool, its batches and a subscriber, all over TLS.
            let client = RedisClient(configuration: RedisClientConfiguration(connection: configuration))
            try await client.set("tls:key", "secret")
            #expect(try await client.get("tls:key") == "secret")
            let replies = try await client.pipeline((0..<16).map { _ in ["INCR", "tls:n"].map { Array($0.utf8) } })
            #expect(try replies.last?.get().int() == 16)
            let subscriber = try await client.makeSubscriber()
            try await subscriber.subscribe(to: ["tls:news"])
            #expect(try await client.send("PUBLISH", "tls:news", "hello").int() == 1)
            var iterator = subscriber.messages.makeAsyncIterator()
            #expect(try await iterator.next()?.text == "hello")
            await subscriber.close()
            await client.close()
        }
    }

    @Test func refusesAServerItDoesNotTrust() async throws {
        try await withTLSServer { port, _ async throws in
            // rediss:// alone trusts the system's roots, which never signed the test CA.
            var configuration = try #require(ConnectionConfiguration(url: "rediss://127.0.0.1:\(port)"))
            configuration.connectTimeout = .seconds(5)
            configuration.commandTimeout = .seconds(10)
            await #expect {
                _ = try await RedisConnection.connect(configuration: configuration)
            } throws: { error in
                guard case RedisClientError.connectFailed = error else { return false }
                return true
            }
            // And plain text to the TLS port gets no RESP reply either.
            var plain = configuration
            plain.tls = nil
            await #expect(throws: (any Error).self) {
                let connection = try await RedisConnection.connect(configuration: plain)
                _ = try await connection.send("PING")
            }
        }
    }

    /// A server that asks for a client certificate admits a client that shows one its CA
    /// signed (set in `tls`), and refuses one without.
    @Test func presentsAClientCertificate() async throws {
        try await withTLSServer(authClients: "yes") { port, certificates async throws in
            var configuration = try #require(ConnectionConfiguration(url: "rediss://127.0.0.1:\(port)"))
            configuration.tls?.trustRoots = .file(certificates.ca)
            configuration.connectTimeout = .seconds(5)
            configuration.commandTimeout = .seconds(10)
            await #expect(throws: (any Error).self) {
                let connection = try await RedisConnection.connect(configuration: configuration)
                _ = try await connection.send("PING")
            }
            configuration.tls?.certificateChain = [.certificate(try NIOSSLCertificate(file: certificates.clientCertificate, format: .pem))]
            configuration.tls?.privateKey = .privateKey(try NIOSSLPrivateKey(file: certificates.clientKey, format: .pem))
            let connection = try await RedisConnection.connect(configuration: configuration)
            #expect(try await connection.send("PING").string() == "PONG")
            await connection.close()
        }
    }
}
