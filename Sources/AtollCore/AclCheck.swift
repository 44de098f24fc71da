/// Whether a user may run a command with its arguments (Redis's `ACLCheckAllUserCommandPerm`):
/// allowed when any selector allows the command, every key (with the access its key spec
/// needs: `access` reads, `insert`/`delete`/`update` write) and every channel it names.
/// When all refuse, the denial reported is the worst one (command < key < channel), the last
/// argument for equals, as Redis picks it.
import AtollKeyspace

/// Why a command, or an authentication, was refused: the order is Redis's (`ACL_DENIED_*`).
public enum AclDenialReason: Int, Sendable {
    case command = 1, key = 2, auth = 3, channel = 4

    /// ACL LOG's `reason`.
    public var name: String {
        switch self {
        case .command: return "command"
        case .key: return "key"
        case .auth: return "auth"
        case .channel: return "channel"
        }
    }
}

/// A refusal: why, and the argument (key or channel) at fault.
public struct AclDenial: Sendable {
    public let reason: AclDenialReason
    public let position: Int
}

/// What a key spec's flags ask of the key patterns.
struct AclKeyAccess: OptionSet, Sendable {
    let rawValue: UInt8
    static let read = AclKeyAccess(rawValue: 1)
    static let write = AclKeyAccess(rawValue: 2)
    /// A key spec flagged `not_key` (SPUBLISH's shard channel): not a key to ACL rules.
    static let notKey = AclKeyAccess(rawValue: 4)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(flags: [String]) {
        var access: AclKeyAccess = []
        for flag in flags {
            switch flag {
            case "access": access.insert(.read)
            case "insert", "delete", "update": access.insert(.write)
            case "not_key": access.insert(.notKey)
            default: break
            }
        }
        self = access
    }
}

extension AclUser {
    /// Nil when the user may run `spec` with `args`, else the denial.
    public func check(_ spec: CommandSpec, _ args: [[UInt8]]) -> AclDenial? {
        var keys: [(position: Int, access: AclKeyAccess)]?
        var worst = AclDenial(reason: .command, position: 0)
        for selector in selectors {
            guard let denial = selector.check(spec, args, keys: &keys) else { return nil }
            if denial.reason.rawValue > worst.reason.rawValue
                || (denial.reason == worst.reason && denial.position > worst.position) {
                worst = denial
            }
        }
        return worst
    }

    /// Whether one selector both allows the command and lets it read every key (`allkeys`,
    /// `~*` or `%R~*`): what SORT's BY and GET patterns need, as Redis's
    /// `ACLUserCheckCmdWithUnrestrictedKeyAccess` decides.
    public func mayReadEveryKey(running spec: CommandSpec, _ args: [[UInt8]]) -> Bool {
        if unrestricted { return true }
        var keys: [(position: Int, access: AclKeyAccess)]?
        return selectors.contains { selector in
            selector.check(spec, args, keys: &keys) == nil
                && (selector.allKeys || selector.keyPatterns.contains { $0.read && $0.pattern == [UInt8(ascii: "*")] })
        }
    }
}

extension AclSelector {
    /// Nil when this selector allows the command. `keys` holds the command's keys once found,
    /// for the next selector.
    func check(_ spec: CommandSpec, _ args: [[UInt8]], keys: inout [(position: Int, access: AclKeyAccess)]?) -> AclDenial? {
        if !allCommands && !spec.flags.contains(.noAuth) && !commands.contains(spec.aclId) {
            let position = spec.isSubcommand ? 2 : 1
            guard args.count > position, let allowed = firstArgs[spec.aclId],
                  allowed.contains(where: { lowercasedASCII($0) == lowercasedASCII(args[position]) }) else {
                return AclDenial(reason: .command, position: 0)
            }
        }
        if !allKeys && spec.mayHaveKeys {
            let single = spec.aclSingleKey
            if single > 0 {
                // One key at a known place: no list of keys to build.
                if single < args.count {
                    let access = spec.keyFlags.map { AclKeyAccess(flags: $0(args, single)) } ?? spec.aclKeyAccess[0]
                    if !access.contains(.notKey) && !allows(args[single], access) { return AclDenial(reason: .key, position: single) }
                }
            } else {
                if keys == nil { keys = spec.aclKeys(args) }
                for (position, access) in keys! where !allows(args[position], access) {
                    return AclDenial(reason: .key, position: position)
                }
            }
        }
        return checkChannels(spec, args)
    }

    /// Nil when this selector allows every channel the command names.
    private func checkChannels(_ spec: CommandSpec, _ args: [[UInt8]]) -> AclDenial? {
        if !allChannels {
            let named = spec.behaviour.intersection(.namesChannels)
            if !named.isEmpty {
                let last = named.contains(.publishes) ? min(1, args.count - 1) : args.count - 1
                let literal = named.contains(.subscribesPatterns)
                if last >= 1 {
                    for position in 1...last where !allowsChannel(args[position], literal: literal) {
                        return AclDenial(reason: .channel, position: position)
                    }
                }
            }
        }
        return nil
    }

    /// Whether a key pattern granting `access` matches `key`.
    func allows(_ key: [UInt8], _ access: AclKeyAccess) -> Bool {
        if allKeys { return true }
        return keyPatterns.withUnsafeBufferPointer { patterns in
            for i in 0..<patterns.count {
                if access.contains(.read) && !patterns[i].read { continue }
                if access.contains(.write) && !patterns[i].write { continue }
                if globMatch(patterns[i].pattern, key) { return true }
            }
            return false
        }
    }

    /// Whether a channel pattern matches `channel` (compared literally for PSUBSCRIBE's
    /// patterns, which must be listed as they are).
    func allowsChannel(_ channel: [UInt8], literal: Bool) -> Bool {
        if allChannels { return true }
        return channels.contains { literal ? $0 == channel : globMatch($0, channel) }
    }
}

extension CommandSpec {
    /// The keys `args` name with the access each needs, as the ACL check reads them: by the
    /// key specs, or by the command's own finders where the specs cannot say. None for a bad
    /// key count, as in Redis (the command then fails by itself), and none from `not_key` specs.
    func aclKeys(_ args: [[UInt8]]) -> [(position: Int, access: AclKeyAccess)] {
        let keys: [(position: Int, access: AclKeyAccess)]
        if keyFinder == nil && keyFlags == nil && !keySpecs.isEmpty, let found = specKeyIndices(args) {
            keys = found.map { ($0.position, aclKeyAccess[$0.spec]) }
        } else {
            keys = (keysAndFlags(args) ?? []).map { ($0.position, AclKeyAccess(flags: $0.flags)) }
        }
        return keys.filter { !$0.access.contains(.notKey) }
    }
}
