/// The ACL command family: SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT GENPASS LOG DRYRUN
/// SAVE LOAD HELP. The user model, the checks and the log are AtollCore's (Acl*.swift,
/// AccessControl.swift).
import AtollBytes
import AtollCore
import AtollRESP

enum AclCommands {
    static let commands: [CommandBinding] = [
        .init("acl|setuser", redacting: .options(from: 2, secret: [], stopAtOthers: false), setuser),
        .init("acl|getuser", getuser),
        .init("acl|deluser", deluser),
        .init("acl|list") { list(&$0, namesOnly: false) },
        .init("acl|users") { list(&$0, namesOnly: true) },
        .init("acl|whoami") { $0.out.bulk($0.client.user.name) },
        .init("acl|cat", cat),
        .init("acl|genpass", genpass),
        .init("acl|log", log),
        .init("acl|dryrun", dryrun),
        .init("acl|save", save),
        .init("acl|load", load),
        .init("acl|help", help),
    ]

    // MARK: - Users

    static func setuser(_ c: inout CommandContext) {
        let name = c.args[2]
        if AclSelector.hasSpaces(name) { return c.out.error("ERR Usernames can't contain spaces or null characters") }
        let rules: [[UInt8]]
        switch mergeSelectorArguments(Array(c.args.dropFirst(3))) {
        case .rules(let merged): rules = merged
        case .unclosed(let index):
            return c.out.error("ERR Unmatched parenthesis in acl selector starting at '\(cText(c.args[index + 3], max: Int.max))'.")
        }
        let acl = c.server.acl
        let existing = acl.user(named: name)
        // Every rule is tried on a copy first: one bad rule changes nothing.
        let staged = existing?.staged() ?? AclUser(name: name, allChannelsByDefault: acl.channelsByDefault)
        for rule in rules {
            do throws(AclRuleError) { try staged.apply(rule) } catch {
                return c.out.error("ERR Error in ACL SETUSER modifier '\(cText(rule, max: Int.max))': \(error.message)")
            }
        }
        if let existing {
            c.server.disconnectRevokedSubscribers(of: existing, becoming: staged, caller: c.client)
            existing.copyRules(from: staged)
        } else {
            acl.addUser(staged)
        }
        c.out.ok()
    }

    static func getuser(_ c: inout CommandContext) {
        guard let user = c.server.acl.user(named: c.args[2]) else { return c.out.null() }
        let flags = user.flagNames
        c.out.mapHeader(6)
        c.out.bulk("flags")
        c.out.setHeader(flags.count)
        for flag in flags { c.out.bulk(Array(flag.utf8)) }
        c.out.bulk("passwords")
        c.out.arrayHeader(user.passwords.count)
        for hash in user.passwords { c.out.bulk(hash) }
        describe(user.selectors[0], &c.out)
        c.out.bulk("selectors")
        c.out.arrayHeader(user.selectors.count - 1)
        for selector in user.selectors.dropFirst() {
            c.out.mapHeader(3)
            describe(selector, &c.out)
        }
    }

    /// A selector's `commands`, `keys` and `channels` fields.
    private static func describe(_ selector: AclSelector, _ out: inout ReplyWriter) {
        out.bulk("commands")
        out.bulk(Array(selector.describeCommands().utf8))
        out.bulk("keys")
        out.bulk(Array(selector.describeKeys().utf8))
        out.bulk("channels")
        out.bulk(Array(selector.describeChannels().utf8))
    }

    static func deluser(_ c: inout CommandContext) {
        let names = c.args.dropFirst(2)
        if names.contains(where: { $0 == Array("default".utf8) }) {
            return c.out.error("ERR The 'default' user cannot be removed")
        }
        var deleted = 0
        for name in names {
            guard let user = c.server.acl.removeUser(name) else { continue }
            c.server.disconnectClients(of: user, caller: c.client)
            deleted += 1
        }
        c.out.integer(deleted)
    }

    static func list(_ c: inout CommandContext, namesOnly: Bool) {
        let users = c.server.acl.sortedUsers
        c.out.arrayHeader(users.count)
        for user in users {
            c.out.bulk(namesOnly ? user.name : Array(user.configLine.utf8))
        }
    }

    // MARK: - Categories, passwords

    static func cat(_ c: inout CommandContext) {
        if c.args.count == 2 {
            c.out.arrayHeader(AclCatalog.categories.count)
            for name in AclCatalog.categories { c.out.bulk(Array(name.utf8)) }
            return
        }
        guard c.args.count == 3 else { return subcommandSyntaxError(&c) }
        guard let names = AclCatalog.shared.commands(inCategory: c.args[2]) else {
            return c.out.error("ERR Unknown category '\(cText(c.args[2], max: 128))'")
        }
        c.out.arrayHeader(names.count)
        for name in names { c.out.bulk(Array(name.utf8)) }
    }

