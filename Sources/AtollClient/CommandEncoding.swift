/// Commands on the wire: a RESP array of bulk strings, written straight into the connection's
/// outgoing buffer (from byte arrays in one pass, or from `RedisArgument` values).
import NIOCore

extension ByteBuffer {
    /// Writes one command as a RESP array of bulk strings, reserving its whole size first and
    /// copying it in one pass.
    mutating func writeCommand(_ arguments: [[UInt8]]) {
        var size = 3 + decimalLength(arguments.count)
        for argument in arguments { size += 5 + decimalLength(argument.count) + argument.count }
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var at = out.baseAddress!
            func put(_ byte: UInt8) {
                at.storeBytes(of: byte, as: UInt8.self)
                at += 1
            }
            func putHeader(_ type: UInt8, _ n: Int) {
                put(type)
                let digits = decimalLength(n)
                var rest = n
                for i in stride(from: digits - 1, through: 0, by: -1) {
                    (at + i).storeBytes(of: UInt8(ascii: "0") + UInt8(rest % 10), as: UInt8.self)
                    rest /= 10
                }
                at += digits
                put(13)
                put(10)
            }
            putHeader(UInt8(ascii: "*"), arguments.count)
            for argument in arguments {
                putHeader(UInt8(ascii: "$"), argument.count)
                argument.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress { at.copyMemory(from: base, byteCount: bytes.count) }
                    at += bytes.count
                }
                put(13)
                put(10)
            }
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

/// How many digits `n` (not negative) has in decimal.
func decimalLength(_ n: Int) -> Int {
    var digits = 1
    var rest = n
    while rest >= 10 {
        rest /= 10
        digits += 1
    }
    return digits
}
