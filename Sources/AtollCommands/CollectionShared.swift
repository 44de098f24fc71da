/// Small pieces the hash and set families share: the "look it up, or reply for a missing key"
/// step most of their commands start with, HDEL/SREM's removal loop, and bulk replies straight
/// from `Bytes`.
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

/// Removes each of arguments 2... with `remove` (true when it was there), then, if anything
/// went, deletes the key should the collection be empty (`remaining` is its size) and counts
/// the change; replies with how many went. HDEL and SREM.
func removeArguments(_ c: inout CommandContext, _ key: Bytes, remove: (Bytes) -> Bool, remaining: () -> Int) {
    var removed = 0
    for i in 2..<c.args.count where remove(Bytes(c.args[i])) { removed += 1 }
    if removed > 0 {
        c.deleteIfEmpty(key, count: remaining())
        c.modified(key)
    }
    c.out.integer(removed)
}

extension ReplyWriter {
    /// A bulk string from `Bytes`, without copying them.
    @inlinable mutating func bulk(bytes: Bytes) {
        bytes.withUnsafeBytes { bulk($0) }
    }
}
