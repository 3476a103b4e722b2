import Foundation
import TorusSchedules

/// `TORUS_TUNE=N`: the first calls of each AllReduce size time the routes a calibrated model cannot
/// tell apart, and the rest take the one measured fastest (as Intel MPI's `I_MPI_TUNING_MODE=auto`).
///
/// A model is measured once, in one state of the machine; this project's 2-core VM has two states
/// (its two vCPUs sharing a cache or not, README) in which the order of the ring-like schedules and
/// recursive doubling turns over between 256 KiB and 2 MiB. A trial looks at the machine as the job
/// finds it: the candidates (`AlgorithmSelection.closeCandidates`: within 1.5 times the cheapest
/// estimate, one per estimate, at most four) run in blocks of one untimed call (its schedule
/// built, its pages touched) and `N` timed calls in a row, in the order of their estimates and then
/// back (A B C C B A). In a row, because a route that alternates with another call by call runs
/// with the other's data in the cache, not as it will run once chosen (on the 2-core VM recursive
/// doubling of 32 KiB took 24–27 µs so and 13.5 µs in a row); twice and back, because the first
/// block of a new size is slow for reasons of its own (MPI's AllReduce of 4 KiB took 6–8 µs in it
/// and 2.3–2.8 µs later). A candidate's time on a rank is the lower of its two blocks' medians; the
/// ranks agree on the slowest rank's times (one AllReduce of as many doubles, max), and the
/// cheapest wins on every rank alike. Every rank makes the same calls in the same order, so all
/// reach the agreement in the same call.
struct RouteTrial: Sendable {
    let candidates: [AllReduceRoute]
    /// The model's estimates, seconds (for the report).
    let estimates: [Double]
    /// Timed calls per block (`N`; a candidate runs two blocks).
    let timedRounds: Int
    /// Calls made in the trial so far.
    private(set) var calls = 0
    /// Per block (`blockCandidate`), the seconds of its timed calls on this rank.
    private(set) var times: [[Double]]
    /// The route measured fastest, and the report, once the trial is over.
    var result: (route: AllReduceRoute, why: String)?

    init(candidates: [AllReduceRoute], estimates: [Double], timedRounds: Int) {
        precondition(candidates.count >= 2 && candidates.count == estimates.count && timedRounds >= 1)
        self.candidates = candidates
        self.estimates = estimates
        self.timedRounds = timedRounds
        times = Array(repeating: [], count: 2 * candidates.count)
    }

    /// The candidate block `b` runs: 0, 1, …, m − 1, then m − 1, …, 0.
    func blockCandidate(_ b: Int) -> Int { b < candidates.count ? b : 2 * candidates.count - 1 - b }

    /// The route of the next call.
    var next: AllReduceRoute { candidates[blockCandidate(calls / (timedRounds + 1))] }

    /// Records the seconds of the call just made on `next`; a block's first call is not kept.
    mutating func record(_ seconds: Double) {
        if calls % (timedRounds + 1) != 0 { times[calls / (timedRounds + 1)].append(seconds) }
        calls += 1
    }

    /// Calls in the trial: two blocks per candidate.
    var length: Int { 2 * candidates.count * (timedRounds + 1) }

    /// Whether every block has run (the ranks then agree: `settle`).
    var isTimed: Bool { calls >= length }

    /// This rank's time of each candidate: the lower of its two blocks' medians.
    var medians: [Double] {
        func median(_ t: [Double]) -> Double {
            let sorted = t.sorted()
            return sorted.isEmpty ? .infinity : sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        return candidates.indices.map { c in min(median(times[c]), median(times[2 * candidates.count - 1 - c])) }
    }

    /// Ends the trial with the slowest rank's medians (the same on every rank): the cheapest wins,
    /// the earlier candidate (the cheaper estimate) on a tie.
    mutating func settle(slowest: [Double], bytes: Int) {
        precondition(slowest.count == candidates.count)
        let best = slowest.indices.min { (slowest[$0], $0) < (slowest[$1], $1) }!
        let measured = candidates.indices.map { i in
            "\(candidates[i]) \(Self.micro(slowest[i])) (estimated \(Self.micro(estimates[i])))"
        }.joined(separator: ", ")
        result = (candidates[best], "\(candidates[best]) for \(bytes) bytes: measured \(measured); "
                  + "the lower of two medians of \(timedRounds) calls each, slowest rank (TORUS_TUNE)")
    }

    private static func micro(_ seconds: Double) -> String {
        String(format: seconds < 1e-5 ? "%.2f us" : "%.1f us", seconds * 1e6)
    }
}
