/// A table of commands, built once from the families' declarations (the full one is
/// `CommandTable.standard`, in AtollCommands), with a case-insensitive lookup that does not
/// allocate for names sent in one case.
import AtollBytes
public final class CommandTable: Sendable {
    public let all: [CommandSpec]
    private let byName: [Bytes: CommandSpec]

    public init(_ specs: [CommandSpec]) {
        all = specs
        var map: [Bytes: CommandSpec] = [:]
        for spec in specs {
            map[Bytes(Array(spec.name.utf8))] = spec
            map[Bytes(Array(spec.name.uppercased().utf8))] = spec
        }
        byName = map
    }

    public func lookup(_ name: [UInt8]) -> CommandSpec? {
        guard name.count <= 64 else { return nil }
        if let spec = byName[Bytes(name)] { return spec }
        return byName[Bytes(lowercasedASCII(name))]
    }

    /// Top-level lookup, then the subcommand for container commands (CONFIG GET, ...).
    /// Returns the container itself when no subcommand was given, so arity reports it.
    public func resolve(_ args: [[UInt8]]) -> Resolution {
        guard let top = lookup(args[0]) else { return .unknownCommand }
        if top.subcommands.isEmpty || args.count < 2 { return .found(top) }
        guard let sub = top.subcommand(named: args[1]) else { return .unknownSubcommand(top) }
        return .found(sub)
    }

    public enum Resolution {
        case found(CommandSpec)
        case unknownCommand
        case unknownSubcommand(CommandSpec)
    }
}

/// A small cache in front of `CommandTable.resolve` for callers that repeat a few commands: a
/// pipeline (the decoder shares name arrays) or a script (`redis.call` reuses them, see
/// `CallArgumentPool`), so `==` is usually a pointer check that skips the table's hashing.
/// Only commands without subcommands are remembered.
package struct RecentCommand {
    private var names: [[UInt8]] = []
    private var specs: [CommandSpec] = []
    private var next = 0
    static let size = 4

    package init() {}

    package mutating func resolve(_ args: [[UInt8]], in table: CommandTable) -> CommandTable.Resolution {
        let name = args[0]
        for i in names.indices where names[i] == name { return .found(specs[i]) }
        let resolution = table.resolve(args)
        if case .found(let found) = resolution, found.subcommands.isEmpty && !found.isSubcommand {
            if names.count < Self.size {
                names.append(name)
                specs.append(found)
            } else {
                names[next] = name
                specs[next] = found
                next = (next + 1) % Self.size
            }
        }
        return resolution
    }
}
