/// Choosing `count` distinct elements of a collection uniformly, as SRANDMEMBER, HRANDFIELD and
/// SPOP with a positive count do, in time proportional to `count`, not to the collection.
///
/// When `count` is a large part of the collection (more than a third, Redis's own cut-off) the
/// elements are listed once and the first `count` of a partial Fisher–Yates shuffle are taken;
/// that listing costs at most three times `count`. Otherwise single random draws are repeated
/// until `count` distinct ones were seen: at least two thirds of the draws are new, so the
/// expected number of draws stays below 1.5 × `count`.
@usableFromInline
func sampleDistinct<T: Hashable>(
    count: Int, size: Int, using rng: inout FastRandom, all: () -> [T], draw: (inout FastRandom) -> T
) -> [T] {
    precondition(count < size)
    if count * 3 > size {
        var items = all()
        for i in 0..<count { items.swapAt(i, Int.random(in: i..<items.count, using: &rng)) }
        return Array(items.prefix(count))
    }
    var seen = Set<T>(minimumCapacity: count)
    var picked: [T] = []
    picked.reserveCapacity(count)
    while picked.count < count {
        let element = draw(&rng)
        if seen.insert(element).inserted { picked.append(element) }
    }
    return picked
}
