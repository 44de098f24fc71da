/// `AppendOnlyFeed`: the effects of commands, encoded as the append-only file records them.
///
/// Every command that changed the dataset adds what it did (its own arguments, or the
/// deterministic form it chose, such as `SET key value PXAT ms` for `SET ... EX`). When a
/// top-level command ends (a plain command, a whole EXEC, a whole script) `commit()` encodes
/// its effects as RESP arrays: one effect as it is, several wrapped in MULTI ... EXEC so a
/// reload never applies half of them. A `SELECT` is written whenever the database changes.
public struct AppendOnlyFeed {
    private var pending: [(db: Int, args: [[UInt8]])] = []
    /// Recorded before the unit, outside any MULTI (SCRIPT LOAD: cache state, not data).
    private var preamble: [[[UInt8]]] = []
    /// The database the file's reader has selected; -1 forces a SELECT (a new file).
    public private(set) var selectedDB = -1
    /// Encoded commands not yet handed to the file.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Records one effect of the command being run.
    public mutating func add(db: Int, _ args: [[UInt8]]) {
        pending.append((db, args))
    }

    /// Records a command that goes before the current unit, never inside its MULTI.
    public mutating func addOutsideUnit(_ args: [[UInt8]]) {
        preamble.append(args)
    }

    /// Ends a top-level command: its effects move to `bytes`.
    public mutating func commit() {
        if !preamble.isEmpty {
            for args in preamble { encode(args) }
            preamble.removeAll()
        }
        guard !pending.isEmpty else { return }
        let wrap = pending.count > 1
        if wrap { encode([Self.multi]) }
        for (db, args) in pending {
            if db != selectedDB {
                encode([Self.select, Array(String(db).utf8)])
                selectedDB = db
            }
            encode(args)
        }
        if wrap { encode([Self.exec]) }
        pending.removeAll(keepingCapacity: true)
    }

    /// The encoded bytes, leaving the feed empty.
    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// The next unit starts with its own SELECT: its reader starts afresh (a new append-only
    /// file, a replica starting from a snapshot).
    public mutating func reselect() { selectedDB = -1 }

    private mutating func encode(_ args: [[UInt8]]) {
        bytes.append(UInt8(ascii: "*"))
        appendDecimal(args.count)
        for arg in args {
            bytes.append(UInt8(ascii: "$"))
            appendDecimal(arg.count)
            bytes.append(contentsOf: arg)
            bytes.append(13)
            bytes.append(10)
        }
    }

    private mutating func appendDecimal(_ n: Int) {
        if n < 10 {
            bytes.append(UInt8(48 + n))
        } else {
            bytes.append(contentsOf: String(n).utf8)
        }
        bytes.append(13)
        bytes.append(10)
    }

    /// One command as RESP, as the feed encodes it (for what goes to replicas only: PING,
    /// REPLCONF GETACK).
    public static func encoded(_ args: [[UInt8]]) -> [UInt8] {
        var feed = AppendOnlyFeed()
        feed.encode(args)
        return feed.bytes
    }

    static let multi = Array("MULTI".utf8)
    static let exec = Array("EXEC".utf8)
    static let select = Array("SELECT".utf8)
    public static let del = Array("DEL".utf8)
    public static let set = Array("SET".utf8)
    public static let pxat = Array("PXAT".utf8)
    public static let pexpireat = Array("PEXPIREAT".utf8)
}
