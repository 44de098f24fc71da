import AtollBytes
import AtollKeyspace
@testable import AtollRDB
import AtollTestSupport
import Testing

/// Damaged RDB input (a snapshot file, or a FUNCTION RESTORE payload a client sends) must be
/// refused with an error, never crash the server or make it allocate without bound.
@Suite struct RDBReaderFuzzTests {
    /// A snapshot with every encoding the reader knows: plain types, an intset, listpacks,
    /// a quicklist, an LZF-compressed string and integer-encoded strings, and an expiry.
    static func sample() -> [UInt8] {
        var out = Array("REDIS0010".utf8)
        func string(_ s: [UInt8]) { RDBWriter.appendString(s, to: &out) }
        func text(_ s: String) { string(Array(s.utf8)) }
        func listpack(_ entries: [[UInt8]]) -> [UInt8] {
            var body: [UInt8] = []
            for entry in entries {
                if entry.count == 1, entry[0] < 128, entry != [10] {
                    body += [entry[0], 1]                       // 7-bit integer, its back-length
                } else {
                    body += [0x80 | UInt8(entry.count)] + entry + [UInt8(entry.count + 1)]
                }
            }
            let total = 6 + body.count + 1
            return [UInt8(total & 0xff), UInt8(total >> 8 & 0xff), 0, 0, UInt8(entries.count), 0] + body + [0xFF]
        }
        out += [0xFA]; text("redis-ver"); text("7.0.15")
        out += [0xFE, 0, 0xFB, 8, 1]
        out += [0]; text("plain"); text("value")
        out += [0xFC, 0xE8, 0x03, 0, 0, 0, 0, 0, 0]; out += [0]; text("volatile"); text("v")
        out += [0]; text("int8"); out += [0xC0, 0x7B]
        out += [0]; text("int32"); out += [0xC2, 0x01, 0x02, 0x03, 0x04]
        // LZF: one literal run of 11 bytes (control 10).
        out += [0]; text("lzf"); out += [0xC3, 12, 11, 10] + Array("hello world".utf8)
        out += [1]; text("list"); out += [2]; text("a"); text("b")
        out += [2]; text("set"); out += [2]; text("x"); text("y")
        out += [4]; text("hash"); out += [1]; text("f"); text("v")
        out += [5]; text("zset"); out += [1]; text("m")
        out += [0, 0, 0, 0, 0, 0, 0xF0, 0x3F]                  // 1.0
        out += [11]; text("intset"); string([2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0])
        out += [16]; text("lphash"); string(listpack([Array("field".utf8), Array("value".utf8)]))
        out += [17]; text("lpzset"); string(listpack([Array("member".utf8), Array("2.5".utf8)]))
        out += [18]; text("quicklist"); out += [1, 2]; string(listpack([Array("q1".utf8), [7]]))
        out += [0xF5]; text("#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        out += [0xFF]
        let crc = CRC64.checksum(out)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: crc >> UInt64(8 * i))) }
        return out
    }

    @Test func theSampleReadsBackWhole() throws {
        let contents = try RDBReader.read(Self.sample(), limits: EncodingLimits())
        #expect(contents.keys.count == 13)
        #expect(contents.functions.count == 1)
    }

    @Test func claimedSizesAreNotTrusted() {
        var out = Array("REDIS0010".utf8) + [0xFE, 0, 0]
        RDBWriter.appendString(Array("k".utf8), to: &out)
        // An LZF string claiming 4 GB from 12 bytes, and a sorted set with a NaN score.
        out += [0xC3, 12, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 10] + Array("hello world".utf8)
        #expect(throws: RDBError.self) { try RDBReader.read(out + [0xFF, 0, 0, 0, 0, 0, 0, 0, 0], limits: EncodingLimits()) }
        var nan = Array("REDIS0010".utf8) + [0xFE, 0, 5]
        RDBWriter.appendString(Array("z".utf8), to: &nan)
        nan += [1]
        RDBWriter.appendString(Array("m".utf8), to: &nan)
        nan += [0, 0, 0, 0, 0, 0, 0xF8, 0x7F, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: RDBError.self) { try RDBReader.read(nan, limits: EncodingLimits()) }
    }

    @Test func mutatedSnapshotsNeverCrash() {
        let sample = Self.sample()
        var rng = SplitMix64(seed: 0x5EED)
        var refused = 0
        for round in 0..<4000 {
            var bytes = sample
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[at] ^= UInt8(1 << (rng.next() % 8))
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(rng.next() % 8)))
                default: bytes.insert(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x7F][..<(1 + Int(rng.next() % 6))], at: at)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            // A zero checksum turns the check off, so the damage reaches the parser.
            if round % 2 == 0 && bytes.count >= 8 { bytes.replaceSubrange((bytes.count - 8)..., with: repeatElement(0, count: 8)) }
            do {
                _ = try RDBReader.read(bytes, limits: EncodingLimits())
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}

