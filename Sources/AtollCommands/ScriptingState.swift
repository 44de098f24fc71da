/// The server's scripting state: the Lua engine with its script cache, the client scripts run
/// their commands as, and the script running right now (for SCRIPT KILL and BUSY replies).
import AtollBytes
import AtollKeyspace
import AtollLua
import AtollRESP
import NIOCore

public final class ScriptingState: @unchecked Sendable {
    public let engine = LuaEngine()
    /// Redis's "lua client": commands called from scripts run as it.
    let client: ClientSession
    /// The running script as other threads see it (BUSY, SCRIPT KILL).
    public let monitor = ScriptMonitor()
    /// Scripts (by SHA-1) whose every run so far ended within `quickRunMicros`: they run on
    /// the event loop that received them. Others run on the script thread, so that the loops
    /// stay free to answer BUSY and SCRIPT KILL while they run.
    private var quickScripts: Set<Bytes> = []
    /// The last EVALSHA argument, the SHA-1 it names, that script (if cached) and whether it is
    /// quick: the same EVALSHA again (the common case) then needs no hashing at all.
    private var lastSHA: RememberedSHA?
    /// The one `ScriptRun`, prepared afresh for each script (scripts cannot nest: EVAL and
    /// FCALL are not allowed from scripts).
    private var currentRun: ScriptRun?
    private var lastBody: [UInt8] = []
    private var lastBodySHA: Bytes?
    static let quickRunMicros = 1000

    init() {
        client = ClientSession(id: 0, authenticated: true, address: "lua", localAddress: "lua", now: 0, connection: nil)
        client.isScriptClient = true
    }

    /// Runs a script or function (`body`) as the current script: BUSY and SCRIPT KILL see it,
    /// and how long it took decides whether `name` may later run on an event loop.
    /// The start and end times are shared with the dispatcher's (see
    /// `CommandContext.scriptStartedMicros`).
    func run(_ c: inout CommandContext, name: Bytes, readOnly: Bool, _ body: (ScriptRun, inout ReplyWriter) -> Void) {
        if currentRun == nil { currentRun = ScriptRun(server: c.server, client: client) }
        let run = currentRun!
        let timedByDispatcher = c.scriptStartedMicros != 0
        let started = timedByDispatcher ? c.scriptStartedMicros : monotonicMicros()
        c.scriptStartedMicros = 0
        run.prepare(db: c.client.db, readOnly: readOnly, now: c.now)
        monitor.scriptStarted(now: started, thresholdMillis: c.server.config.busyReplyThreshold)
        body(run, &c.out)
        monitor.scriptEnded()
        let ended = monotonicMicros()
        if timedByDispatcher { c.scriptEndedMicros = ended }
        recordRun(name, micros: ended - started)
    }

    /// Called by the running script's instruction hook: the error that kills it, or nil.
    func tick() -> [UInt8]? {
        guard monitor.takeKillRequest() else { return nil }
        return Array("ERR Script killed by user with SCRIPT KILL...".utf8)
    }

    /// Whether a script command may run on an event loop: only scripts known to be quick.
    public func runsInline(_ args: [[UInt8]]) -> Bool {
        guard args.count >= 2 else { return true }
        let name = args[0]
        if asciiCaseInsensitiveEquals(name, "evalsha") || asciiCaseInsensitiveEquals(name, "evalsha_ro") {
            return remembered(args[1]).quick
        }
        if asciiCaseInsensitiveEquals(name, "eval") || asciiCaseInsensitiveEquals(name, "eval_ro") {
            return quickScripts.contains(sha(ofBody: args[1]))
        }
        if asciiCaseInsensitiveEquals(name, "fcall") || asciiCaseInsensitiveEquals(name, "fcall_ro") {
            return quickScripts.contains(Bytes(lowercasedASCII(args[1])))
        }
        return true
    }

    func recordRun(_ sha: Bytes, micros: Int) {
        let quick = micros <= ScriptingState.quickRunMicros
        if let last = lastSHA, last.sha == sha {
            if last.quick == quick { return }
            last.quick = quick
        }
        if quick { quickScripts.insert(sha) } else { quickScripts.remove(sha) }
    }

    /// The SHA-1 of an EVAL body, through a one-entry cache: the dispatcher (which decides
    /// where the script runs) and EVAL itself both need it, for the same body.
    func sha(ofBody body: [UInt8]) -> Bytes {
        if body == lastBody, let sha = lastBodySHA { return sha }
        let sha = Bytes(sha1Hex(body))
        lastBody = body
        lastBodySHA = sha
        return sha
    }

    /// What the EVALSHA `argument` names (its `script` is nil when none is cached), through a
    /// one-entry cache of the last SHA-1 argument seen: looked up anew when it names another
    /// script, or one that was not cached when last looked up (EVAL or SCRIPT LOAD may have
    /// added it since).
    func remembered(_ argument: [UInt8]) -> RememberedSHA {
        if let last = lastSHA, last.script != nil, last.matches(argument) { return last }
        let sha = Bytes(lowercasedASCII(argument))
        let entry = RememberedSHA(argument: argument, sha: sha, script: engine.scripts[sha], quick: quickScripts.contains(sha))
        lastSHA = entry
        return entry
    }

    /// SCRIPT FLUSH: the engine's cache and what this state remembers of it.
    func flushScripts() {
        engine.flush()
        lastSHA = nil
        quickScripts.removeAll()
    }
}

/// One EVALSHA argument and what it named when last looked up (see `ScriptingState.lastSHA`);
/// a class, so that checking it again costs one reference, not a copy of every field.
final class RememberedSHA {
    let argument: [UInt8]
    let sha: Bytes
    let script: CachedScript?
    /// The script's shebang flags (accepted when it was loaded).
    let flags: ScriptFlags
    var quick: Bool

    init(argument: [UInt8], sha: Bytes, script: CachedScript?, quick: Bool) {
        self.argument = argument
        self.sha = sha
        self.script = script
        self.quick = quick
        flags = script.flatMap { try? ScriptFlags.parse($0.body).get() } ?? ScriptFlags()
    }

    /// Whether `other` is the same argument, byte for byte.
    func matches(_ other: [UInt8]) -> Bool {
        other.withUnsafeBytes { sameBytes(argument, $0) }
    }
}
