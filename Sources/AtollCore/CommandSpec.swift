/// A command as the dispatcher sees it: the reference server's facts about it (name, arity,
/// flags, ACL categories, key positions, key specs, tips, docs; see `CommandFacts`), Atoll's
/// behaviour flags, its handler and its subcommands. Dispatch, arity errors, COMMAND output and
/// the MULTI, script and persistence rules all read this one record. The table builds it from
/// each family's `CommandBinding`s.
import AtollBytes

/// Runs one command. Arity and authentication were checked before it is called.
public typealias CommandHandler = @Sendable (inout CommandContext) -> Void

public struct CommandFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyoom = CommandFlags(rawValue: 1 << 2)
    public static let module = CommandFlags(rawValue: 1 << 3)
    public static let admin = CommandFlags(rawValue: 1 << 4)
    public static let pubsub = CommandFlags(rawValue: 1 << 5)
    public static let noscript = CommandFlags(rawValue: 1 << 6)
    public static let blocking = CommandFlags(rawValue: 1 << 7)
    public static let loading = CommandFlags(rawValue: 1 << 8)
    public static let stale = CommandFlags(rawValue: 1 << 9)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 10)
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 11)
    public static let asking = CommandFlags(rawValue: 1 << 12)
    public static let fast = CommandFlags(rawValue: 1 << 13)
    public static let noAuth = CommandFlags(rawValue: 1 << 14)
    public static let mayReplicate = CommandFlags(rawValue: 1 << 15)
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 16)
    public static let noAsyncLoading = CommandFlags(rawValue: 1 << 17)
    public static let noMulti = CommandFlags(rawValue: 1 << 18)
    public static let movablekeys = CommandFlags(rawValue: 1 << 19)
    public static let allowBusy = CommandFlags(rawValue: 1 << 20)

    /// Names in the order COMMAND INFO lists them.
    package static let names: [(CommandFlags, StaticString)] = [
        (.write, "write"), (.readonly, "readonly"), (.denyoom, "denyoom"), (.module, "module"),
        (.admin, "admin"), (.pubsub, "pubsub"), (.noscript, "noscript"), (.blocking, "blocking"),
        (.loading, "loading"), (.stale, "stale"), (.skipMonitor, "skip_monitor"),
        (.skipSlowlog, "skip_slowlog"), (.asking, "asking"), (.fast, "fast"), (.noAuth, "no_auth"),
        (.mayReplicate, "may_replicate"), (.noMandatoryKeys, "no_mandatory_keys"),
        (.noAsyncLoading, "no_async_loading"), (.noMulti, "no_multi"), (.movablekeys, "movablekeys"),
        (.allowBusy, "allow_busy"),
    ]
}

/// Where a command's keys are, in Redis 7's key-spec form.
public struct KeySpec: Sendable {
    public enum Begin: Sendable {
        case index(Int)
        case keyword(String, startFrom: Int)
        case unknown
    }
    public enum Find: Sendable {
        case range(lastKey: Int, step: Int, limit: Int)
        case keynum(index: Int, firstKey: Int, step: Int)
        case unknown
    }
    public let flags: [String]
    public let begin: Begin
    public let find: Find
    public let notes: String?

    public init(flags: [String], begin: Begin, find: Find, notes: String? = nil) {
        self.flags = flags
        self.begin = begin
        self.find = find
        self.notes = notes
    }
}

