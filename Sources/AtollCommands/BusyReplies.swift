/// Replies to commands that arrive while a script is busy (has run past
/// `busy-reply-threshold`). The script holds the keyspace lock, so these are decided without
/// it, from what may be read meanwhile: the command table, the configuration (scripts cannot
/// change it), the client's own session and the `ScriptMonitor`.
import NIOCore

extension ServerCore {
    /// Writes the reply to `args` while a script is busy. The checks are the ones every
    /// command meets (unknown command, arity, DEBUG's permission, NOAUTH: an unauthenticated
    /// client gets nothing else), then Redis's busy rule: only commands flagged `allow_busy`
    /// get past it. Of those, SCRIPT KILL and FUNCTION KILL ask the script to stop and
    /// SHUTDOWN NOSAVE stops the server; the others need the keyspace and get BUSY too. Inside
    /// MULTI a refused command dooms the transaction and an allowed one is queued, as in Redis.
    /// `client` is nil for a connection the server has not registered yet (it is
    /// authenticated only when no password is set).
    public func replyWhileBusy(_ args: [[UInt8]], client: ClientSession?, out: inout ByteBuffer) {
        let monitor = scripting.monitor
        let authenticated = client?.authenticated ?? config.requirePass.isEmpty
        switch admit(table.resolve(args), args, authenticated: authenticated, client: client) {
        case .unknown(let error):
            refuse("-" + error + "\r\n", client, &out)
        case .refused(_, let code, let message):
            refuse("-\(code) \(message)\r\n", client, &out)
        case .admitted(let spec):
            guard spec.flags.contains(.allowBusy) else { return refuse(monitor.busyError, client, &out) }
            // Inside MULTI an allowed command is queued, as at any other time.
            if let client, client.inTransaction, !TransactionCommands.runImmediately.contains(spec.name) {
                if spec.flags.contains(.noMulti) { return refuse("-ERR Command not allowed inside a transaction\r\n", client, &out) }
                if !client.transactionFailed { client.queued!.append((spec, args)) }
                out.writeStaticString("+QUEUED\r\n")
                return
            }
            switch spec.name {
            case "script|kill": out.writeStaticString(monitor.requestKill(byFunctionKill: false))
            case "function|kill": out.writeStaticString(monitor.requestKill(byFunctionKill: true))
            case "shutdown" where args.dropFirst().contains(where: { asciiCaseInsensitiveEquals($0, "nosave") }):
                monitor.abortForShutdownWithoutSave()
                shutdownHandler?()
            default: refuse(monitor.busyError, client, &out)
            }
        }
    }

    private func refuse(_ error: String, _ client: ClientSession?, _ out: inout ByteBuffer) {
        if let client, client.inTransaction { client.transactionFailed = true }
        out.writeString(error)
    }

    private func refuse(_ error: StaticString, _ client: ClientSession?, _ out: inout ByteBuffer) {
        if let client, client.inTransaction { client.transactionFailed = true }
        out.writeStaticString(error)
    }
}
