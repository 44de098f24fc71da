/// `CommandBatch`: the commands one read delivered, as one flat list of arguments plus where
/// each command ends. Kept by the connection and cleared (keeping capacity) between reads, so
/// decoding allocates only the argument bytes themselves, not a list per command, and those
/// rarely: a short argument's array that nothing else kept is recycled for a later one.
import AtollBytes

public struct CommandBatch: Sendable {
    public private(set) var arguments: [[UInt8]] = []
    /// `ends[i]` is one past the last argument of command `i` in `arguments`.
    public private(set) var ends: [Int] = []
    /// How many arguments belong to whole commands (`ends.last`); the ones after them are the
    /// command the decoder is reading, appended as they come (see `appendArgument`).
    private(set) var committed = 0
    /// Emptied arguments' arrays, each referenced only from here, for the decoder to fill
    /// again (`argument(copying:)`): allocating an argument's array and freeing it after its
    /// command ran cost about 400 instructions of a GET's 3,500 (Swift's release path, then
    /// malloc's), and a key or a short value is seldom kept by its command.
    private var spares: [[UInt8]] = []
    static let maxSpares = 32
    /// Larger arrays are freed, not kept: at most `maxSpares` of these per connection.
    static let maxSpareCapacity = 128

    public init() {}

    @inlinable public var count: Int { ends.count }
    @inlinable public var isEmpty: Bool { ends.isEmpty }

    /// The arguments of command `i`.
    @inlinable public subscript(i: Int) -> ArraySlice<[UInt8]> {
        arguments[(i == 0 ? 0 : ends[i - 1])..<ends[i]]
    }

    public mutating func append<C: Collection>(_ command: C) where C.Element == [UInt8] {
        // One append per argument: `append(contentsOf:)` copies arrays of arrays through the
        // runtime's generic value witnesses.
        for argument in command { arguments.append(argument) }
        endCommand()
    }

    /// Arguments of the command being read (after the whole ones).
    var pendingCount: Int { arguments.count - committed }

    /// Appends one argument of the command being read: the decoder appends each straight into
    /// the batch, where reading it into a list of its own and then copying that cost a
    /// reference count (retain now, release later) and an append per argument.
    /// It is taken as consumed: the decoder's new arrays move in with no retain and release.
    mutating func appendArgument(_ argument: consuming [UInt8]) { arguments.append(argument) }

    /// The arguments appended since the last whole command make one.
    mutating func endCommand() {
        ends.append(arguments.count)
        committed = arguments.count
    }

    /// Moves the arguments of a command read in part out of the batch (to wait for the rest
    /// of it outside, as the batch is emptied once run) into `args`, which must be empty.
    mutating func takePending(into args: inout [[UInt8]]) {
        for j in committed..<arguments.count { args.append(arguments[j]) }
        arguments.removeLast(arguments.count - committed)
    }

    /// Puts such arguments back, emptying `args`, for the rest of the command to follow them.
    mutating func restorePending(from args: inout [[UInt8]]) {
        for argument in args { arguments.append(argument) }
        args.removeAll(keepingCapacity: true)
    }

    public mutating func removeAll() {
        // Only an array nobody else holds (the key space, a cache, the decoder's last command)
        // is kept. The check comes first and reads it where it lies: reading an element's
        // capacity there costs a retain and a release, for every argument; an empty one may be
        // the shared empty storage.
        for i in arguments.indices where spares.count < Self.maxSpares && isOnlyReference(&arguments[i]) {
            var argument: [UInt8] = []
            swap(&argument, &arguments[i])
            if argument.capacity > 0 && argument.capacity <= Self.maxSpareCapacity { spares.append(consume argument) }
        }
        arguments.removeAllKeepingCapacity()
        ends.removeAllKeepingCapacity()
        committed = 0
    }

    /// An argument holding `bytes`: a spare array refilled when one is large enough, else a new one.
    @inline(__always)
    mutating func argument(copying bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let count = bytes.count
        guard count > 0, var array = spares.popLast() else { return count == 0 ? [] : Array(bytes) }
        guard array.capacity >= count else {
            spares.append(array)
            return Array(bytes)
        }
        if array.count == count {
            array.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: count) }
        } else {
            array.replaceSubrange(0..<array.count, with: bytes.assumingMemoryBound(to: UInt8.self))
        }
        return array
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
        arguments.withUnsafeMutableBufferPointer { batch in
            args.withUnsafeMutableBufferPointer { target in
                for j in 0..<count { swap(&target[j], &batch[start + j]) }
            }
        }
    }

    /// How many emptied arrays wait to be refilled (tests).
    var spareCount: Int { spares.count }

    /// Each command as its own array (tests and tools).
    public var commands: [[[UInt8]]] { (0..<count).map { Array(self[$0]) } }
}
