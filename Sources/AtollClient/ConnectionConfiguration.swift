/// Where and how to connect: address, TLS, credentials, client name, database, protocol and timeouts.
/// `init(url:)` reads the usual `redis://[user:password@]host[:port][/db]`, and `rediss://`
/// for TLS.
import NIOCore
import NIOSSL

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
    /// The name the connection gives itself (`CLIENT SETNAME`, shown by CLIENT LIST); nil sets none.
    public var clientName: String?
    /// The database to SELECT after connecting (0 needs no SELECT).
    public var database: Int
    public var protocolPreference: ProtocolPreference
    /// TLS (swift-nio-ssl's client configuration: trusted roots, certificate verification, a
    /// client certificate); nil connects in plain text. `rediss://` URLs set
    /// `TLSConfiguration.makeClientConfiguration()`, which trusts the system's roots; to trust
    /// a private CA, set `trustRoots` (for example `.file(path)`).
    public var tls: TLSConfiguration?
    /// The name the server's certificate must carry, also sent as SNI; nil uses `host`, unless
    /// `host` is an IP address, whose certificate is then checked for that address.
    public var tlsServerName: String? {
        get { explicitServerName ?? (host.isIPAddress ? nil : host) }
        set { explicitServerName = newValue }
    }
    private var explicitServerName: String?
    /// How long a TCP connect may take.
    public var connectTimeout: Duration
    /// How long any one reply may take; nil waits forever. When it passes, the request fails
    /// with `RedisClientError.commandTimeout` and the connection is closed.
    public var commandTimeout: Duration?

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
                database: Int = 0, protocolPreference: ProtocolPreference = .resp3, tls: TLSConfiguration? = nil,
                connectTimeout: Duration = .seconds(5), commandTimeout: Duration? = .seconds(30)) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.protocolPreference = protocolPreference
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Reads `redis://[[user]:password@]host[:port][/database]`, or the same with `rediss://`
    /// for TLS (trusting the system's roots; change `tls` to trust another CA). Returns nil for
    /// another scheme or a malformed URL.
    public init?(url: String) {
        let secure = url.hasPrefix("rediss://")
        guard secure || url.hasPrefix("redis://") else { return nil }
        var rest = Substring(url.dropFirst(secure ? "rediss://".count : "redis://".count))
        self.init()
        if secure { tls = .makeClientConfiguration() }
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

extension String {
    /// True for an IPv4 or IPv6 address literal (which TLS cannot send as SNI).
    var isIPAddress: Bool {
        if self.contains(":") { return true }
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
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
