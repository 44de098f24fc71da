/// `CommandBatch`: the commands one read delivered, as one flat list of arguments plus where
/// each command ends. Kept by the connection between reads, so decoding allocates neither a
/// list per command nor, mostly, an array per argument: each argument is copied into the array
/// its slot held in an earlier batch, when nothing else holds that array.
import AtollBytes

public struct CommandBatch: Sendable {
    /// Every slot the batch has had. The first `argumentCount` hold this batch's arguments;
    /// the ones after them hold arrays of earlier batches, refilled in place by
    /// `appendArgument(copying:)`. Sharing an equal argument's array instead (or taking a new
    /// one per argument) cost an atomic retain when decoded and an atomic release after the
    /// command ran, and a comparison or an allocation.
    @usableFromInline var slots: [[UInt8]] = []
    /// How many slots hold this batch's arguments.
    public private(set) var argumentCount = 0
    /// `ends[i]` is one past the last argument of command `i`.
    public private(set) var ends: [Int] = []
    /// How many arguments belong to whole commands (`ends.last`); the ones after them are the
    /// command the decoder is reading, appended as they come.
    private(set) var committed = 0
    /// A slot's array of larger capacity is dropped once its batch ran, not kept for refilling
    /// (a value may be up to 512 MB). After a batch, the slots kept are four times its
    /// arguments, at least `minKeptSlots` and at most `maxKeptSlots` (a -P 16 batch of XADDs
    /// of eight arguments needs 128; dropping those past 64 and allocating them again cost 13%
    /// of its time): a connection that went quiet keeps at most 64, a few kB.
    static let maxKeptCapacity = 128
    static let minKeptSlots = 64
    static let maxKeptSlots = 512

    public init() {}

    @inlinable public var count: Int { ends.count }
    @inlinable public var isEmpty: Bool { ends.isEmpty }

    /// This batch's arguments, every command's in order.
    public var arguments: ArraySlice<[UInt8]> { slots[0..<argumentCount] }

    /// The arguments of command `i`.
    public subscript(i: Int) -> ArraySlice<[UInt8]> {
        slots[(i == 0 ? 0 : ends[i - 1])..<ends[i]]
    }