/// What Atoll does differently for a command, beyond what its reference flags say. Declared
/// in the command's `CommandBinding`; code asks these, never a command's name.
public struct CommandBehaviour: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Runs a Lua script (EVAL, FCALL and their forms): the slow log counts the script's time.
    public static let runsScript = CommandBehaviour(rawValue: 1 << 0)
    /// Runs Lua code, which may take long (scripts, FUNCTION LOAD and RESTORE): always on the
    /// script thread, never on an event loop.
    public static let runsLua = CommandBehaviour(rawValue: 1 << 1)
    /// The append-only file records the commands it ran, not the command itself (EXEC, scripts).
    public static let loggedThroughItsCommands = CommandBehaviour(rawValue: 1 << 2)
    /// Runs the calling client's queued transaction (EXEC).
    public static let runsTransaction = CommandBehaviour(rawValue: 1 << 3)
    /// Acts at once inside MULTI instead of being queued (MULTI EXEC DISCARD WATCH QUIT RESET).
    public static let actsInsideMulti = CommandBehaviour(rawValue: 1 << 4)
    /// Refused with MISCONF while persistence is failing, though it writes nothing (PING, so
    /// that clients notice).
    public static let refusedOnDiskError = CommandBehaviour(rawValue: 1 << 5)
    /// Touches only the calling client's own state (and reads the configuration), never the
    /// keyspace: with the reference flag `allow_busy`, it runs while a script is busy, without
    /// the keyspace lock.
    public static let clientOnly = CommandBehaviour(rawValue: 1 << 7)
    /// Redis's CMD_MAY_REPLICATE (EVAL, EVALSHA, FCALL, PFCOUNT): may change data or feed
    /// replicas though not flagged `write`, so CLIENT PAUSE WRITE holds it back. COMMAND INFO
    /// does not list it, as in Redis 7.0.
    public static let mayReplicate = CommandBehaviour(rawValue: 1 << 8)
    /// Runs for a RESP2 client in subscribed mode ((P|S)(UN)SUBSCRIBE, PING, QUIT, RESET);
    /// every other command is refused there, as in Redis.
    public static let allowedWhileSubscribed = CommandBehaviour(rawValue: 1 << 9)
    /// Leaves CLIENT CACHING's choice for the command after it: every CLIENT subcommand, as in
    /// Redis, where the choice is kept until a command other than CLIENT runs.
    public static let keepsCachingChoice = CommandBehaviour(rawValue: 1 << 10)
    /// Writes its reply before its keyspace events, as the Redis command does: the messages a
    /// subscribed calling client receives come after the reply (see `CommandContext.notify`).
    public static let eventsAfterReply = CommandBehaviour(rawValue: 1 << 11)

    /// Names a channel to publish to as its first argument (PUBLISH, SPUBLISH): ACL channel
    /// rules apply to it.
    public static let publishes = CommandBehaviour(rawValue: 1 << 12)
    /// Names channels to subscribe to in all its arguments (SUBSCRIBE, SSUBSCRIBE).
    public static let subscribesChannels = CommandBehaviour(rawValue: 1 << 13)
    /// Names patterns to subscribe to (PSUBSCRIBE): ACL channel rules must list them as they are.
    public static let subscribesPatterns = CommandBehaviour(rawValue: 1 << 14)
    /// Any of the three: the commands whose arguments ACL channel rules check.
    public static let namesChannels: CommandBehaviour = [.publishes, .subscribesChannels, .subscribesPatterns]

    /// A script command: EVAL, EVALSHA, FCALL and their read-only forms.
    /// Not refused inside MULTI while memory is over `maxmemory` (EXEC, DISCARD, QUIT, RESET:
    /// they end or leave the transaction; EXEC is still refused for a queued `denyoom` command).
    public static let acceptedInMultiWhenOutOfMemory = CommandBehaviour(rawValue: 1 << 14)
    public static let script: CommandBehaviour = [.runsScript, .runsLua, .loggedThroughItsCommands]
}

/// Finds a command's keys where its key specs cannot (Redis's `getkeys_proc`, for a spec whose
/// begin is "unknown"): the positions of the keys in the arguments, the name at 0.
public typealias KeyFinder = @Sendable (_ args: [[UInt8]]) -> [Int]

/// The key-spec flags (`RW`, `access`, ...) of the key at `position`, for a command whose keys'
/// flags depend on its arguments or are not its specs' (Redis's getkeys procs set their own:
/// SET with GET reads, BITFIELD without SET or INCRBY only reads, SORT's STORE key).
public typealias KeyFlagsFinder = @Sendable (_ args: [[UInt8]], _ position: Int) -> [String]

/// A command whose flags depend on its arguments (Redis's `getCommandFlags`: a script runs
/// with the flags it declares): the flags it runs with, given the table's, or nil for the
/// table's. Called under the keyspace lock.
public typealias FlagsResolver = @Sendable (_ server: ServerCore, _ tableFlags: CommandFlags, _ args: [[UInt8]]) -> CommandFlags?

/// Binds a command (by its full name, `config|get` for a subcommand) to its handler and
/// behaviour. Each family lists one per command; the facts come from `CommandFacts.reference`.
public struct CommandBinding: Sendable {
    public let name: String
    public let behaviour: CommandBehaviour
    let handler: CommandHandler
    let keyFinder: KeyFinder?
    let keyFlags: KeyFlagsFinder?
    let flagsResolver: FlagsResolver?
    let redaction: ArgumentRedaction?
    /// Redis's CMD_PROTECTED: the parameter that must allow the client (nil: none).
    let gate: ProtectedGate?

