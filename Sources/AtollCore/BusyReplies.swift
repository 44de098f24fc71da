/// Replies to commands that arrive while a script is busy (has run past
/// `busy-reply-threshold`). The script holds the keyspace lock, so these are decided without
/// it, from what may be read meanwhile: the command table, the configuration (scripts cannot
/// change it), the client's own session and the `ScriptMonitor`.
import AtollRESP
import NIOCore

extension ServerCore {
    /// Writes the reply to `args` while a script is busy. The checks are the ones every
    /// command meets (unknown command, arity, DEBUG's permission, NOAUTH: an unauthenticated
    /// client gets nothing else), then Redis's busy rule: only commands flagged `allow_busy`
    /// get past it. Of those, the ones flagged `clientOnly` (MULTI, AUTH, HELLO, QUIT) run;
    /// DISCARD and UNWATCH run, leaving the WATCH registry to the client's next batch; SCRIPT
    /// KILL and FUNCTION KILL ask the script to stop and SHUTDOWN NOSAVE stops the server; the
    /// others (WATCH, RESET, FUNCTION STATS) need the keyspace and get BUSY too. EXEC is
    /// refused with EXECABORT and discards the transaction, as in Redis. Inside MULTI a refused
    /// command dooms the transaction and an allowed one is queued, as in Redis. `client` may be
    /// a session the server has not registered yet (see `makeSession`).
    public func replyWhileBusy(_ args: [[UInt8]], client: ClientSession, out: inout ByteBuffer) {
        let monitor = scriptMonitor
        switch admit(table.resolve(args), args, authenticated: client.authenticated, client: client) {
        case .unknown(let error):
            refuse("-" + error + "\r\n", client, &out)
        case .refused(_, let code, let message):
            refuse("-\(code) \(message)\r\n", client, &out)
        case .denied(let spec, let denial):
            // Not logged: the ACL log is the keyspace lock's holder's to change.
            refuse("-NOPERM \(denial.message(spec))\r\n", client, &out)
        case .admitted(let spec):
            if spec.behaviour.contains(.runsTransaction) && client.inTransaction {
                // Refused, and Redis discards the transaction.
                client.discardTransactionLater()
                out.writeString("-EXECABORT Transaction discarded because of: " + String(monitor.busyError.description.dropFirst()))
                return
            }
            guard spec.flags.contains(.allowBusy) else { return refuse(monitor.busyError, client, &out) }
            // Inside MULTI an allowed command is queued, as at any other time.
            if client.inTransaction && !spec.behaviour.contains(.actsInsideMulti) {
                if spec.flags.contains(.noMulti) { return refuse("-ERR Command not allowed inside a transaction\r\n", client, &out) }
                if !client.transactionFailed { client.queued!.append((spec, args)) }
                out.writeStaticString("+QUEUED\r\n")
                return
            }
            if spec.behaviour.contains(.clientOnly) {
                // MULTI, AUTH, HELLO, QUIT: the client's own state only, so they run now.
                var ctx = CommandContext(out: ReplyWriter(buffer: out, resp3: client.resp3), client: client, server: self)
                out = ByteBuffer()
                ctx.args = args
                ctx.command = spec
                ctx.whileScriptBusy = true
                spec.handler?(&ctx)
                out = ctx.out.buffer
                return
            }
            switch spec.name {
            case "discard":
                if client.inTransaction {
                    client.discardTransactionLater()
                    out.writeStaticString("+OK\r\n")
                } else {
                    out.writeStaticString("-ERR DISCARD without MULTI\r\n")
                }
            case "unwatch":
                client.unwatchPending = true
                out.writeStaticString("+OK\r\n")
            case "script|kill": out.writeStaticString(monitor.requestKill(byFunctionKill: false))
            case "function|kill": out.writeStaticString(monitor.requestKill(byFunctionKill: true))
            case "shutdown" where args.dropFirst().contains(where: { asciiCaseInsensitiveEquals($0, "nosave") }):
                monitor.abortForShutdownWithoutSave()
                shutdownHandler?()
            default: refuse(monitor.busyError, client, &out)
            }
        }
    }

    /// Answers a batch's commands from `start` as while busy, up to one that closes the client
    /// (QUIT).
    public func replyWhileBusy(_ commands: CommandBatch, from start: Int, client: ClientSession, out: inout ByteBuffer) {
        for i in start..<commands.count where !client.closeAfterReply {
            replyWhileBusy(Array(commands[i]), client: client, out: &out)
        }
    }

    private func refuse(_ error: String, _ client: ClientSession, _ out: inout ByteBuffer) {
        if client.inTransaction { client.transactionFailed = true }
        out.writeString(error)
    }

    private func refuse(_ error: StaticString, _ client: ClientSession, _ out: inout ByteBuffer) {
        if client.inTransaction { client.transactionFailed = true }
        out.writeStaticString(error)
    }
}
