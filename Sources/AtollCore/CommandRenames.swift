/// `rename-command NAME NEWNAME` and `rename-command NAME ""` from the configuration file or
/// flags, as redis-server takes them: NAME must name a command at that point (renames apply in
/// order), NEWNAME must not, and an empty NEWNAME removes the command. Checked against every
/// Redis 7.0 command, so that a redis.conf renaming one Atoll does not serve still loads.
/// Renaming changes only how the command is found (`CommandTable.renaming`): its facts, its
/// name in COMMAND INFO and LIST, errors and statistics stay the original's, as in Redis.

/// One rename, both names in lower case; `newName` is empty for a removal.
public struct CommandRename: Sendable, Equatable {
    public let name: String
    public let newName: String

    /// A rename for an embedding program's configuration (the names are lowered here); the
    /// file and flags go through `rename-command`'s checks instead.
    public init(name: String, newName: String) {
        self.name = name.lowercased()
        self.newName = newName.lowercased()
    }
}

extension ServerConfiguration {
    /// Adds a `rename-command` directive's rename after checking it against the renames before
    /// it; returns Redis's reason when it is refused.
    mutating func addCommandRename(_ values: [String]) -> String? {
        guard values.count == 2 else { return "Bad directive or wrong number of arguments" }
        let rename = CommandRename(name: values[0], newName: values[1])
        var names = Set(CommandFacts.byName.keys.filter { !$0.contains("|") })
        for earlier in commandRenames {
            names.remove(earlier.name)
            if !earlier.newName.isEmpty { names.insert(earlier.newName) }
        }
        guard names.contains(rename.name) else { return "No such command in rename-command" }
        names.remove(rename.name)
        guard rename.newName.isEmpty || !names.contains(rename.newName) else { return "Target command name already exists" }
        commandRenames.append(rename)
        return nil
    }
}
