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
    /// The script being run, while EVAL runs it.
    var running: ScriptRun?
    /// Reused for the replies of commands scripts call.
    var replyScratch: ByteBuffer?
    /// The running script as other threads see it (BUSY, SCRIPT KILL).
    public let monitor = ScriptMonitor()
    /// Scripts (by SHA-1) whose every run so far ended within `quickRunMicros`: they run on
    /// the event loop that received them. Others run on the script thread, so that the loops
    /// stay free to answer BUSY and SCRIPT KILL while they run.
    private var quickScripts: Set<Bytes> = []
    private var lastQuickArgument: [UInt8] = []
    private var lastQuickSHA: Bytes?
    private var lastScriptArgument: [UInt8] = []
    private var lastScript: (Bytes, CachedScript)?
    static let quickRunMicros = 1000

    init() {
        client = ClientSession(id: 0, authenticated: true, address: "lua", localAddress: "lua", now: 0, connection: nil)
        client.isScriptClient = true
    }

    /// Runs a script or function (`body`) as the current script: BUSY and SCRIPT KILL see it,
    /// and how long it took decides whether `name` may later run on an event loop.
    func run(_ c: inout CommandContext, name: Bytes, readOnly: Bool, _ body: (ScriptRun, inout ReplyWriter) -> Void) {
        let run = ScriptRun(c, readOnly: readOnly)
        running = run
        monitor.scriptStarted(now: run.started, thresholdMillis: c.server.config.busyReplyThreshold)
        body(run, &c.out)
        monitor.scriptEnded()
        running = nil
        recordRun(name, micros: monotonicMicros() - run.started)
    }

    /// Called by the running script's instruction hook: the error that kills it, or nil.
    func tick(_ run: ScriptRun) -> [UInt8]? {
        guard monitor.takeKillRequest() else { return nil }
        return Array("ERR Script killed by user with SCRIPT KILL...".utf8)
    }

    /// Whether a script command may run on an event loop: only scripts known to be quick.
    public func runsInline(_ args: [[UInt8]]) -> Bool {
        guard args.count >= 2 else { return true }
        let name = args[0]
        if asciiCaseInsensitiveEquals(name, "evalsha") || asciiCaseInsensitiveEquals(name, "evalsha_ro") {
            // The same EVALSHA again (the common case) is answered without hashing the SHA-1.
            if args[1] == lastQuickArgument { return true }
            let sha = Bytes(lowercasedASCII(args[1]))
            let quick = quickScripts.contains(sha)
            if quick {
                lastQuickArgument = args[1]
                lastQuickSHA = sha
            }
            return quick
        }
        if asciiCaseInsensitiveEquals(name, "eval") || asciiCaseInsensitiveEquals(name, "eval_ro") {
            return quickScripts.contains(Bytes(sha1Hex(args[1])))
        }
        if asciiCaseInsensitiveEquals(name, "fcall") || asciiCaseInsensitiveEquals(name, "fcall_ro") {
            return quickScripts.contains(Bytes(lowercasedASCII(args[1])))
        }
        return true
    }

    func recordRun(_ sha: Bytes, micros: Int) {
        if micros <= ScriptingState.quickRunMicros {
            // The same quick script again (the common case) needs no hashing.
            if sha == lastQuickSHA { return }
            if !quickScripts.contains(sha) { quickScripts.insert(sha) }
        } else {
            quickScripts.remove(sha)
            lastQuickArgument = []
            lastQuickSHA = nil
        }
    }

    /// The cached script EVALSHA `argument` names, looked up through a one-entry cache of
    /// the last SHA-1 argument seen.
    func script(forSHAArgument argument: [UInt8]) -> (Bytes, CachedScript)? {
        if argument == lastScriptArgument, let last = lastScript { return last }
        let sha = Bytes(lowercasedASCII(argument))
        guard let script = engine.scripts[sha] else { return nil }
        lastScriptArgument = argument
        lastScript = (sha, script)
        return (sha, script)
    }

    /// SCRIPT FLUSH: the engine's cache and what this state remembers of it.
    func flushScripts() {
        engine.flush()
        lastScriptArgument = []
        lastScript = nil
        lastQuickArgument = []
        lastQuickSHA = nil
        quickScripts.removeAll()
    }
}
