/// Connection commands: PING ECHO HELLO AUTH SELECT QUIT RESET and CLIENT.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum ConnectionCommands {
    static let commands: [CommandBinding] = [
        .init("ping", [.refusedOnDiskError, .allowedWhileSubscribed], ping),
        .init("echo", echo),
        .init("hello", .clientOnly, redacting: .options(from: 2, secret: [("auth", 2)], stopAtOthers: false), hello),
        .init("auth", .clientOnly, redacting: .everyArgument, auth),
        .init("select", select),
        .init("quit", [.actsInsideMulti, .acceptedInMultiWhenOutOfMemory, .clientOnly, .allowedWhileSubscribed], quit),
        .init("reset", [.actsInsideMulti, .acceptedInMultiWhenOutOfMemory, .allowedWhileSubscribed], reset),
        .init("client|info", .keepsCachingChoice, clientInfo),
        .init("client|reply", .keepsCachingChoice, clientReply),
        .init("client|setname", .keepsCachingChoice, clientSetname),
        .init("client|kill", .keepsCachingChoice, clientKill),
        .init("client|no-evict", .keepsCachingChoice, clientNoEvict),
        .init("client|no-touch", .keepsCachingChoice, clientNoTouch),
        .init("client|id", .keepsCachingChoice, clientId),
        .init("client|getname", .keepsCachingChoice, clientGetname),
        .init("client|help", .keepsCachingChoice, clientHelp),
        .init("client|unblock", .keepsCachingChoice, clientUnblock),
        .init("client|pause", .keepsCachingChoice, clientPause),
        .init("client|unpause", .keepsCachingChoice, clientUnpause),
        .init("client|list", .keepsCachingChoice, clientList),
    ]

    static func ping(_ c: inout CommandContext) {
        if c.args.count > 2 { return c.out.error("ERR wrong number of arguments for 'ping' command") }
        // In RESP2 subscribed mode PING answers in a message's shape, as in Redis.
        if c.client.subscriptions != nil && !c.out.resp3 {
            c.out.arrayHeader(2)
            c.out.staticBulk("pong")
            return c.out.bulk(c.args.count == 2 ? c.args[1] : [])
        }
        if c.args.count == 2 { return c.out.bulk(c.args[1]) }
        c.out.status("PONG")
    }

    static func echo(_ c: inout CommandContext) { c.out.bulk(c.args[1]) }

    static func select(_ c: inout CommandContext) {
        guard let n = c.rangedArgument(1, Int64(Int32.min), Int64(Int32.max)) else { return }
        guard n >= 0 && n < Int64(c.keyspace.databases.count) else { return c.out.error("ERR DB index is out of range") }
        c.client.db = Int(n)
        c.out.ok()
    }

    static func quit(_ c: inout CommandContext) {
        c.client.closeAfterReply = true
        c.out.ok()
    }

    static func reset(_ c: inout CommandContext) {
        let client = c.client
        c.server.endTransaction(client)
        c.server.unsubscribeAll(client)
        c.server.disableTracking(client)
        client.db = 0
        client.resp3 = false
        c.out.resp3 = false
        client.name = []
        client.noEvict = false
        client.noTouch = false
        client.replyMode = .on
        client.user = c.server.acl.defaultUser
        client.authenticated = !c.server.acl.authenticationRequired
        if client.isMonitor {
            client.isMonitor = false
            c.server.monitors.removeAll { $0 === client }
        }
        c.out.status("RESET")
    }

    // MARK: - Authentication

    /// Authenticates the client as `user` when `password` is one of its (Redis's
    /// `ACLAuthenticateUser`); a failure is logged in ACL LOG with the command's name as typed,
    /// except while a script is busy (the log is the lock holder's).
    static func authenticate(_ c: inout CommandContext, user: [UInt8], password: [UInt8]) -> Bool {
        if let found = c.server.acl.authenticate(user, password) {
            c.client.user = found
            c.client.authenticated = true
            return true
        }
        if !c.whileScriptBusy {
            let context: AclLog.Context = c.client.inTransaction || c.client.executingTransaction ? .multi : .toplevel
            c.server.logAcl(.auth, object: c.args[0], username: user, client: c.client, context: context, now: c.now)
        }
        return false
    }

    static func auth(_ c: inout CommandContext) {
        if c.args.count > 3 { return c.syntaxError() }
        let user: [UInt8], password: [UInt8]
        if c.args.count == 2 {
            if c.server.acl.defaultUser.noPass {
                return c.out.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
            }
            user = Array("default".utf8)
            password = c.args[1]
        } else {
            user = c.args[1]
            password = c.args[2]
        }
        guard authenticate(&c, user: user, password: password) else {
            return c.out.error("WRONGPASS invalid username-password pair or user is disabled.")
        }
        c.out.ok()
    }

    static func hello(_ c: inout CommandContext) {
        var version: Int64 = 0
        var next = 1
        if c.args.count >= 2 {
            guard let v = parseStrictInt64(c.args[1]) else {
                return c.out.error("ERR Protocol version is not an integer or out of range")
            }
            if v < 2 || v > 3 { return c.out.error("NOPROTO unsupported protocol version") }
            version = v
            next = 2
        }
        var credentials: (user: [UInt8], password: [UInt8])?
        var newName: [UInt8]?
        var j = next
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.argIs(j, "auth") && more >= 2 {
                credentials = (c.args[j + 1], c.args[j + 2])
                j += 2
            } else if c.argIs(j, "setname") && more >= 1 {
                newName = c.args[j + 1]
                j += 1
            } else {
                return c.out.error("ERR Syntax error in HELLO option '\(cText(c.args[j], max: Int.max))'")
            }
            j += 1
        }
        if let credentials {
            guard authenticate(&c, user: credentials.user, password: credentials.password) else {
                return c.out.error("WRONGPASS invalid username-password pair or user is disabled.")
            }
        }
        guard c.client.authenticated || !c.server.acl.authenticationRequired else {
            return c.out.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if let newName {
            guard setClientName(&c, newName) else { return }
        }
        if version != 0 {
            c.client.resp3 = version == 3
            c.out.resp3 = version == 3
        }
        c.out.mapHeader(7)
        c.out.bulk("server"); c.out.bulk("redis")
        c.out.bulk("version"); c.out.bulk(redisCompatibleVersion)
        c.out.bulk("proto"); c.out.integer(c.client.resp3 ? 3 : 2)
        c.out.bulk("id"); c.out.integer(c.client.id)
        c.out.bulk("mode"); c.out.bulk("standalone")
        c.out.bulk("role"); c.out.bulk("master")
        c.out.bulk("modules"); c.out.arrayHeader(0)
    }

    /// Validates and applies a client name; replies with Redis's error and returns false if invalid.
    static func setClientName(_ c: inout CommandContext, _ name: [UInt8]) -> Bool {
        guard name.allSatisfy({ $0 >= UInt8(ascii: "!") && $0 <= UInt8(ascii: "~") }) else {
            c.out.error("ERR Client names cannot contain spaces, newlines or special characters.")
            return false
        }
        c.client.name = name
        return true
    }

    // MARK: - CLIENT

    static func clientId(_ c: inout CommandContext) { c.out.integer(c.client.id) }

    /// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: releases a client parked by a blocking command.
    static func clientUnblock(_ c: inout CommandContext) {
        if c.args.count > 4 {
            return c.out.error("ERR unknown subcommand or wrong number of arguments for '\(cText(c.args[1], max: 128))'. Try CLIENT HELP.")
        }
        // The reason is checked before the id, as in Redis.
        var asError = false
        if c.args.count == 4 {
            if c.argIs(3, "error") { asError = true }
            else if !c.argIs(3, "timeout") {
                return c.out.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            }
        }
        guard let id = parseStrictInt64(c.args[2]) else { return c.notInteger() }
        guard let target = c.server.clients[id], target.blocked != nil else { return c.out.integer(0) }
        let errors = c.server.releaseBlocked(target, error: asError ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : nil,
                                             byClientUnblock: true)
        // The error reply counts against CLIENT UNBLOCK too, as in Redis (it is sent while it runs).
        c.out.errorCodes += errors
        c.out.integer(1)
    }

    /// CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the timeout, as in Redis.
    /// A timeout so large that the deadline wraps around ends the pause at once, as in Redis 7.0.
    static func clientPause(_ c: inout CommandContext) {
        if c.args.count > 4 {
            return c.out.error("ERR unknown subcommand or wrong number of arguments for '\(cText(c.args[1], max: 128))'. Try CLIENT HELP.")
        }
        var mode = PauseMode.all
        if c.args.count == 4 {
            if c.argIs(3, "write") { mode = .write }
            else if !c.argIs(3, "all") { return c.out.error("ERR CLIENT PAUSE mode must be WRITE or ALL") }
        }
        guard let millis = parseStrictInt64(c.args[2]) else {
            return c.out.error("ERR timeout is not an integer or out of range")
        }
        if millis < 0 { return c.out.error("ERR timeout is negative") }
        c.server.pauseClients(mode, until: millis > 0 ? c.now &+ millis : 0)
        c.out.ok()
    }

    static func clientUnpause(_ c: inout CommandContext) {
        c.server.unpauseClients()
        c.out.ok()
    }

    static func clientSetname(_ c: inout CommandContext) {
        if setClientName(&c, c.args[2]) { c.out.ok() }
    }

    static func clientGetname(_ c: inout CommandContext) {
        if c.client.name.isEmpty { return c.out.null() }
        c.out.bulk(c.client.name)
    }

    /// One CLIENT LIST line, in Redis's field order. The output fields are the client's unsent
    /// messages and invalidations (queued, or in the socket's send queue): `omem` their bytes,
    /// `oll` as Redis's 16 KB reply blocks; the memory fields are `ClientFigures`'.
    /// `runningArgs`: the arguments of the command being run, when `client` is the caller.
    static func describe(_ client: ClientSession, now: Int64, runningArgs: [[UInt8]]? = nil) -> String {
        let figures = ClientFigures(client, runningArgs: runningArgs)
        let unsent = figures.unsentBytes
        let buffers = figures.buffers
        var flags = ""
        if client.isReplica { flags += "S" }
        if client.isMaster { flags += "M" }
        if client.isMonitor { flags += "O" }
        if client.subscriptions != nil { flags += "P" }
        if client.inTransaction { flags += "x" }
        if client.blocked != nil || client.paused { flags += "b" }
        if let tracking = client.tracking {
            flags += "t"
            if tracking.brokenRedirect { flags += "R" }
            if tracking.bcast { flags += "B" }
        }
        if client.watchTouched { flags += "d" }
        if client.noEvict { flags += "e" }
        if client.noTouch { flags += "T" }
        if flags.isEmpty { flags = "N" }
        return "id=\(client.id) addr=\(client.address) laddr=\(client.localAddress) fd=\(buffers.descriptor) name=\(String(decoding: client.name, as: UTF8.self)) "
            + "age=\((now - client.createdAt) / 1000) idle=\((now - client.lastInteraction) / 1000) flags=\(flags) db=\(client.db) "
            + "sub=\(client.subscriptions?.channels.count ?? 0) psub=\(client.subscriptions?.patterns.count ?? 0) "
            + "ssub=\(client.subscriptions?.shardChannels.count ?? 0) multi=\(client.queued.map { $0.count } ?? -1) "
            + "qbuf=\(buffers.queryBytes) qbuf-free=\(buffers.queryFree) argv-mem=\(figures.argvBytes) multi-mem=\(figures.multiBytes) "
            + "rbs=\(buffers.replyBufferSize) rbp=\(buffers.replyBufferPeak) obl=0 oll=\((unsent + 16383) / 16384) omem=\(unsent) "
            + "tot-mem=\(figures.totalBytes) events=\(unsent > 0 ? "rw" : "r") cmd=\(client.lastCommand) user=\(client.user.nameText) redir=\(client.tracking?.redirect ?? -1) resp=\(client.resp3 ? 3 : 2)"
    }

    static func clientInfo(_ c: inout CommandContext) {
        c.out.verbatim(describe(c.client, now: c.now, runningArgs: c.args) + "\n")
    }

    static func clientList(_ c: inout CommandContext) {
        var selected = c.server.clients.values.sorted { $0.id < $1.id }
        var j = 2
        while j < c.args.count {
            if c.argIs(j, "type") && j + 1 < c.args.count {
                let t = c.args[j + 1]
                guard let wanted = ClientType(t) else {
                    return c.out.error("ERR Unknown client type '\(cText(t, max: Int.max))'")
                }
                selected = selected.filter { ClientType(of: $0) == wanted }
                j += 2
            } else if c.argIs(j, "id") && j + 1 < c.args.count {
                var ids = Set<Int64>()
                for k in (j + 1)..<c.args.count {
                    guard let id = parseStrictInt64(c.args[k]), id > 0 else { return c.out.error("ERR Invalid client ID") }
                    ids.insert(id)
                }
                selected = selected.filter { ids.contains($0.id) }
                j = c.args.count
            } else {
                return c.syntaxError()
            }
        }
        let now = c.now, caller = c.client, args = c.args
        c.out.verbatim(selected.map { describe($0, now: now, runningArgs: $0 === caller ? args : nil) + "\n" }.joined())
    }

    static func clientKill(_ c: inout CommandContext) {
        if c.args.count == 3 {
            // Old form: CLIENT KILL addr:port
            let address = String(decoding: c.args[2], as: UTF8.self)
            guard let target = c.server.clients.values.first(where: { $0.address == address }) else {
                return c.out.error("ERR No such client")
            }
            c.server.closeClient(target, caller: c.client)
            return c.out.ok()
        }
        var id: Int64?, address: String?, localAddress: String?, user: AclUser?, wanted: ClientType?
        var skipMe = true
        var j = 2
        while j < c.args.count {
            guard j + 1 < c.args.count else { return c.syntaxError() }
            let value = c.args[j + 1]
            if c.argIs(j, "id") {
                guard let n = parseStrictInt64(value), n > 0 else { return c.out.error("ERR client-id should be greater than 0") }
                id = n
            } else if c.argIs(j, "addr") {
                address = String(decoding: value, as: UTF8.self)
            } else if c.argIs(j, "laddr") {
                localAddress = String(decoding: value, as: UTF8.self)
            } else if c.argIs(j, "user") {
                guard let named = c.server.acl.user(named: value) else {
                    return c.out.error("ERR No such user '\(cText(value, max: Int.max))'")
                }
                user = named
            } else if c.argIs(j, "skipme") {
                if asciiCaseInsensitiveEquals(value, "yes") { skipMe = true }
                else if asciiCaseInsensitiveEquals(value, "no") { skipMe = false }
                else { return c.syntaxError() }
            } else if c.argIs(j, "type") {
                guard let named = ClientType(value) else {
                    return c.out.error("ERR Unknown client type '\(cText(value, max: Int.max))'")
                }
                wanted = named
            } else {
                return c.syntaxError()
            }
            j += 2
        }
        var killed = 0
        for target in c.server.clients.values {
            if let id, target.id != id { continue }
            if let address, target.address != address { continue }
            if let localAddress, target.localAddress != localAddress { continue }
            if let user, target.user !== user { continue }
            if let wanted, ClientType(of: target) != wanted { continue }
            if skipMe && target === c.client { continue }
            c.server.closeClient(target, caller: c.client)
            killed += 1
        }
        c.out.integer(killed)
    }

    /// The types CLIENT LIST and CLIENT KILL filter by (`TYPE name`), as Redis names them.
    enum ClientType {
        case normal, master, replica, pubsub

        init?(_ name: [UInt8]) {
            if asciiCaseInsensitiveEquals(name, "normal") { self = .normal }
            else if asciiCaseInsensitiveEquals(name, "master") { self = .master }
            else if asciiCaseInsensitiveEquals(name, "replica") || asciiCaseInsensitiveEquals(name, "slave") { self = .replica }
            else if asciiCaseInsensitiveEquals(name, "pubsub") { self = .pubsub }
            else { return nil }
        }

        init(of client: ClientSession) {
            if client.isReplica { self = .replica }
            else if client.isMaster { self = .master }
            else { self = client.subscriptions == nil ? .normal : .pubsub }
        }
    }

    static func clientNoEvict(_ c: inout CommandContext) {
        guard let on = onOff(&c) else { return }
        c.client.noEvict = on
        c.out.ok()
    }

    static func clientNoTouch(_ c: inout CommandContext) {
        guard let on = onOff(&c) else { return }
        c.client.noTouch = on
        c.out.ok()
    }

    private static func onOff(_ c: inout CommandContext) -> Bool? {
        if c.argIs(2, "on") { return true }
        if c.argIs(2, "off") { return false }
        c.syntaxError()
        return nil
    }

    static func clientReply(_ c: inout CommandContext) {
        if c.argIs(2, "on") {
            c.client.replyMode = .on
            c.out.ok()
        } else if c.argIs(2, "off") {
            c.client.replyMode = .off
        } else if c.argIs(2, "skip") {
            if c.client.replyMode != .off { c.client.replyMode = .skipNext }
        } else {
            c.syntaxError()
        }
    }

    static func clientHelp(_ c: inout CommandContext) {
        replyHelp(&c, "CLIENT", [
            "GETNAME", "    Return the name of the current connection.",
            "ID", "    Return the ID of the current connection.",
            "INFO", "    Return information about the current client connection.",
            "KILL <ip:port>", "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID, ADDR, LADDR, USER, TYPE, SKIPME.",
            "LIST [TYPE <type>] [ID <id> [<id> ...]]", "    Return information about client connections.",
            "NO-EVICT (ON|OFF)", "    Protect the current client connection from eviction.",
            "NO-TOUCH (ON|OFF)", "    Do not change the access time of keys this client reads.",
            "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
            "SETNAME <name>", "    Assign the name <name> to the current connection.",
        ])
    }
}
