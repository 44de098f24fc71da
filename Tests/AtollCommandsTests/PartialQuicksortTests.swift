@testable import AtollCommands
import Testing

/// `PartialQuicksort`: the positions it keeps hold what a full sort puts there, for every size
/// its steps distinguish (insertion sort, one pivot, a ninther) and with many ties; which of
/// several equal elements lands where is compared with redis-server in `test_diff_geo.py`.
@Suite struct PartialQuicksortTests {
    @Test(arguments: [0, 1, 2, 6, 7, 8, 40, 41, 100, 1000])
    func keptPositionsMatchAFullSort(size: Int) {
        var generator = SystemRandomNumberGenerator()
        for distinct in [1, 3, size + 1] {
            for _ in 0..<20 {
                let values = (0..<size).map { _ in Int.random(in: 0..<max(distinct, 1), using: &generator) }
                let full = values.sorted()
                let upper = size == 0 ? 0 : Int.random(in: 0..<size, using: &generator)
                let lower = Int.random(in: 0...upper, using: &generator)
                var partial = values
                PartialQuicksort.sort(&partial, keeping: lower, through: upper) { $0 == $1 ? 0 : ($0 > $1 ? 1 : -1) }
                #expect(partial.sorted() == full)
                if size > 0 { #expect(Array(partial[lower...upper]) == Array(full[lower...upper])) }
            }
        }
    }

    /// Equal elements are not kept in their first order: the partition moves them (here the
    /// pivot's equals gather at both ends first), as Redis's does.
    @Test func equalElementsAreMovedAsThePartitionMovesThem() {
        var items = Array(0..<12).map { (key: $0 % 2, id: $0) }
        PartialQuicksort.sort(&items, keeping: 0, through: 2) { $0.key == $1.key ? 0 : ($0.key > $1.key ? 1 : -1) }
        #expect(items.prefix(6).allSatisfy { $0.key == 0 })
        #expect(items.map(\.id) != [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])
    }
}
