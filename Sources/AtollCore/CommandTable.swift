/// A table of commands: each family's bindings joined with the reference facts, with a
/// case-insensitive lookup that does not allocate for names sent in one case. A command nobody
/// binds is not in the table (a container is, when one of its subcommands is). The full table
/// is `CommandTable.standard`, in AtollCommands.
import AtollBytes
public final class CommandTable: Sendable {
    /// Top-level commands sorted by name, each with its bound subcommands sorted by name.
    public let all: [CommandSpec]
    private let byName: [Bytes: CommandSpec]

    /// Traps on a binding without reference facts or a name bound twice: both are mistakes in
    /// the source that the first test run shows.
    public convenience init(_ bindings: [CommandBinding]) {
        var topLevel: [String: CommandBinding] = [:]
        var subcommands: [String: [CommandBinding]] = [:]
        var seen = Set<String>()
        for binding in bindings {
            precondition(CommandFacts.byName[binding.name] != nil, "no reference facts for \(binding.name)")
            precondition(seen.insert(binding.name).inserted, "\(binding.name) is bound twice")
            if let bar = binding.name.firstIndex(of: "|") {
                subcommands[String(binding.name[..<bar]), default: []].append(binding)
            } else {
                topLevel[binding.name] = binding
            }
        }
        let names = Set(topLevel.keys).union(subcommands.keys).sorted()
        let all = names.map { name in
            let subs = (subcommands[name] ?? []).sorted { $0.name < $1.name }
            return CommandSpec(CommandFacts.byName[name]!, topLevel[name],
                               subcommands: subs.map { CommandSpec(CommandFacts.byName[$0.name]!, $0) })
        }
        self.init(all: all, names: all.map { ($0.name, $0) })
    }

    /// `all` found by `names`: each in lower and upper case, so a name sent in either case
    /// is found without lowering it.
    private init(all: [CommandSpec], names: [(String, CommandSpec)]) {
        self.all = all
        var map: [Bytes: CommandSpec] = [:]
        for (name, spec) in names {
            map[Bytes(Array(name.utf8))] = spec
            map[Bytes(Array(name.uppercased().utf8))] = spec
        }
        byName = map
    }

    /// This table with `renames` applied in order (`rename-command`): a renamed command is
    /// found by its new name only, a removed one not at all and is left out of `all` (COMMAND
    /// LIST and COUNT). Its spec is unchanged: COMMAND INFO, errors and statistics show the
    /// original name, as in Redis. A rename of a command this table lacks changes nothing.
    public func renaming(_ renames: [CommandRename]) -> CommandTable {
        guard !renames.isEmpty else { return self }
        var names = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
        for rename in renames {
            guard let spec = names.removeValue(forKey: rename.name), !rename.newName.isEmpty else { continue }
            names[rename.newName] = spec
        }
        let kept = Set(names.values.map(\.name))
        return CommandTable(all: all.filter { kept.contains($0.name) }, names: names.map { ($0.key, $0.value) })
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

/// A small cache in front of `CommandTable.resolve` for callers that repeat a few commands (a
/// pipeline, a script's `redis.call`s): comparing a short name's bytes skips the table's
/// hashing. Only commands without subcommands are remembered, each name as a copy of its own,
/// so that the caller's array stays its only holder (the batch recycles it).
package struct RecentCommand {
    private var names: [[UInt8]] = []
    private var specs: [CommandSpec] = []
    private var next = 0
    private var lastFound = 0
    static let size = 4

    package init() {}

    /// The command named by `args[0]` when it is one of the recent ones (never a container
    /// or subcommand), unretained: the table it came from keeps it.
    @inline(__always)
    package mutating func cached(_ args: [[UInt8]]) -> Unmanaged<CommandSpec>? {
        // The last one found first: a pipeline repeats one command. (`args[0]` is read where it
        // lies: a local copy of it cost a retain and a release per command.)
        if lastFound < names.count && names[lastFound] == args[0] { return .passUnretained(specs[lastFound]) }
        for i in names.indices where names[i] == args[0] {
            lastFound = i
            return .passUnretained(specs[i])
        }
        return nil
    }

    package mutating func resolve(_ args: [[UInt8]], in table: CommandTable) -> CommandTable.Resolution {
        for i in names.indices where names[i] == args[0] { return .found(specs[i]) }
        let resolution = table.resolve(args)
        if case .found(let found) = resolution, found.subcommands.isEmpty && !found.isSubcommand {
            let name = args[0].withUnsafeBytes { [UInt8]($0) }
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
