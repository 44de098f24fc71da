/// Command arguments: anything that can be written as a bulk string. Strings go as their
/// UTF-8 bytes, integers and doubles as their decimal text, `[UInt8]` as it is.

/// A value that can be sent as one argument of a command.
public protocol RedisArgument: Sendable {
    /// The argument's bytes on the wire.
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisArgument {
    /// `inf` and `-inf` as Redis spells them; other values in Swift's shortest exact form.
    public var redisBytes: [UInt8] {
        if self == .infinity { return Array("inf".utf8) }
        if self == -.infinity { return Array("-inf".utf8) }
        return Array(String(self).utf8)
    }
}

/// Builds a command's argument list: the name, then each argument's bytes.
@inlinable
public func redisCommand(_ name: String, _ arguments: [any RedisArgument]) -> [[UInt8]] {
    var out: [[UInt8]] = [Array(name.utf8)]
    out.reserveCapacity(arguments.count + 1)
    for argument in arguments { out.append(argument.redisBytes) }
    return out
}
