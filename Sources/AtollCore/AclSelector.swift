/// One ACL selector: which commands, keys and channels it allows. Every user has a root
/// selector (the rules outside parentheses) and may have more (`(...)`); a command is allowed
/// when any selector allows it. `apply` takes one rule as ACL SETUSER does; `describe` writes
/// the selector back in Redis's normalised form (see `AclCommandRules`).
import AtollBytes
import AtollKeyspace

/// A key pattern and what it grants: `~p` both, `%R~p` reading, `%W~p` writing.
struct AclKeyPattern: Sendable {
    var pattern: [UInt8]
    var read: Bool
    var write: Bool
}

/// Why a rule was refused: the reason texts of Redis's `ACLSetUserStringError`.
public enum AclRuleError: Error, Sendable {
    case syntax, unknownName, keyAfterAllKeys, channelAfterAllChannels, noSuchPassword, badHash, subcommandFirstArg

    public var message: String {
        switch self {
        case .syntax: return "Syntax error"
        case .unknownName: return "Unknown command or category name in ACL"
        case .keyAfterAllKeys:
            return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        case .channelAfterAllChannels:
            return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
        case .noSuchPassword: return "The password you are trying to remove from the user does not exist"
        case .badHash: return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
        case .subcommandFirstArg: return "Allowing first-arg of a subcommand is not supported"
        }
    }
}

public final class AclSelector: @unchecked Sendable {
    // A class, so that checking a command reads a user's selectors in place: copying a struct
    // of four collections retains each (measured at several percent of a restricted GET).
    // Unchecked: changed only by ACL commands under the keyspace lock; `copy()` for staging.
    /// `allkeys` / `~*`: every key, with no pattern kept.
    @exclusivity(unchecked) public internal(set) var allKeys = false
    /// `allchannels` / `&*`.
    @exclusivity(unchecked) public internal(set) var allChannels = false
    /// Set by `+@all` and cleared by any rule that takes a command away: the command bits
    /// need not be read.
    @exclusivity(unchecked) public internal(set) var allCommands = false
    @exclusivity(unchecked) var commands = AclCommandBits(all: false)
    /// First arguments allowed for a command whose bit is clear (`+select|0`), by command id,
    /// in the order added.
    @exclusivity(unchecked) var firstArgs: [Int: [[UInt8]]] = [:]
    @exclusivity(unchecked) var keyPatterns: [AclKeyPattern] = []
    @exclusivity(unchecked) var channels: [[UInt8]] = []

    /// A selector that allows nothing; `allChannels` from `acl-pubsub-default`.
    init(allChannels: Bool) {
        self.allChannels = allChannels
    }

    /// An independent copy (ACL SETUSER stages its rules on copies).
    func copy() -> AclSelector {
        let copy = AclSelector(allChannels: allChannels)
        copy.allKeys = allKeys
        copy.allCommands = allCommands
        copy.commands = commands
        copy.firstArgs = firstArgs
        copy.keyPatterns = keyPatterns
        copy.channels = channels
        return copy
    }

    // MARK: - Rules

    /// Applies one selector rule (anything ACL SETUSER takes but the user-level ones).
    func apply(_ op: [UInt8]) throws(AclRuleError) {
        let first = op.first ?? 0
        let second = op.count > 1 ? op[1] : 0
        if asciiCaseInsensitiveEquals(op, "allkeys") || op == [UInt8(ascii: "~"), UInt8(ascii: "*")] {
            allKeys = true
            keyPatterns = []
        } else if asciiCaseInsensitiveEquals(op, "resetkeys") {
            allKeys = false
            keyPatterns = []
        } else if asciiCaseInsensitiveEquals(op, "allchannels") || op == [UInt8(ascii: "&"), UInt8(ascii: "*")] {
            allChannels = true
            channels = []
        } else if asciiCaseInsensitiveEquals(op, "resetchannels") {
            allChannels = false
            channels = []
        } else if asciiCaseInsensitiveEquals(op, "allcommands") || asciiCaseInsensitiveEquals(op, "+@all") {
            commands = AclCommandBits(all: true)
            allCommands = true
            firstArgs = [:]
        } else if asciiCaseInsensitiveEquals(op, "nocommands") || asciiCaseInsensitiveEquals(op, "-@all") {
            commands = AclCommandBits(all: false)
            allCommands = false
            firstArgs = [:]
        } else if first == UInt8(ascii: "~") || first == UInt8(ascii: "%") {
            try addKeyPattern(op)
        } else if first == UInt8(ascii: "&") {
            if allChannels { throw .channelAfterAllChannels }
            let pattern = Array(op.dropFirst())
            if Self.hasSpaces(pattern) { throw .syntax }
            if !channels.contains(pattern) { channels.append(pattern) }
            allChannels = false
        } else if (first == UInt8(ascii: "+") || first == UInt8(ascii: "-")) && second == UInt8(ascii: "@") {
            guard let category = AclCatalog.category(named: Array(op.dropFirst(2))) else { throw .unknownName }
            setCategory(category, first == UInt8(ascii: "+"))
        } else if first == UInt8(ascii: "+") {
            try allowCommand(Array(op.dropFirst()))
        } else if first == UInt8(ascii: "-") {
            guard let id = Self.lookup(Array(op.dropFirst())) else { throw .unknownName }
            changePermission(id, false)
        } else {
            throw .syntax
        }
    }

