/// Small pieces the collection families share: the "look it up, or reply for a missing key"
/// step most of their commands start with, Redis's index-range rule, HDEL/SREM's removal loop,
/// and bulk replies straight from `Bytes`.
import AtollBytes
import AtollCore
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

/// Redis's start/end index rules (LRANGE, LTRIM, ZRANGE by rank, ZREMRANGEBYRANK): negative
/// indexes count from the end, the end is clamped to the last element; nil when nothing is in range.
func indexRange(start: Int64, end: Int64, count: Int) -> Range<Int>? {
    let n = Int64(count)
    var s = start < 0 ? n + start : start
    var e = end < 0 ? n + end : end
    if s < 0 { s = 0 }
    if s > e || s >= n { return nil }
    if e >= n { e = n - 1 }
    return Int(s)..<Int(e + 1)
}

/// Removes each of arguments 2... with `remove` (true when it was there), then, if anything
/// went, publishes `event` (of class `type`), deletes the key should the collection be empty
/// (`remaining` is its size) and counts the change; replies with how many went. HDEL and SREM.
func removeArguments(_ c: inout CommandContext, _ key: Bytes, _ type: KeyspaceEventClass, _ event: StaticString,
                     remove: (Bytes) -> Bool, remaining: () -> Int) {
    var removed = 0
    for i in 2..<c.args.count where remove(Bytes(c.args[i])) { removed += 1 }
    if removed > 0 {
        c.deleteIfEmpty(key, count: remaining(), type, event)
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
