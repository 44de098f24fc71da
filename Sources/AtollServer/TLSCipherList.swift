/// `tls-ciphers`, read as OpenSSL's cipher-list syntax over the TLSv1.2 suites BoringSSL
/// offers. NIOSSL hands a cipher string straight to BoringSSL and traps when BoringSSL
/// refuses it, so the string is evaluated here and NIOSSL gets the resulting suites by value.
///
/// The rules, as in OpenSSL: items separated by `:` (or `,`, `;`, space); an item is a suite
/// name or an alias (`ALL`, `HIGH`, `ECDHE`, `aRSA`, `AESGCM`, ...), several joined by `+`
/// select the suites matching all of them; a plain item adds its suites, `-` removes them (they
/// may come back), `!` removes them for good, `+` in front moves them to the end, `@...`
/// directives are ignored. Unknown names select nothing; a list that selects no suite at all
/// is refused, as OpenSSL refuses it.
import NIOSSL

enum TLSCipherList {
    /// The suites `text` selects, in order; nil when it selects none.
    static func evaluate(_ text: String) -> [NIOTLSCipher]? {
        var chosen: [Suite] = []
        var banned = Set<UInt16>()
        let items = text.split(whereSeparator: { $0 == ":" || $0 == "," || $0 == ";" || $0 == " " })
        for item in items {
            var rule = Substring(item)
            let operation = rule.first.flatMap { "!-+@".contains($0) ? $0 : nil }
            if operation != nil { rule = rule.dropFirst() }
            if operation == "@" { continue }
            let parts = rule.split(separator: "+").map(String.init)
            let matching = suites.filter { suite in parts.allSatisfy { suite.matches($0) } }
            switch operation {
            case "!":
                banned.formUnion(matching.map(\.cipher.rawValue))
                chosen.removeAll { banned.contains($0.cipher.rawValue) }
            case "-":
                chosen.removeAll { suite in matching.contains { $0.cipher == suite.cipher } }
            case "+":
                let moved = chosen.filter { suite in matching.contains { $0.cipher == suite.cipher } }
                chosen.removeAll { suite in moved.contains { $0.cipher == suite.cipher } }
                chosen += moved
            default:
                for suite in matching where !banned.contains(suite.cipher.rawValue) && !chosen.contains(where: { $0.cipher == suite.cipher }) {
                    chosen.append(suite)
                }
            }
        }
        return chosen.isEmpty ? nil : chosen.map(\.cipher)
    }

    /// One TLSv1.2 suite: its OpenSSL name and the aliases that select it.
    struct Suite {
        let cipher: NIOTLSCipher
        let name: String
        let aliases: Set<String>

        init(_ cipher: NIOTLSCipher, _ name: String, keyExchange: String, authentication: String, encryption: [String], mac: [String]) {
            self.cipher = cipher
            self.name = name
            var aliases: Set<String> = ["ALL", "DEFAULT", "HIGH", "TLSv1.2", keyExchange, authentication]
            aliases.formUnion(encryption)
            aliases.formUnion(mac)
            // The shorter spellings OpenSSL takes for the key exchange and authentication.
            switch keyExchange {
            case "kECDHE": aliases.formUnion(["ECDHE", "EECDH", "ECDH", "kEECDH"])
            case "kRSA": aliases.insert("RSA")
            default: break
            }
            if authentication == "aECDSA" { aliases.formUnion(["ECDSA"]) }
            // Suites from before TLSv1.2 (SHA-1 MAC) also match the older protocol names.
            if mac.contains("SHA1") { aliases.formUnion(["TLSv1", "SSLv3"]) }
            self.aliases = aliases
        }

        func matches(_ part: String) -> Bool { part == name || aliases.contains(part) }
    }

    static let suites: [Suite] = [
        Suite(.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", keyExchange: "kECDHE",
              authentication: "aECDSA", encryption: ["AES", "AES128", "AESGCM"], mac: ["AEAD", "SHA256"]),
        Suite(.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", keyExchange: "kECDHE",
              authentication: "aRSA", encryption: ["AES", "AES128", "AESGCM"], mac: ["AEAD", "SHA256"]),
        Suite(.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", keyExchange: "kECDHE",
              authentication: "aECDSA", encryption: ["AES", "AES256", "AESGCM"], mac: ["AEAD", "SHA384"]),
        Suite(.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", keyExchange: "kECDHE",
              authentication: "aRSA", encryption: ["AES", "AES256", "AESGCM"], mac: ["AEAD", "SHA384"]),
        Suite(.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", keyExchange: "kECDHE",
              authentication: "aECDSA", encryption: ["CHACHA20"], mac: ["AEAD"]),
        Suite(.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", keyExchange: "kECDHE",
              authentication: "aRSA", encryption: ["CHACHA20"], mac: ["AEAD"]),
        Suite(.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", keyExchange: "kECDHE",
              authentication: "aECDSA", encryption: ["AES", "AES128"], mac: ["SHA1", "SHA"]),
        Suite(.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", keyExchange: "kECDHE",
              authentication: "aRSA", encryption: ["AES", "AES128"], mac: ["SHA1", "SHA"]),
        Suite(.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", keyExchange: "kECDHE",
              authentication: "aECDSA", encryption: ["AES", "AES256"], mac: ["SHA1", "SHA"]),
        Suite(.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", keyExchange: "kECDHE",
              authentication: "aRSA", encryption: ["AES", "AES256"], mac: ["SHA1", "SHA"]),
        Suite(.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", keyExchange: "kRSA",
              authentication: "aRSA", encryption: ["AES", "AES128", "AESGCM"], mac: ["AEAD", "SHA256"]),
        Suite(.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", keyExchange: "kRSA",
              authentication: "aRSA", encryption: ["AES", "AES256", "AESGCM"], mac: ["AEAD", "SHA384"]),
        Suite(.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", keyExchange: "kRSA",
              authentication: "aRSA", encryption: ["AES", "AES128"], mac: ["SHA1", "SHA"]),
        Suite(.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", keyExchange: "kRSA",
              authentication: "aRSA", encryption: ["AES", "AES256"], mac: ["SHA1", "SHA"]),
    ]

    /// The TLSv1.3 suite names OpenSSL knows (`tls-ciphersuites`). BoringSSL's TLSv1.3 suites
    /// cannot be chosen, so a list is only checked to name one of them, as OpenSSL checks it.
    static let tls13Names: Set<String> = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
    ]
}
