/// The ACL users and log a server keeps (Redis's `Users` and `ACLLog`): the `default` user
/// every connection starts as (its rules change in place, never the object), the others by
/// name, and the refusals logged. Guarded by the keyspace lock; read without it only while a
/// script holds the lock, when no command can change it.
import AtollBytes

public final class AccessControl: @unchecked Sendable {
    public let defaultUser: AclUser
    /// Every user, `default` included, by name.
    public private(set) var users: [[UInt8]: AclUser]
    public var log = AclLog()
    /// `acl-pubsub-default allchannels`: new users allow every channel (kept equal to the
    /// configuration by CONFIG SET).
    public var channelsByDefault: Bool

    init(channelsByDefault: Bool, requirePass: String) {
        self.channelsByDefault = channelsByDefault
        defaultUser = AclUser.makeDefault(allChannelsByDefault: channelsByDefault)
        users = [defaultUser.name: defaultUser]
        setDefaultPassword(requirePass)
    }

    /// Whether a connection must authenticate before running commands: the default user
    /// has a password or is off (Redis's `authRequired`, for a client that has not).
    public var authenticationRequired: Bool { !defaultUser.noPass || !defaultUser.enabled }

    /// `requirepass`: the default user's only password, or nopass when empty.
    public func setDefaultPassword(_ password: String) {
        try? defaultUser.apply(Array("resetpass".utf8))
        try? defaultUser.apply(password.isEmpty ? Array("nopass".utf8) : [UInt8(ascii: ">")] + Array(password.utf8))
    }

    /// Users in name order (byte-wise, as Redis's radix tree lists them).
    public var sortedUsers: [AclUser] {
        users.values.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    public func user(named name: [UInt8]) -> AclUser? { users[name] }

    /// The user `name` and `password` authenticate as, or nil.
    public func authenticate(_ name: [UInt8], _ password: [UInt8]) -> AclUser? {
        guard let user = users[name], user.accepts(password) else { return nil }
        return user
    }

    /// Adds a user (or replaces the one of that name).
    public func addUser(_ user: AclUser) { users[user.name] = user }

    public func removeUser(_ name: [UInt8]) -> AclUser? { users.removeValue(forKey: name) }

    /// Replaces every user but `default`, whose rules become `loaded`'s `default` (or the
    /// start-up default when it has none).
    public func replaceUsers(with loaded: [[UInt8]: AclUser]) {
        let newDefault = loaded[defaultUser.name] ?? AclUser.makeDefault(allChannelsByDefault: channelsByDefault)
        defaultUser.copyRules(from: newDefault)
        users = loaded
        users[defaultUser.name] = defaultUser
    }
}
