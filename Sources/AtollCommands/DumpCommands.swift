/// DUMP and RESTORE (and RESTORE-ASKING, the same command as a cluster sends it): a value as
/// Redis's payload (`DumpPayload`: the RDB serialization, the RDB version and a CRC-64), so
/// payloads move between Atoll and redis-server both ways.
///
/// RESTORE checks in Redis 7.0's order: the options, then BUSYKEY, the TTL, the payload's
/// footer, the value itself. A payload that fails any check changes nothing. A TTL in the past
/// (only possible with ABSTTL) restores nothing and, with REPLACE, deletes the old key.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRDB
import AtollRESP

enum DumpCommands {
    static let commands: [CommandBinding] = [
        .init("dump", dump),
        .init("restore", restore),
        .init("restore-asking", restore),
    ]

    static let absttl = Array("ABSTTL".utf8)

    static func dump(_ c: inout CommandContext) {
        guard let entry = c.lookupRead(Bytes(c.args[1])) else { return c.out.null() }
        c.out.bulk(DumpPayload.dump(entry.value))
    }

    /// RESTORE's options after the payload.
    struct RestoreOptions {
        var replace = false
        var absoluteTTL = false
        /// Seconds since the key was last used (IDLETIME), which OBJECT IDLETIME reports.
        var idleSeconds: Int64?
        /// The LFU counter (FREQ), which a key restored under an LFU policy starts with.
        var frequency: Int64?

        /// Parses `c.args[4...]` as Redis does (IDLETIME and FREQ exclude each other); nil after
        /// replying with Redis's error.
        init?(_ c: inout CommandContext) {
            var j = 4
            while j < c.args.count {
                let hasValue = j + 1 < c.args.count
                if c.argIs(j, "replace") {
                    replace = true
                } else if c.argIs(j, "absttl") {
                    absoluteTTL = true
                } else if c.argIs(j, "idletime") && hasValue && frequency == nil {
                    guard let n = c.integerArgument(j + 1) else { return nil }
                    guard n >= 0 else {
                        c.out.error("ERR Invalid IDLETIME value, must be >= 0")
                        return nil
                    }
                    idleSeconds = n
                    j += 1
                } else if c.argIs(j, "freq") && hasValue && idleSeconds == nil {
                    guard let n = c.integerArgument(j + 1) else { return nil }
                    guard n >= 0 && n <= 255 else {
                        c.out.error("ERR Invalid FREQ value, must be >= 0 and <= 255")
                        return nil
                    }
                    frequency = n
                    j += 1
                } else {
                    c.syntaxError()
                    return nil
                }
                j += 1
            }
        }
    }

    /// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`.
    static func restore(_ c: inout CommandContext) {
        guard let options = RestoreOptions(&c) else { return }
        let key = Bytes(c.args[1])
        if !options.replace && c.lookup(key) != nil {
            return c.out.error("BUSYKEY Target key name already exists.")
        }
        guard var ttl = c.integerArgument(2) else { return }
        guard ttl >= 0 else { return c.out.error("ERR Invalid TTL value, must be >= 0") }
        let value: Value
        switch DumpPayload.restore(c.args[3], limits: c.server.config.encodingLimits) {
        case .success(let restored): value = restored
        case .failure(.versionOrChecksum): return c.out.error("ERR DUMP payload version or checksum are wrong")
        case .failure(.badData): return c.out.error("ERR Bad data format")
        }
        // Redis adds the time with C's wrapping arithmetic: a huge TTL lands in the past.
        if ttl != 0 && !options.absoluteTTL { ttl = ttl &+ c.now }
        if ttl != 0 && ttl <= c.now {
            // Deleted as Redis's `dbDelete` deletes: an old key that expired but is still in the
            // table is deleted (a `del`), not expired first.
            if options.replace && c.keyspace.databases[c.client.db].remove(key) != nil {
                c.modified(key)
                c.notify(.generic, "del", key)
                if c.logsWrites { c.logAs([AppendOnlyFeed.del, c.args[1]]) }
            }
            return c.out.ok()
        }
        // Redis's `objectSetLRUOrLFU`: FREQ counts under an LFU policy, IDLETIME under the others.
        let clock = c.server.accessClock
        var lastAccess = clock.newEntry
        if clock.lfu, let frequency = options.frequency {
            lastAccess = clock.minutes << 8 | UInt32(truncatingIfNeeded: frequency)
        } else if !clock.lfu, let idle = options.idleSeconds {
            lastAccess = clock.seconds &- UInt32(truncatingIfNeeded: idle)
        }
        // With REPLACE an old key is replaced in the same lookup, as Redis's delete and add
        // leave it (without the expiry check a lookup makes: Redis's delete does not make one).
        c.keyspace.databases[c.client.db].store(
            key, Entry(value: value, expireAt: ttl == 0 ? noExpiry : ttl, lastAccess: lastAccess))
        c.notify(.new, "new", key)
        c.modified(key)
        c.notify(.generic, "restore", key)
        c.signalKeyReady(key, holding: value)
        // A relative TTL is logged as the absolute time it gave, as Redis propagates it.
        if ttl != 0 && !options.absoluteTTL && c.logsWrites {
            var logged = c.args
            logged[2] = Array(String(ttl).utf8)
            logged.append(absttl)
            c.logAs(logged)
        }
        c.out.ok()
    }
}
