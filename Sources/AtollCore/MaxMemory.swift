/// `maxmemory` (Redis's evict.c, the server's side): before every command, while a limit is
/// set, used memory is compared with it; past it, keys are evicted by `maxmemory-policy` until
/// enough is freed, and when nothing may be evicted the commands flagged `denyoom` are refused
/// (the dispatcher's check, with Redis's rules for MULTI and scripts). The keyspace chooses each
/// key (see AtollKeyspace's EvictionPool.swift); this file deletes it with its effects.
///
/// Used memory (`ServerCore.usedMemory`) is what the counting malloc wrapper reports (see
/// CAllocator's counting_malloc.c): every block the process holds, by its usable size, as Redis
/// counts what zmalloc hands out, less the key tables' free slots (see `reusableTableBytes`).
/// Compared with the limit, it leaves out what Redis leaves out (its
/// `freeMemoryGetNotCountedMemory`: here the append-only file's buffer, Atoll having no
/// replicas).
import AtollBytes
import AtollKeyspace
import CAllocator

/// Eviction's state between commands, and its INFO figures.
public struct EvictionState: Sendable {
    /// Keys evicted (INFO `evicted_keys`).
    public var evictedKeys = 0
    /// Microseconds memory was over the limit in periods now over (INFO
    /// `total_eviction_exceeded_time`), and since when (monotonic µs) it has been over, 0
    /// when it is not (`current_eviction_exceeded_time`).
    public var totalExceededMicros = 0
    public var exceededSince = 0
    /// Whether memory was over the limit, with nothing left to evict, when the running
    /// top-level command started (Redis's `pre_command_oom_state`): a script then refuses
    /// its first `denyoom` command.
    public var outOfMemoryAtCommandStart = false
    /// An eviction stopped at its time limit with memory still over it: the background task
    /// goes on evicting.
    public var unfinished = false

    public init() {}
}

/// What an eviction pass achieved (Redis's EVICT_OK, EVICT_RUNNING, EVICT_FAIL).
public enum EvictionOutcome: Sendable {
    /// Memory is within the limit (or eviction may not run now).
    case withinLimit
    /// Still over, but the time limit stopped eviction, which goes on in the background.
    case stillEvicting
    /// Over the limit with no key that may be evicted.
    case outOfMemory
}

/// The process's used memory in bytes: the counting wrapper's total, or glibc's own figure
/// (`mallinfo2`, which walks the heap) where the wrapper is not built.
public func usedMemoryBytes() -> Int {
    let counted = atoll_allocator_counted_bytes()
    if counted >= 0 { return Int(counted) }
    var inUse: UInt64 = 0, held: UInt64 = 0
    atoll_allocator_usage(&inUse, &held)
    return Int(clamping: inUse)
}

/// Redis's refusal of a `denyoom` command while memory is over the limit.
public let outOfMemoryMessage = "command not allowed when used memory > 'maxmemory'."

extension ServerCore {
    /// INFO's `used_memory`: the bytes allocated, less the key tables' free slots. A key table
    /// keeps its entries in chunks of slots, reuses a deleted key's slot for the next key and
    /// fills a chunk before it allocates the next, as an allocator hands out a block it holds:
    /// counted as used, a deleted key whose name and value fit in its slot would free nothing
    /// (eviction would empty the table before memory fell), and one key would add a chunk.
    public var usedMemory: Int { usedMemoryBytes() - keyspace.reusableTableBytes }

    /// Memory left out of the comparison with `maxmemory` (INFO `mem_not_counted_for_evict`).
    public var memoryNotCountedForEviction: Int { feed?.bytes.count ?? 0 }

    /// Redis's `overMaxmemoryAfterAlloc`: whether allocating `bytes` more would take used
    /// memory (less what eviction does not count) past `maxmemory`; never without a limit.
    func overMaxMemory(afterAllocating bytes: Int) -> Bool {
        maxMemory > 0 && usedMemory - memoryNotCountedForEviction + bytes > maxMemory
    }

    /// Keeps the copies of the memory settings that commands read in step with the
    /// configuration.
    @usableFromInline func followMemorySettings() {
        storedMaxMemory = Int(clamping: storedConfig.maxMemory)
        storedAccessClock.lfu = storedConfig.maxMemoryPolicy.usesLFU
        storedAccessClock.logFactor = storedConfig.lfuLogFactor
        storedAccessClock.decayMinutes = storedConfig.lfuDecayTime
    }

