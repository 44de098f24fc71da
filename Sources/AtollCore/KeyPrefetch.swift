/// `KeyPrefetch`: before a pipelined batch runs, starts loading the table entries of each
/// command's first key, so that their cache misses overlap instead of each command waiting
/// for its own two in turn (the chain head, then the slot). Redis 8 does the same for batches
/// of commands. Only a hint: nothing it does changes what a command sees.
import AtollBytes
import AtollKeyspace
import AtollRESP

struct KeyPrefetch {
    /// The last command name looked up and its legacy key positions (first 0: none), a
    /// one-entry cache, as pipelines mostly repeat one command.
    private var name: [UInt8] = []
    private var keys = (first: 0, last: 0, step: 0)
    private var buckets: [Int] = []

    /// At most this many keys are prefetched per batch: a -P 16 batch from 50 clients arrives
    /// as many small batches, and a huge one would only evict its own first entries.
    static let window = 64

    mutating func run(_ commands: CommandBatch, from start: Int, table: CommandTable, database: Database) {
        buckets.removeAll(keepingCapacity: true)
        var i = start
        while i < commands.count && buckets.count < Self.window {
            let command = commands[i]
            i += 1
            lookUp(command[command.startIndex], table: table)
            guard keys.first > 0 && keys.step > 0 && keys.first < command.count else { continue }
            let last = min(keys.last >= 0 ? keys.last : command.count + keys.last, command.count - 1)
            for position in stride(from: keys.first, through: last, by: keys.step) where buckets.count < Self.window {
                buckets.append(database.prefetchBucket(Bytes(command[command.startIndex + position])))
            }
        }
        for bucket in buckets { database.prefetchSlot(bucket: bucket) }
    }

    private mutating func lookUp(_ commandName: [UInt8], table: CommandTable) {
        guard commandName != name else { return }
        name = commandName
        let spec = table.lookup(commandName)
        keys = spec.map { $0.subcommands.isEmpty ? $0.keyPositions : (0, 0, 0) } ?? (0, 0, 0)
    }
}
