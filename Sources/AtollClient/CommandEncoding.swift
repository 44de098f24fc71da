/// Commands on the wire: a RESP array of bulk strings, written straight into the connection's
/// outgoing buffer (from byte arrays in one pass, or from `RedisArgument` values).
import NIOCore

extension ByteBuffer {
    /// Writes one command as a RESP array of bulk strings, reserving its whole size first and
    /// copying it in one pass.
    mutating func writeCommand(_ arguments: [[UInt8]]) {
        let size = encodedSize(arguments)
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            _ = encodeCommand(arguments, at: out.baseAddress!)
            return size
        }
    }

    /// Writes commands one after another, reserving their whole size once (a batch).
    mutating func writeCommands(_ commands: [[[UInt8]]]) {
        var size = 0
        for command in commands { size += encodedSize(command) }
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var at = out.baseAddress!
            for command in commands { at = encodeCommand(command, at: at) }
            return size
        }
    }

    /// Writes `name` and `arguments` as a RESP array of bulk strings, each argument encoded
    /// straight from its value.
    mutating func writeCommand(_ name: String, _ arguments: [any RedisArgument]) {
        writeArrayHeader(arguments.count + 1)
        name.writeRedisArgument(into: &self)
        for argument in arguments { argument.writeRedisArgument(into: &self) }
    }

    mutating func writeArrayHeader(_ count: Int) {
        writeInteger(UInt8(ascii: "*"))
        writeDecimal(count)
    }

    mutating func writeBulkString(_ bytes: some Collection<UInt8>) {
        writeInteger(UInt8(ascii: "$"))
        writeDecimal(bytes.count)
        writeBytes(bytes)
        writeStaticString("\r\n")
    }

    /// `n` in decimal and CRLF.
    mutating func writeDecimal(_ n: Int) {
        if n >= 0 && n < 10 {
            writeInteger(UInt8(ascii: "0") + UInt8(n))
        } else {
            writeString(String(n))
        }
        writeStaticString("\r\n")
    }
}

/// The bytes of `arguments` as a RESP array of bulk strings.
private func encodedSize(_ arguments: [[UInt8]]) -> Int {
    var size = 3 + decimalLength(arguments.count)
    for argument in arguments { size += 5 + decimalLength(argument.count) + argument.count }
    return size
}

/// Writes `arguments` as a RESP array of bulk strings at `start`, through a plain pointer (no
/// closure captures a cursor, so nothing is boxed on the heap); returns the address after it.
private func encodeCommand(_ arguments: [[UInt8]], at start: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    var at = writeHeader(UInt8(ascii: "*"), arguments.count, at: start)
    for argument in arguments {
        at = writeHeader(UInt8(ascii: "$"), argument.count, at: at)
        let destination = at
        argument.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { destination.copyMemory(from: base, byteCount: bytes.count) }
        }
        at += argument.count
        at.storeBytes(of: UInt8(13), as: UInt8.self)
        (at + 1).storeBytes(of: UInt8(10), as: UInt8.self)
        at += 2
    }
    return at
}

/// Writes `type`, `n` in decimal and CRLF at `at`; returns the address after them.
private func writeHeader(_ type: UInt8, _ n: Int, at start: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    start.storeBytes(of: type, as: UInt8.self)
    let digits = decimalLength(n)
    var rest = n
    var i = digits
    while i > 0 {
        (start + i).storeBytes(of: UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10), as: UInt8.self)
        rest /= 10
        i -= 1
    }
    (start + 1 + digits).storeBytes(of: UInt8(13), as: UInt8.self)
    (start + 2 + digits).storeBytes(of: UInt8(10), as: UInt8.self)
    return start + 3 + digits
}

/// How many digits `n` (not negative) has in decimal.
func decimalLength(_ n: Int) -> Int {
    if n < 10 { return 1 }
    if n < 100 { return 2 }
    var digits = 1
    var rest = n
    while rest >= 10 {
        rest /= 10
        digits += 1
    }
    return digits
}