    /// Reads the arguments of this batch in place (no copy of the list, no reference counted).
    public func withArguments<R>(_ body: (UnsafeBufferPointer<[UInt8]>) throws -> R) rethrows -> R {
        try slots.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<argumentCount])) }
    }

    /// Whether the name of command `i` (its first argument) is `name`, read in place (through
    /// `self[i].first`, the list and the name each cost a retain and a release; inlined, so
    /// that the caller's arrays need no retain for the call); nil for a command without
    /// arguments.
    @inlinable @inline(__always)
    public func name(of i: Int, equals name: [UInt8]) -> Bool? {
        let start = i == 0 ? 0 : ends[i - 1]
        guard start < ends[i] else { return nil }
        return slots.withUnsafeBufferPointer { $0[start].withUnsafeBytes { sameBytes(name, $0) } }
    }

    public mutating func append<C: Collection>(_ command: C) where C.Element == [UInt8] {
        for argument in command { appendArgument(argument) }
        endCommand()
    }

    /// Arguments of the command being read (after the whole ones).
    var pendingCount: Int { argumentCount - committed }

    /// Appends one argument of the command being read, taking `argument` itself.
    mutating func appendArgument(_ argument: consuming [UInt8]) {
        if argumentCount < slots.count { slots[argumentCount] = argument } else { slots.append(argument) }
        argumentCount += 1
    }

    /// Appends one argument of the command being read, a copy of `bytes`: into its slot's
    /// array when nothing else holds that array and it has the room, else into a new one.
    @inline(__always)
    mutating func appendArgument(copying bytes: UnsafeRawBufferPointer) {
        let i = argumentCount
        argumentCount += 1
        guard i < slots.count else {
            slots.append(bytes.isEmpty ? [] : Array(bytes))
            return
        }
        slots.withUnsafeMutableBufferPointer { Self.refill(&$0[i], with: bytes) }
    }

    /// Appends a whole command of `count` arguments from `raw` at `start`, where the decoder
    /// has checked that each is there as a `$length` line (plain digits) and its bytes, and
    /// returns where the command ends. One pass with the slots' storage opened once: argument
    /// by argument (`appendArgument(copying:)`) the decoder's state and the slots' uniqueness
    /// were written and checked again for every argument.
    mutating func appendCommand(checked raw: UnsafeRawBufferPointer, from start: Int, count: Int) -> Int {
        let first = argumentCount
        while slots.count < first + count { slots.append([]) }
        var p = start
        slots.withUnsafeMutableBufferPointer { slots in
            for k in 0..<count {
                // Checked, so it reads (the decoder read each line this way to check it).
                let (length, cr) = RequestDecoder.plainDecimal(raw, from: p &+ 1, to: raw.count)!
                p = cr &+ 2
                Self.refill(&slots[first &+ k], with: UnsafeRawBufferPointer(rebasing: raw[p..<(p &+ length)]))
                p &+= length &+ 2
            }
        }
        argumentCount = first + count
        endCommand()
        return p
    }

    /// Makes `slot` a copy of `bytes`: in place when nothing else holds its array and it has
    /// the room, else as a new array.
    @inline(__always)
    private static func refill(_ slot: inout [UInt8], with bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count > 0, isOnlyReference(&slot), slot.capacity >= count else {
            slot = count == 0 ? [] : Array(bytes)
            return
        }
        let had = slot.count
        if had > count { slot.removeLast(had - count) }
        slot.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: Swift.min(had, count)) }
        if had < count { slot.append(contentsOf: UnsafeBufferPointer(rebasing: bytes.assumingMemoryBound(to: UInt8.self)[had...])) }
    }

    /// The arguments appended since the last whole command make one.
    mutating func endCommand() {
        ends.append(argumentCount)
        committed = argumentCount
    }

    /// Moves the arguments of a command read in part out of the batch (to wait for the rest
    /// of it outside, as the batch is emptied once run) into `args`, which must be empty.
    mutating func takePending(into args: inout [[UInt8]]) {
        for j in committed..<argumentCount {
            var argument: [UInt8] = []
            swap(&argument, &slots[j])
            args.append(argument)
        }
        argumentCount = committed
    }

    /// Puts such arguments back, once the command is whole, emptying `args`.
    mutating func restorePending(from args: inout [[UInt8]]) {
        for j in args.indices {
            var argument: [UInt8] = []
            swap(&argument, &args[j])
            appendArgument(argument)
        }
        args.removeAll(keepingCapacity: true)
    }

    /// Empties the batch. The slots keep their arrays for the next batch, but for large ones
    /// and slots past those kept (see `maxKeptCapacity`). (Capacities are read in place: read
    /// through the array's subscript, each cost a retain and a release.)
    public mutating func removeAll() {
        if argumentCount > 0 {
            slots.withUnsafeMutableBufferPointer { slots in
                for i in 0..<argumentCount where slots[i].capacity > Self.maxKeptCapacity { slots[i] = [] }
            }
        }
        let kept = Swift.min(Self.maxKeptSlots, Swift.max(Self.minKeptSlots, 4 * argumentCount))
        if slots.count > kept { slots.removeLast(slots.count - kept) }
        argumentCount = 0
        ends.removeAllKeepingCapacity()
        committed = 0
    }

    /// Empties the batch as `removeAll()` does, first taking into its slots the arrays `args`
    /// holds (the arguments of the last command run, which `moveArguments` left there). Emptied
    /// instead, `args` would free those arrays and the next batch would allocate its first
    /// command's again: an allocation and a free per argument of an unpipelined request.
    /// `args` keeps its length, each of its arrays emptied, so that the next command of the
    /// same length moves in without an append or a removal.
    public mutating func removeAll(reclaiming args: inout [[UInt8]]) {
        let reclaimed = Swift.min(args.count, argumentCount)
        slots.withUnsafeMutableBufferPointer { batch in
            args.withUnsafeMutableBufferPointer { target in
                for j in 0..<reclaimed { swap(&target[j], &batch[j]) }
                for j in 0..<target.count where target[j].capacity > 0 { target[j] = [] }
            }
        }
        removeAll()
    }

    /// Moves command `i`'s arguments into `args`, replacing what `args` held, and leaves that in
    /// the batch in their place: no reference is counted for either, where copying each
    /// argument cost a retain now and a release after the command. A command's arguments are
    /// moved once it is its turn to run: the batch no longer holds them then.
    public mutating func moveArguments(of i: Int, into args: inout [[UInt8]]) {
        let start = i == 0 ? 0 : ends[i - 1]
        let count = ends[i] - start
        if args.count > count {
            args.removeLast(args.count - count)
        } else {
            while args.count < count { args.append([]) }
        }
        slots.withUnsafeMutableBufferPointer { batch in
            args.withUnsafeMutableBufferPointer { target in
                for j in 0..<count { swap(&target[j], &batch[start + j]) }
            }
        }
    }

    /// How many slots are kept for later batches, and the room of their arrays (tests).
    var slotCount: Int { slots.count }
    var keptCapacity: Int { slots.reduce(0) { $0 + $1.capacity } }

    /// Each command as its own array (tests and tools).
    public var commands: [[[UInt8]]] { (0..<count).map { Array(self[$0]) } }
}