    public init(_ name: String, _ behaviour: CommandBehaviour, gatedBy gate: ProtectedGate? = nil, keys: KeyFinder? = nil,
                keyFlags: KeyFlagsFinder? = nil, flags: FlagsResolver? = nil, redacting redaction: ArgumentRedaction? = nil,
                _ handler: @escaping CommandHandler) {
        self.name = name
        self.behaviour = behaviour
        self.gate = gate
        self.handler = handler
        self.keyFinder = keys
        self.keyFlags = keyFlags
        self.flagsResolver = flags
        self.redaction = redaction
    }

    public init(_ name: String, keys: KeyFinder? = nil, keyFlags: KeyFlagsFinder? = nil,
                redacting redaction: ArgumentRedaction? = nil, _ handler: @escaping CommandHandler) {
        self.init(name, [], keys: keys, keyFlags: keyFlags, redacting: redaction, handler)
    }
}

public final class CommandSpec: Sendable {
    /// What the reference server says about the command.
    public let facts: CommandFacts
    public let behaviour: CommandBehaviour
    public let subcommands: [CommandSpec]
    /// A subcommand (`parent|child`).
    public let isSubcommand: Bool
    let handler: CommandHandler?
    let keyFinder: KeyFinder?
    let keyFlags: KeyFlagsFinder?
    let flagsResolver: FlagsResolver?
    /// The secrets hidden from MONITOR and the slow log (nil: none).
    let redaction: ArgumentRedaction?
    /// What INFO commandstats and LATENCY HISTOGRAM report of this command (see `CommandStats`).
    public let stats = CommandStats()
    /// The command's bit in ACL permissions (see `AclCatalog`).
    public let aclId: Int
    /// What each key spec asks of ACL key patterns, by key spec index.
    let aclKeyAccess: [AclKeyAccess]
    /// The position of the one key of a command whose only key spec names one argument (GET,
    /// SET, HSET, ...), for the ACL check to test without finding keys; 0 for other commands.
    let aclSingleKey: Int
    /// Redis's CMD_PROTECTED: the parameter that must allow the client (nil: none). COMMAND
    /// INFO does not list it, as in Redis 7.0.
    public let gate: ProtectedGate?

    /// A command from its facts, its binding (nil for a container that has no handler of its
    /// own) and its bound subcommands.
    init(_ facts: CommandFacts, _ binding: CommandBinding?, subcommands: [CommandSpec] = []) {
        self.facts = facts
        self.behaviour = binding?.behaviour ?? []
        self.subcommands = subcommands
        self.handler = binding?.handler
        self.keyFinder = binding?.keyFinder
        self.keyFlags = binding?.keyFlags
        self.redaction = binding?.redaction
        self.flagsResolver = binding?.flagsResolver
        self.gate = binding?.gate
        self.isSubcommand = facts.name.contains("|")
        self.aclId = AclCatalog.shared.id(of: facts.name)!
        self.aclKeyAccess = facts.keySpecs.map { AclKeyAccess(flags: $0.flags) }
        if binding?.keyFinder == nil, facts.keySpecs.count == 1, case .index(let position) = facts.keySpecs[0].begin,
           case .range(lastKey: 0, _, _) = facts.keySpecs[0].find {
            self.aclSingleKey = position
        } else {
            self.aclSingleKey = 0
        }
    }

    /// Lower-case name; `parent|child` for subcommands.
    @inlinable public var name: String { facts.name }
    /// Argument count including the name; negative means "at least -arity".
    @inlinable public var arity: Int { facts.arity }
    @inlinable public var flags: CommandFlags { facts.flags }
    @inlinable public var aclCategories: [String] { facts.aclCategories }
    /// Legacy (first, last, step) key positions; (0, 0, 0) when the command takes no keys.
    @inlinable public var keyPositions: (first: Int, last: Int, step: Int) { facts.keyPositions }
    @inlinable public var tips: [String] { facts.tips }
    @inlinable public var keySpecs: [KeySpec] { facts.keySpecs }
    @inlinable public var docs: CommandDocs { facts.docs }
    /// EVAL, FCALL and their forms.
    @inlinable public var runsScript: Bool { behaviour.contains(.runsScript) }
    /// Runs Lua code: always on the script thread.
    @inlinable public var runsLua: Bool { behaviour.contains(.runsLua) }

