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
    private var slots: [[UInt8]] = []
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
        slots.withUnsafeMutableBufferPointer { slots in
            let count = bytes.count
            guard count > 0, isOnlyReference(&slots[i]), slots[i].capacity >= count else {
                slots[i] = count == 0 ? [] : Array(bytes)
                return
            }
            let had = slots[i].count
            if had > count { slots[i].removeLast(had - count) }
            slots[i].withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: Swift.min(had, count)) }
            if had < count { slots[i].append(contentsOf: UnsafeBufferPointer(rebasing: bytes.assumingMemoryBound(to: UInt8.self)[had...])) }
        }
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
