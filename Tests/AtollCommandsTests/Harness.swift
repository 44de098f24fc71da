import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import AtollRESP
import NIOCore
import Testing

/// Runs commands in-process, without sockets: one `ServerCore`, one client, one reply buffer.
/// Each `run` clears the buffer, executes one command and returns the bytes it replied with.
final class Harness {
    let core: ServerCore
    let client: ClientSession
    var ctx: CommandContext

    init(authenticated: Bool = true, clock: any ServerClock = SystemClock(),
         _ configure: (inout ServerConfiguration) -> Void = { _ in }) {
        var config = ServerConfiguration()
        configure(&config)
        core = ServerCore(config: config, clock: clock)
        client = ClientSession(id: 1, authenticated: authenticated, address: "test", localAddress: "test", now: 0, connection: nil)
        ctx = CommandContext(out: ReplyWriter(buffer: ByteBuffer()), client: client, server: core)
    }

    /// Runs one command given as separate words (no quoting: each word is one argument).
    @discardableResult
    func run(_ words: String...) -> String {
        String(decoding: runBytes(words.map { Array($0.utf8) }), as: UTF8.self)
    }

    /// Runs one command given as an array of words.
    @discardableResult
    func run(_ words: [String]) -> String {
        String(decoding: runBytes(words.map { Array($0.utf8) }), as: UTF8.self)
    }

    /// Runs one command with binary arguments and returns the raw reply.
    @discardableResult
    func runBytes(_ args: [[UInt8]]) -> [UInt8] {
        ctx.out.buffer.clear()
        ctx.args = args
        core.execute(&ctx)
        return Array(ctx.out.buffer.readableBytesView)
    }

    /// The integer of an `:n\r\n` reply, or nil.
    func integer(_ words: String...) -> Int64? {
        // Work on bytes: in Swift "\r\n" is a single Character.
        let reply = runBytes(words.map { Array($0.utf8) })
        guard reply.count >= 4, reply.first == UInt8(ascii: ":"), reply.suffix(2) == [13, 10] else { return nil }
        return Int64(String(decoding: reply.dropFirst().dropLast(2), as: UTF8.self))
    }

    var db: Database { core.keyspace.databases[client.db] }
}

/// RESP2 spellings, to keep expectations short.
func bulk(_ s: String) -> String { "$\(s.utf8.count)\r\n\(s)\r\n" }
func int(_ n: Int64) -> String { ":\(n)\r\n" }
func err(_ s: String) -> String { "-\(s)\r\n" }
func array(_ items: String...) -> String { "*\(items.count)\r\n" + items.joined() }
let ok = "+OK\r\n"
let nullBulk = "$-1\r\n"
let syntaxError = "-ERR syntax error\r\n"
let notInteger = "-ERR value is not an integer or out of range\r\n"
let notFloat = "-ERR value is not a valid float\r\n"

/// A Unix time in milliseconds far in the future (year 3000), for deterministic absolute expiries.
let year3000Seconds: Int64 = 32_503_680_000
