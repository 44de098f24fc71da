/// What a client holds in memory, as CLIENT LIST (`qbuf` ... `tot-mem`) and INFO
/// (`mem_clients_normal`, `client_recent_max_*`) report it: the connection's buffers as it
/// published them, the arguments of the command it runs or is blocked in, its queued MULTI
/// commands (their arguments plus a pointer each, as Redis counts `multi-mem`) and its unsent
/// Pub/Sub and tracking output.
import AtollCore

/// One client's memory figures.
struct ClientFigures {
    var buffers: ConnectionBuffers
    var argvBytes = 0
    var multiBytes = 0
    var unsentBytes = 0

    /// `runningArgs`: the arguments of the command being run, when `client` is the caller.
    init(_ client: ClientSession, runningArgs: [[UInt8]]? = nil) {
        buffers = client.connection?.buffers ?? ConnectionBuffers()
        if let args = runningArgs ?? client.blocked?.args {
            argvBytes = args.reduce(0) { $0 + $1.count }
        }
        if let queued = client.queued {
            for command in queued {
                multiBytes += command.args.reduce(0) { $0 + $1.count } + command.args.count * MemoryLayout<Int>.size
            }
        }
        unsentBytes = client.outbox?.pendingBytes ?? 0
    }

    /// The input side: the query buffer (with its free room) and the parsed arguments.
    var inputBytes: Int { buffers.queryBytes + buffers.queryFree + argvBytes }
    /// The output side: the reply buffer and unsent output.
    var outputBytes: Int { buffers.replyBufferSize + unsentBytes }
    /// Everything the client holds that Atoll counts (`tot-mem`).
    var totalBytes: Int { inputBytes + multiBytes + outputBytes }
}
