import AtollBytes
import Testing

/// The storage address of an array: equal when two arrays share one buffer.
private func storage(_ array: [UInt8]) -> UnsafeRawPointer? { array.withUnsafeBytes { $0.baseAddress } }

@Suite struct RecentArraysTests {
    @Test func anEqualStringReusesTheArrayUntilItIsReplaced() {
        var recent = RecentArrays(capacity: 2)
        let get = Array("get".utf8).withUnsafeBytes { recent.array(for: $0) }
        let again = Array("get".utf8).withUnsafeBytes { recent.array(for: $0) }
        #expect(again == Array("get".utf8))
        #expect(storage(again) == storage(get))
        _ = Array("set".utf8).withUnsafeBytes { recent.array(for: $0) }
        _ = Array("del".utf8).withUnsafeBytes { recent.array(for: $0) }  // replaces "get", the oldest
        let fresh = Array("get".utf8).withUnsafeBytes { recent.array(for: $0) }
        #expect(fresh == Array("get".utf8))
        #expect(storage(fresh) != storage(get))
        #expect(Array<UInt8>().withUnsafeBytes { recent.array(for: $0) } == [])
    }
}
