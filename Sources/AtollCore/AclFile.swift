/// Users from the configuration (`user <name> <rules...>` directives) and from an ACL file
/// (`aclfile`, the same lines): read at start, ACL LOAD, ACL SAVE. A selector written across
/// several arguments (`(~a +get)` split at its spaces) is joined back first, as Redis does.
import AtollBytes
import AtollRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Users that could not be loaded at start: the server must not run with other rules than
/// configured.
public struct AclStartupError: Error, Sendable {
    public let message: String
}

/// What joining selector arguments gives: the rules, or the index of the argument that opens
/// a selector never closed.
public enum MergedRules {
    case rules([[UInt8]])
    case unclosed(at: Int)
}

/// What an ACL file holds: its users, or every error found in it.
public enum AclFileContents {
    case users([[UInt8]: AclUser])
    case errors(String)
}

/// Joins selector rules spread over several arguments (`(~a`, `+get)`) into one.
public func mergeSelectorArguments(_ rules: [[UInt8]]) -> MergedRules {
    var merged: [[UInt8]] = []
    var open: (start: Int, text: [UInt8])?
    for (i, rule) in rules.enumerated() {
        if rule.first == UInt8(ascii: "("), rule.last != UInt8(ascii: ")"), open == nil {
            open = (i, rule)
            continue
        }
        if var selector = open {
            selector.text += [32] + rule
            open = selector
            if rule.last == UInt8(ascii: ")") {
                merged.append(selector.text)
                open = nil
            }
            continue
        }
        merged.append(rule)
    }
    if let open { return .unclosed(at: open.start) }
    return .rules(merged)
}

extension ServerConfiguration {
    /// `acl-pubsub-default allchannels`: new users and selectors allow every channel.
    public var aclChannelsByDefault: Bool { storedParameters["acl-pubsub-default"] == "allchannels" }

    /// Checks a `user` directive's rules on a scratch user and keeps it for the start (Redis's
    /// `ACLAppendUserForLoading`); a command name Redis would only know later is not an error.
    mutating func addUserDirective(_ words: [[UInt8]]) throws(ConfigError) {
        let name = words[1]
        if aclUsers.contains(where: { $0.first == name }) {
            throw ConfigError(description: "Error in user declaration '\(String(decoding: name, as: UTF8.self))': Duplicate user found. A user can only be defined once in config files")
        }
        guard case .rules(let rules) = mergeSelectorArguments(Array(words.dropFirst(2))) else {
            throw ConfigError(description: "Error in user declaration: Unmatched parenthesis in selector definition")
        }
        let scratch = AclUser(name: name, allChannelsByDefault: false)
        for rule in rules {
            do throws(AclRuleError) { try scratch.apply(rule) } catch {
                if case .unknownName = error { continue }
                throw ConfigError(description: "Error in user declaration '\(String(decoding: rule, as: UTF8.self))': \(error.message)")
            }
        }
        aclUsers.append([name] + rules)
    }
}

extension ServerCore {
    /// Creates the users of the configuration's `user` directives, then those of `aclfile`;
    /// both at once is refused, as in Redis.
    public func loadUsersAtStartup() throws(AclStartupError) {
        let file = config.storedParameters["aclfile"] ?? ""
        if !file.isEmpty && !config.aclUsers.isEmpty {
            throw AclStartupError(message: "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.")
        }
        for definition in config.aclUsers {
            let name = definition[0]
            if AclSelector.hasSpaces(name) { throw AclStartupError(message: "Spaces not allowed in ACL usernames") }
            let user: AclUser
            if let existing = acl.user(named: name) {
                user = existing
                try? user.apply(Array("reset".utf8))
            } else {
                user = AclUser(name: name, allChannelsByDefault: acl.channelsByDefault)
                acl.addUser(user)
            }
            for rule in definition.dropFirst() {
                do throws(AclRuleError) { try user.apply(rule) } catch {
                    throw AclStartupError(message: "Error loading ACL rule '\(String(decoding: rule, as: UTF8.self))' for the user named '\(user.nameText)': \(error.message)")
                }
            }
        }
        if !file.isEmpty {
            switch readAclFile(file) {
            case .users(let users): acl.replaceUsers(with: users)
            case .errors(let errors): throw AclStartupError(message: "Aborting Redis startup because of ACL errors: \(errors)")
            }
        }
    }

    /// The users an ACL file defines (Redis's `ACLLoadFromFile`), or every error found, one
    /// sentence each: nothing is loaded when one line is wrong.
    public func readAclFile(_ path: String) -> AclFileContents {
        guard let text = readConfigFile(path) else {
            return .errors("Error loading ACLs, opening file '\(path)': \(String(cString: strerror(errno)))")
        }
        var users: [[UInt8]: AclUser] = [:]
        var errors = ""
        for (i, rawLine) in text.utf8.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            let number = i + 1
            let line = Array(rawLine).trimmingWhitespace()
            if line.isEmpty { continue }
            let words = line.split(separator: 32, omittingEmptySubsequences: true).map(Array.init)
            if words.isEmpty { continue }
            guard words[0] == Array("user".utf8), words.count >= 2 else {
                errors += "\(path):\(number) should start with user keyword followed by the username. "
                continue
            }
            let name = words[1]
            let nameText = String(decoding: name, as: UTF8.self)
            if AclSelector.hasSpaces(name) {
                errors += "'\(path):\(number): username '\(nameText)' contains invalid characters. "
                continue
            }
            if users[name] != nil {
                errors += "WARNING: Duplicate user '\(nameText)' found on line \(number). "
                continue
            }
            let user = AclUser(name: name, allChannelsByDefault: acl.channelsByDefault)
            users[name] = user
            guard case .rules(let rules) = mergeSelectorArguments(Array(words.dropFirst(2))) else {
                errors += "\(path):\(number): Unmatched parenthesis in selector definition."
                continue
            }
            for rule in rules {
                let rule = rule.trimmingWhitespace()
                do throws(AclRuleError) { try user.apply(rule) } catch {
                    // Redis names the rule only for an unknown command or category.
                    let applying = error == .unknownName ? "Error in applying operation '\(String(decoding: rule, as: UTF8.self))': " : ""
                    errors += "\(path):\(number): \(applying)\(error.message). "
                    break  // one error a line, as Redis reports them
                }
            }
        }
        if !errors.isEmpty {
            return .errors(errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
        }
        return .users(users)
    }

    /// Writes every user as a `user` line to `path`, through a temporary file renamed over it.
    /// Returns false (after logging why) when the file cannot be written.
    public func saveAclFile(_ path: String) -> Bool {
        var text = ""
        for user in acl.sortedUsers { text += user.configLine + "\n" }
        let temporary = "\(path).tmp-\(getpid())-\(currentTimeMillis())"
        let bytes = Array(text.utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else {
            logHandler?(3, "Opening temp ACL file for ACL SAVE: \(String(cString: strerror(errno)))")
            return false
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else {
            logHandler?(3, "Writing ACL file for ACL SAVE: \(String(cString: strerror(errno)))")
            unlink(temporary)
            return false
        }
        guard rename(temporary, path) == 0 else {
            logHandler?(3, "Renaming ACL file for ACL SAVE: \(String(cString: strerror(errno)))")
            unlink(temporary)
            return false
        }
        return true
    }
}

extension [UInt8] {
    /// Without leading and trailing spaces, tabs, CRs and LFs.
    func trimmingWhitespace() -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return [] }
        return Array(self[start...end])
    }
}
