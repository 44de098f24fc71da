/// Loading the append-only file at start: the base (an RDB snapshot, or commands) and then
/// every incremental file the manifest names, replayed through the dispatcher. Nothing
/// expires while loading (Redis's rule): a key's later commands must find it as they did.
///
/// A last command cut short (a crash mid-write) is dropped with Redis's warnings when
/// `aof-load-truncated` is yes, and the file is cut back to the last whole command, as is a
/// MULTI that never reached its EXEC. Anything else that does not parse stops the server
/// with the file's name and the offset.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension AppendOnlyFile {
    /// Opens the append-only file in `dir`/`appenddirname` for `server`, loading what it holds.
    /// Without one, the RDB snapshot (if any) is loaded and becomes the first base, as Redis
    /// does when the append-only file is first switched on.
    public static func load(for server: ServerCore, log: @escaping (Int, String) -> Void) throws -> AppendOnlyFile {
        let config = server.config
        let directory = config.dir + "/" + config.appendDirName
        let manifestName = config.appendFilename + ".manifest"
        guard access(directory + "/" + manifestName, F_OK) == 0 else {
            let loaded = try PersistenceCommands.loadSnapshot(into: server, now: server.clock.nowMillis())
            if loaded > 0 { log(2, "DB loaded from disk: \(loaded) keys") }
            return try startFresh(for: server, log: log)
        }
        let manifest: AOFManifest
        do {
            manifest = try AOFManifest.parse(String(decoding: try readFile(directory + "/" + manifestName), as: UTF8.self))
        } catch let error as AOFManifest.FormatError {
            throw AOFError("\(error.description) in \(directory)/\(manifestName)")
        }
        server.loading = true
        defer { server.loading = false }
        let parts = (manifest.base.map { [$0] } ?? []) + manifest.incrs
        var replayer = AOFReplayer(server: server)
        for (index, part) in parts.enumerated() {
            let path = directory + "/" + part.name
            guard access(path, F_OK) == 0 else { throw AOFError("The AOF file \(part.name) doesn't exist") }
            let bytes = try readFile(path)
            if bytes.starts(with: Array("REDIS".utf8)) {
                do {
                    _ = try PersistenceCommands.loadRDB(bytes, into: server, keepExpired: true, now: server.clock.nowMillis())
                } catch {
                    throw AOFError("Bad RDB preamble in the AOF base file \(part.name): \(error)")
                }
                continue
            }
            try replayer.replay(bytes, name: part.name, path: path, isLast: index == parts.count - 1, log: log)
        }
        log(2, "DB loaded from append only file: \(server.keyspace.databases.reduce(0) { $0 + $1.count }) keys")
        var current = manifest
        if current.incrs.isEmpty {
            let name = "\(config.appendFilename).\(current.lastIncrSeq + 1).incr.aof"
            current.incrs.append(.init(name: name, seq: current.lastIncrSeq + 1, kind: .incr))
            closeFD(try create(directory + "/" + name, truncating: true))
            try writeManifest(current, directory: directory, name: manifestName)
        }
        let fd = try create(directory + "/" + current.incrs.last!.name)
        let baseSize = current.base.map { fileSize(directory + "/" + $0.name) } ?? 0
        let total = baseSize + current.incrs.reduce(0) { $0 + fileSize(directory + "/" + $1.name) }
        let file = AppendOnlyFile(directory: directory, fileName: config.appendFilename, manifest: current, fd: fd,
                                  policy: config.appendFsync, currentSize: total, baseSize: baseSize, gate: server.aofSync)
        file.log = log
        return file
    }

    /// The first layout, at start when the directory has no manifest yet: base 1 (an RDB
    /// snapshot of the dataset, written before serving, as Redis does) and an empty incr 1.
    static func startFresh(for server: ServerCore, log: @escaping (Int, String) -> Void) throws -> AppendOnlyFile {
        let config = server.config
        let directory = config.dir + "/" + config.appendDirName
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw AOFError("Can't open or create append-only dir \(directory): \(String(cString: strerror(errno)))")
        }
        let baseName = "\(config.appendFilename).1.base.rdb"
        let incrName = "\(config.appendFilename).1.incr.aof"
        try writeAtomically(PersistenceCommands.snapshot(server, now: server.clock.nowMillis()), directory: directory,
                            name: baseName, temporary: "temp-" + baseName)
        log(2, "Creating AOF base file \(baseName) on server start")
        let fd = try create(directory + "/" + incrName, truncating: true)
        log(2, "Creating AOF incr file \(incrName) on server start")
        let manifest = AOFManifest(base: .init(name: baseName, seq: 1, kind: .base),
                                   incrs: [.init(name: incrName, seq: 1, kind: .incr)])
        try writeManifest(manifest, directory: directory, name: config.appendFilename + ".manifest")
        let baseSize = fileSize(directory + "/" + baseName)
        let file = AppendOnlyFile(directory: directory, fileName: config.appendFilename, manifest: manifest, fd: fd,
                                  policy: config.appendFsync, currentSize: baseSize, baseSize: baseSize, gate: server.aofSync)
        file.log = log
        return file
    }
}

