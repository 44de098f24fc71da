/// The order Redis's `pqsort` leaves: the quicksort of Bentley and McIlroy's "Engineering a
/// Sort Function" (median-of-three pivots, a ninther above 40 elements, equal elements gathered
/// at both ends and moved to the middle, insertion sort below 7 elements), which only goes into
/// the parts that overlap a range of positions. Redis 7.0.15 does not switch to insertion sort
/// when a partition moved nothing (the BSD original does): its replies show it.
///
/// GEOSEARCH and GEORADIUS sort with it when COUNT keeps fewer results than were found: equal
/// distances (members at one place) then come out in the order this exact sequence of swaps
/// leaves them, not in the order found, and replies must list the same members as Redis's.
enum PartialQuicksort {
    /// Reorders `items` so that positions `lower` through `upper` hold what a full sort would
    /// put there, equal elements placed as Redis's pqsort places them (`upper` may be
    /// `lower - 1`, as SORT's LIMIT past the end makes it: then only parts around `lower` are
    /// sorted, as by Redis). `compare` answers -1, 0 or 1.
    static func sort<T>(_ items: inout [T], keeping lower: Int, through upper: Int, by compare: (T, T) -> Int) {
        items.withUnsafeMutableBufferPointer { buffer in
            sort(buffer, from: 0, count: buffer.count, keeping: (lower, upper), compare)
        }
    }

    private static func sort<T>(_ a: UnsafeMutableBufferPointer<T>, from first: Int, count: Int,
                                keeping range: (lower: Int, upper: Int), _ compare: (T, T) -> Int) {
        var start = first, n = count
        while true {
            if n < 7 { return insertionSort(a, from: start, count: n, compare) }
            var pivot = start + n / 2
            if n > 7 {
                var low = start, high = start + n - 1
                if n > 40 {
                    let d = n / 8
                    low = median(a, low, low + d, low + 2 * d, compare)
                    pivot = median(a, pivot - d, pivot, pivot + d, compare)
                    high = median(a, high - 2 * d, high - d, high, compare)
                }
                pivot = median(a, low, pivot, high, compare)
            }
            a.swapAt(start, pivot)
            // [start+1, equalLow): equal to the pivot; [equalLow, below): smaller;
            // (above, equalHigh]: larger; (equalHigh, end): equal.
            var equalLow = start + 1, below = equalLow
            var above = start + n - 1, equalHigh = above
            while true {
                while below <= above {
                    let order = compare(a[below], a[start])
                    if order > 0 { break }
                    if order == 0 {
                        a.swapAt(equalLow, below)
                        equalLow += 1
                    }
                    below += 1
                }
                while below <= above {
                    let order = compare(a[above], a[start])
                    if order < 0 { break }
                    if order == 0 {
                        a.swapAt(above, equalHigh)
                        equalHigh -= 1
                    }
                    above -= 1
                }
                if below > above { break }
                a.swapAt(below, above)
                below += 1
                above -= 1
            }
            let end = start + n
            var r = min(equalLow - start, below - equalLow)
            swapBlocks(a, start, below - r, r)
            r = min(equalHigh - above, end - equalHigh - 1)
            swapBlocks(a, below, end - r, r)
            let smaller = below - equalLow
            if smaller > 1 && overlaps(start, smaller, range) {
                sort(a, from: start, count: smaller, keeping: range, compare)
            }
            let larger = equalHigh - above
            guard larger > 1 else { return }
            start = end - larger
            n = larger
            guard overlaps(start, n, range) else { return }
        }
    }

    /// False when both ends of the range lie before the part or both after it (Redis's test,
    /// which an empty range, `upper` = `lower - 1`, can pass).
    private static func overlaps(_ start: Int, _ count: Int, _ range: (lower: Int, upper: Int)) -> Bool {
        let before = range.lower < start && range.upper < start
        let after = range.lower >= start + count && range.upper >= start + count
        return !(before || after)
    }

    private static func insertionSort<T>(_ a: UnsafeMutableBufferPointer<T>, from start: Int, count: Int,
                                         _ compare: (T, T) -> Int) {
        guard count > 1 else { return }
        for i in start + 1 ..< start + count {
            var j = i
            while j > start && compare(a[j - 1], a[j]) > 0 {
                a.swapAt(j, j - 1)
                j -= 1
            }
        }
    }

    private static func median<T>(_ a: UnsafeMutableBufferPointer<T>, _ x: Int, _ y: Int, _ z: Int,
                                  _ compare: (T, T) -> Int) -> Int {
        if compare(a[x], a[y]) < 0 {
            if compare(a[y], a[z]) < 0 { return y }
            return compare(a[x], a[z]) < 0 ? z : x
        }
        if compare(a[y], a[z]) > 0 { return y }
        return compare(a[x], a[z]) < 0 ? x : z
    }

    /// Swaps `count` elements from `x` with as many from `y` (the two runs do not overlap).
    private static func swapBlocks<T>(_ a: UnsafeMutableBufferPointer<T>, _ x: Int, _ y: Int, _ count: Int) {
        for k in 0..<max(count, 0) { a.swapAt(x + k, y + k) }
    }
}
