/// Command arguments: anything that can be written as a bulk string. Strings go as their
/// UTF-8 bytes, integers and doubles as their decimal text, `[UInt8]` as it is. Each is
/// written straight into the connection's outgoing buffer, without an intermediate array.
import NIOCore

/// A value that can be sent as one argument of a command.
public protocol RedisArgument: Sendable {
    /// The argument's bytes on the wire.
    var redisBytes: [UInt8] { get }

    /// Writes the argument as a RESP bulk string (`$<length>\r\n<bytes>\r\n`). The default
    /// writes `redisBytes`.
    func writeRedisArgument(into buffer: inout ByteBuffer)
}

extension RedisArgument {
    public func writeRedisArgument(into buffer: inout ByteBuffer) {
        buffer.writeBulkString(redisBytes)
    }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }

    public func writeRedisArgument(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "$"))
        buffer.writeDecimal(utf8.count)
        buffer.writeString(self)
        buffer.writeStaticString("\r\n")
    }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }

    public func writeRedisArgument(into buffer: inout ByteBuffer) {
        buffer.writeBulkString(utf8)
    }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }

    public func writeRedisArgument(into buffer: inout ByteBuffer) {
        buffer.writeBulkString(self)
    }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }

    public func writeRedisArgument(into buffer: inout ByteBuffer) {
        String(self).writeRedisArgument(into: &buffer)
    }
}

extension Int64: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }

    public func writeRedisArgument(into buffer: inout ByteBuffer) {
        String(self).writeRedisArgument(into: &buffer)
    }
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
