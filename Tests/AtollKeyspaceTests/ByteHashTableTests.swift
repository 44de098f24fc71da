import AtollBytes
import AtollKeyspace
import Testing

/// `ByteHashTable` against a `Dictionary` model: random inserts, updates, removals and
/// lookups over a small key space, so probe runs, backward-shift deletion, growth and
/// shrinking are all exercised.
@Suite struct ByteHashTableTests {
    @Test func matchesDictionaryModel() {
        var rng = SystemRandomNumberGenerator()
        var table = ByteHashTable<Int>()
        var model: [Bytes: Int] = [:]
        for step in 0..<40_000 {
            // Mix short (inline) and long (heap) keys.
            let n = Int.random(in: 0..<600, using: &rng)
            let key = Bytes(Array((n % 3 == 0 ? "a-long-key-that-does-not-fit-inline-\(n)" : "k\(n)").utf8))
            switch Int.random(in: 0..<4, using: &rng) {
            case 0, 1:
                let value = step
                table.update(key) { $0 = value }
                model[key] = value
            case 2:
                #expect(table.remove(key) == model.removeValue(forKey: key))
            default:
                #expect(table[key] == model[key])
            }
            #expect(table.count == model.count)
            // Phases of heavy deletion make the table shrink.
            if step % 10_000 == 9_999 {
                for k in Array(model.keys) where Bool.random(using: &rng) {
                    #expect(table.remove(k) == model.removeValue(forKey: k))
                }
            }
        }
        var seen: [Bytes: Int] = [:]
        table.forEach { seen[$0] = $1 }
        #expect(seen == model)
    }

    @Test func updateCanReadChangeAndDelete() {
        var table = ByteHashTable<Int>()
        let key: Bytes = "counter"
        table.update(key) { (v: inout Int?) in v = (v ?? 0) + 1 }
        table.update(key) { (v: inout Int?) in v = (v ?? 0) + 1 }
        #expect(table[key] == 2)
        let was: Int? = table.update(key) { (v: inout Int?) -> Int? in
            defer { v = nil }
            return v
        }
        #expect(was == 2)
        #expect(table[key] == nil)
        #expect(table.isEmpty)
    }
}
