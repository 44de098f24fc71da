/// What a connection's buffers hold, as CLIENT LIST and INFO report it (`qbuf`, `qbuf-free`,
/// `rbs`, `rbp`, `fd`). The connection publishes it from its event loop; commands read it under
/// the keyspace lock from any thread.

/// A connection's input and reply buffers, and its socket.
public struct ConnectionBuffers: Sendable, Equatable {
    /// Input read and not yet done with: the commands of the batch being run, a command read in
    /// part, and bytes not yet decoded.
    public var queryBytes = 0
    /// Room left in the buffer the undecoded input is in.
    public var queryFree = 0
    /// The reply buffer's capacity, and the most it held in one batch.
    public var replyBufferSize = 0
    public var replyBufferPeak = 0
    /// The socket's file descriptor; -1 when not known.
    public var descriptor: Int32 = -1

    public init() {}
}

extension ClientConnection {
    /// A connection that keeps no figures reports empty buffers.
    public var buffers: ConnectionBuffers { ConnectionBuffers() }
}
