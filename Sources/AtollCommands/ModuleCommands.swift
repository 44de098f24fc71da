/// MODULE HELP, LIST, LOAD, LOADEX and UNLOAD as redis-server 7.0.15 answers them with no
/// module loaded, which is always Atoll's case: LIST is empty, LOAD and LOADEX fail with
/// Redis's error for a module that cannot be loaded (and its log line), UNLOAD finds no such
/// module. LOAD, LOADEX and UNLOAD are protected: only clients `enable-module-command` allows
/// get that far (see `ProtectedGate`).
import AtollCore
import AtollRESP

enum ModuleCommands {
    package static let commands: [CommandBinding] = [
        .init("module|help", help),
        .init("module|list", list),
        .init("module|load", [], gatedBy: .moduleCommand, load),
        .init("module|loadex", [], gatedBy: .moduleCommand, load),
        .init("module|unload", [], gatedBy: .moduleCommand, unload),
    ]

    static func help(_ c: inout CommandContext) {
        replyHelp(&c, "MODULE", [
            "LIST", "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]", "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>", "    Unload a module.",
        ])
    }

    static func list(_ c: inout CommandContext) { c.out.arrayHeader(0) }

    /// LOAD and LOADEX: whatever the path and arguments, nothing can be loaded.
    static func load(_ c: inout CommandContext) {
        let path = String(decoding: c.args[2], as: UTF8.self)
        c.server.logHandler?(3, "Module \(path) failed to load: Atoll does not load modules")
        c.out.error("ERR Error loading the extension. Please check the server logs.")
    }

    static func unload(_ c: inout CommandContext) {
        c.out.error("ERR Error unloading module: no such module with that name")
    }
}
