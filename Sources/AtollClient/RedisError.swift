/// The two kinds of failure a call can throw: `RedisError` is the server's error reply (its
/// code and message, as Redis wrote them); `RedisClientError` is the client's own (the
/// connection closed, a timeout, a reply of an unexpected shape, a transaction that kept
/// aborting).

/// An error reply from the server. `code` is the reply's first word (`WRONGTYPE`, `NOSCRIPT`,
/// `BUSY`, `EXECABORT`, `ERR`, ...) and `message` the rest, so callers can switch on the code.
public struct RedisError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// Splits an error reply's text (`-NOSCRIPT No matching script...` without the `-`).
    public init(reply: [UInt8]) {
        let text = String(decoding: reply, as: UTF8.self)
        if let space = text.firstIndex(of: " ") {
            self.init(code: String(text[..<space]), message: String(text[text.index(after: space)...]))
        } else {
            self.init(code: text, message: "")
        }
    }

    public var description: String { message.isEmpty ? code : "\(code) \(message)" }
}

/// A failure on the client's side of the conversation.
public enum RedisClientError: Error, Equatable, Sendable {
    /// The connection closed (or was closed) before the reply came.
    case connectionClosed
    /// No connection could be made within the connect timeout, after every reconnect attempt.
    case connectFailed(String)
    /// The reply did not come within the command timeout. The connection is closed, since a
    /// late reply would otherwise be taken as the answer to the next request.
    case commandTimeout
    /// The server sent bytes that are not RESP.
    case protocolError(String)
    /// The reply's shape does not fit what the typed method expects.
    case unexpectedReply(String)
    /// An optimistic transaction's EXEC aborted (a watched key changed) on every attempt.
    case transactionAborted(attempts: Int)
    /// `withLock` could not acquire the lock on `key` in the time it was given.
    case lockNotAcquired(key: String)
    /// The client was closed.
    case clientClosed
}
