/// LOLWUT: as in Redis 7.0, the version line alone, except for VERSION 5 and 6, which in Redis
/// draw computer art; Atoll draws its own (an atoll, seen from above), sized by the same
/// integer arguments.
import AtollCore
import AtollRESP

enum LolwutCommand {
    static let commands: [CommandBinding] = [.init("lolwut", lolwut)]

    static func lolwut(_ c: inout CommandContext) {
        var version = redisCompatibleVersion
        var first = 1
        if c.args.count >= 3 && c.argIs(1, "version") {
            guard let n = c.integerArgument(2) else { return }
            // Redis prints the number as a C unsigned int.
            version = "\(UInt32(truncatingIfNeeded: n)).0.0"
            first = 3
        }
        let line = "Redis ver. \(redisCompatibleVersion)\n"
        let drawing: Int? = version.hasPrefix("5.") && !version.hasPrefix("5.9") ? 3
            : (version.hasPrefix("6.") && !version.hasPrefix("6.9")) || version.hasPrefix("5.9") ? 2 : nil
        guard let parameters = drawing else { return c.out.verbatim(line) }
        var sizes: [Int64] = []
        for i in first..<min(first + parameters, c.args.count) {
            guard let n = c.integerArgument(i) else { return }
            sizes.append(n)
        }
        let width = Int(min(max(sizes.first ?? 66, 1), 1000))
        let height = Int(min(max(sizes.count > 1 ? sizes[1] : Int64(width / 3), 1), 1000))
        c.out.verbatim(atoll(width: width, height: height) + "\nAn atoll: a ring of keys around a lagoon. " + line)
    }

    /// A ring of land (`#`), its beach (`.`) and the lagoon and sea (spaces), in a
    /// `width` x `height` character grid (characters are about twice as tall as wide).
    static func atoll(width: Int, height: Int) -> String {
        var rows: [String] = []
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let r = min(Double(width) / 2, Double(height)) * 0.8
        for y in 0..<height {
            var row = ""
            for x in 0..<width {
                let dx = (Double(x) - cx) / 2, dy = Double(y) - cy
                let d = (dx * dx + dy * dy).squareRoot() / max(r / 2, 0.5)
                row += d > 0.75 && d < 0.95 ? "#" : (d >= 0.95 && d < 1.05 ? "." : " ")
            }
            while row.hasSuffix(" ") { row.removeLast() }
            rows.append(row)
        }
        return rows.joined(separator: "\n")
    }
}
