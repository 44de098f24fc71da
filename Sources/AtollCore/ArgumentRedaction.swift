/// How a command's secrets are hidden where its arguments are shown (MONITOR, the slow log),
/// declared with the command instead of chosen by its name: every argument after the name
/// (AUTH), or the values of named options (HELLO's AUTH, MIGRATE's AUTH and AUTH2), as Redis
/// hides them.
public struct ArgumentRedaction: Sendable {
    /// Where the scan for secrets starts.
    let start: Int
    /// Option words and how many secret values follow each; empty: every argument from `start`.
    let secret: [(word: StaticString, values: Int)]
    /// Words passed over when `stopAtOthers` ends the scan at any other.
    let plain: [StaticString]
    let stopAtOthers: Bool

    /// Every argument after the command's name (AUTH).
    public static let everyArgument = ArgumentRedaction(start: 1, secret: [], plain: [], stopAtOthers: false)

    /// The values of the options in `secret`, from argument `start` on. A word in `plain`, or
    /// any other word unless `stopAtOthers`, is passed over; with `stopAtOthers` any other word
    /// ends the scan (MIGRATE hides passwords as its option parser reaches them, up to KEYS).
    public static func options(from start: Int, secret: [(word: StaticString, values: Int)],
                               plain: [StaticString] = [], stopAtOthers: Bool) -> ArgumentRedaction {
        ArgumentRedaction(start: start, secret: secret, plain: plain, stopAtOthers: stopAtOthers)
    }

    /// `args` with the secrets replaced by `(redacted)`.
    func apply(_ args: [[UInt8]]) -> [[UInt8]] {
        let redacted = Array("(redacted)".utf8)
        var out = args
        if secret.isEmpty {
            for i in start..<max(start, out.count) { out[i] = redacted }
            return out
        }
        var i = start
        while i < out.count {
            let word = out[i]
            if let (_, count) = secret.first(where: { asciiCaseInsensitiveEquals(word, $0.word) }), i + count < out.count {
                for j in i + 1 ... i + count { out[j] = redacted }
                i += count + 1
            } else if !stopAtOthers || plain.contains(where: { asciiCaseInsensitiveEquals(word, $0) }) {
                i += 1
            } else {
                break
            }
        }
        return out
    }
}
