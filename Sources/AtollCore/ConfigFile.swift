/// Reading redis.conf syntax into a `ServerConfiguration`: one `name value...` directive a
/// line, `#` comments, arguments split with the same quoting rules as inline commands.
import AtollBytes
import AtollRESP
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension ServerConfiguration {
    /// Applies every directive in `text`, in order; later lines win, except `save` lines,
    /// which add up as in Redis (the first one replaces the default, `save ""` clears them),
    /// and `rename-command` lines, which are not parameters. Unknown names are errors.
    public mutating func load(_ text: String) throws {
        var sawSave = false
        let lines = text.utf8.split(separator: 10, omittingEmptySubsequences: false).map { bytes in
            String(decoding: bytes.last == 13 ? bytes.dropLast() : bytes[...], as: UTF8.self)
        }
        for (number, rawLine) in lines.enumerated() {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let words = splitArguments(Array(line.utf8)), let first = words.first else {
                throw ConfigError(description: ">>> line \(number + 1): '\(line)'\nUnbalanced quotes in configuration line")
            }
            let name = String(decoding: first, as: UTF8.self)
            let refused = { (reason: String) in
                ConfigError(description: "Reading the configuration file, at line \(number + 1)\n>>> '\(line)'\n\(reason)")
            }
            if asciiCaseInsensitiveEquals(first, "user") && words.count >= 2 {
                do { try addUserDirective(words) } catch {
                    throw refused(error.description)
                }
                continue
            }
            let values = words.dropFirst().map { String(decoding: $0, as: UTF8.self) }
            if name.lowercased() == "rename-command" {
                if let reason = addCommandRename(values) { throw refused(reason) }
                continue
            }
            guard let parameter = ConfigParameter.named(name) else {
                throw refused("Bad directive or wrong number of arguments")
            }
            if values.isEmpty {
                throw refused("wrong number of arguments")
            }
            if parameter.name == "save" {
                guard let rules = SaveRule.parse(values.joined(separator: " ")) else {
                    throw refused("Invalid save parameters")
                }
                if !sawSave || rules.isEmpty { saveRules = [] }
                saveRules += rules
                sawSave = true
                continue
            }
            if let reason = parameter.apply(Array(values), to: &self) {
                throw refused(reason)
            }
        }
    }
}

/// The whole text of a configuration file, or nil when it cannot be opened.
public func readConfigFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
