/// The server's scripting state: the Lua engine with its script cache, the client scripts run
/// their commands as, and the script running right now (for SCRIPT KILL and BUSY replies).
import AtollKeyspace
import AtollLua

public final class ScriptingState: @unchecked Sendable {
    public let engine = LuaEngine()
    /// Redis's "lua client": commands called from scripts run as it.
    let client: ClientSession
    /// The script being run, while EVAL runs it.
    var running: ScriptRun?
    /// Set by SCRIPT KILL from another connection; read by the script's instruction hook.
    public var killRequested = false

    init() {
        client = ClientSession(id: 0, authenticated: true, address: "lua", localAddress: "lua", now: 0, connection: nil)
        client.isScriptClient = true
    }

    /// Called by the running script's instruction hook: the error that kills it, or nil.
    func tick(_ run: ScriptRun) -> [UInt8]? {
        guard killRequested else { return nil }
        killRequested = false
        return Array("ERR Script killed by user with SCRIPT KILL...".utf8)
    }
}
