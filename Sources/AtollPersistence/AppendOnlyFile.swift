/// `AppendOnlyFile`: the open append-only file — Redis 7's multi-part layout in `appenddirname`
/// (an RDB base, incremental files of RESP commands, and the manifest naming them).
///
/// Commands record their effects in the server's `feed` while they run under the keyspace lock;
/// `append(_:)` is handed them as the lock is released, before any reply of that acquisition leaves. With
/// `appendfsync always` connections then sync through `gate` before flushing their replies
/// (one sync for every client served in an event-loop pass), so an acknowledged write is on
/// disk. With `everysec` a timer syncs once a second; with `no` the kernel decides.
import AtollBytes
import AtollCore
import AtollKeyspace
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class AppendOnlyFile: AppendOnlyLog, @unchecked Sendable {
    /// `dir`/`appenddirname`.
    let directory: String
    /// `appendfilename`, the prefix of every part's name.
    let fileName: String
    private(set) var manifest: AOFManifest
    /// True from `appendonly yes` at run time until the first base is written: writes go to
    /// the new incremental file, but no manifest names it yet (the old one, if any, stays
    /// until `installRewrittenBase`, which also deletes `replacedParts`).
    var awaitingBase = false
    var replacedParts: [String] = []
    /// The incremental file being appended to.
    private var fd: Int32
    package var fsyncPolicy: FsyncPolicy
    /// Syncs the file from any thread (connections, the everysec timer).
    let gate: AOFSyncGate
    private var timer: (any DispatchSourceTimer)?
    private var unwritten: [UInt8] = []
    /// Bytes in the base and incremental files (INFO `aof_current_size`, `aof_base_size`).
    public private(set) var currentSize = 0
    public private(set) var baseSize = 0
    /// Bytes in the incremental file being appended to.
    private var incrFileSize: Int

    init(directory: String, fileName: String, manifest: AOFManifest, fd: Int32, policy: FsyncPolicy,
         currentSize: Int, baseSize: Int, gate: AOFSyncGate) {
        incrFileSize = Int(lseek(fd, 0, SEEK_END))
        self.gate = gate
        gate.use(fd, exitOnFailure: policy == .always)
        self.directory = directory
        self.fileName = fileName
        self.manifest = manifest
        self.fd = fd
        self.fsyncPolicy = policy
        self.currentSize = currentSize
        self.baseSize = baseSize
        super.init()
        startTimer()
    }

    deinit { closeFD(fd) }

    // MARK: - Writing

    /// Writes `bytes` after what a failed write left. Called with the keyspace lock held,
    /// before the replies of that acquisition are sent; with `always` they wait for
    /// `gate.syncPending()`.
    public override func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty || !unwritten.isEmpty else { return }
        if unwritten.isEmpty {
            unwritten = bytes
        } else {
            unwritten += bytes
        }
        let written = unwritten.withUnsafeBytes { raw -> Int in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
            return done
        }
        if written < unwritten.count {
            let reason = String(cString: strerror(errno))
            // A partial command must not stay in the file: cut back to the last whole one.
            if written > 0 { _ = ftruncate(fd, off_t(incrFileSize)) }
            failWrite(reason)
            return
        }
        currentSize += written
        incrFileSize += written
        unwritten.removeAll(keepingCapacity: true)
        if fsyncPolicy == .always { gate.wrote(written) }
        if writeError != nil {
            writeError = nil
            log?(2, "AOF write error looks solved, Redis can write again.")
        }
    }

    /// A write that failed: with `always` the acknowledgement promise cannot be kept, so the
    /// process exits as Redis does; otherwise writes are refused until a retry succeeds.
    private func failWrite(_ reason: String) {
        if fsyncPolicy == .always {
            log?(3, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
            exit(1)
        }
        if writeError == nil { log?(3, "Error writing to the AOF file: \(reason)") }
        writeError = reason
    }

    /// Syncs the current file now (SHUTDOWN, the everysec timer).
    public func syncNow() { gate.syncAll() }

    /// Where `log` lines go (level 0 debug … 3 warning).
    var log: ((Int, String) -> Void)?

    private func startTimer() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.setEventHandler { [weak self] in
            guard let self, self.fsyncPolicy == .everysec else { return }
            self.syncNow()
        }
        timer.resume()
        self.timer = timer
    }

    /// Stops the timer, syncs, and leaves the gate (SHUTDOWN, `appendonly no`, a reload); the
    /// caller has flushed the feed first (`ServerCore.flushEffects`).
    public func close() {
        append([])
        timer?.cancel()
        timer = nil
        gate.use(-1, exitOnFailure: fsyncPolicy == .always)
    }

    // MARK: - Parts and the manifest

    var manifestName: String { fileName + ".manifest" }

    func path(_ name: String) -> String { directory + "/" + name }

    func incrName(_ seq: Int) -> String { "\(fileName).\(seq).incr.aof" }
    func baseName(_ seq: Int) -> String { "\(fileName).\(seq).base.rdb" }

    /// Starts a new incremental file and appends to it from now on (a rewrite starting: what
    /// is written after this point is what the new base will not contain). The caller flushed
    /// the feed into the old file first, and has it start the new one with a SELECT.
    func switchToNewIncr() throws {
        append([])
        // Bytes a failed write left behind belong to the old file (and its SELECT state).
        guard unwritten.isEmpty else { throw AOFError("Can't switch to a new AOF file while writes to the current one fail") }
        let seq = manifest.lastIncrSeq + 1
        let name = incrName(seq)
        let newFD = try AppendOnlyFile.create(path(name), truncating: true)
        var updated = manifest
        updated.incrs.append(.init(name: name, seq: seq, kind: .incr))
        do {
            try AppendOnlyFile.writeManifest(updated, directory: directory, name: manifestName)
        } catch {
            closeFD(newFD)
            unlink(path(name))
            throw error
        }
        gate.use(newFD, exitOnFailure: fsyncPolicy == .always)
        closeFD(fd)
        fd = newFD
        incrFileSize = 0
        manifest = updated
    }

    /// A rewrite finished: `temporary` (in `directory`) becomes the new base, and the
    /// incremental files written before the rewrite started are deleted.
    func installRewrittenBase(temporary: String) throws {
        let seq = manifest.lastBaseSeq + 1
        let name = baseName(seq)
        guard rename(path(temporary), path(name)) == 0 else {
            throw AOFError("Error trying to rename the temporary AOF base file \(temporary) into \(name): \(String(cString: strerror(errno)))")
        }
        let obsolete = awaitingBase ? replacedParts : ((manifest.base.map { [$0] } ?? []) + manifest.incrs.dropLast()).map(\.name)
        var updated = manifest
        updated.base = .init(name: name, seq: seq, kind: .base)
        updated.incrs = manifest.incrs.suffix(1)
        try AppendOnlyFile.writeManifest(updated, directory: directory, name: manifestName)
        manifest = updated
        awaitingBase = false
        replacedParts = []
        for name in obsolete { unlink(path(name)) }
        baseSize = AppendOnlyFile.fileSize(path(name))
        currentSize = baseSize + manifest.incrs.reduce(0) { $0 + AppendOnlyFile.fileSize(path($1.name)) }
    }

    // MARK: - File helpers

    /// Opens a part for appending; a new part (`truncating`) starts empty even if a file of
    /// that name survived an earlier crash.
    static func create(_ path: String, truncating: Bool = false) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | (truncating ? O_TRUNC : 0), 0o644)
        guard fd >= 0 else { throw AOFError("Can't open the append-only file \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Writes the manifest through a temporary file, a sync and a rename, so a crash leaves
    /// either the old manifest or the new one.
    static func writeManifest(_ manifest: AOFManifest, directory: String, name: String) throws {
        try writeAtomically(Array(manifest.text.utf8), directory: directory, name: name, temporary: "temp-" + name)
    }

    static func writeAtomically(_ bytes: [UInt8], directory: String, name: String, temporary: String) throws {
        let temp = directory + "/" + temporary
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw AOFError("Can't open \(temp): \(String(cString: strerror(errno)))") }
        let ok = writeAll(fd, bytes) && fsync(fd) == 0
        closeFD(fd)
        guard ok, rename(temp, directory + "/" + name) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw AOFError("Can't write \(directory)/\(name): \(reason)")
        }
        syncDirectory(directory)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
    }

    /// Makes a rename in `directory` durable.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        closeFD(fd)
    }

    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw AOFError("Can't open \(path): \(String(cString: strerror(errno)))") }
        defer { closeFD(fd) }
        let size = fileSize(path)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        if done < size { bytes.removeLast(size - done) }
        return bytes
    }
}

extension ServerCore {
    /// The append-only file, when `appendonly` is on: `aof` as the file it always is.
    public var appendOnlyFile: AppendOnlyFile? {
        aof.map { unsafeDowncast($0, to: AppendOnlyFile.self) }
    }
}

/// Why the append-only file could not be opened, loaded or switched.
public struct AOFError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

func closeFD(_ fd: Int32) {
    _ = close(fd)
}