extension AppendOnlyFile {
    /// `appendonly yes` at run time: a new incremental file takes the writes from now on, and
    /// the base is written by a background child (`ServerCore.startRewrite`). Parts of an old
    /// manifest in the directory are replaced once that base is installed.
    static func startAwaitingBase(for server: ServerCore, log: @escaping (Int, String) -> Void) throws -> AppendOnlyFile {
        let config = server.config
        let directory = config.dir + "/" + config.appendDirName
        let manifestName = config.appendFilename + ".manifest"
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw AOFError("Can't open or create append-only dir \(directory): \(String(cString: strerror(errno)))")
        }
        let old = (try? readFile(directory + "/" + manifestName)).flatMap { try? AOFManifest.parse(String(decoding: $0, as: UTF8.self)) }
        let incrSeq = (old?.lastIncrSeq ?? 0) + 1
        let incrName = "\(config.appendFilename).\(incrSeq).incr.aof"
        let fd = try create(directory + "/" + incrName, truncating: true)
        log(2, "Creating AOF incr file \(incrName) on background rewrite")
        // The old base stays in the manifest kept in memory only so the new one is numbered after it.
        let manifest = AOFManifest(base: old?.base, incrs: [.init(name: incrName, seq: incrSeq, kind: .incr)])
        let file = AppendOnlyFile(directory: directory, fileName: config.appendFilename, manifest: manifest, fd: fd,
                                  policy: config.appendFsync, currentSize: 0, baseSize: 0, gate: server.aofSync)
        file.awaitingBase = true
        file.replacedParts = old.map { ($0.base.map { [$0] } ?? []) + $0.history + $0.incrs }?.map(\.name) ?? []
        file.log = log
        return file
    }
}

/// Replays the commands of append-only files through the dispatcher as one loading client.
struct AOFReplayer {
    let server: ServerCore
    let client: ClientSession
    var ctx: CommandContext

    init(server: ServerCore) {
        self.server = server
        client = ClientSession(id: 0, authenticated: true, address: "", localAddress: "", now: 0, connection: nil)
        ctx = CommandContext(out: ReplyWriter(buffer: ByteBuffer(), resp3: false), client: client, server: server)
    }

