/// `EmbeddedAtoll`: a real Atoll server inside the test process, on a free loopback port, for
/// tests of code that talks to Redis (what miniredis is to Go). Start one per test (or per
/// suite), point the client at `port`, and `stop()` it after; `restart()` brings it back on the
/// same port with an empty dataset, to test how a client lives through a server restart.
import AtollCore
import AtollServer
import NIOConcurrencyHelpers

/// An in-process Atoll listening on 127.0.0.1.
public final class EmbeddedAtoll: Sendable {
    private let server: NIOLockedValueBox<AtollServer?>
    private let configuration: ServerConfiguration
    /// The port it listens on (chosen at the first start, kept across restarts).
    public let port: Int

    /// Starts a server on a free port (or on `configure`'s port, if it sets one). `configure`
    /// may change any other setting first (a password, the number of databases, ...).
    public init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.ioThreads = 1
        configure(&configuration)
        let server = AtollServer(configuration: configuration)
        try server.start()
        port = server.port
        configuration.port = server.port
        self.configuration = configuration
        self.server = NIOLockedValueBox(server)
    }

    /// `redis://127.0.0.1:<port>`, for clients that take a URL.
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Stops the server; its clients' connections close. Stopping twice does nothing.
    public func stop() {
        server.withLockedValue { server in
            server?.stop()
            server = nil
        }
    }

    /// Stops the server (if running) and starts a new, empty one on the same port.
    public func restart() throws {
        try server.withLockedValue { server in
            server?.stop()
            let fresh = AtollServer(configuration: configuration)
            try fresh.start()
            server = fresh
        }
    }

    deinit {
        server.withLockedValue { $0?.stop() }
    }
}
