/// `AOFManifest`: the index of Redis 7's multi-part append-only file. It lives in
/// `appenddirname` as `<appendfilename>.manifest` and lists one line per file:
/// `file <name> seq <n> type <b|h|i>` — the base (an RDB snapshot), the incremental files
/// replayed after it in order, and history files a rewrite made obsolete.
import AtollCore
struct AOFManifest {
    enum Kind: String { case base = "b", history = "h", incr = "i" }

    struct Part {
        var name: String
        var seq: Int
        var kind: Kind
    }

    var base: Part?
    var incrs: [Part] = []
    var history: [Part] = []

    /// The base file's sequence number (0 without one), and the highest incremental one.
    var lastBaseSeq: Int { base?.seq ?? 0 }
    var lastIncrSeq: Int { incrs.last?.seq ?? history.filter { $0.name.hasSuffix(".incr.aof") }.map(\.seq).max() ?? 0 }

    struct FormatError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> AOFManifest {
        var manifest = AOFManifest()
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.hasPrefix("#") || line.allSatisfy({ $0 == " " }) { continue }
            let words = line.split(separator: " ").map(String.init)
            guard words.count % 2 == 0 else { throw FormatError(description: "Invalid AOF manifest file format") }
            var name: String?
            var seq: Int?
            var kind: Kind?
            for i in stride(from: 0, to: words.count, by: 2) {
                switch words[i] {
                case "file": name = words[i + 1]
                case "seq": seq = Int(words[i + 1])
                case "type": kind = Kind(rawValue: words[i + 1])
                default: break // fields a later Redis may add
                }
            }
            guard let name, let seq, seq > 0, let kind, !name.contains("/") else {
                throw FormatError(description: "Invalid AOF manifest file format")
            }
            let part = Part(name: name, seq: seq, kind: kind)
            switch kind {
            case .base:
                guard manifest.base == nil else { throw FormatError(description: "Found duplicate base file information") }
                manifest.base = part
            case .history: manifest.history.append(part)
            case .incr:
                if let last = manifest.incrs.last, last.seq >= seq {
                    throw FormatError(description: "Found a non-monotonic sequence number")
                }
                manifest.incrs.append(part)
            }
        }
        guard manifest.base != nil || !manifest.incrs.isEmpty else {
            throw FormatError(description: "Found an empty AOF manifest")
        }
        return manifest
    }

    /// The manifest's text, in the order Redis writes it: base, history, incremental files.
    var text: String {
        var lines: [String] = []
        for part in (base.map { [$0] } ?? []) + history + incrs {
            lines.append("file \(part.name) seq \(part.seq) type \(part.kind.rawValue)\n")
        }
        return lines.joined()
    }
}
