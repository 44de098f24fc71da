/// MIGRATE, as redis-server 7.0.15 runs it outside a cluster: the keys that exist (+NOKEY when
/// none does) go to the target as `RESTORE key ttl payload [REPLACE]` (DUMP's payload, the
/// remaining TTL in milliseconds), after `AUTH` when a password is given and `SELECT` when the
/// connection's database differs, all in one write; then one reply is read for each.
///
/// Each key the target accepted is deleted here unless COPY (the `del` event, and `DEL` of
/// those keys in the append-only file); the first error the target gave becomes
/// `ERR Target instance replied with error: ...`. The connection is cached for reuse (see
/// `MigrateSocketCache`). A connection or I/O failure other than a timeout, before any key's
/// reply arrived, is tried once more on a new connection, as Redis does (a cached connection
/// the target closed meanwhile); otherwise it is `-IOERR error or timeout ...`.
///
/// The command holds the keyspace lock throughout, as Redis blocks its event loop, so every
/// wait is bounded by the timeout. A target that is this same server cannot answer while the
/// lock is held: MIGRATE times out with the reading error, as Redis does.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRDB
import AtollRESP

enum MigrateCommand {
    static let commands: [CommandBinding] = [
        // Redis hides each password as its option parser reaches it, up to KEYS.
        .init("migrate", keys: MigrateRequest.keys, keyFlags: keyFlags,
              redacting: .options(from: 6, secret: [("auth", 1), ("auth2", 2)], plain: ["copy", "replace"], stopAtOthers: true),
              migrate),
    ]

    /// Every key MIGRATE names is read and then deleted (both of its key specs' flags).
    static func keyFlags(_ args: [[UInt8]], _ position: Int) -> [String] { ["RW", "access", "delete"] }

    private static let restore = Array("RESTORE".utf8)
    private static let replace = Array("REPLACE".utf8)
    private static let auth = Array("AUTH".utf8)
    private static let select = Array("SELECT".utf8)

    static func migrate(_ c: inout CommandContext) {
        guard let request = MigrateRequest(&c) else { return }
        var found: [(key: Bytes, entry: Entry)] = []
        for index in request.keyIndices {
            let key = Bytes(c.args[index])
            if let entry = c.lookupRead(key) { found.append((key, entry)) }
        }
        guard !found.isEmpty else { return c.out.status("NOKEY") }
        var mayRetry = true
        while !attempt(&c, request, found, mayRetry: mayRetry) { mayRetry = false }
    }

    /// One try; false when it failed in a way that is worth one more (the connection closed).
    private static func attempt(_ c: inout CommandContext, _ request: MigrateRequest,
                                _ found: [(key: Bytes, entry: Entry)], mayRetry: Bool) -> Bool {
        let cache = c.server.migrateSockets
        let name = request.connectionName
        guard let link = cache.connection(named: name, nowSeconds: c.now / 1000, connect: request.connect) else {
            c.out.error("IOERR error or timeout connecting to the client")
            return true
        }
        /// Closes the connection, then either asks for the retry or replies with the I/O error.
        func socketFailed(_ failure: TargetConnection.Failure, writing: Bool) -> Bool {
            cache.close(named: name)
            if failure == .failed && mayRetry { return false }
            c.out.error("IOERR error or timeout \(writing ? "writing" : "reading") to target instance")
            return true
        }

        var requestBytes: [UInt8] = []
        if let password = request.password {
            if let username = request.username {
                appendCommand(&requestBytes, [auth, username, password])
            } else {
                appendCommand(&requestBytes, [auth, password])
            }
        }
        let selects = link.selectedDB != request.db
        if selects { appendCommand(&requestBytes, [select, Array(String(request.db).utf8)]) }
        var sent: [Bytes] = []
        let now = c.server.clock.nowMillis()
        for (key, entry) in found {
            var ttl: Int64 = 0
            if entry.expireAt != noExpiry {
                ttl = entry.expireAt - now
                if ttl < 0 { continue }
                ttl = max(ttl, 1)
            }
            sent.append(key)
            var command = [restore, key.array, Array(String(ttl).utf8), DumpPayload.dump(entry.value)]
            if request.replace { command.append(replace) }
            appendCommand(&requestBytes, command)
        }
        if let failure = link.write(requestBytes, timeoutMillis: request.timeout) {
            return socketFailed(failure, writing: true)
        }

        var authReply: [UInt8] = []
        var selectReply: [UInt8] = []
        if request.password != nil {
            switch link.readLine(timeoutMillis: request.timeout) {
            case .success(let line): authReply = line
            case .failure(let failure): return socketFailed(failure, writing: false)
            }
        }
        if selects {
            switch link.readLine(timeoutMillis: request.timeout) {
            case .success(let line): selectReply = line
            case .failure(let failure): return socketFailed(failure, writing: false)
            }
        }

        let minus = UInt8(ascii: "-")
        var targetError: [UInt8]?
        var readFailure: TargetConnection.Failure?
        var replies = 0
        var moved: [[UInt8]] = []
        for key in sent {
            let read = link.readLine(timeoutMillis: request.timeout)
            guard case .success(let line) = read else {
                if case .failure(let failure) = read { readFailure = failure }
                break
            }
            replies += 1
            if authReply.first == minus || selectReply.first == minus || line.first == minus {
                if targetError == nil {
                    link.selectedDB = -1
                    targetError = Array((authReply.first == minus ? authReply : selectReply.first == minus ? selectReply : line).dropFirst())
                }
            } else if !request.copy {
                // Deleted and announced even when a repeated key is gone already, as in Redis.
                if !c.delete(key) {
                    c.modified(key)
                    c.notify(.generic, "del", key)
                }
                moved.append(key.array)
            }
        }
        if let failure = readFailure, targetError == nil, replies == 0, failure == .failed, mayRetry {
            cache.close(named: name)
            return false
        }
        if readFailure != nil { cache.close(named: name) }
        if !moved.isEmpty && c.logsWrites { c.logAs([AppendOnlyFeed.del] + moved) }
        if let targetError {
            c.out.error(bytes: Array("ERR Target instance replied with error: ".utf8) + targetError)
        } else if readFailure != nil {
            c.out.error("IOERR error or timeout reading to target instance")
        } else {
            link.selectedDB = request.db
            c.out.ok()
        }
        return true
    }

    /// Appends `args` as a RESP array of bulk strings.
    private static func appendCommand(_ bytes: inout [UInt8], _ args: [[UInt8]]) {
        bytes += Array("*\(args.count)\r\n".utf8)
        for arg in args {
            bytes += Array("$\(arg.count)\r\n".utf8)
            bytes += arg
            bytes += [13, 10]
        }
    }
}
