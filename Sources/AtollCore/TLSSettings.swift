/// The `tls-*` parameters as the TLS layer (AtollServer's `TLSContextFactory`) reads them. They
/// are kept with the other Redis parameters, as CONFIG GET prints them; this is their typed view.
public struct TLSSettings: Equatable, Sendable {
    /// `tls-auth-clients`: whether a client must present a certificate the CAs signed.
    public enum ClientAuthentication: String, Sendable {
        case no, yes, optional
    }

    public var port: Int
    public var certFile: String
    public var keyFile: String
    public var keyFilePassword: String
    public var caCertFile: String
    public var caCertDir: String
    public var dhParamsFile: String
    public var authClients: ClientAuthentication
    /// Space-separated `TLSv1` ... `TLSv1.3`; empty means TLSv1.2 and TLSv1.3.
    public var protocols: String
    /// OpenSSL's cipher-list syntax for TLSv1.2 and below; empty means the library's default.
    public var ciphers: String
    /// TLSv1.3 suites, colon-separated.
    public var ciphersuites: String
    public var replication: Bool
    public var cluster: Bool

    /// The parameters CONFIG SET hands to the TLS layer (`ServerCore.tlsReconfigure`).
    public static let parameterNames = contextParameterNames.union(["tls-auth-clients"])

    /// The ones whose change makes Redis set TLS up again (its `applyTlsCfg`, which fails on a
    /// bad file and keeps the old setup); `tls-port` also opens or closes listeners.
    /// `tls-auth-clients` is not one: Redis reads it as each connection is accepted.
    public static let contextParameterNames: Set<String> = [
        "tls-port", "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
        "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols",
        "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
        "tls-session-cache-timeout", "tls-replication", "tls-cluster",
    ]

    public init(_ config: ServerConfiguration) {
        func value(_ name: String) -> String { ConfigParameter.named(name)?.value(in: config) ?? "" }
        port = Int(value("tls-port")) ?? 0
        certFile = value("tls-cert-file")
        keyFile = value("tls-key-file")
        keyFilePassword = value("tls-key-file-pass")
        caCertFile = value("tls-ca-cert-file")
        caCertDir = value("tls-ca-cert-dir")
        dhParamsFile = value("tls-dh-params-file")
        authClients = ClientAuthentication(rawValue: value("tls-auth-clients")) ?? .yes
        protocols = value("tls-protocols")
        ciphers = value("tls-ciphers")
        ciphersuites = value("tls-ciphersuites")
        replication = value("tls-replication") == "yes"
        cluster = value("tls-cluster") == "yes"
    }

    /// Whether Redis sets TLS up for this configuration: a TLS port, or TLS for replication or
    /// the cluster bus (which Atoll does not have, but whose settings are checked alike).
    public var enabled: Bool { port != 0 || replication || cluster }
}
