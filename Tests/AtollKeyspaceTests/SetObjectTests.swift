import AtollBytes
@testable import AtollKeyspace
import AtollTestSupport
import Testing

private func member(_ s: String) -> Bytes { Bytes(Array(s.utf8)) }

@Suite struct SetObjectTests {
    /// A hashtable-encoded set starts packed and moves to its `SlotMap` past the packed limits;
    /// membership, removal and listing agree with a model throughout.
    @Test func packedStageMatchesAModel() {
        var rng = SplitMix64(seed: 5)
        let s = SetObject()
        var model = Set<Bytes>()
        let limits = EncodingLimits()
        for step in 0..<2000 {
            let m = member("m\(Int.random(in: 0..<60, using: &rng))")
            if Bool.random(using: &rng) {
                #expect(s.insert(m, limits: limits) == model.insert(m).inserted)
            } else {
                #expect(s.remove(m) == (model.remove(m) != nil))
            }
            #expect(!s.compact || model.isEmpty)
            #expect(s.count == model.count)
            #expect(Set(s.members) == model)
            #expect(s.contains(member("m\(step % 60)")) == model.contains(member("m\(step % 60)")))
        }
    }

    @Test func packedStageEndsAtItsLimits() {
        let limits = EncodingLimits()
        let s = SetObject()
        for i in 0..<SetObject.packedMembers { s.insert(member("x\(i)"), limits: limits) }
        #expect(s.large == nil && !s.compact)
        var pages = 0
        #expect(s.scan(from: 0, count: 1) { _ in pages += 1 } == 0 && pages == SetObject.packedMembers)
        s.insert(member("one more"), limits: limits)
        #expect(s.large != nil && s.count == SetObject.packedMembers + 1)

        let long = SetObject()
        long.insert(member("a"), limits: limits)
        long.insert(Bytes([UInt8](repeating: 65, count: SetObject.packedMemberBytes + 1)), limits: limits)
        #expect(long.large != nil && long.count == 2 && long.contains(member("a")))
    }

    @Test func integersLeavingTheIntsetArePacked() {
        let limits = EncodingLimits()
        let s = SetObject()
        for i in 0..<5 { s.insert(Bytes(decimal: Int64(i)), limits: limits) }
        #expect(s.compact)
        s.insert(member("x"), limits: limits)
        #expect(!s.compact && s.large == nil && s.count == 6 && s.contains(Bytes(decimal: 3)))
        s.reencodeAsRebuilt(limits)
        #expect(!s.compact)
        s.remove(member("x"))
        s.reencodeAsRebuilt(limits)
        #expect(s.compact && s.members == (0..<5).map { Bytes(decimal: Int64($0)) })
    }
}
