/// Explicit pipelining with typed replies: a `TypedBatch<Reply>` holds commands already
/// encoded as they go on the wire, and `execute` sends them in one write and reads every reply
/// straight into `Reply` (see `RedisReplyDecodable`). Built once, a batch can be executed any
/// number of times; sending it is one copy of its bytes. For commands whose replies differ in
/// type, or script runs with the NOSCRIPT fallback, use `Batch`.
import AtollRESP
import NIOCore

/// Commands to send in one write, whose replies are all decoded as `Reply`.
public struct TypedBatch<Reply: RedisReplyDecodable>: Sendable {
    /// The commands as RESP arrays of bulk strings, one after another.
    @usableFromInline
    var encoded = ByteBuffer()
    /// How many commands the batch holds.
    public private(set) var count = 0

    public init() {}

    /// Adds a command.
    public mutating func add(_ command: String, _ arguments: any RedisArgument...) {
        add(command, arguments: arguments)
    }

    /// Adds a command whose arguments are built at run time.
    public mutating func add(_ command: String, arguments: [any RedisArgument]) {
        encoded.writeCommand(command, arguments)
        count += 1
    }

    /// Adds a command given as its name and arguments in bytes.
    public mutating func add(arguments: [[UInt8]]) {
        encoded.writeCommand(arguments)
        count += 1
    }

    /// Empties the batch, keeping its storage for the next commands.
    public mutating func removeAll() {
        encoded.clear()
        count = 0
    }

    /// Sends the batch in one write; each command's reply as `Reply`, or its failure (the
    /// server's error reply as `RedisError`, a reply `Reply` cannot take as
    /// `RedisClientError.unexpectedReply`), in the order added. A transport failure throws,
    /// and then no command's outcome is known.
    @inlinable
    public func execute(on runner: some RedisCommandRunner) async throws -> [Result<Reply, any Error>] {
        try await runner.pipeline(self)
    }

    /// Sends the batch with `send` (a connection's or the pool's: the encoded commands, their
    /// count, and the sink that is to read their replies) and returns the replies. Inlinable,
    /// as are the connection's and the pool's `pipeline` that call it, so the sink is made
    /// for `Reply` in the caller's module (see `ReplySink`).
    @inlinable
    func replies(sentBy send: (ByteBuffer, Int, ReplySink) async throws -> Void) async throws
        -> [Result<Reply, any Error>] {
        let replies = TypedReplies<Reply>(count: count)
        try await send(encoded, count, replies.sink)
        return replies.results
    }

    /// The commands as argument lists, for a runner that sends them through `pipeline(_:)`.
    func commands() -> [[[UInt8]]] {
        var bytes = encoded
        var commands: [[[UInt8]]] = []
        commands.reserveCapacity(count)
        // The encoding is our own: `*<n>` and n times `$<length>` and the bytes, each line
        // ending in CRLF.
        func number(_ bytes: inout ByteBuffer) -> Int {
            let line = bytes.readBytes(length: bytes.readableBytesView.firstIndex(of: 13)! - bytes.readerIndex)!
            bytes.moveReaderIndex(forwardBy: 2)
            return Int(String(decoding: line.dropFirst(), as: UTF8.self))!
        }
        while bytes.readableBytes > 0 {
            let arguments = number(&bytes)
            var command: [[UInt8]] = []
            command.reserveCapacity(arguments)
            for _ in 0..<arguments {
                let length = number(&bytes)
                command.append(bytes.readBytes(length: length)!)
                bytes.moveReaderIndex(forwardBy: 2)
            }
            commands.append(command)
        }
        return commands
    }
}

/// A typed batch's replies as they are read. Inlinable, with everything its sink calls, so that
/// the sink's closures are compiled for `Reply` in the module that sends the batch (see
/// `ReplySink`).
@usableFromInline
final class TypedReplies<Reply: RedisReplyDecodable>: @unchecked Sendable {
    @usableFromInline
    var results: [Result<Reply, any Error>] = []

    @inlinable
    init(count: Int) {
        results.reserveCapacity(count)
    }

    /// The sink that fills `results`.
    @inlinable
    var sink: ReplySink {
        ReplySink(read: { input, count throws(RESPValue.DecodeError) in
            var taken = 0
            while taken < count, let type = input.readableBytesView.first,
                  type != UInt8(ascii: ">"), type != UInt8(ascii: "|"),
                  let result = try input.readReply(as: Reply.self) {
                self.results.append(result)
                taken += 1
            }
            return taken
        }, take: { reply in
            self.results.append(.decoding(reply, as: Reply.self))
        })
    }
}
