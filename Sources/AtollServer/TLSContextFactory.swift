/// Builds the server's TLS context from the `tls-*` parameters (`TLSSettings`), checking them
/// in the order Redis's `tlsConfigure` does and failing with its log lines: no certificate or
/// key configured, no CA while clients must authenticate, an unknown protocol, a certificate,
/// key or CA that cannot be loaded, a cipher list that selects nothing.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AtollCore
import NIOSSL

enum TLSContextFactory {
    /// Why the context could not be built: the lines Redis logs before "Failed to configure TLS".
    struct Failure: Error {
        let message: String
    }

    /// One context for each `tls-auth-clients` choice: Redis sets the client check on each
    /// connection as it is accepted, so CONFIG SET tls-auth-clients changes only which of
    /// these new connections take. With no CA configured, any client certificate is refused.
    static func make(_ settings: TLSSettings) throws(Failure) -> [TLSSettings.ClientAuthentication: NIOSSLContext] {
        guard !settings.certFile.isEmpty else { throw Failure(message: "No tls-cert-file configured!") }
        guard !settings.keyFile.isEmpty else { throw Failure(message: "No tls-key-file configured!") }
        let needsCA = settings.authClients != .no || settings.replication || settings.cluster
        if needsCA && settings.caCertFile.isEmpty && settings.caCertDir.isEmpty {
            throw Failure(message: "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!")
        }
        guard let versions = protocolRange(settings.protocols) else {
            throw Failure(message: "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(settings.certFile)
        } catch {
            throw Failure(message: "Failed to load certificate: \(settings.certFile): \(reason(error, path: settings.certFile))")
        }
        let key: NIOSSLPrivateKey
        do {
            if settings.keyFilePassword.isEmpty {
                key = try NIOSSLPrivateKey(file: settings.keyFile, format: .pem)
            } else {
                let password = Array(settings.keyFilePassword.utf8)
                key = try NIOSSLPrivateKey(file: settings.keyFile, format: .pem) { setPassword in setPassword(password) }
            }
        } catch {
            throw Failure(message: "Failed to load private key: \(settings.keyFile): \(reason(error, path: settings.keyFile))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        configuration.minimumTLSVersion = versions.lowest
        configuration.maximumTLSVersion = versions.highest
        try setTrustRoots(settings, &configuration)
        if !settings.ciphers.isEmpty {
            guard let suites = TLSCipherList.evaluate(settings.ciphers) else {
                throw Failure(message: "Failed to configure ciphers: \(settings.ciphers)")
            }
            configuration.cipherSuiteValues = suites
        }
        if !settings.ciphersuites.isEmpty,
           !settings.ciphersuites.split(separator: ":").contains(where: { TLSCipherList.tls13Names.contains(String($0)) }) {
            throw Failure(message: "Failed to configure ciphersuites: \(settings.ciphersuites)")
        }
        if !settings.dhParamsFile.isEmpty, access(settings.dhParamsFile, R_OK) != 0 {
            throw Failure(message: "Failed to load \(settings.dhParamsFile): \(String(cString: strerror(errno)))")
        }
        do {
            var contexts: [TLSSettings.ClientAuthentication: NIOSSLContext] = [:]
            for (mode, verification) in [(TLSSettings.ClientAuthentication.no, CertificateVerification.none),
                                         (.yes, .noHostnameVerification), (.optional, .optionalVerification)] {
                configuration.certificateVerification = verification
                contexts[mode] = try NIOSSLContext(configuration: configuration)
            }
            return contexts
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw Failure(message: "Failed to load private key: \(settings.keyFile): key values mismatch")
        } catch {
            throw Failure(message: "Failed to configure TLS: \(error)")
        }
    }

    /// `tls-ca-cert-file` and `tls-ca-cert-dir`, both when both are set; each must exist.
    private static func setTrustRoots(_ settings: TLSSettings, _ configuration: inout TLSConfiguration) throws(Failure) {
        var roots: [NIOSSLTrustRoots] = []
        for path in [settings.caCertFile, settings.caCertDir] where !path.isEmpty {
            guard access(path, R_OK) == 0 else {
                throw Failure(message: "Failed to configure CA certificate(s) file/directory: \(String(cString: strerror(errno)))")
            }
            roots.append(.file(path))
        }
        if settings.caCertFile.isEmpty == false, (try? NIOSSLCertificate.fromPEMFile(settings.caCertFile)) == nil {
            throw Failure(message: "Failed to configure CA certificate(s) file/directory: no certificate in \(settings.caCertFile)")
        }
        // Nothing to trust rather than the system's CAs, as Redis trusts only what it is given.
        guard let first = roots.first else { return configuration.trustRoots = .certificates([]) }
        configuration.trustRoots = first
        if case .file(let directory) = roots.dropFirst().first { configuration.additionalTrustRoots = [.file(directory)] }
    }

    /// `tls-protocols` as the lowest and highest version NIOSSL takes (Redis can leave a hole,
    /// such as TLSv1 and TLSv1.2 without TLSv1.1; here the range spans it). Empty: TLSv1.2 and
    /// TLSv1.3. Nil for an unknown name.
    static func protocolRange(_ text: String) -> (lowest: TLSVersion, highest: TLSVersion)? {
        let names = ["tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3"]
        let versions: [TLSVersion] = [.tlsv1, .tlsv11, .tlsv12, .tlsv13]
        var chosen: [Int] = []
        for word in text.split(separator: " ") {
            guard let index = names.firstIndex(of: word.lowercased()) else { return nil }
            chosen.append(index)
        }
        guard let low = chosen.min(), let high = chosen.max() else { return (.tlsv12, .tlsv13) }
        return (versions[low], versions[high])
    }

    /// The OS's reason when the file cannot be read, else what was wrong with its content.
    private static func reason(_ error: any Error, path: String) -> String {
        guard access(path, R_OK) == 0 else { return String(cString: strerror(errno)) }
        switch error as? NIOSSLError {
        case .failedToLoadCertificate?: return "no PEM certificate in it"
        case .failedToLoadPrivateKey?: return "no PEM private key in it, or a wrong tls-key-file-pass"
        default: return "\(error)"
        }
    }
}
