/// A set of disjoint byte ranges, kept sorted.
struct IntervalSet {
    private var ranges: [(Int, Int)] = []

    init() {}
    init(_ r: Range<Int>) { if !r.isEmpty { ranges = [(r.lowerBound, r.upperBound)] } }

    var isEmpty: Bool { ranges.isEmpty }

    /// Makes the set `r` alone, keeping its memory.
    mutating func reset(_ r: Range<Int>) {
        ranges.removeAll(keepingCapacity: true)
        if !r.isEmpty { ranges.append((r.lowerBound, r.upperBound)) }
    }

    /// Whether [lo, hi) lies inside one range of the set.
    func contains(_ lo: Int, _ hi: Int) -> Bool {
        ranges.contains { $0.0 <= lo && hi <= $0.1 }
    }

    /// The parts of the set inside [lo, hi).
    func pieces(_ lo: Int, _ hi: Int) -> [(Int, Int)] {
        ranges.compactMap { r in
            let a = max(r.0, lo), b = min(r.1, hi)
            return a < b ? (a, b) : nil
        }
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
}
