/// The program's absolute path as INFO `executable` reports it: the path it was started by,
/// made absolute against the working directory of the time, as Redis makes `argv[0]` absolute
/// (not resolved through links; `.` and `..` components folded).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `CommandLine.arguments[0]` made absolute against the current directory.
public func absoluteExecutablePath() -> String {
    let started = CommandLine.arguments.first ?? ""
    if started.hasPrefix("/") || started.isEmpty { return started }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return started }
    var parts = String(cString: buffer).split(separator: "/").map(String.init)
    for part in started.split(separator: "/") {
        switch part {
        case ".": continue
        case "..": if !parts.isEmpty { parts.removeLast() }
        default: parts.append(String(part))
        }
    }
    return "/" + parts.joined(separator: "/")
}
