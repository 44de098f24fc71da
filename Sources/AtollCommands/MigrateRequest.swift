/// `MigrateRequest`: MIGRATE's arguments, read as redis-server 7.0 reads them.
///
/// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
/// [AUTH2 username password] [KEYS key ...]`: the options first (a later AUTH or AUTH2 replaces
/// an earlier password, KEYS takes every argument after it and needs the empty key), then the
/// timeout and the database as integers. Neither number is range-checked, as in Redis: a
/// timeout of 0 or less means 1000 ms, and the database goes to the target's SELECT as given
/// (the target answers a bad one). The port is read like C's `atoi`, as Redis reads it.
import AtollBytes
import AtollCore
import AtollRESP

struct MigrateRequest {
    var host: [UInt8]
    var portText: [UInt8]
    var copy = false
    var replace = false
    var username: [UInt8]?
    var password: [UInt8]?
    /// Where the keys are in the arguments: the key argument, or every one after KEYS.
    var keyIndices: [Int]
    var db: Int64 = 0
    /// Milliseconds each connect, write and read may wait.
    var timeout: Int64 = 0

    /// Parses `c.args`; nil after replying with Redis's error.
    init?(_ c: inout CommandContext) {
        host = c.args[1]
        portText = c.args[2]
        keyIndices = [3]
        var j = 6
        options: while j < c.args.count {
            let more = c.args.count - j - 1
            if c.argIs(j, "copy") {
                copy = true
            } else if c.argIs(j, "replace") {
                replace = true
            } else if c.argIs(j, "auth") {
                guard more >= 1 else { c.syntaxError(); return nil }
                password = c.args[j + 1]
                j += 1
            } else if c.argIs(j, "auth2") {
                guard more >= 2 else { c.syntaxError(); return nil }
                username = c.args[j + 1]
                password = c.args[j + 2]
                j += 2
            } else if c.argIs(j, "keys") {
                guard c.args[3].isEmpty else {
                    c.out.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
                    return nil
                }
                keyIndices = Array(j + 1 ..< c.args.count)
                break options
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        guard let timeout = c.integerArgument(5), let db = c.integerArgument(4) else { return nil }
        self.timeout = timeout <= 0 ? 1000 : timeout
        self.db = db
    }

    /// Where the keys are, as Redis 7.0 finds them (COMMAND GETKEYS): its key specs look for
    /// KEYS from the second-to-last argument back; when they find none, the key argument. When
    /// they do, that spec is incomplete and `migrateGetKeys` decides: the arguments after the
    /// first KEYS option (none when the key argument is not empty), the options' values
    /// skipped on the way, or else the key argument.
    static func keys(_ args: [[UInt8]]) -> [Int] {
        guard args.count > 2, args[1 ..< args.count - 1].contains(where: { asciiCaseInsensitiveEquals($0, "keys") }) else {
            return [3]
        }
        var i = 6
        while i < args.count {
            if asciiCaseInsensitiveEquals(args[i], "keys") {
                return args[3].isEmpty ? Array(i + 1 ..< args.count) : []
            }
            if asciiCaseInsensitiveEquals(args[i], "auth") {
                i += 1
            } else if asciiCaseInsensitiveEquals(args[i], "auth2") {
                i += 2
            }
            i += 1
        }
        return [3]
    }

    /// The cached connection's name: the host and port arguments as typed.
    var connectionName: [UInt8] { host + [UInt8(ascii: ":")] + portText }

    /// Opens a connection to the target, or nil when that fails. The port goes the way Redis
    /// sends it: `atoi`, printed into a 6-byte buffer (so only its first 5 characters count),
    /// then the resolver, which refuses a negative one and keeps 16 bits of a larger one.
    func connect() -> TargetConnection? {
        let port = Self.atoi(portText)
        guard port >= 0, let kept = Int(String(String(port).prefix(5))) else { return nil }
        return TargetConnection.open(host: String(decoding: host, as: UTF8.self),
                                     port: UInt16(truncatingIfNeeded: kept), timeoutMillis: timeout)
    }

    /// C's `atoi` on glibc: `strtol`'s reading (leading white space, a sign, digits up to the
    /// first other byte, saturating at the 64-bit limits) cut to 32 bits.
    static func atoi(_ text: [UInt8]) -> Int32 {
        var i = 0
        while i < text.count && (text[i] == 32 || (9...13).contains(text[i])) { i += 1 }
        var negative = false
        if i < text.count && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) {
            negative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        var magnitude: UInt64 = 0
        var saturated = false
        while i < text.count && (48...57).contains(text[i]) {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(text[i] - 48))
            if o1 || o2 { saturated = true } else { magnitude = sum }
            i += 1
        }
        let value: Int64
        if negative {
            value = saturated || magnitude > UInt64(Int64.max) + 1 ? Int64.min : Int64(bitPattern: 0 &- magnitude)
        } else {
            value = saturated || magnitude > UInt64(Int64.max) ? Int64.max : Int64(magnitude)
        }
        return Int32(truncatingIfNeeded: value)
    }
}
