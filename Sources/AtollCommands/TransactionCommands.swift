/// Transactions: MULTI EXEC DISCARD, and optimistic locking with WATCH UNWATCH.
///
/// While a client is in MULTI the dispatcher (`ServerCore.run`) queues its commands instead of
/// running them; a command refused at that point (unknown, wrong arity, not allowed in a
/// transaction) makes EXEC fail with EXECABORT. EXEC runs the queue inside the one lock
/// acquisition that is running EXEC itself, so no other client's command can interleave.
/// WATCHed keys are tracked by `WatchRegistry`; any write to one marks its watchers, and EXEC
/// then returns the null array without running anything.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum TransactionCommands {
    static let commands: [CommandBinding] = [
        .init("multi", [.actsInsideMulti, .clientOnly], multi),
        .init("exec", [.actsInsideMulti, .acceptedInMultiWhenOutOfMemory, .runsTransaction, .loggedThroughItsCommands], exec),
        .init("discard", [.actsInsideMulti, .acceptedInMultiWhenOutOfMemory], discard),
        .init("watch", .actsInsideMulti, watch),
        .init("unwatch", unwatch),
    ]

    static func multi(_ c: inout CommandContext) {
        if c.client.inTransaction { return c.out.error("ERR MULTI calls can not be nested") }
        c.client.queued = []
        c.client.transactionFailed = false
        c.out.ok()
    }

    static func discard(_ c: inout CommandContext) {
        guard c.client.inTransaction else { return c.out.error("ERR DISCARD without MULTI") }
        c.server.endTransaction(c.client)
        c.out.ok()
    }

    static func exec(_ c: inout CommandContext) {
        let client = c.client
        guard let queued = client.queued else { return c.out.error("ERR EXEC without MULTI") }
        if !client.watchTouched && watchedKeyExpired(c) { client.watchTouched = true }
        if client.transactionFailed {
            c.server.endTransaction(client)
            c.server.stats.execAborts += 1
            return c.out.staticError("-EXECABORT Transaction discarded because of previous errors.\r\n")
        }
        if client.watchTouched {
            c.server.endTransaction(client)
            c.server.stats.watchAborts += 1
            return c.out.nullArray()
        }
        c.server.endTransaction(client)
        c.server.stats.transactions += 1
        let (savedArgs, savedCommand) = (c.args, c.command)
        c.out.arrayHeader(queued.count)
        client.executingTransaction = true
        for (spec, args) in queued {
            // The rules may have changed since the command was queued: checked again, as in Redis.
            if !client.user.unrestricted, let denial = client.user.check(spec, args) {
                c.server.logAclDenial(denial, spec, args, client: client, context: .multi, now: c.now)
                c.out.error(denial.execMessage)
                continue
            }
            c.args = args
            c.command = spec
            c.server.invoke(spec, &c, slowLogged: true)
        }
        client.executingTransaction = false
        c.args = savedArgs
        c.command = savedCommand
    }

    /// Redis 7's rule: a watched key that existed when WATCHed and has since expired aborts EXEC.
    private static func watchedKeyExpired(_ c: CommandContext) -> Bool {
        for (watched, expiredWhenWatched) in c.client.watchedKeys where !expiredWhenWatched {
            if let entry = c.keyspace.databases[watched.db].table[watched.key],
               entry.expireAt != noExpiry, c.now > entry.expireAt {
                return true
            }
        }
        return false
    }

    static func watch(_ c: inout CommandContext) {
        if c.client.inTransaction { return c.out.error("ERR WATCH inside MULTI is not allowed") }
        // A client already marked needs no more watches: its EXEC fails anyway.
        if !c.client.watchTouched {
            for i in 1..<c.args.count {
                let key = Bytes(c.args[i])
                let entry = c.keyspace.databases[c.client.db].table[key]
                let expired = entry.map { $0.expireAt != noExpiry && c.now > $0.expireAt } ?? false
                c.server.watches.watch(WatchedKey(db: c.client.db, key: key), by: c.client, expired: expired)
            }
        }
        c.out.ok()
    }

    static func unwatch(_ c: inout CommandContext) {
        c.server.watches.unwatchAll(c.client)
        c.out.ok()
    }
}
