/// `CommandBatch`: the commands one read delivered, as one flat list of arguments plus where
/// each command ends. Kept by the connection and cleared (keeping capacity) between reads, so
/// decoding allocates only the argument bytes themselves, not a list per command.
import AtollBytes

public struct CommandBatch: Sendable {
    public private(set) var arguments: [[UInt8]] = []
    /// `ends[i]` is one past the last argument of command `i` in `arguments`.
    public private(set) var ends: [Int] = []

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
        ends.append(arguments.count)
    }

    /// Appends `command`'s arguments by moving them, leaving `command` empty (its capacity
    /// kept): no reference is counted, where `append` retains each argument and the caller's
    /// clearing of its array releases it again.
    public mutating func append(moving command: inout [[UInt8]]) {
        command.withUnsafeMutableBufferPointer { source in
            for i in source.indices {
                arguments.append(source.moveElement(from: i))
                source.initializeElement(at: i, to: [])
            }
        }
        command.removeAllKeepingCapacity()
        ends.append(arguments.count)
    }

    public mutating func removeAll() {
        arguments.removeAllKeepingCapacity()
        ends.removeAllKeepingCapacity()
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

    /// Each command as its own array (tests and tools).
    public var commands: [[[UInt8]]] { (0..<count).map { Array(self[$0]) } }
}
