/// How the server applies ACL decisions beyond the dispatcher's check: the refusal texts in
/// each place Redis words them differently, the ACL LOG entries, and the disconnections a
/// change of rules causes (a deleted or reloaded user's clients, subscribers to channels
/// taken away).
import AtollBytes

extension AclDenial {
    /// The NOPERM message for a refused command (after `NOPERM `).
    public func message(_ spec: CommandSpec) -> String {
        switch reason {
        case .command: return "this user has no permissions to run the '\(spec.name)' command"
        case .key: return "this user has no permissions to access one of the keys used as arguments"
        case .channel: return "this user has no permissions to access one of the channels used as arguments"
        case .auth: return "invalid username-password pair or user is disabled."
        }
    }

    /// The error a script's `redis.call` gets for a refused command.
    public var scriptMessage: String {
        switch reason {
        case .command, .auth: return "ERR The user executing the script can't run this command or subcommand"
        case .key: return "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
        case .channel: return "ERR The user executing the script can't publish to the channel mentioned in the command"
        }
    }

    /// EXEC's error for a queued command the rules no longer allow.
    public var execMessage: String {
        let why: String
        switch reason {
        case .command: why = "no permission to execute the command or subcommand"
        case .key: why = "no permission to touch the specified keys"
        case .channel: why = "no permission to access one of the channels used as arguments"
        case .auth: why = "no permission"
        }
        return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: \(why)"
    }
}

extension ServerCore {
    /// `acllog-max-len`.
    var aclLogMaxLength: Int { Int(config.storedParameters["acllog-max-len"] ?? "") ?? 128 }

    /// Logs a refused command of `client` (a script's caller for its `redis.call`s).
    public func logAclDenial(_ denial: AclDenial, _ spec: CommandSpec, _ args: [[UInt8]], client: ClientSession,
                             context: AclLog.Context, now: Int64) {
        let object = denial.reason == .command ? Array(spec.name.utf8) : args[denial.position]
        logAcl(denial.reason, object: object, username: client.user.name, client: client, context: context, now: now)
    }

    /// Logs a refusal; `object` is the command, key or channel refused (the command name for
    /// a failed authentication).
    public func logAcl(_ reason: AclDenialReason, object: [UInt8], username: [UInt8], client: ClientSession,
                       context: AclLog.Context, now: Int64) {
        let info = clientDescriber?(client, now) ?? ""
        acl.log.add(AclLog.Entry(count: 1, reason: reason, context: context, object: object, username: username,
                                 lastMillis: currentTimeMillis(), clientInfo: info), maxLength: aclLogMaxLength)
    }

    /// Closes every client authenticated as `user` (ACL DELUSER, ACL LOAD), the caller after
    /// its reply. They fall back to the default user, unauthenticated, meanwhile.
    public func disconnectClients(of user: AclUser, caller: ClientSession) {
        for client in clients.values where client.user === user {
            client.user = acl.defaultUser
            client.authenticated = false
            closeClient(client, caller: caller)
        }
    }

    /// Closes the subscribers of `user` whose channels or patterns `staged` (its new rules)
    /// no longer allows, as Redis does before ACL SETUSER applies them.
    public func disconnectRevokedSubscribers(of user: AclUser, becoming staged: AclUser, caller: ClientSession) {
        for client in clients.values where client.user === user {
            guard let subscriptions = client.subscriptions else { continue }
            let revoked = subscriptions.patterns.contains { !staged.channelsAllowed($0.array, literal: true) }
                || subscriptions.channels.contains { !staged.channelsAllowed($0.array, literal: false) }
                || subscriptions.shardChannels.contains { !staged.channelsAllowed($0.array, literal: false) }
            if revoked { closeClient(client, caller: caller) }
        }
    }

    /// Closes a client: at once, or after its reply when it is the caller (CLIENT KILL's way).
    /// Gone at once, as in Redis: a second KILL finds nothing, and whatever the client had
    /// already sent never runs.
    public func closeClient(_ client: ClientSession, caller: ClientSession) {
        if client === caller {
            client.closeAfterReply = true
        } else {
            disconnect(client)
            client.killed = true
            client.connection?.close()
        }
    }
}
