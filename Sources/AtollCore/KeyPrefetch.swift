/// `KeyPrefetch`: before a pipelined batch runs, starts loading the table entries of each
/// command's first key, so that their cache misses overlap instead of each command waiting
/// for its own two in turn (the chain head, then the slot). Redis 8 does the same for batches
/// of commands. Only a hint: nothing it does changes what a command sees.
import AtollBytes
import AtollKeyspace
import AtollRESP

/// A key a command is expected to look up and its `tableHash`, computed by the prefetch: the
/// command's lookup of an equal key uses the hash instead of computing it again (about a
/// hundred instructions per command). Only a hint: any other key is hashed as usual. Short
/// keys only (`Bytes.inlineWords`), so that a hint is a plain value, copied without
/// reference counting.
public struct KeyHint {
    public let words: (UInt64, UInt64, UInt64, UInt8)
    public let hash: Int

    /// The hash of `key` when it is the hinted key.
    @inlinable public func hash(of key: Bytes) -> Int? {
        guard let w = key.inlineWords, w == words else { return nil }
        return hash
    }
}

struct KeyPrefetch {
    /// The last command name looked up and its legacy key positions (first 0: none), a
    /// one-entry cache, as pipelines mostly repeat one command.
    private var name: [UInt8] = []
    private var keys = (first: 0, last: 0, step: 0)
    private var buckets: [Int] = []
    /// The first key of each command from `hintsStart` on, with its hash (nil: none fetched),
    /// in the first `hintCount` places (the array is overwritten, not emptied, between
    /// batches: emptying went through the generic `replaceSubrange`).
    private var hints: [KeyHint?] = []
    private var hintCount = 0
    private var hintsStart = 0

    /// At most this many keys are prefetched per batch: a -P 16 batch from 50 clients arrives
    /// as many small batches, and a huge one would only evict its own first entries.
    static let window = 64

    /// (The batch is read through its two arrays' buffers, not a slice per command, and the
    /// database in place: a copy of its struct cost some 350 instructions a batch.)
    mutating func run(_ commands: CommandBatch, from start: Int, table: CommandTable, database: inout Database) {
        buckets.removeAll(keepingCapacity: true)
        hintCount = 0
        hintsStart = start
        commands.withArguments { arguments in
            commands.ends.withUnsafeBufferPointer { ends in
                var i = start
                while i < ends.count && buckets.count < Self.window {
                    let first = i == 0 ? 0 : ends[i - 1]
                    let count = ends[i] - first
                    i += 1
                    lookUp(arguments[first], table: table)
                    guard keys.first > 0 && keys.step > 0 && keys.first < count else {
                        addHint(nil)
                        continue
                    }
                    let last = min(keys.last >= 0 ? keys.last : count + keys.last, count - 1)
                    // A lone key equal to the command's before (a hot key, a pipeline of commands
                    // on one bitmap or stream): already hashed and fetched.
                    if last == keys.first && hintCount > 0, let previous = hints[hintCount - 1],
                       previous.hash(of: Bytes(arguments[first + last])) != nil {
                        addHint(previous)
                        continue
                    }
                    var hint: KeyHint?
                    var position = keys.first
                    while position <= last && buckets.count < Self.window {
                        let key = Bytes(arguments[first + position])
                        let hash = key.tableHash
                        if position == keys.first, let words = key.inlineWords { hint = KeyHint(words: words, hash: hash) }
                        buckets.append(database.prefetchBucket(hash: hash))
                        position += keys.step
                    }
                    addHint(hint)
                }
            }
        }
        for bucket in buckets { database.prefetchSlot(bucket: bucket) }
    }

    private mutating func addHint(_ hint: KeyHint?) {
        if hintCount < hints.count { hints[hintCount] = hint } else { hints.append(hint) }
        hintCount += 1
    }

    /// The hint for command `i` of the batch last prefetched.
    func hint(for i: Int) -> KeyHint? {
        let k = i - hintsStart
        return k >= 0 && k < hintCount ? hints[k] : nil
    }

    /// Forgets the last batch's hints (a batch that was not prefetched).
    mutating func clearHints() { hintCount = 0 }

    private mutating func lookUp(_ commandName: [UInt8], table: CommandTable) {
        if commandName == name { return }
        // A copy, so that the batch's array stays its only holder (the batch recycles it).
        name.removeAll(keepingCapacity: true)
        name.append(contentsOf: commandName)
        let spec = table.lookup(commandName)
        keys = spec.map { $0.subcommands.isEmpty ? $0.keyPositions : (0, 0, 0) } ?? (0, 0, 0)
    }
}
