/// Redis's protected mode (`protected-mode yes`, the default): while the default user can be
/// used without a password, only local clients (127.0.0.1, ::1 or a Unix socket) are served;
/// any other connection gets `-DENIED ...` as soon as it is accepted and is closed. Redis 7
/// applies this whatever `bind` says, so an explicit `bind 0.0.0.0` is protected too.
public enum ProtectedMode {
    /// Whether a connection from `address` (`ip:port` or `unix:path`) is refused. The second
    /// input is "the default user has `nopass`" (Redis tests only that flag, not `on`/`off`).
    public static func refuses(protectedMode: Bool, defaultUserOpen: Bool, address: String) -> Bool {
        protectedMode && defaultUserOpen && !ProtectedAccess.isLocal(address: address)
    }

    /// The whole reply a refused client gets, as redis-server 7.0.15 sends it.
    public static let deniedReply: StaticString = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"
}

extension ServerCore {
    /// Whether `session`, just accepted, is refused by protected mode; counts it as a rejected
    /// connection if so, as Redis does. A full server leaves it to `register`, whose error comes
    /// first in Redis too. Under the lock.
    public func refusedByProtectedMode(_ session: ClientSession) -> Bool {
        guard clients.count < config.maxClients else { return false }
        let refused = ProtectedMode.refuses(protectedMode: config.protectedMode, defaultUserOpen: acl.defaultUser.noPass,
                                            address: session.address)
        if refused { stats.rejectedConnections += 1 }
        return refused
    }
}

extension ServerConfiguration {
    /// `protected-mode`, kept with the other Redis parameters as CONFIG GET prints it.
    public var protectedMode: Bool { storedParameters["protected-mode"] != "no" }
}
