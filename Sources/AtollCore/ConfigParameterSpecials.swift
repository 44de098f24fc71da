/// Redis 7.0 parameters with rules of their own, kept (as CONFIG GET prints them) in
/// `ServerConfiguration.storedParameters`: `maxmemory-clients` (bytes or a percentage),
/// `latency-tracking-info-percentiles`, `oom-score-adj-values`, `proc-title-template`,
/// `cluster-announce-hostname`, `unixsocketperm` (octal), `repl-backlog-size` (16 kB at
/// least), `replicaof` (`host port`), and the one Atoll refuses to switch on: `activedefrag`
/// (no defragmenter).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AtollBytes

extension ConfigParameter {
    static let specialRedisParameters: [ConfigParameter] = [
        .stored("maxmemory-clients", default: "0", check: checkClientMemory),
        .stored("latency-tracking-info-percentiles", default: "50 99 99.9", check: checkPercentiles),
        .stored("oom-score-adj-values", default: "0 200 800", check: checkOOMScores),
        .stored("proc-title-template", rewriteStyle: .quoted, default: "{title} {listen-addr} {server-mode}") { text in
            isValidProcTitleTemplate(text) ? .success(text)
                : .failure(ConfigReason("template format is invalid or contains unknown variables"))
        },
        .stored("cluster-announce-hostname", rewriteStyle: .quoted, default: "") { text in
            let valid = text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 || $0 == 46 }
            return valid ? .success(text) : .failure(ConfigReason("Hostnames may only contain alphanumeric characters, hyphens or dots"))
        },
        .stored("unixsocketperm", mutable: false, default: "0") { text in
            // `strtol(text, 8)` with nothing left over; printed back in octal.
            guard let n = Int(text, radix: 8), n >= 0, !text.hasPrefix("+") else { return .failure(ConfigReason("Invalid socket file permissions")) }
            return .success(String(n, radix: 8))
        },
        // Atoll has no defragmenter: `yes` gets the refusal Redis gives when built without
        // jemalloc (as Debian's redis-server is).
        .stored("activedefrag", default: "no") { text in
            switch parseYesNo(text) {
            case false: return .success("no")
            case true: return .failure(ConfigReason("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"))
            case nil: return .failure(ConfigReason("argument must be 'yes' or 'no'"))
            }
        },
        // Redis never keeps a backlog under 16 kB.
        .stored("repl-backlog-size", rewriteStyle: .memory, default: "1048576") { text in
            checkMemory(text, min: 1, max: UInt64(Int64.max)).map { String(max($0, 16 * 1024)) }
        },
        // Set at start only, as in Redis: `host port`, followed once the server listens; then
        // REPLICAOF keeps it current (CONFIG GET and REWRITE show the master followed now).
        .stored("replicaof", alias: "slaveof", mutable: false, rewriteStyle: .replicaOf, default: "") { text in
            if text.isEmpty { return .success("") }
            let words = text.split(separator: " ")
            guard words.count == 2, let port = Int(words[1]), (0...65535).contains(port) else {
                return .failure(ConfigReason("wrong number of arguments"))
            }
            return .success(text)
        },
    ]

    /// Bytes, or a percentage of maxmemory (`50%`, printed so; `0%` prints as 0).
    static func checkClientMemory(_ text: String) -> Result<String, ConfigReason> {
        let malformed = ConfigReason("argument must be a memory or percent value")
        let tooMuch = ConfigReason("percentage argument must be less or equal to 100")
        if text.hasSuffix("%") {
            guard let percent = parseStrictInt64(Array(text.utf8.dropLast())), percent >= 0 else { return .failure(malformed) }
            guard percent <= 100 else { return .failure(tooMuch) }
            return .success(percent == 0 ? "0" : "\(percent)%")
        }
        guard let bytes = parseMemoryUnsigned(text) else { return .failure(malformed) }
        // Redis keeps the value signed, negative for a percentage: a size past 2^63-1 wraps
        // to a negative number and reads as that percentage (2^64-1 is 1%).
        guard bytes > UInt64(Int64.max) else { return .success(String(bytes)) }
        let percent = 0 &- bytes
        return percent <= 100 ? .success("\(percent)%") : .failure(tooMuch)
    }

    /// Space-separated percentiles between 0 and 100, printed as `%f` without trailing zeros.
    static func checkPercentiles(_ text: String) -> Result<String, ConfigReason> {
        guard !text.isEmpty else { return .success("") }
        var printed: [String] = []
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            guard let first = word.utf8.first, !isSpace(first), let value = Double(String(word)), !value.isNaN else {
                return .failure(ConfigReason("Invalid latency-tracking-info-percentiles parameters"))
            }
            guard value >= 0 && value <= 100 else {
                return .failure(ConfigReason("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"))
            }
            printed.append(trimmedFixed(value))
        }
        return .success(printed.joined(separator: " "))
    }

    /// Three integers from -2000 to 2000, each as `strtol` reads it.
    static func checkOOMScores(_ text: String) -> Result<String, ConfigReason> {
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 3 else { return .failure(ConfigReason("wrong number of arguments")) }
        var values: [Int] = []
        for word in words {
            guard let n = strtolWhole(String(word)), n >= -2000, n <= 2000 else {
                return .failure(ConfigReason("Invalid oom-score-adj-values, elements must be between -2000 and 2000."))
            }
            values.append(n)
        }
        return .success(values.map(String.init).joined(separator: " "))
    }

    /// `strtol(text, &end, 10)` that must consume everything: leading white space and a sign
    /// allowed, no digits at all only for the empty string (0).
    static func strtolWhole(_ text: String) -> Int? {
        if text.isEmpty { return 0 }
        var rest = Substring(text).drop { isSpace($0.utf8.first!) }
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty, rest.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        // Past the long range strtol saturates, which is out of -2000...2000 anyway.
        guard let magnitude = Int(rest) else { return Int.max }
        return negative ? -magnitude : magnitude
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || (byte >= 9 && byte <= 13) }

    /// `printf("%f")` with trailing zeros (and a trailing point) removed.
    static func trimmedFixed(_ value: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 400)
        let n = buffer.withUnsafeMutableBufferPointer { out in
            withVaList([value]) { vsnprintf(out.baseAddress, 400, "%f", $0) }
        }
        var text = String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// Redis's rule: only known `{variables}`, braces closed, and something left once
    /// `{title}`, `{server-mode}` and `{unixsocket}` (empty here) are taken out and spaces
    /// trimmed (the address, the ports and `{config-file}` never expand to nothing in Redis).
    static func isValidProcTitleTemplate(_ text: String) -> Bool {
        var rest = Substring(text)
        var visible = ""
        while let open = rest.firstIndex(of: "{") {
            visible += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { return false }
            switch rest[rest.index(after: open)..<close] {
            case "title", "server-mode", "unixsocket": break
            case "listen-addr", "port", "tls-port", "config-file": visible += "x"
            default: return false
            }
            rest = rest[rest.index(after: close)...]
        }
        visible += rest
        return visible.contains { $0 != " " }
    }
}
