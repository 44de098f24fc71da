/// Redis's CMD_PROTECTED commands, each behind the parameter that allows it: DEBUG behind
/// `enable-debug-command`, MODULE LOAD, LOADEX and UNLOAD behind `enable-module-command`. A
/// binding declares its gate; the dispatcher refuses a client the parameter does not allow
/// (see `ProtectedAccess`) before authentication is checked, as Redis does.
public enum ProtectedGate: Sendable {
    case debugCommand
    case moduleCommand

    /// Who the gate's parameter lets through.
    func access(in config: ServerConfiguration) -> ProtectedAccess {
        switch self {
        case .debugCommand: return config.enableDebugCommand
        case .moduleCommand: return config.enableModuleCommand
        }
    }

    /// The refusal's text (after `ERR `), Redis's for the command and its parameter.
    var refusal: String {
        switch self {
        case .debugCommand: return Self.refusal(command: "DEBUG", parameter: "enable-debug-command")
        case .moduleCommand: return Self.refusal(command: "MODULE", parameter: "enable-module-command")
        }
    }

    private static func refusal(command: String, parameter: String) -> String {
        "\(command) command not allowed. If the \(parameter) option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
    }
}
