/// Where and how to connect: address, credentials, database, protocol, timeouts and the
/// reconnect policy. `init(url:)` reads the usual `redis://[user:password@]host[:port][/db]`.
import NIOCore

/// The settings of one connection (and of each connection a `RedisClient` makes).
public struct ConnectionConfiguration: Sendable {
    /// Which protocol the handshake asks for.
    public enum ProtocolPreference: Sendable {
        /// `HELLO 3`; a server without HELLO (or without RESP3) gets RESP2 instead.
        case resp3
        /// RESP2 only: no HELLO, plain AUTH and SELECT.
        case resp2
    }

    public var host: String
    public var port: Int
    /// The ACL user for AUTH; nil authenticates as `default` (the password alone).
    public var username: String?
    public var password: String?
    /// The database to SELECT after connecting (0 needs no SELECT).
    public var database: Int
    public var protocolPreference: ProtocolPreference
    /// How long a TCP connect may take.
    public var connectTimeout: Duration
    /// How long any one reply may take; nil waits forever. When it passes, the request fails
    /// with `RedisClientError.commandTimeout` and the connection is closed.
    public var commandTimeout: Duration?

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
                database: Int = 0, protocolPreference: ProtocolPreference = .resp3,
                connectTimeout: Duration = .seconds(5), commandTimeout: Duration? = .seconds(30)) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.protocolPreference = protocolPreference
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Reads `redis://[[user]:password@]host[:port][/database]`. Returns nil for another
    /// scheme or a malformed URL (TLS, `rediss://`, is not supported yet).
    public init?(url: String) {
        let scheme = "redis://"
        guard url.hasPrefix(scheme) else { return nil }
        var rest = Substring(url.dropFirst(scheme.count))
        self.init()
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : String(user)
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                password = String(credentials)
            }
        }
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else { return nil }
                database = db
            }
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            rest = rest[..<colon]
        }
        if !rest.isEmpty { host = String(rest) }
    }
}

extension TimeAmount {
    /// The same span as `duration`, in NIO's nanoseconds (durations past ~292 years are capped).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(overflow ? .max : scaled &+ attoseconds / 1_000_000_000)
    }
}
