/// Small pieces the hash and set families share: the "read it, or reply for a missing key"
/// step that most of their read commands start with, and bulk replies straight from `Bytes`.
import AtollBytes
import AtollKeyspace
import AtollRESP

/// The collection a typed lookup found; nil after replying WRONGTYPE or, for a missing key,
/// whatever `missingReply` writes (each command has its own empty answer).
func existing<T>(_ typed: Typed<T>, _ c: inout CommandContext, orReply missingReply: (inout CommandContext) -> Void) -> T? {
    switch typed {
    case .found(let object): return object
    case .wrongType: c.wrongType()
    case .missing: missingReply(&c)
    }
    return nil
}

extension ReplyWriter {
    /// A bulk string from `Bytes`, without copying them.
    @inlinable mutating func bulk(bytes: Bytes) {
        bytes.withUnsafeBytes { bulk($0) }
    }
}
