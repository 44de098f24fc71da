/// Background saves and append-only rewrites, as Redis does them: a forked child writes the
/// snapshot while the parent keeps serving. The child sees the dataset exactly as it was at
/// the fork (taken with the keyspace lock held, between two commands); the kernel copies a
/// page only when the parent changes it. The server's cron reaps the child and finishes the
/// job (`persistenceCron`), and starts saves that `save` rules or the AOF's growth call for.
import AtollBytes
import AtollCore
import AtollKeyspace
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ServerCore {
    /// Writes the snapshot now, with the lock held (SAVE, FLUSHALL, DEBUG RELOAD, shutdown).
    /// A good save resets the change count and clears a failed background save's refusal of
    /// writes, as in Redis. Returns an error description, or nil.
    package func saveNow(_ now: Int64) -> String? {
        if let error = PersistenceCommands.writeSnapshot(self, now: now, history: replicationSaveInfo()) { return error }
        dirty = 0
        lastSave = now / 1000
        persistence.lastBgsaveOK = true
        return nil
    }

    /// Starts a background save; returns an error text (Redis's) or nil.
    func startBackgroundSave(now: Int64) -> String? {
        if let child = persistence.child {
            return child.job == .snapshot ? "Background save already in progress"
                : "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
        }
        persistence.lastBgsaveTry = now
        let history = replicationSaveInfo()
        let pid = forkChild { PersistenceCommands.writeSnapshot(self, now: now, history: history) == nil }
        guard pid > 0 else {
            persistence.lastBgsaveOK = false
            let reason = String(cString: strerror(errno))
            logHandler?(3, "Can't save in background: fork: \(reason)")
            return "Can't save in background: fork: \(reason)"
        }
        persistence.child = .init(pid: pid, job: .snapshot, startedAt: now, dirtyAtFork: dirty, temporary: "")
        logHandler?(2, "Background saving started by pid \(pid)")
        return nil
    }

    /// Starts a background rewrite of the append-only file: from now on writes go to a new
    /// incremental file, and a child writes the dataset as a new base. Returns an error text.
    func startRewrite(now: Int64) -> String? {
        guard let aof = appendOnlyFile else { return "Background AOF rewrite is only possible with appendonly yes" }
        if let child = persistence.child {
            if child.job == .rewrite { return "Background append only file rewriting already in progress" }
            persistence.rewriteScheduled = true
            return nil
        }
        persistence.lastRewriteTry = now
        do {
            // Switched on at run time, the file already writes to an incremental file of its own.
            if !aof.awaitingBase {
                flushEffects()
                try aof.switchToNewIncr()
                feed?.reselect()
            }
        } catch {
            rewriteFailed()
            logHandler?(3, "\(error)")
            return Self.rewriteFailure
        }
        let directory = aof.directory
        let pid = forkChild {
            let temporary = "temp-rewriteaof-bg-\(getpid()).aof"
            do {
                try AppendOnlyFile.writeAtomically(PersistenceCommands.snapshot(self, now: now), directory: directory,
                                                   name: temporary, temporary: "temp-" + temporary)
                return true
            } catch {
                return false
            }
        }
        guard pid > 0 else {
            rewriteFailed()
            logHandler?(3, "Can't rewrite append only file in background: fork: \(String(cString: strerror(errno)))")
            return Self.rewriteFailure
        }
        persistence.rewriteScheduled = false
        persistence.child = .init(pid: pid, job: .rewrite, startedAt: now, dirtyAtFork: dirty,
                                  temporary: "temp-rewriteaof-bg-\(pid).aof")
        logHandler?(2, "Background append only file rewriting started by pid \(pid)")
        return nil
    }

    static let rewriteFailure = "Can't execute an AOF background rewriting. Please check the server logs for more information."

    private func rewriteFailed() {
        persistence.lastRewriteOK = false
        persistence.rewriteFailures += 1
    }

    /// Forks; the child runs `work` and exits with status 0 when it returns true. The child
    /// first closes what it inherited (sockets, the append-only file) but `keeping`: a
    /// connection the parent closes must not stay open through the child's copy for as long
    /// as the child runs.
    func forkChild(keeping: Set<Int32> = [], _ work: () -> Bool) -> pid_t {
        let started = monotonicMicros()
        let pid = fork()
        if pid == 0 {
            closeInheritedDescriptors(keeping: keeping)
            _exit(work() ? 0 : 1)
        }
        if pid > 0 {
            stats.totalForks += 1
            stats.latestForkMicros = monotonicMicros() - started
            noteLatency("fork", millis: stats.latestForkMicros / 1000)
        }
        return pid
    }

    /// Closes every descriptor above standard error, as listed in /proc/self/fd (Linux).
    private func closeInheritedDescriptors(keeping: Set<Int32>) {
        guard let directory = opendir("/proc/self/fd") else { return }
        let own = dirfd(directory)
        var open: [Int32] = []
        while let entry = readdir(directory) {
            let fd = withUnsafeBytes(of: entry.pointee.d_name) { name -> Int32? in
                var n: Int32 = 0
                for byte in name {
                    if byte == 0 { break }
                    guard byte >= 48 && byte <= 57 else { return nil }
                    n = n * 10 + Int32(byte - 48)
                }
                return n
            }
            if let fd, fd > 2, fd != own, !keeping.contains(fd) { open.append(fd) }
        }
        closedir(directory)
        for fd in open { close(fd) }
    }

    /// Called by the server's cron with the keyspace lock held: reaps a finished child, then
    /// starts what is due (a scheduled job, a `save` rule met, an automatic AOF rewrite).
    public func persistenceCron(now: Int64) {
        if let child = persistence.child {
            var status: Int32 = 0
            let reaped = waitpid(child.pid, &status, WNOHANG)
            guard reaped == child.pid || reaped < 0 else { return }
            // WIFEXITED and WEXITSTATUS, spelled out: the macros do not come through to Swift.
            let ok = reaped == child.pid && (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0
            persistence.child = nil
            finish(child, ok: ok, now: now)
        }
        guard persistence.child == nil else { return }
        // Replicas waiting for a snapshot come first: their links stand still until it is sent.
        startFullSyncIfDue(now: now)
        guard persistence.child == nil else { return }
        // After failures, automatic rewrites wait a minute (explicit BGREWRITEAOF does not):
        // retrying at every tick would only pile up incremental files.
        let rewriteMayRetry = persistence.rewriteFailures == 0 || now - persistence.lastRewriteTry > 60_000
        if persistence.rewriteScheduled && rewriteMayRetry {
            _ = startRewrite(now: now)
            return
        }
        if persistence.bgsaveScheduled {
            persistence.bgsaveScheduled = false
            _ = startBackgroundSave(now: now)
            return
        }
        // After a failed save, rules wait 5 seconds before trying again, as in Redis.
        let mayRetry = persistence.lastBgsaveOK || now - persistence.lastBgsaveTry > 5000
        if mayRetry, let rule = config.saveRules.first(where: { dirty >= $0.changes && dirty > 0 && now / 1000 - lastSave >= Int64($0.seconds) }) {
            logHandler?(2, "\(rule.changes) changes in \(rule.seconds) seconds. Saving...")
            _ = startBackgroundSave(now: now)
            return
        }
        if rewriteMayRetry, let aof = appendOnlyFile, config.autoAofRewritePercentage > 0, aof.currentSize >= config.autoAofRewriteMinSize {
            let base = max(persistence.aofRewriteBaseSize, 1)
            let growth = (aof.currentSize - base) * 100 / base
            if growth >= config.autoAofRewritePercentage {
                logHandler?(2, "Starting automatic rewriting of AOF on \(growth)% growth")
                _ = startRewrite(now: now)
            }
        }
    }

    private func finish(_ child: PersistenceState.Child, ok: Bool, now: Int64) {
        let seconds = Int((now - child.startedAt) / 1000)
        if child.toSockets { return finishSocketTransfer(ok: ok) }
        switch child.job {
        case .snapshot:
            defer { finishDiskSync(ok: ok) }
            persistence.lastBgsaveSeconds = seconds
            persistence.lastBgsaveOK = ok
            if ok {
                persistence.rdbSaves += 1
                dirty -= child.dirtyAtFork
                lastSave = now / 1000
                logHandler?(2, "Background saving terminated with success")
            } else {
                unlink(config.dir + "/temp-\(child.pid).rdb")
                logHandler?(3, "Background saving error")
            }
        case .rewrite:
            persistence.lastRewriteSeconds = seconds
            guard ok, let aof = appendOnlyFile else {
                rewriteFailed()
                if let aof = appendOnlyFile {
                    unlink(aof.path(child.temporary))
                    unlink(aof.path("temp-" + child.temporary))
                    // Without a base the file is not durable yet: try again (after the backoff).
                    if aof.awaitingBase { persistence.rewriteScheduled = true }
                }
                logHandler?(3, "Background AOF rewrite terminated with error")
                return
            }
            do {
                try aof.installRewrittenBase(temporary: child.temporary)
                persistence.lastRewriteOK = true
                persistence.rewriteFailures = 0
                persistence.rewrites += 1
                persistence.aofRewriteBaseSize = aof.currentSize
                logHandler?(2, "Background AOF rewrite terminated with success")
                logHandler?(2, "Background AOF rewrite finished successfully")
            } catch {
                rewriteFailed()
                unlink(aof.path(child.temporary))
                logHandler?(3, "\(error)")
            }
        }
    }

    /// Stops a running child (SHUTDOWN, FLUSHALL's implicit save, `appendonly no`) and removes
    /// its temporary file.
    package func killChild(only job: PersistenceState.Job? = nil) {
        guard let child = persistence.child, job == nil || child.job == job else { return }
        kill(child.pid, SIGUSR1)
        var status: Int32 = 0
        _ = waitpid(child.pid, &status, 0)
        persistence.child = nil
        if child.job == .snapshot {
            abandonFullSyncs()
            if !child.toSockets { unlink(config.dir + "/temp-\(child.pid).rdb") }
        } else if let aof = appendOnlyFile {
            unlink(aof.path(child.temporary))
            unlink(aof.path("temp-" + child.temporary))
        }
    }

    // MARK: - Switching the append-only file on and off, shutting down

    /// `appendonly yes` while running: logging starts at once, and the dataset is written as
    /// the first base in the background (after a running BGSAVE, if there is one), as Redis does.
    package func startAppendOnly(now: Int64, log: @escaping (Int, String) -> Void) -> String? {
        guard aof == nil else { return nil }
        if persistence.child?.job == .rewrite { killChild() }
        do {
            aof = try AppendOnlyFile.startAwaitingBase(for: self, log: log)
        } catch {
            log(3, "\(error)")
            return "\(error)"
        }
        if startRewrite(now: now) != nil { persistence.rewriteScheduled = true }
        return nil
    }

    /// Writes the first base now, with the lock held, if it is still awaited (shutdown, DEBUG
    /// LOADAOF): without it the file would not hold the dataset.
    func completeAwaitedBase(now: Int64) throws {
        guard let aof = appendOnlyFile, aof.awaitingBase else { return }
        killChild(only: .rewrite)
        let temporary = "temp-rewriteaof-\(getpid()).aof"
        try AppendOnlyFile.writeAtomically(PersistenceCommands.snapshot(self, now: now), directory: aof.directory,
                                           name: temporary, temporary: "temp-" + temporary)
        try aof.installRewrittenBase(temporary: temporary)
        persistence.rewriteScheduled = false
        persistence.aofRewriteBaseSize = aof.currentSize
    }

    /// `appendonly no`: the file is synced and closed; nothing more is recorded.
    package func stopAppendOnly() {
        guard let file = appendOnlyFile else { return }
        if persistence.child?.job == .rewrite { killChild() }
        flushEffects()
        file.close()
        aof = nil
        persistence.rewriteScheduled = false
    }

    /// Before the process exits (SHUTDOWN, SIGTERM): stops a child, syncs the append-only file
    /// and saves a snapshot when `save` rules are set (or `save` says so, `false` never).
    /// Returns false when a save that was due failed.
    /// After it returns true the server acknowledges nothing more (`run` closes connections).
    public func prepareForShutdown(save: Bool?, now: Int64) -> Bool {
        if shutdownPrepared { return true }
        do {
            try completeAwaitedBase(now: now)
        } catch {
            logHandler?(3, "Error writing the first AOF base, can't exit: \(error)")
            return false
        }
        killChild()
        if let aof = appendOnlyFile {
            flushEffects()
            aof.syncNow()
            logHandler?(2, "Calling fsync() on the AOF file.")
        }
        if save ?? !config.saveRules.isEmpty {
            logHandler?(2, "Saving the final RDB snapshot before exiting.")
            if let error = saveNow(now) {
                // The server goes on serving, with its append-only file still open.
                logHandler?(3, "Error trying to save the DB, can't exit: \(error)")
                return false
            }
            logHandler?(2, "DB saved on disk")
        }
        // Closed and dropped: nothing (not even active expiry) writes to it after the last sync.
        appendOnlyFile?.close()
        aof = nil
        shutdownPrepared = true
        return true
    }
}
