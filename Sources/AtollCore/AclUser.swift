/// An ACL user: whether it is on, its password hashes (SHA-256, hex), and its selectors (the
/// root one first). Clients point at the user they authenticated as; ACL SETUSER stages its
/// rules on a copy and then copies them into the user in place, as Redis does, so those
/// clients see the change at once.
import AtollBytes
import AtollRESP

public final class AclUser: @unchecked Sendable {
    // Unchecked: read by every command of its clients, changed only by ACL commands and CONFIG
    // SET requirepass, all under the keyspace lock (or read while a script holds it, when
    // nothing can change it).
    public let name: [UInt8]
    public private(set) var enabled = false
    public private(set) var noPass = false
    /// `skip-sanitize-payload` / `sanitize-payload`: kept and listed (Atoll always checks
    /// RESTORE payloads in full).
    private var skipSanitizePayload = false
    private var sanitizePayload = false
    /// SHA-256 hex digests, in the order added.
    public private(set) var passwords: [[UInt8]] = []
    /// The root selector first.
    @exclusivity(unchecked) public private(set) var selectors: [AclSelector]
    /// Every command, key and channel allowed by the root selector: commands run unchecked
    /// (the one test the dispatcher makes per command for the default user).
    @exclusivity(unchecked) public private(set) var unrestricted = false
    /// Channels a new selector allows by default (`acl-pubsub-default allchannels`).
    private let channelsByDefault: Bool

    /// A new user, off, with no password and no permissions (Redis's `ACLCreateUser`).
    public init(name: [UInt8], allChannelsByDefault: Bool) {
        self.name = name
        self.channelsByDefault = allChannelsByDefault
        self.selectors = [AclSelector(allChannels: allChannelsByDefault)]
    }

    /// Redis's `default` user as created at start: on, nopass, every command, key and channel.
    public static func makeDefault(allChannelsByDefault: Bool) -> AclUser {
        let user = AclUser(name: Array("default".utf8), allChannelsByDefault: allChannelsByDefault)
        for rule in ["+@all", "~*", "&*", "on", "nopass"] { try? user.apply(Array(rule.utf8)) }
        return user
    }

    /// A user that may run anything, for the server's own clients (scripts' client, AOF
    /// loading): Redis gives those no user at all.
    public static let superuser = makeDefault(allChannelsByDefault: true)

    public var nameText: String { String(decoding: name, as: UTF8.self) }

    /// Whether `password` is one of the user's (any password for a nopass user). The hashes are
    /// compared in constant time.
    public func accepts(_ password: [UInt8]) -> Bool {
        guard enabled else { return false }
        if noPass { return true }
        let hashed = sha256Hex(password)
        var found = false
        for stored in passwords where constantTimeEquals(hashed, stored) { found = true }
        return found
    }

    /// Makes this user's rules equal `other`'s (the name stays).
    public func copyRules(from other: AclUser) {
        enabled = other.enabled
        noPass = other.noPass
        skipSanitizePayload = other.skipSanitizePayload
        sanitizePayload = other.sanitizePayload
        passwords = other.passwords
        selectors = other.selectors.map { $0.copy() }
        refresh()
    }

    /// A copy with its own selectors, for staging rules that may fail.
    public func staged() -> AclUser {
        let copy = AclUser(name: name, allChannelsByDefault: channelsByDefault)
        copy.copyRules(from: self)
        return copy
    }

    // MARK: - Rules

    /// Applies one ACL SETUSER rule (Redis's `ACLSetUser`). An empty rule does nothing.
    public func apply(_ op: [UInt8]) throws(AclRuleError) {
        defer { refresh() }
        guard let first = op.first else { return }
        if asciiCaseInsensitiveEquals(op, "on") {
            enabled = true
        } else if asciiCaseInsensitiveEquals(op, "off") {
            enabled = false
        } else if asciiCaseInsensitiveEquals(op, "skip-sanitize-payload") {
            skipSanitizePayload = true
            sanitizePayload = false
        } else if asciiCaseInsensitiveEquals(op, "sanitize-payload") {
            skipSanitizePayload = false
            sanitizePayload = true
        } else if asciiCaseInsensitiveEquals(op, "nopass") {
            noPass = true
            passwords = []
        } else if asciiCaseInsensitiveEquals(op, "resetpass") {
            noPass = false
            passwords = []
        } else if first == UInt8(ascii: ">") || first == UInt8(ascii: "#") {
            let hash = first == UInt8(ascii: ">") ? sha256Hex(Array(op.dropFirst())) : try Self.checkedHash(op)
            if !passwords.contains(hash) { passwords.append(hash) }
            noPass = false
        } else if first == UInt8(ascii: "<") || first == UInt8(ascii: "!") {
            let hash = first == UInt8(ascii: "<") ? sha256Hex(Array(op.dropFirst())) : try Self.checkedHash(op)
            guard let i = passwords.firstIndex(of: hash) else { throw .noSuchPassword }
            passwords.remove(at: i)
        } else if first == UInt8(ascii: "("), op.last == UInt8(ascii: ")") {
            let selector = AclSelector(allChannels: channelsByDefault)
            let inner = Array(op.dropFirst().dropLast())
            for rule in splitArguments(inner) ?? [] { try selector.apply(rule) }
            selectors.append(selector)
        } else if asciiCaseInsensitiveEquals(op, "clearselectors") {
            selectors.removeSubrange(1...)
        } else if asciiCaseInsensitiveEquals(op, "reset") {
            noPass = false
            passwords = []
            selectors = [AclSelector(allChannels: channelsByDefault)]
            enabled = false
            skipSanitizePayload = false
            sanitizePayload = true
        } else {
            try selectors[0].apply(op)
        }
    }

    private static func checkedHash(_ op: [UInt8]) throws(AclRuleError) -> [UInt8] {
        let hash = Array(op.dropFirst())
        guard hash.count == 64, hash.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { throw .badHash }
        return hash
    }

    private func refresh() {
        let root = selectors[0]
        unrestricted = root.allCommands && root.allKeys && root.allChannels
    }

    // MARK: - Description

    /// The user's rules as ACL LIST shows them after `user <name> `.
    public func describe() -> String {
        var text = flagNames.map { $0 + " " }.joined()
        for hash in passwords { text += "#" + String(decoding: hash, as: UTF8.self) + " " }
        text += selectors[0].describe()
        for selector in selectors.dropFirst() { text += " (" + selector.describe() + ")" }
        return text
    }

    /// The user as a line of an ACL file (ACL LIST, ACL SAVE, CONFIG REWRITE).
    public var configLine: String { "user \(nameText) \(describe())" }

    /// ACL GETUSER's `flags`, in Redis's order.
    public var flagNames: [String] {
        var names: [String] = []
        names.append(enabled ? "on" : "off")
        if noPass { names.append("nopass") }
        if skipSanitizePayload { names.append("skip-sanitize-payload") }
        if sanitizePayload { names.append("sanitize-payload") }
        return names
    }
}

extension AclUser {
    /// Whether any selector allows a subscription to `channel` (a pattern, compared as it is,
    /// when `literal`): Redis's test of each subscription before disconnecting a subscriber
    /// whose rules changed.
    func channelsAllowed(_ channel: [UInt8], literal: Bool) -> Bool {
        selectors.contains { $0.allowsChannel(channel, literal: literal) }
    }
}
