@testable import AtollCore
import AtollBytes
import AtollCommands
import AtollKeyspace
import AtollRESP
import Testing

/// The prefetch's hints are only hints, but a wrong one would send a lookup to the wrong chain:
/// each command's hint must be its own first key's hash, also when it repeats the key of the
/// command before it (the hint is then reused, not computed again).
@Suite struct KeyPrefetchTests {
    @Test func everyHintIsItsOwnCommandsFirstKeyHash() {
        var generator = SystemRandomNumberGenerator()
        var database = Database()
        var prefetch = KeyPrefetch()
        let keys = ["a", "a", "b", "hot:key:1", "a-rather-long-key-of-more-than-24-bytes", ""].map { Array($0.utf8) }
        for _ in 0..<200 {
            var batch = CommandBatch()
            var firstKeys: [[UInt8]?] = []
            for _ in 0..<Int.random(in: 2...40, using: &generator) {
                let key = keys.randomElement(using: &generator)!
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: batch.append([Array("GET".utf8), key]); firstKeys.append(key)
                case 1: batch.append([Array("SETBIT".utf8), key, Array("7".utf8), Array("1".utf8)]); firstKeys.append(key)
                case 2: batch.append([Array("MGET".utf8), key, keys.randomElement(using: &generator)!]); firstKeys.append(key)
                default: batch.append([Array("PING".utf8)]); firstKeys.append(nil)
                }
            }
            prefetch.run(batch, from: 0, table: CommandTable.standard, database: &database)
            for (i, key) in firstKeys.enumerated() {
                guard let hint = prefetch.hint(for: i) else { continue }
                let key = try! #require(key, "command \(i) has no key but a hint")
                #expect(hint.hash(of: Bytes(key)) == Bytes(key).tableHash, "command \(i)")
                for other in keys where other != key { #expect(hint.hash(of: Bytes(other)) == nil) }
            }
        }
    }
}
