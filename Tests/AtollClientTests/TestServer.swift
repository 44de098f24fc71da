/// The server the client tests talk to: Redis (or anything) at `ATOLL_CLIENT_TEST_URL` when it
/// is set (scripts/test.sh sets it to a redis-server it starts), else one in-process Atoll
/// shared by every test in the run. Tests use keys of their own (`uniqueKey`), so they can run
/// in parallel on one server.
import AtollClient
import AtollTesting
import Foundation
import NIOCore
import Testing

enum TestServer {
    /// The URL from the environment, if the tests run against an outside server.
    static let externalURL: String? = ProcessInfo.processInfo.environment["ATOLL_CLIENT_TEST_URL"]

    /// The in-process server, started on first use when there is no outside one. It lives for
    /// the whole test run (the process's end stops it).
    static let embedded: EmbeddedAtoll? = externalURL == nil ? try! EmbeddedAtoll() : nil

    static var url: String { externalURL ?? embedded!.url }

    /// True when the tests run against an outside server (then tests that need to restart or
    /// configure the server are skipped).
    static var isExternal: Bool { externalURL != nil }

    /// A connection configuration for the server, with timeouts short enough that no test hangs.
    static func connectionConfiguration(protocol preference: ConnectionConfiguration.ProtocolPreference = .resp3)
        -> ConnectionConfiguration {
        var configuration = ConnectionConfiguration(url: url)!
        configuration.protocolPreference = preference
        configuration.connectTimeout = .seconds(2)
        configuration.commandTimeout = .seconds(10)
        return configuration
    }

    static func client(protocol preference: ConnectionConfiguration.ProtocolPreference = .resp3) -> RedisClient {
        RedisClient(configuration: RedisClientConfiguration(connection: connectionConfiguration(protocol: preference)))
    }
}

/// A key no other test uses.
func uniqueKey(_ name: String = #function) -> String {
    "test:\(name.prefix(while: { $0 != "(" })):\(UUID().uuidString)"
}

/// Runs `body` with a fresh client, closing it afterwards whether `body` throws or not.
func withTestClient<T>(protocol preference: ConnectionConfiguration.ProtocolPreference = .resp3,
                       _ body: (RedisClient) async throws -> T) async throws -> T {
    let client = TestServer.client(protocol: preference)
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}

/// Bounded wait until the server lists the client as blocked in BLPOP.
func waitUntilBlocked(clientID: Int, using helper: RedisConnection) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(5)
    while clock.now < deadline {
        let list = try await helper.send("CLIENT", "LIST", "ID", clientID).string() ?? ""
        if list.contains("cmd=blpop") { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("client \(clientID) never blocked")
}
