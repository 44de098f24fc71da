import AtollBytes
@testable import AtollLua
import Testing

@Suite struct CallArgumentPoolTests {
    private func take(_ pool: inout CallArgumentPool, _ text: String, at index: Int) -> [UInt8] {
        Array(text.utf8).withUnsafeBytes { pool.array(for: $0, at: index) }
    }

    private func address(_ array: [UInt8]) -> UnsafeRawPointer? { array.withUnsafeBytes { $0.baseAddress } }

    @Test func alternatingCommandsKeepTheirNamesAndKeys() {
        var pool = CallArgumentPool()
        let set = take(&pool, "set", at: 0), key = take(&pool, "k", at: 1), value = take(&pool, "v", at: 2)
        let get = take(&pool, "get", at: 0)
        #expect(address(take(&pool, "k", at: 1)) == address(key))
        #expect(address(take(&pool, "set", at: 0)) == address(set))
        #expect(address(take(&pool, "get", at: 0)) == address(get))
        // Position 2 still holds the value the shorter GET call did not use.
        #expect(address(take(&pool, "v", at: 2)) == address(value))
        let other = take(&pool, "w", at: 2)
        #expect(other == Array("w".utf8))
        #expect(address(take(&pool, "w", at: 2)) == address(other))
    }

    @Test func longStringsAreCopiedAndNeverKept() {
        var pool = CallArgumentPool()
        let long = String(repeating: "x", count: CallArgumentPool.maxLength + 1)
        let first = take(&pool, long, at: 1)
        #expect(first == Array(long.utf8))
        #expect(address(take(&pool, long, at: 1)) != address(first))
    }
}
