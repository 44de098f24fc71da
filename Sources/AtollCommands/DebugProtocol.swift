/// DEBUG PROTOCOL <type>: one sample reply of each RESP3 type, for client tests, with Redis
/// 7.0's values; in RESP2 each is sent as Redis downgrades it (a push is refused there).
import AtollCore
import AtollRESP

enum DebugProtocol {
    static let typeNames = "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"

    static func reply(_ c: inout CommandContext) {
        switch String(decoding: c.args[2], as: UTF8.self).lowercased() {
        case "string": c.out.bulk("Hello World")
        case "integer": c.out.integer(12345)
        case "double": c.out.double(3.141)
        case "bignum": c.out.bigNumber("1234567999999999999999999999999999999")
        case "null": c.out.null()
        case "array":
            c.out.arrayHeader(3)
            for i in 0..<3 { c.out.integer(i) }
        case "set":
            c.out.setHeader(3)
            for i in 0..<3 { c.out.integer(i) }
        case "map":
            c.out.mapHeader(3)
            for i in 0..<3 {
                c.out.integer(i)
                c.out.boolean(i == 1)
            }
        case "attrib":
            if c.out.resp3 {
                c.out.attributeHeader(1)
                c.out.bulk("key-popularity")
                c.out.arrayHeader(2)
                c.out.bulk("key:123")
                c.out.integer(90)
            }
            c.out.bulk("Some real reply following the attribute")
        case "push":
            guard c.out.resp3 else { return c.out.error("ERR RESP2 is not supported by this command") }
            c.out.pushHeader(2)
            c.out.bulk("server-cpu-usage")
            c.out.integer(42)
            c.out.bulk("Some real reply following the push reply")
        case "verbatim": c.out.verbatim("This is a verbatim\nstring")
        case "true": c.out.boolean(true)
        case "false": c.out.boolean(false)
        default: c.out.error("ERR Wrong protocol type name. Please use one of the following: \(typeNames)")
        }
    }
}
