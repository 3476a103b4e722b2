/// A set of disjoint byte ranges, kept sorted.
struct IntervalSet {
    /// In one manually managed buffer (`UnsafeList`): the set moves between a run and its cached
    /// tables on every call, and an array paid reference counting and uniqueness checks each time.
    /// Its owner (`RunStorage`) calls `free()` once.
    private var ranges = UnsafeList<(Int, Int)>(capacity: 4)

    init() {}
    init(_ r: Range<Int>) { reset(r) }

    var isEmpty: Bool { ranges.isEmpty }

    /// Makes the set `r` alone, keeping its memory.
    mutating func reset(_ r: Range<Int>) {
        ranges.removeAll()
        if !r.isEmpty { ranges.append((r.lowerBound, r.upperBound)) }
    }

    /// Whether [lo, hi) lies inside one range of the set.
    func contains(_ lo: Int, _ hi: Int) -> Bool {
        for i in 0 ..< ranges.count where ranges[i].0 <= lo && hi <= ranges[i].1 { return true }
        return false
    }

    /// Calls `body` with each part of the set inside [lo, hi), in order.
    func forEachPiece(_ lo: Int, _ hi: Int, _ body: (Int, Int) -> Void) {
        for i in 0 ..< ranges.count {
            let a = max(ranges[i].0, lo), b = min(ranges[i].1, hi)
            if a < b { body(a, b) }
        }
    }

    /// The parts of the set inside [lo, hi).
    func pieces(_ lo: Int, _ hi: Int) -> [(Int, Int)] {
        var found: [(Int, Int)] = []
        forEachPiece(lo, hi) { found.append(($0, $1)) }
        return found
    }

    /// Removes [lo, hi) from the set, in place.
    mutating func remove(_ lo: Int, _ hi: Int) {
        guard lo < hi else { return }
        var i = 0
        while i < ranges.count {
            let r = ranges[i]
            if r.1 <= lo || hi <= r.0 {
                i += 1
            } else if r.0 < lo && hi < r.1 {
                ranges[i] = (r.0, lo)
                ranges.insert((hi, r.1), at: i + 1)
                return
            } else if r.0 < lo {
                ranges[i] = (r.0, lo)
                i += 1
            } else if hi < r.1 {
                ranges[i] = (hi, r.1)
                i += 1
            } else {
                ranges.remove(at: i)
            }
        }
    }

    /// Frees the memory; the set (and every copy) is unusable afterwards.
    func free() { ranges.free() }
}
