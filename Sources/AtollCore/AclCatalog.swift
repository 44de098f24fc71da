/// The commands ACL rules can name, with the ids their permission bits use: every command and
/// subcommand of the reference facts (`CommandFacts.reference`), so rules may name commands as
/// Redis knows them. Each command's ACL categories become a bit mask over `AclCatalog.categories`.
/// One extra bit, past the last command, stands for "commands to come" (set only by `+@all`),
/// as in Redis: it decides whether a description starts from `+@all` or `-@all`.
///
/// The commands Atoll serves from Redis versions after 7.0.15 (CLIENT NO-TOUCH, DELEX,
/// DIGEST) are in no category here: `+@category` rules, ACL CAT and the normalised
/// descriptions stay exactly 7.0.15's, and such a command is allowed by `+@all` or by name.

/// The set of commands a selector may run: one bit per `AclCatalog` id.
public struct AclCommandBits: Equatable, Sendable {
    @usableFromInline var words: [UInt64]

    init(all: Bool) {
        words = [UInt64](repeating: all ? .max : 0, count: (AclCatalog.shared.bitCount + 63) / 64)
    }

    @inlinable func contains(_ id: Int) -> Bool { words[id >> 6] & (1 << UInt64(id & 63)) != 0 }

    mutating func set(_ id: Int, _ value: Bool) {
        if value { words[id >> 6] |= 1 << UInt64(id & 63) } else { words[id >> 6] &= ~(1 << UInt64(id & 63)) }
    }
}

public final class AclCatalog: Sendable {
    /// Redis's categories, in the order ACL CAT lists them and descriptions try them.
    public static let categories = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
                                    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
                                    "dangerous", "connection", "transaction", "scripting"]
    public static let shared = AclCatalog()

    /// Full names (`config|get`) by id.
    public let names: [String]
    /// Each id's categories: bit `i` for `categories[i]`.
    let categoryMasks: [UInt32]
    /// The subcommands of each id (empty for a plain command or a subcommand).
    let children: [[Int]]
    /// Whether each id is a subcommand.
    let isSubcommand: [Bool]
    /// The top-level commands' ids, in name order (each followed, when walking, by its children).
    let topLevel: [Int]
    private let byName: [String: Int]
    /// The bit `+@all` sets beyond every command: "commands to come".
    let futureBit: Int
    var bitCount: Int { futureBit + 1 }

    private init() {
        let facts = CommandFacts.reference
        var names: [String] = [], masks: [UInt32] = [], byName: [String: Int] = [:]
        for fact in facts {
            byName[fact.name] = names.count
            names.append(fact.name)
            var mask: UInt32 = 0
            for category in fact.aclCategories where !Self.isNewerThanReference(fact.docs.since) {
                if let i = Self.categories.firstIndex(of: category) { mask |= 1 << UInt32(i) }
            }
            masks.append(mask)
        }
        var children = [[Int]](repeating: [], count: names.count)
        var isSub = [Bool](repeating: false, count: names.count)
        var top: [Int] = []
        for (id, name) in names.enumerated() {
            if let bar = name.firstIndex(of: "|"), let parent = byName[String(name[..<bar])] {
                children[parent].append(id)
                isSub[id] = true
            } else {
                top.append(id)
            }
        }
        self.names = names
        self.categoryMasks = masks
        self.children = children
        self.isSubcommand = isSub
        self.topLevel = top
        self.byName = byName
        self.futureBit = names.count
    }

    /// Whether a command appeared after Redis 7.0.15 (its `since` version is later).
    private static func isNewerThanReference(_ since: String?) -> Bool {
        guard let since else { return false }
        let parts = since.split(separator: ".").map { Int($0) ?? 0 }
        return parts.lexicographicallyPrecedes([7, 0, 15]) == false && parts != [7, 0, 15]
    }

    /// The id of a full name, any case; nil when Redis knows no such command.
    public func id(of name: String) -> Int? { byName[name.lowercased()] }

    /// The bit of a category name (any case), or nil.
    static func category(named name: [UInt8]) -> Int? {
        let lowered = lowercasedASCII(name)
        return categories.firstIndex { Array($0.utf8) == lowered }
    }

    /// The full names of the commands in a category (ACL CAT), or nil for no such category.
    public func commands(inCategory name: [UInt8]) -> [String]? {
        guard let category = Self.category(named: name) else { return nil }
        var found: [String] = []
        forEachCommand { id in
            if categoryMasks[id] & (1 << UInt32(category)) != 0 { found.append(names[id]) }
        }
        return found
    }

    /// Every id, top-level commands in name order, each followed by its subcommands.
    func forEachCommand(_ body: (Int) -> Void) {
        for id in topLevel {
            body(id)
            for child in children[id] { body(child) }
        }
    }
}