    /// The part after `|` for subcommands.
    public var shortName: String {
        if let bar = name.firstIndex(of: "|") { return String(name[name.index(after: bar)...]) }
        return name
    }

    @inlinable public func arityMatches(_ count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }

    /// Finds a subcommand by its (case-insensitive) name.
    public func subcommand(named bytes: [UInt8]) -> CommandSpec? {
        let lowered = String(decoding: lowercasedASCII(bytes), as: UTF8.self)
        return subcommands.first { $0.shortName == lowered }
    }

    /// The argument positions of the keys in `args`: from the command's own key finder when it
    /// has one (its specs cannot say where all its keys are), else from the key specs or the
    /// legacy triple; nil when the arguments contradict the key specs (a bad key count).
    public func keyIndices(_ args: [[UInt8]]) -> [Int]? {
        if let keyFinder { return keyFinder(args) }
        return keySpecs.isEmpty ? positionKeyIndices(args) : specKeyIndices(args)?.map(\.position)
    }

    /// Each key's position in `args` with its key-spec flags (COMMAND GETKEYSANDFLAGS): the
    /// flags of the spec that found it, or the command's own (`KeyFlagsFinder`) where they
    /// depend on the arguments. Nil as for `keyIndices`.
    public func keysAndFlags(_ args: [[UInt8]]) -> [(position: Int, flags: [String])]? {
        if let keyFinder {
            return keyFinder(args).map { ($0, keyFlags?(args, $0) ?? []) }
        }
        if keySpecs.isEmpty { return positionKeyIndices(args).map { ($0, keyFlags?(args, $0) ?? []) } }
        return specKeyIndices(args)?.map { ($0.position, keyFlags?(args, $0.position) ?? keySpecs[$0.spec].flags) }
    }

    /// Whether the command takes keys at all (COMMAND GETKEYS refuses those that don't).
    public var hasKeys: Bool { !keySpecs.isEmpty || keyPositions.first > 0 }

    /// Whether ACL key rules may have keys to check (Redis's `doesCommandHaveKeys`).
    var mayHaveKeys: Bool { hasKeys || keyFinder != nil }

    /// Keys by the legacy (first, last, step) triple.
    private func positionKeyIndices(_ args: [[UInt8]]) -> [Int] {
        let (first, last, step) = keyPositions
        guard first > 0, step > 0 else { return [] }
        let end = last < 0 ? args.count + last : min(last, args.count - 1)
        guard first <= end else { return [] }
        return Array(stride(from: first, through: end, by: step))
    }

    /// Keys by the key specs, as Redis's `getKeysUsingKeySpecs` finds them (this is what
    /// handles commands whose key count is an argument: ZUNIONSTORE, LMPOP, EVAL, ...).
    /// Nil when the arguments contradict the specs (a bad key count). Each key comes with the
    /// index of the spec that found it.
    func specKeyIndices(_ args: [[UInt8]]) -> [(position: Int, spec: Int)]? {
        var keys: [(position: Int, spec: Int)] = []
        for (specIndex, spec) in keySpecs.enumerated() {
            let start: Int
            switch spec.begin {
            case .index(let i): start = i
            case .keyword(let word, let from):
                let lowered = Array(word.lowercased().utf8)
                let candidates = from >= 0 ? Array(from..<args.count) : Array(stride(from: args.count + from, through: 1, by: -1))
                guard let at = candidates.first(where: { lowercasedASCII(args[$0]) == lowered }) else { continue }
                start = at + 1
            case .unknown: continue
            }
            guard start < args.count else { continue }
            switch spec.find {
            case .range(let lastKey, let step, let limit):
                var last = lastKey >= 0 ? start + lastKey : args.count + lastKey
                if lastKey < 0 && limit > 1 { last = start + (args.count - 1 - start) / limit }
                guard step > 0 else { continue }
                var i = start
                while i <= min(last, args.count - 1) {
                    keys.append((i, specIndex))
                    i += step
                }
            case .keynum(let index, let firstKey, let step):
                guard start + index < args.count, let n = parseStrictInt64(args[start + index]), n >= 0 else { return nil }
                // More keys than arguments can never fit (and would overflow the arithmetic below).
                guard n <= Int64(args.count) else { return nil }
                let first = start + firstKey
                let last = first + (Int(n) - 1) * step
                guard n == 0 || last < args.count else { return nil }
                if n > 0 { keys.append(contentsOf: stride(from: first, through: last, by: step).map { ($0, specIndex) }) }
            case .unknown: continue
            }
        }
        return keys
    }
}