    static func genpass(_ c: inout CommandContext) {
        guard c.args.count <= 3 else { return subcommandSyntaxError(&c) }
        var bits: Int64 = 256
        if c.args.count == 3 {
            guard let n = parseStrictInt64(c.args[2]) else { return c.notInteger() }
            bits = n
        }
        guard bits > 0 && bits <= 4096 else {
            return c.out.error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
        }
        let hex = Array("0123456789abcdef".utf8)
        var generator = SystemRandomNumberGenerator()
        c.out.bulk((0..<Int((bits + 3) / 4)).map { _ in hex[Int(generator.next() & 15)] })
    }

    // MARK: - Log, dry run

    static func log(_ c: inout CommandContext) {
        guard c.args.count <= 3 else { return subcommandSyntaxError(&c) }
        var count: Int64 = 10
        if c.args.count == 3 {
            if c.argIs(2, "reset") {
                c.server.acl.log.reset()
                return c.out.ok()
            }
            guard let n = parseStrictInt64(c.args[2]) else { return c.notInteger() }
            count = max(0, n)
        }
        let entries = c.server.acl.log.entries.prefix(Int(min(count, Int64(Int32.max))))
        let now = currentTimeMillis()
        c.out.arrayHeader(entries.count)
        for entry in entries {
            c.out.mapHeader(7)
            c.out.bulk("count"); c.out.integer(entry.count)
            c.out.bulk("reason"); c.out.bulk(Array(entry.reason.name.utf8))
            c.out.bulk("context"); c.out.bulk(Array(entry.context.rawValue.utf8))
            c.out.bulk("object"); c.out.bulk(entry.object)
            c.out.bulk("username"); c.out.bulk(entry.username)
            c.out.bulk("age-seconds"); c.out.double(Double(now - entry.lastMillis) / 1000)
            c.out.bulk("client-info"); c.out.bulk(Array(entry.clientInfo.utf8))
        }
    }

    /// ACL DRYRUN user command [arg ...]: OK, or why not as a bulk string (not an error).
    static func dryrun(_ c: inout CommandContext) {
        guard let user = c.server.acl.user(named: c.args[2]) else {
            return c.out.error("ERR User '\(cText(c.args[2], max: Int.max))' not found")
        }
        let args = Array(c.args.dropFirst(3))
        guard case .found(let spec) = c.server.table.resolve(args) else {
            return c.out.error("ERR Command '\(cText(args[0], max: Int.max))' not found")
        }
        guard spec.arityMatches(args.count) else {
            return c.out.error("ERR wrong number of arguments for '\(spec.name)' command")
        }
        guard let denial = user.check(spec, args) else { return c.out.ok() }
        switch denial.reason {
        case .command, .auth: c.out.bulk(Array("This user has no permissions to run the '\(spec.name)' command".utf8))
        case .key: c.out.bulk(Array("This user has no permissions to access the '".utf8) + args[denial.position] + Array("' key".utf8))
        case .channel: c.out.bulk(Array("This user has no permissions to access the '".utf8) + args[denial.position] + Array("' channel".utf8))
        }
    }

    // MARK: - The ACL file

    static func save(_ c: inout CommandContext) {
        guard let path = aclFile(&c) else { return }
        if c.server.saveAclFile(path) { return c.out.ok() }
        c.out.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
    }

    /// ACL LOAD: every user comes from the file, or nothing changes. Clients authenticated as
    /// any user but `default` are disconnected, as Redis frees the users they pointed at.
    static func load(_ c: inout CommandContext) {
        guard let path = aclFile(&c) else { return }
        switch c.server.readAclFile(path) {
        case .errors(let errors): c.out.error("ERR " + errors)
        case .users(let users):
            let previous = c.server.acl.users.values.filter { $0 !== c.server.acl.defaultUser }
            c.server.acl.replaceUsers(with: users)
            for user in previous { c.server.disconnectClients(of: user, caller: c.client) }
            c.out.ok()
        }
    }

    /// `aclfile`, or nil after Redis's error when there is none.
    private static func aclFile(_ c: inout CommandContext) -> String? {
        if let path = c.server.config.storedParameters["aclfile"], !path.isEmpty { return path }
        c.out.error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
        return nil
    }

    private static func subcommandSyntaxError(_ c: inout CommandContext) {
        c.out.error("ERR unknown subcommand or wrong number of arguments for '\(cText(c.args[1], max: 128))'. Try ACL HELP.")
    }

    static func help(_ c: inout CommandContext) {
        replyHelp(&c, "ACL", [
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ])
    }
}
