/// The server's scripting state: the Lua engine with its script cache, the client scripts run
/// their commands as, and the script running right now (for SCRIPT KILL and BUSY replies).
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollLua
import AtollRESP
import NIOCore

public final class ScriptingState: @unchecked Sendable {
    // Unchecked (`@exclusivity`): read on every EVALSHA, only under the keyspace lock; scripts
    // cannot nest, so no access re-enters.
    public let engine = LuaEngine()
    /// Redis's "lua client": commands called from scripts run as it.
    let client: ClientSession
    /// The running script as other threads see it (BUSY, SCRIPT KILL): the server's.
    public let monitor: ScriptMonitor
    /// The last EVALSHA argument, the SHA-1 it names and that script (if cached): the same
    /// EVALSHA again (the common case) then needs no hashing at all.
    @exclusivity(unchecked) private var lastSHA: RememberedSHA?
    /// The one `ScriptRun`, prepared afresh for each script (scripts cannot nest: EVAL and
    /// FCALL are not allowed from scripts).
    @exclusivity(unchecked) private var currentRun: ScriptRun?
    @exclusivity(unchecked) private var lastBody: [UInt8] = []
    @exclusivity(unchecked) private var lastBodySHA: Bytes?

    init(monitor: ScriptMonitor) {
        self.monitor = monitor
        client = ClientSession(id: 0, authenticated: true, address: "lua", localAddress: "lua", now: 0, connection: nil)
        client.isScriptClient = true
    }

    /// Runs a script or function (`body`) as the current script, which BUSY and SCRIPT KILL
    /// (FUNCTION KILL for a function) see. The start and end times are shared with the
    /// dispatcher's (see `CommandContext.scriptStartedMicros`).
    func run(_ c: inout CommandContext, isFunction: Bool, readOnly: Bool, allowOOM: Bool,
             _ body: (ScriptRun, inout ReplyWriter) -> Void) {
        if currentRun == nil { currentRun = ScriptRun(server: c.server, client: client) }
        let run = currentRun!
        let timedByDispatcher = c.scriptStartedMicros != 0
        let started = timedByDispatcher ? c.scriptStartedMicros : monotonicMicros()
        c.scriptStartedMicros = 0
        run.prepare(caller: c.client, readOnly: readOnly, allowOOM: allowOOM, now: c.now)
        monitor.scriptStarted(now: started, thresholdMillis: c.server.config.busyReplyThreshold, isFunction: isFunction)
        body(run, &c.out)
        run.finish()
        monitor.scriptEnded()
        if timedByDispatcher { c.scriptEndedMicros = monotonicMicros() }
    }

    /// Called by the running script's instruction hook: the error that kills it, or nil.
    func tick() -> [UInt8]? {
        guard monitor.takeKillRequest() else { return nil }
        return Array("ERR Script killed by user with SCRIPT KILL...".utf8)
    }

    /// The SHA-1 of an EVAL body, through a one-entry cache: the same EVAL again then needs
    /// no hashing.
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
        let entry = RememberedSHA(argument: argument, sha: sha, script: engine.scripts[sha])
        lastSHA = entry
        return entry
    }

    /// SCRIPT FLUSH: the engine's cache and what this state remembers of it.
    package func flushScripts() {
        engine.flush()
        lastSHA = nil
    }
}

extension ServerCore {
    /// The server's scripting state, created on first use (under the keyspace lock, as every
    /// use is). Core keeps it as `scriptingState` without knowing its type.
    public var scripting: ScriptingState {
        if let state = scriptingState { return unsafeDowncast(state, to: ScriptingState.self) }
        let state = ScriptingState(monitor: scriptMonitor)
        scriptingState = state
        return state
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

    init(argument: [UInt8], sha: Bytes, script: CachedScript?) {
        self.argument = argument
        self.sha = sha
        self.script = script
        flags = script.flatMap { try? ScriptFlags.parse($0.body).get() } ?? ScriptFlags()
    }

    /// Whether `other` is the same argument, byte for byte.
    func matches(_ other: [UInt8]) -> Bool {
        other.withUnsafeBytes { sameBytes(argument, $0) }
    }
}
