/// Persistence commands: SAVE and BGSAVE write an RDB snapshot (`RDBWriter`) to
/// `dir`/`dbfilename` through a temporary file and a rename, so the file is never seen half
/// written; BGREWRITEAOF rewrites the append-only file; DEBUG RELOAD and DEBUG LOADAOF (run by
/// `DebugCommands`) reload the dataset from disk (for tests). `loadSnapshot` reads a snapshot back at start.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollLua
import AtollRDB
import AtollRESP
import AtollScripting
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum PersistenceCommands {
    package static let commands: [CommandBinding] = [
        .init("save", save),
        .init("bgsave", bgsave),
        .init("bgrewriteaof", bgrewriteaof),
    ]

    static func bgsave(_ c: inout CommandContext) {
        var schedule = false
        if c.args.count > 1 {
            guard c.args.count == 2, c.argIs(1, "schedule") else { return c.syntaxError() }
            schedule = true
        }
        if c.server.persistence.child?.job == .snapshot { return c.out.error("ERR Background save already in progress") }
        // Inside EXEC the fork waits for the cron, so it never splits a transaction.
        if c.client.executingTransaction && c.server.persistence.child == nil {
            c.server.persistence.bgsaveScheduled = true
            return c.out.status("Background saving scheduled")
        }
        if c.server.persistence.child != nil {
            guard schedule else {
                return c.out.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
            }
            c.server.persistence.bgsaveScheduled = true
            return c.out.status("Background saving scheduled")
        }
        if let error = c.server.startBackgroundSave(now: c.now) { return c.out.error("ERR " + error) }
        c.out.status("Background saving started")
    }

    static func bgrewriteaof(_ c: inout CommandContext) {
        // Inside EXEC the switch to a new file waits for the cron: it must not split the
        // transaction's effects between two files.
        if c.client.executingTransaction && c.server.aof != nil && c.server.persistence.child == nil {
            c.server.persistence.rewriteScheduled = true
            return c.out.status("Background append only file rewriting scheduled")
        }
        let busyWithSnapshot = c.server.persistence.child?.job == .snapshot
        if let error = c.server.startRewrite(now: c.now) { return c.out.error("ERR " + error) }
        c.out.status(busyWithSnapshot ? "Background append only file rewriting scheduled" : "Background append only file rewriting started")
    }

    /// DEBUG RELOAD (save, empty the dataset, load the snapshot back): what tests use to check
    /// that what is on disk is the dataset. DEBUG itself is in AtollCommands' `DebugCommands`.
    package static func debugReload(_ c: inout CommandContext) {
        guard c.args.count == 2 else { return c.out.error("ERR DEBUG RELOAD only supports plain reloads in Atoll") }
        if let error = c.server.saveNow(c.now) {
            return c.out.error("ERR Error trying to save the DB: \(error)")
        }
        emptyForReload(c.server)
        do {
            _ = try loadSnapshot(into: c.server, now: c.now)
        } catch {
            return c.out.error("ERR Error trying to load the RDB dump, check server logs.")
        }
        c.server.logHandler?(2, "DB reloaded by DEBUG RELOAD")
        c.out.ok()
    }

    /// DEBUG LOADAOF: sync the append-only file, empty the dataset, replay the file.
    package static func debugLoadAOF(_ c: inout CommandContext) {
        guard let aof = c.server.appendOnlyFile else { return c.out.ok() }
        do {
            try c.server.completeAwaitedBase(now: c.now)
        } catch {
            c.server.logHandler?(3, "\(error)")
            return c.out.error("ERR Error loading the AOF, check server logs.")
        }
        c.server.flushEffects()
        aof.close()
        let log = aof.log ?? { _, _ in }
        emptyForReload(c.server)
        c.server.aof = nil
        do {
            c.server.aof = try AppendOnlyFile.load(for: c.server, log: log)
        } catch {
            c.server.logHandler?(3, "\(error)")
            c.server.config.appendOnly = false
            return c.out.error("ERR Error loading the AOF, check server logs.")
        }
        c.server.logHandler?(2, "Append Only File loaded by DEBUG LOADAOF")
        c.out.ok()
    }

    /// Empties every database and the script and function caches before a reload.
    private static func emptyForReload(_ server: ServerCore) {
        server.keyspace.flushAll()
        server.scripting.flushScripts()
        server.scripting.engine.flushLibraries()
    }

    static func save(_ c: inout CommandContext) {
        if c.server.persistence.child?.job == .snapshot { return c.out.error("ERR Background save already in progress") }
        if let error = c.server.saveNow(c.now) {
            c.server.logHandler?(3, "Failed opening the temp RDB file for saving: \(error)")
            return c.out.error("ERR")
        }
        c.out.ok()
    }

    /// Loads `dir`/`dbfilename` if it exists (call before serving). Returns how many keys were
    /// loaded, or throws with the offset where a damaged file stopped making sense.
    public static func loadSnapshot(into server: ServerCore, now: Int64) throws -> Int {
        try loadSnapshotWithHistory(into: server, now: now).keys
    }

    /// What loading a snapshot found: the keys loaded, the replication history the file
    /// records (if any) and the keys dropped as expired (a restarted primary streams their DELs).
    public struct LoadedSnapshot {
        public var keys = 0
        public var history: ReplicationSaveInfo?
        public var expired: [(db: Int, key: [UInt8])] = []
    }

    /// Loads `dir`/`dbfilename` as `loadSnapshot` does, saying what it found.
    public static func loadSnapshotWithHistory(into server: ServerCore, now: Int64) throws -> LoadedSnapshot {
        let path = server.config.dir + "/" + server.config.dbFilename
        guard access(path, F_OK) == 0 else { return LoadedSnapshot() }
        let bytes: [UInt8]
        do {
            bytes = try AppendOnlyFile.readFile(path)
        } catch {
            throw SnapshotError(message: "\(error)")
        }
        do {
            return try loadRDB(bytes, into: server, keepExpired: false, now: now)
        } catch let error as SnapshotError {
            throw SnapshotError(message: "\(error.message) (\(path))")
        }
    }

    /// A full sync's snapshot from the master replaces the dataset, scripts and functions. Keys
    /// already expired are kept, as on Redis's replicas: the master's DEL removes them.
    /// Returns the database the master's stream is in (its `repl-stream-db`, else 0).
    public static func loadReplicationSnapshot(_ bytes: [UInt8], into server: ServerCore, now: Int64) throws -> Int {
        emptyForReload(server)
        let db = try loadRDB(bytes, into: server, keepExpired: true, now: now).history?.streamDB ?? 0
        return db >= 0 && db < server.keyspace.databases.count ? db : 0
    }

    /// Loads RDB bytes into `server`: scripts, function libraries and keys. Keys already
    /// expired are dropped unless `keepExpired` (an append-only file's base: its later
    /// commands must find them, and they expire once loading is over).
    @discardableResult
    static func loadRDB(_ bytes: [UInt8], into server: ServerCore, keepExpired: Bool, now: Int64) throws -> LoadedSnapshot {
        let contents: RDBContents
        do {
            contents = try RDBReader.read(bytes, limits: server.config.encodingLimits)
        } catch {
            throw SnapshotError(message: "Bad RDB file: \(error)")
        }
        for body in contents.scripts {
            if case .failure(let error) = server.scripting.engine.load(body) {
                throw SnapshotError(message: "Can't load a script: \(error.message)")
            }
        }
        for code in contents.functions {
            if case .failure(let error) = server.scripting.engine.loadLibrary(code, replace: true) {
                throw SnapshotError(message: "Can't load a function library: \(error.message)")
            }
        }
        var loaded = LoadedSnapshot()
        for key in contents.keys {
            // Keys that expired while the server was down are not brought back, as in Redis.
            guard key.db < server.keyspace.databases.count else { continue }
            guard keepExpired || key.expireAt == noExpiry || key.expireAt > now else {
                loaded.expired.append((key.db, key.key.array))
                continue
            }
            server.keyspace.databases[key.db].store(key.key, Entry(value: key.value, expireAt: key.expireAt,
                                                                   lastAccess: server.accessClock.newEntry))
            loaded.keys += 1
        }
        // Redis takes the history only when all three fields are there.
        if let db = contents.replStreamDB, db != -1, let replid = contents.replID, let offset = contents.replOffset, offset != -1 {
            loaded.history = ReplicationSaveInfo(streamDB: db, replid: replid, offset: offset)
        }
        return loaded
    }

    public struct SnapshotError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The whole dataset as RDB bytes.
    /// With `history`, the replication fields Redis writes (`repl-stream-db`, `repl-id`,
    /// `repl-offset`), in its place after `ctime`.
    /// With `sink`, the bytes go there as they are made and nothing is returned (see
    /// `RDBWriter.sink`).
    package static func snapshot(_ server: ServerCore, now: Int64, history: ReplicationSaveInfo? = nil,
                                 sink: (([UInt8]) -> Void)? = nil) -> [UInt8] {
        var writer = RDBWriter()
        writer.sink = sink
        writer.keyDelayMicros = server.config.storedParameters["rdb-key-save-delay"].flatMap { Int($0) } ?? 0
        writer.aux("redis-ver", redisCompatibleVersion)
        writer.aux("redis-bits", "64")
        writer.aux("ctime", String(now / 1000))
        if let history {
            writer.aux("repl-stream-db", String(history.streamDB))
            writer.aux("repl-id", history.replid)
            writer.aux("repl-offset", String(history.offset))
        }
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
    /// `history`: the replication fields, as `ServerCore.replicationSaveInfo` gives them.
    static func writeSnapshot(_ server: ServerCore, now: Int64, history: ReplicationSaveInfo?) -> String? {
        do {
            // The temporary name carries the writer's pid, as Redis's does (a BGSAVE child's own).
            try AppendOnlyFile.writeAtomically(snapshot(server, now: now, history: history), directory: server.config.dir,
                                               name: server.config.dbFilename, temporary: "temp-\(getpid()).rdb")
            return nil
        } catch {
            return "\(error)"
        }
    }
}
