/// An in-process Atoll that listens for TLS only, on a free loopback port, with certificates
/// made for the test (`TestCertificates`), for the TLS tests and the guide's TLS example.
import AtollCore
import AtollTesting
import Testing

/// Runs `body` with an in-process Atoll listening for TLS only on a free loopback port;
/// `authClients` is its `tls-auth-clients` (whether clients must show a certificate).
func withTLSServer(authClients: String = "no", _ body: (Int, TestCertificates) async throws -> Void) async throws {
    let certificates = try TestCertificates.make()
    defer { certificates.remove() }
    var started: (EmbeddedAtoll, Int)?
    // The free port is found by a throwaway server; another process could take it in the
    // meantime, so a few attempts are made.
    for _ in 0..<5 where started == nil {
        let probe = try EmbeddedAtoll()
        let port = probe.port
        probe.stop()
        started = try? (EmbeddedAtoll { configuration in
            configuration.port = 0  // with a TLS port: TLS only
            configuration.bind = ["127.0.0.1"]
            for (name, value) in [("tls-cert-file", certificates.serverCertificate), ("tls-key-file", certificates.serverKey),
                                  ("tls-ca-cert-file", certificates.ca), ("tls-auth-clients", authClients), ("tls-port", "\(port)")] {
                precondition(ConfigParameter.named(name)!.apply([value], to: &configuration) == nil, name)
            }
        }, port)
    }
    let (server, port) = try #require(started)
    defer { server.stop() }
    try await body(port, certificates)
}