    /// `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`: a pattern already listed gains
    /// the new permissions.
    private func addKeyPattern(_ op: [UInt8]) throws(AclRuleError) {
        if allKeys { throw .keyAfterAllKeys }
        var read = true, write = true
        var offset = 1
        if op[0] == UInt8(ascii: "%") {
            read = false
            write = false
            while offset < op.count {
                let c = op[offset] & ~0x20
                if c == UInt8(ascii: "R") && !read { read = true }
                else if c == UInt8(ascii: "W") && !write { write = true }
                else if op[offset] == UInt8(ascii: "~") { offset += 1; break }
                else { throw .syntax }
                offset += 1
            }
            if !read && !write { throw .syntax }
        }
        let pattern = Array(op[offset...])
        if Self.hasSpaces(pattern) { throw .syntax }
        if let i = keyPatterns.firstIndex(where: { $0.pattern == pattern }) {
            keyPatterns[i].read = keyPatterns[i].read || read
            keyPatterns[i].write = keyPatterns[i].write || write
        } else {
            keyPatterns.append(AclKeyPattern(pattern: pattern, read: read, write: write))
        }
        allKeys = false
    }

    /// `+command`, `+container|subcommand`, or `+command|first-argument`.
    private func allowCommand(_ name: [UInt8]) throws(AclRuleError) {
        guard let bar = name.lastIndex(of: UInt8(ascii: "|")) else {
            guard let id = Self.lookup(name) else { throw .unknownName }
            return changePermission(id, true)
        }
        let catalog = AclCatalog.shared
        guard let id = Self.lookup(Array(name[..<bar])) else { throw .unknownName }
        if catalog.isSubcommand[id] { throw .subcommandFirstArg }
        let argument = Array(name[(bar + 1)...])
        if argument.isEmpty { throw .syntax }
        if !catalog.children[id].isEmpty {
            guard let sub = Self.lookup(name) else { throw .unknownName }
            return changePermission(sub, true)
        }
        // Redis keeps the argument as given and compares it ignoring case.
        var allowed = firstArgs[id] ?? []
        if !allowed.contains(where: { lowercasedASCII($0) == lowercasedASCII(argument) }) { allowed.append(argument) }
        firstArgs[id] = allowed
    }

    /// A command by its full name (`get`, `config|get`), any case: as Redis's `ACLLookupCommand`,
    /// `name|x` only finds subcommands of containers.
    static func lookup(_ name: [UInt8]) -> Int? {
        guard name.filter({ $0 == UInt8(ascii: "|") }).count <= 1 else { return nil }
        return AclCatalog.shared.id(of: String(decoding: name, as: UTF8.self))
    }

    /// Allows or denies a command; a container's subcommands go with it. Its first arguments go.
    func changePermission(_ id: Int, _ allow: Bool) {
        setBit(id, allow)
        firstArgs[id] = nil
        for child in AclCatalog.shared.children[id] { setBit(child, allow) }
    }

    private func setBit(_ id: Int, _ value: Bool) {
        commands.set(id, value)
        if !value { allCommands = false }
    }

    /// `+@category` / `-@category`: every command and subcommand in it.
    func setCategory(_ category: Int, _ allow: Bool) {
        let catalog = AclCatalog.shared
        let bit = UInt32(1) << UInt32(category)
        catalog.forEachCommand { id in
            if catalog.categoryMasks[id] & bit != 0 { changePermission(id, allow) }
        }
    }

    /// Spaces, control whitespace or NUL: refused in patterns and user names, as in Redis.
    public static func hasSpaces(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 == 0 || $0 == 32 || ($0 >= 9 && $0 <= 13) }
    }

    // MARK: - Description

    /// The selector as ACL LIST shows it: keys, channels, then the command rules.
    func describe() -> String {
        var text = ""
        if allKeys {
            text += "~* "
        } else {
            for pattern in keyPatterns { text += describe(pattern) + " " }
        }
        if allChannels {
            text += "&* "
        } else {
            text += "resetchannels "
            for channel in channels { text += "&" + String(decoding: channel, as: UTF8.self) + " " }
        }
        return text + AclCommandRules.describe(self)
    }

    /// ACL GETUSER's `commands` field.
    public func describeCommands() -> String { AclCommandRules.describe(self) }

    /// ACL GETUSER's `keys` field.
    public func describeKeys() -> String {
        allKeys ? "~*" : keyPatterns.map(describe).joined(separator: " ")
    }

    /// ACL GETUSER's `channels` field.
    public func describeChannels() -> String {
        allChannels ? "&*" : channels.map { "&" + String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    private func describe(_ pattern: AclKeyPattern) -> String {
        let prefix = pattern.read && pattern.write ? "~" : pattern.read ? "%R~" : "%W~"
        return prefix + String(decoding: pattern.pattern, as: UTF8.self)
    }
}
