/// The parts HSCAN and SSCAN share, in the order Redis's `scanGenericCommand` checks things:
/// the cursor first, then the key (a missing key is an empty scan, whatever options follow),
/// then COUNT and MATCH (TYPE belongs to SCAN only), then the reply.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum CollectionScan {
    /// False after replying "invalid cursor"; argument 2 is the cursor.
    static func cursorIsValid(_ c: inout CommandContext) -> Bool {
        guard KeyCommands.parseCursor(c.args[2]) != nil else {
            c.out.error("ERR invalid cursor")
            return false
        }
        return true
    }

    /// The options after the cursor, or nil after replying the error.
    static func options(_ c: inout CommandContext) -> KeyCommands.ScanOptions? {
        KeyCommands.parseScan(&c, cursorIndex: 2, allowType: false)
    }

    static func replyEmpty(_ c: inout CommandContext) {
        reply(&c, next: 0, items: [])
    }

    /// `[cursor, [items...]]`, the same in RESP2 and RESP3.
    static func reply(_ c: inout CommandContext, next: Int, items: [Bytes]) {
        c.out.arrayHeader(2)
        c.out.bulk(bytes: Bytes(decimal: Int64(next)))
        c.out.arrayHeader(items.count)
        for item in items { c.out.bulk(bytes: item) }
    }

    /// Whether `item` passes the MATCH pattern (no pattern: everything does).
    static func matches(_ pattern: [UInt8]?, _ item: Bytes) -> Bool {
        guard let pattern else { return true }
        return globMatch(pattern, item.array)
    }
}