    /// Redis's `performEvictions`: evicts keys until used memory is within `maxmemory`, for at
    /// most the time `maxmemory-eviction-tenacity` allows. Nothing is evicted while the data
    /// set must stay as it is (loading, clients paused). Call only with a limit set.
    @discardableResult
    package func performEvictions(now: Int64) -> EvictionOutcome {
        if loading || pauseMode != .off { return .withinLimit }
        let used = usedMemory - memoryNotCountedForEviction
        guard used > maxMemory else {
            noteWithinLimit()
            return .withinLimit
        }
        let policy = config.maxMemoryPolicy
        let samples = config.maxMemorySamples
        let toFree = used - maxMemory
        let started = monotonicMicros()
        let timeLimit = Self.evictionTimeLimitMicros(tenacity: config.maxMemoryEvictionTenacity)
        var freed = 0, evicted = 0
        // The latency monitor's `eviction-cycle` (the whole call) and `eviction-del` (a key).
        let timed = latencyMonitorOn
        defer { if timed { noteLatency("eviction-cycle", millis: (monotonicMicros() - started) / 1000) } }
        while freed < toFree {
            // Only the choice and deletion count as freed, as in Redis (events and logging
            // allocate): what malloc had back, and the table slots the next keys will take.
            let before = usedMemoryBytes()
            let deletionStarted = timed ? monotonicMicros() : 0
            guard let (db, key, slotBytes) = keyspace.evictOne(policy, samples: samples, clock: accessClock) else {
                noteOverLimit()
                eviction.unfinished = false
                return .outOfMemory
            }
            if timed { noteLatency("eviction-del", millis: (monotonicMicros() - deletionStarted) / 1000) }
            freed += before - usedMemoryBytes() + slotBytes
            eviction.evictedKeys += 1
            evicted += 1
            removedByServer(key, db: db, .evicted, "evicted", now: now)
            if evicted % 16 == 0 && monotonicMicros() - started > timeLimit {
                noteOverLimit()
                eviction.unfinished = true
                return .stillEvicting
            }
        }
        eviction.unfinished = false
        noteWithinLimit()
        return .withinLimit
    }

    /// After CONFIG SET maxmemory, as Redis's `updateMaxmemory`: a warning when the new limit is
    /// below the memory in use, and eviction at once.
    package func maxMemoryChanged(now: Int64) {
        let used = usedMemory - memoryNotCountedForEviction
        if maxMemory < used {
            logHandler?(3, "WARNING: the new maxmemory value set via CONFIG SET (\(config.maxMemory)) is smaller than the current memory usage (\(used)). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.")
        }
        performEvictions(now: now)
    }

    /// Redis's `evictionTimeLimitUs`: up to tenacity 10, 50 µs a step (500 µs at 10); then
    /// growing by 15% a step (about two minutes at 99); no limit at 100.
    static func evictionTimeLimitMicros(tenacity: Int) -> Int {
        if tenacity <= 10 { return 50 * max(tenacity, 0) }
        if tenacity < 100 { return Int(500 * pow115(tenacity - 10)) }
        return Int.max
    }

    /// 1.15 to the power `n` (n < 90).
    private static func pow115(_ n: Int) -> Double {
        var result = 1.0
        for _ in 0..<n { result *= 1.15 }
        return result
    }

    /// CONFIG RESETSTAT: the eviction counters back to zero, as Redis resets them.
    public func resetEvictionStatistics() {
        eviction.evictedKeys = 0
        eviction.totalExceededMicros = 0
        eviction.exceededSince = 0
    }

    /// Microseconds memory has been over the limit in the current period (0 when within it).
    public var currentEvictionExceededMicros: Int {
        eviction.exceededSince == 0 ? 0 : monotonicMicros() - eviction.exceededSince
    }

    private func noteOverLimit() {
        if eviction.exceededSince == 0 { eviction.exceededSince = monotonicMicros() }
    }

    private func noteWithinLimit() {
        guard eviction.exceededSince != 0 else { return }
        eviction.totalExceededMicros += monotonicMicros() - eviction.exceededSince
        eviction.exceededSince = 0
    }

    /// A key the server itself deleted (expired by the background cycle, or evicted): its
    /// watchers touched, its tracking readers invalidated, a DEL in the append-only file (a
    /// reload must see the deletion) and its keyspace event.
    public func removedByServer(_ key: Bytes, db: Int, _ type: KeyspaceEventClass, _ event: StaticString, now: Int64) {
        let keyspace = self.keyspace
        watches.touch(WatchedKey(db: db, key: key)) { keyspace.databases[db].table.contains(key) }
        if tracking.isActive { invalidate(key, writer: nil) }
        if feed != nil {
            feed!.add(db: db, [AppendOnlyFeed.del, key.array])
            feed!.commit()
        }
        publishKeyspaceEvent(type, event, key, db: db, now: now)
        if !blocking.isEmpty { blocking.signalStreamReaders(WatchedKey(db: db, key: key)) }
    }

    /// The dispatcher's maxmemory step (Redis's, in `processCommand`): evicts as needed and
    /// tells whether `spec` must be refused with OOM: a `denyoom` command (by the flags a
    /// script declares; EXEC by its queued commands'), or, inside MULTI, any command but those
    /// that end or leave the transaction.
    func refusedForMemory(_ spec: CommandSpec, _ args: [[UInt8]], client: ClientSession, now: Int64) -> Bool {
        let outOfMemory = performEvictions(now: now) == .outOfMemory
        eviction.outOfMemoryAtCommandStart = outOfMemory
        guard outOfMemory else { return false }
        if spec.behaviour.contains(.runsTransaction), let queued = client.queued {
            if queued.contains(where: { commandFlags($0.spec, $0.args).contains(.denyoom) }) { return true }
        } else if commandFlags(spec, args).contains(.denyoom) {
            return true
        }
        return client.inTransaction && !spec.behaviour.contains(.acceptedInMultiWhenOutOfMemory)
    }
}
