/// The TLS layer's readings of `tls-ciphers` and `tls-protocols`, and its start-up checks,
/// without sockets.
import AtollCore
@testable import AtollServer
import NIOSSL
import Testing

@Suite struct TLSCipherListTests {
    @Test func namesAliasesAndOperators() {
        #expect(TLSCipherList.evaluate("ECDHE-RSA-AES128-GCM-SHA256") == [.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256])
        #expect(TLSCipherList.evaluate("BOGUS:AES128-SHA") == [.TLS_RSA_WITH_AES_128_CBC_SHA])
        #expect(TLSCipherList.evaluate("BOGUS") == nil)
        #expect(TLSCipherList.evaluate("") == nil)
        #expect(TLSCipherList.evaluate("AES128-SHA:!AES128-SHA") == nil)
        #expect(TLSCipherList.evaluate("ECDHE+AESGCM+aRSA") == [.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384])
        // `-` removes for now, `!` for good; `+` in front moves to the end.
        #expect(TLSCipherList.evaluate("AES128-SHA:-AES128-SHA:AES128-SHA") == [.TLS_RSA_WITH_AES_128_CBC_SHA])
        #expect(TLSCipherList.evaluate("!AES128-SHA:AES128-SHA:AES256-SHA") == [.TLS_RSA_WITH_AES_256_CBC_SHA])
        #expect(TLSCipherList.evaluate("AES128-SHA:AES256-SHA:+AES128-SHA")
                == [.TLS_RSA_WITH_AES_256_CBC_SHA, .TLS_RSA_WITH_AES_128_CBC_SHA])
        #expect(TLSCipherList.evaluate("HIGH:!aNULL:!MD5:@STRENGTH")?.count == TLSCipherList.suites.count)
    }

    @Test func protocolNames() {
        #expect(TLSContextFactory.protocolRange("").map { "\($0.lowest)-\($0.highest)" } == "tlsv12-tlsv13")
        #expect(TLSContextFactory.protocolRange("TLSv1.2").map { "\($0.lowest)-\($0.highest)" } == "tlsv12-tlsv12")
        #expect(TLSContextFactory.protocolRange("tlsv1.3 TLSv1").map { "\($0.lowest)-\($0.highest)" } == "tlsv1-tlsv13")
        #expect(TLSContextFactory.protocolRange("TLSv1.2 SSLv3") == nil)
    }

    @Test func missingFilesFailWithRedisMessages() {
        func failure(_ lines: String) -> String? {
            var config = ServerConfiguration()
            try? config.load(lines)
            do {
                _ = try TLSContextFactory.make(TLSSettings(config))
                return nil
            } catch {
                return error.message
            }
        }
        #expect(failure("tls-port 1") == "No tls-cert-file configured!")
        #expect(failure("tls-cert-file /x") == "No tls-key-file configured!")
        #expect(failure("tls-cert-file /x\ntls-key-file /y")?.hasPrefix("Either tls-ca-cert-file or tls-ca-cert-dir") == true)
        #expect(failure("tls-cert-file /nonexistent\ntls-key-file /y\ntls-auth-clients no")
                == "Failed to load certificate: /nonexistent: No such file or directory")
    }
}
