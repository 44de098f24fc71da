/// Persistence: SAVE writes an RDB snapshot (`RDBWriter`) to `dir`/`dbfilename` through a
/// temporary file and a rename, so the file is never seen half written; `loadSnapshot` reads
/// one back at start (`RDBReader`). BGSAVE and the append-only file are still to come.
import AtollBytes
import AtollKeyspace
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum PersistenceCommands {
    static let specs: [CommandSpec] = [
        CommandSpec("save", arity: 1, flags: [.admin, .noscript, .noAsyncLoading, .noMulti], acl: ["admin", "slow", "dangerous"], run: save),
    ]

    static func save(_ c: inout CommandContext) {
        if let error = writeSnapshot(c.server, now: c.now) {
            c.server.logHandler?(3, "Failed opening the temp RDB file for saving: \(error)")
            return c.out.error("ERR")
        }
        c.server.dirty = 0
        c.server.lastSave = c.now / 1000
        c.out.ok()
    }

    /// Loads `dir`/`dbfilename` if it exists (call before serving). Returns how many keys were
    /// loaded, or throws with the offset where a damaged file stopped making sense.
    public static func loadSnapshot(into server: ServerCore, now: Int64) throws -> Int {
        let path = server.config.dir + "/" + server.config.dbFilename
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { return 0 }
            throw SnapshotError(message: "Can't open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw SnapshotError(message: "Can't read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        let contents: RDBContents
        do {
            contents = try RDBReader.read(bytes, limits: server.config.encodingLimits)
        } catch {
            throw SnapshotError(message: "Bad RDB file \(path): \(error)")
        }
        for body in contents.scripts {
            if case .failure(let error) = server.scripting.engine.load(body) {
                throw SnapshotError(message: "Can't load a script from \(path): \(error.message)")
            }
        }
        for code in contents.functions {
            if case .failure(let error) = server.scripting.engine.loadLibrary(code, replace: true) {
                throw SnapshotError(message: "Can't load a function library from \(path): \(error.message)")
            }
        }
        var loaded = 0
        for key in contents.keys {
            // Keys that expired while the server was down are not brought back, as in Redis.
            guard key.db < server.keyspace.databases.count, key.expireAt == noExpiry || key.expireAt > now else { continue }
            server.keyspace.databases[key.db].store(key.key, Entry(value: key.value, expireAt: key.expireAt,
                                                                   lastAccess: server.lruClock))
            loaded += 1
        }
        return loaded
    }

    public struct SnapshotError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The whole dataset as RDB bytes.
    static func snapshot(_ server: ServerCore, now: Int64) -> [UInt8] {
        var writer = RDBWriter()
        writer.aux("redis-ver", redisCompatibleVersion)
        writer.aux("redis-bits", "64")
        writer.aux("ctime", String(now / 1000))
        writer.aux("atoll-ver", atollVersion)
        // Beyond Redis: the script cache survives a restart, so EVALSHA never meets NOSCRIPT
        // after one. Redis's loader skips auxiliary fields it does not know.
        for script in server.scripting.engine.scripts.values.sorted(by: { $0.body.lexicographicallyPrecedes($1.body) }) {
            writer.aux(String(decoding: RDBReader.scriptAuxKey, as: UTF8.self), script.body)
        }
        for library in server.scripting.engine.libraries.values.sorted(by: { $0.name < $1.name }) {
            writer.functionLibrary(library.code)
        }
        for (index, db) in server.keyspace.databases.enumerated() { writer.database(index, db, now: now) }
        return writer.finish()
    }

    /// Writes the snapshot to `dir/dbfilename`; returns an error description, or nil.
    static func writeSnapshot(_ server: ServerCore, now: Int64) -> String? {
        let bytes = snapshot(server, now: now)
        let directory = server.config.dir
        let path = directory + "/" + server.config.dbFilename
        let temporary = directory + "/temp-\(getpid()).rdb"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return reason
        }
        return nil
    }
}
