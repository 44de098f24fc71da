/// What every typed command and pattern is written against: something that sends commands
/// and batches. `RedisConnection` (one connection) and `RedisClient` (a pool) both are one, so
/// each command and pattern is written once for both.
import AtollRESP

/// Sends commands to one server.
public protocol RedisCommandRunner: Sendable {
    /// Sends one command (its name and arguments as bytes) and returns its reply; an error
    /// reply throws `RedisError`, a transport failure `RedisClientError`.
    func send(arguments: [[UInt8]]) async throws -> RESPValue

    /// Sends `command` with an argument list built at run time (strings, integers, doubles or
    /// bytes), each argument encoded straight onto the wire.
    @discardableResult
    func send(_ command: String, arguments: [any RedisArgument]) async throws -> RESPValue

    /// Sends the commands in one write and returns each one's reply or error reply, in order.
    /// A transport failure throws, and then no command's outcome is known.
    func pipeline(_ commands: [[[UInt8]]]) async throws -> [Result<RESPValue, RedisError>]

    /// Sends a typed batch in one write and reads each reply as `Reply` (see `TypedBatch`).
    /// The default sends the batch's commands through `pipeline(_:)` and converts the replies.
    func pipeline<Reply: RedisReplyDecodable>(_ batch: TypedBatch<Reply>) async throws -> [Result<Reply, any Error>]

    /// Runs `body` with a connection nobody else uses meanwhile: for WATCH/MULTI/EXEC and
    /// blocking commands, whose state or wait belongs to one connection.
    func withDedicatedConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T

    /// What the server offers beyond Redis 7.0, found out once per connection.
    func capabilities() async throws -> ServerCapabilities
}

/// Optional server features the patterns use when present.
public struct ServerCapabilities: Sendable, Equatable {
    /// `SET ... IFEQ` and `DELEX key IFEQ` (Redis 8.4, Atoll): compare-and-swap and
    /// compare-and-delete without a script.
    public var compareAndSet: Bool

    public init(compareAndSet: Bool) {
        self.compareAndSet = compareAndSet
    }
}

extension RedisCommandRunner {
    /// Sends `command` with `arguments` (strings, integers, doubles or bytes).
    @discardableResult
    public func send(_ command: String, _ arguments: any RedisArgument...) async throws -> RESPValue {
        try await send(command, arguments: arguments)
    }

    public func pipeline<Reply: RedisReplyDecodable>(_ batch: TypedBatch<Reply>) async throws
        -> [Result<Reply, any Error>] {
        try await pipeline(batch.commands()).map { result in
            switch result {
            case .success(let value): return .decoding(value, as: Reply.self)
            case .failure(let error): return .failure(error)
            }
        }
    }
}
