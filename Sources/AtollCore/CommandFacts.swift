/// What the reference server says about a command in COMMAND INFO and COMMAND DOCS. The values
/// are generated from data/ (`CommandFacts.reference`, in CommandFacts+Reference.generated.swift)
/// by scripts/dev/gen-command-table.py; nothing about a command's facts is written by hand.
public struct CommandFacts: Sendable {
    /// Lower-case name; `parent|child` for subcommands.
    public let name: String
    public let arity: Int
    public let flags: CommandFlags
    /// Without the `@`.
    public let aclCategories: [String]
    public let keyPositions: (first: Int, last: Int, step: Int)
    public let tips: [String]
    public let keySpecs: [KeySpec]
    public let docs: CommandDocs

    init(_ name: String, arity: Int, flags: CommandFlags, acl: [String], keys: (Int, Int, Int),
         tips: [String] = [], keySpecs: [KeySpec] = [], docs: CommandDocs) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.aclCategories = acl
        self.keyPositions = keys
        self.tips = tips
        self.keySpecs = keySpecs
        self.docs = docs
    }

    /// The reference facts by full name.
    static let byName: [String: CommandFacts] = Dictionary(uniqueKeysWithValues: reference.map { ($0.name, $0) })
}

/// A command's COMMAND DOCS entry (without its subcommands, which come from the table). Fields
/// that are nil or empty are left out of the reply, as Redis leaves them out.
public struct CommandDocs: Sendable {
    public let summary: String?
    public let since: String?
    public let group: String
    public let complexity: String?
    public let docFlags: [String]
    public let deprecatedSince: String?
    public let replacedBy: String?
    /// (version, change) pairs.
    public let history: [(String, String)]
    /// Nil when Redis gives no `arguments` field (a command without arguments).
    public let arguments: [CommandArgument]?

    init(summary: String? = nil, since: String? = nil, group: String, complexity: String? = nil,
         docFlags: [String] = [], deprecatedSince: String? = nil, replacedBy: String? = nil,
         history: [(String, String)] = [], arguments: [CommandArgument]? = nil) {
        self.summary = summary
        self.since = since
        self.group = group
        self.complexity = complexity
        self.docFlags = docFlags
        self.deprecatedSince = deprecatedSince
        self.replacedBy = replacedBy
        self.history = history
        self.arguments = arguments
    }
}

/// One argument in COMMAND DOCS; `oneof` and `block` arguments hold their parts in `arguments`.
public struct CommandArgument: Sendable {
    public let name: String
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`, `pure-token`, `oneof`, `block`.
    public let type: String
    public let keySpecIndex: Int?
    public let token: String?
    public let summary: String?
    public let since: String?
    public let deprecatedSince: String?
    /// `optional`, `multiple`, `multiple_token`.
    public let flags: [String]
    public let arguments: [CommandArgument]?

    init(_ name: String, _ type: String, keySpecIndex: Int? = nil, token: String? = nil, summary: String? = nil,
         since: String? = nil, deprecatedSince: String? = nil, flags: [String] = [], arguments: [CommandArgument]? = nil) {
        self.name = name
        self.type = type
        self.keySpecIndex = keySpecIndex
        self.token = token
        self.summary = summary
        self.since = since
        self.deprecatedSince = deprecatedSince
        self.flags = flags
        self.arguments = arguments
    }
}