    mutating func replay(_ bytes: [UInt8], name: String, path: String, isLast: Bool, log: (Int, String) -> Void) throws {
        var reader = AOFCommandReader(bytes: bytes)
        /// The end of the last command outside a transaction: where a damaged tail is cut.
        var validUpTo = 0
        var truncated = false
        reading: while true {
            switch reader.next() {
            case .end:
                break reading
            case .truncated:
                truncated = true
                break reading
            case .badFormat(let offset):
                throw AOFError("Bad file format reading the append only file \(name) at offset \(offset): make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>")
            case .command(let args):
                if case .unknownCommand = server.table.resolve(args) {
                    throw AOFError("Unknown command '\(cText(args[0], max: 128))' reading the append only file \(name) at offset \(reader.commandStart)")
                }
                ctx.args = args
                server.execute(&ctx)
                ctx.out.buffer.clear()
                if !client.inTransaction { validUpTo = reader.offset }
            }
        }
        let openTransaction = client.inTransaction
        if !truncated && !openTransaction { return }
        // Cut short (a crash mid-write), or a MULTI whose EXEC never came.
        guard isLast && server.config.aofLoadTruncated else {
            if truncated {
                throw AOFError("Unexpected end of file reading the append only file \(name) at offset \(reader.offset). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.")
            }
            throw AOFError("Revert incomplete MULTI/EXEC transaction in AOF file \(name) at offset \(validUpTo)")
        }
        if openTransaction {
            server.endTransaction(client)
            log(3, "Revert incomplete MULTI/EXEC transaction in AOF file \(name)")
        }
        if truncated { log(3, "!!! Warning: short read while loading the AOF file \(name)!!!") }
        log(3, "!!! Truncating the AOF \(name) at offset \(validUpTo) !!!")
        guard truncate(path, off_t(validUpTo)) == 0 else {
            throw AOFError("Error truncating the AOF file \(name): \(String(cString: strerror(errno)))")
        }
        log(3, "AOF \(name) loaded anyway because aof-load-truncated is enabled")
    }
}

/// Splits an append-only file into commands: `*<n>\r\n` then n times `$<len>\r\n<bytes>\r\n`.
/// Lines starting with `#` are annotations and are skipped, as Redis does.
struct AOFCommandReader {
    enum Item {
        case command([[UInt8]])
        case end
        case truncated
        case badFormat(offset: Int)
    }

    let bytes: [UInt8]
    /// Where the next command starts.
    private(set) var offset = 0
    /// Where the command last returned started.
    private(set) var commandStart = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> Item {
        while offset < bytes.count && bytes[offset] == UInt8(ascii: "#") {
            guard let end = lineEnd(from: offset) else { return .truncated }
            offset = end + 2
        }
        guard offset < bytes.count else { return .end }
        commandStart = offset
        var position = offset
        guard let count = header(&position, UInt8(ascii: "*")) else { return failure(position) }
        guard count >= 1 else { return .badFormat(offset: commandStart) }
        var args: [[UInt8]] = []
        // A damaged count must not reserve gigabytes: each argument takes at least 4 bytes.
        args.reserveCapacity(min(count, (bytes.count - position) / 4 + 1))
        for _ in 0..<count {
            guard let length = header(&position, UInt8(ascii: "$")) else { return failure(position) }
            guard position + length + 2 <= bytes.count else { return .truncated }
            guard bytes[position + length] == 13 && bytes[position + length + 1] == 10 else {
                return .badFormat(offset: position + length)
            }
            args.append(Array(bytes[position..<position + length]))
            position += length + 2
        }
        offset = position
        return .command(args)
    }

    /// A failed header: truncated when the file ended inside it, else bad format.
    private func failure(_ position: Int) -> Item {
        position >= bytes.count ? .truncated : .badFormat(offset: position)
    }

    /// Reads `<prefix><decimal>\r\n` at `position`; nil when it is not there (with `position`
    /// at the end of the file when the file ended first).
    private func header(_ position: inout Int, _ prefix: UInt8) -> Int? {
        guard position < bytes.count else { return nil }
        guard bytes[position] == prefix else { return nil }
        guard let end = lineEnd(from: position) else {
            position = bytes.count
            return nil
        }
        guard let n = parseStrictInt64(Array(bytes[position + 1..<end])), n >= 0, n <= Int64(Int32.max) else { return nil }
        position = end + 2
        return Int(n)
    }

    /// The index of the `\r` of the `\r\n` ending the line at `start`, if the file has it.
    private func lineEnd(from start: Int) -> Int? {
        var i = start
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
}
