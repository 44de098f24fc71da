import AtollBytes
@testable import AtollKeyspace
import AtollTestSupport
import Testing

private func bytes(_ s: String) -> Bytes { Bytes(Array(s.utf8)) }

@Suite struct HashObjectTests {
    /// Fields set, replaced (with longer and shorter values) and removed one at a time: the
    /// packed pairs outgrow the object's own block and move to bigger ones, and through it all
    /// the hash agrees with a model, in insertion order, until it converts at the entry limit.
    @Test func packedPairsMatchAModelThroughMoves() {
        var rng = SplitMix64(seed: 11)
        let limits = EncodingLimits()
        let hash = HashObject.make()
        var order: [Bytes] = []
        var model: [Bytes: Bytes] = [:]
        for step in 0..<3000 {
            let field = bytes("f\(Int.random(in: 0..<100, using: &rng))")
            if Int.random(in: 0..<3, using: &rng) > 0 {
                let value = bytes(String(repeating: "v", count: Int.random(in: 0..<40, using: &rng)) + "\(step)")
                #expect(hash.set(field, value, limits: limits) == (model[field] == nil))
                if model[field] == nil { order.append(field) }
                model[field] = value
            } else {
                #expect(hash.remove(field) == (model.removeValue(forKey: field) != nil))
                order.removeAll { $0 == field }
            }
            #expect(hash.compact)
            #expect(hash.count == model.count)
            #expect(hash[field] == model[field])
            var listed: [Bytes] = []
            hash.forEach { f, v in
                listed.append(f)
                #expect(model[f] == v)
            }
            #expect(listed == order)
        }
        let copy = hash.copy()
        for (field, value) in model { #expect(copy[field] == value) }
        for i in 0...limits.hashMaxListpackEntries { hash.set(bytes("extra\(i)"), bytes("x"), limits: limits) }
        #expect(!hash.compact)
        #expect(hash.count == model.count + limits.hashMaxListpackEntries + 1)
        for (field, value) in model {
            #expect(hash[field] == value)
            #expect(copy[field] == value)
        }
    }

    /// A hash made with room for its pairs keeps them in its own block (no move).
    @Test func sizedHashKeepsItsPairsInline() {
        let limits = EncodingLimits()
        let pairs = (0..<10).map { (bytes("field\($0)"), bytes("value\($0)")) }
        let size = pairs.reduce(0) { $0 + HashObject.packedSize(fieldLength: $1.0.count, valueLength: $1.1.count) }
        let hash = HashObject.make(bytes: size)
        for (field, value) in pairs { hash.set(field, value, limits: limits) }
        #expect(hash.header.mode == .inline)
        #expect(hash.packedByteCount == size)
        #expect(hash[bytes("field7")] == bytes("value7"))
        hash.set(bytes("field10"), bytes("value10"), limits: limits)
        #expect(hash.header.mode == .moved || hash.capacity >= size + 16)
        #expect(hash.count == 11 && hash[bytes("field10")] == bytes("value10"))
    }
}
