import Foundation
import TorusCore

/// The α-β-γ cost model of DESIGN §3, extended to the torus algorithms: α seconds per message
/// step, β seconds per byte on one link, γ seconds per byte reduced.
public struct CostModel: Hashable, Codable, Sendable {
    public var alpha: Double
    public var beta: Double
    public var gamma: Double

    /// The generic cluster node of `MachineFigures.generic` (α = 2.5 µs, 1/β = 12.5 GB/s, 1/γ = 10 GB/s).
    public static let generic = CostModel(.generic)

    /// α = software overhead + link latency, β = 1 / link bandwidth, γ = 1 / the node's reduction rate.
    public init(_ machine: MachineFigures) {
        self.init(alpha: machine.softwareOverhead + machine.linkLatency, beta: 1 / machine.linkBandwidth, gamma: 1 / machine.reductionRate)
    }

    public init(alpha: Double, beta: Double, gamma: Double) {
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
    }

    /// Estimated seconds for an AllReduce of `bytes` bytes on the group (each algorithm's own formula).
    public func estimate(_ algorithm: Algorithm, topology: GroupTopology, bytes: Int) -> Double {
        topology.size > 1 ? algorithm.implementation.estimate(self, topology: topology, bytes: bytes) : 0
    }

    /// The extra cost of folding a group whose size is not a power of two onto one (recursive algorithms).
    func foldCost(_ topology: GroupTopology, bytes: Int) -> Double {
        topology.size & (topology.size - 1) == 0 ? 0 : 2 * (alpha + Double(bytes) * beta)
    }
}

/// Costs measured on the machine (`TORUS_MODEL=FILE`, written by `torus-bench --calibrate`):
/// estimates for every candidate, the backend library's own call among them.
public protocol CalibratedCosts: Sendable {
    /// What was measured, where (for `TORUS_VERBOSE`).
    var summary: String { get }
    /// Seconds for `collective` of `bytes` (the whole buffer) by `algorithm` on the group.
    func seconds(_ algorithm: Algorithm, _ collective: Collective, topology: GroupTopology, bytes: Int) -> Double
    /// Seconds for the library's own call on `ranks` ranks, if it was measured (nil: the size
    /// threshold decides between the library and the schedules).
    func librarySeconds(_ collective: Collective, ranks: Int, bytes: Int) -> Double?
}

/// Picks the algorithm for a call from the group's shape, the message size and the cost model,
/// and says why.
public struct AlgorithmSelection: Sendable {
    public var model: CostModel
    /// Algorithms considered.
    public var candidates: [Algorithm]
    /// A measured model; when set, it estimates the candidates instead of `model`, and the library
    /// competes with them (`chooseCalibrated`).
    public var calibrated: (any CalibratedCosts)?

    public init(model: CostModel = .generic, candidates: [Algorithm] = Algorithm.allCases, calibrated: (any CalibratedCosts)? = nil) {
        self.model = model
        self.candidates = candidates
        self.calibrated = calibrated
    }

    /// The cheapest candidate, and an explanation listing every estimate. For a ReduceScatter or
    /// AllGather (`bytes`: the whole buffer, p blocks) the candidates are those that run the half
    /// on the group (`CostModel.estimate(_:_:…)`); ring runs any group when no candidate can.
    public func choose(_ collective: Collective = .allReduce, topology: GroupTopology, bytes: Int) -> (Algorithm, String) {
        let estimates = scheduleEstimates(collective, topology: topology, bytes: bytes)
        let best = estimates.min { $0.1 < $1.1 }!.0
        let what = collective == .allReduce ? "" : " (\(collective))"
        return (best, "\(best.rawValue)\(what) for \(bytes) bytes on \(topology): \(calibrated == nil ? "" : "calibrated ")estimates \(Self.list(estimates))")
    }

    /// With a calibrated model that timed the library's call on this many ranks: the cheapest of
    /// the library (nil) and the schedules, and the estimates. Nil without such a model.
    public func chooseCalibrated(_ collective: Collective = .allReduce, topology: GroupTopology, bytes: Int) -> (Algorithm?, String)? {
        guard let estimates = calibratedEstimates(collective, topology: topology, bytes: bytes) else { return nil }
        let best = estimates[0].0
        let what = collective == .allReduce ? "" : " (\(collective))"
        let all = Self.list(estimates)
        return best.map { ($0, "\($0.rawValue)\(what) for \(bytes) bytes on \(topology): calibrated estimates \(all)") }
            ?? (nil, "mpi\(what) for \(bytes) bytes: calibrated estimates \(all)")
    }

    /// With a calibrated model that timed the library's call on this many ranks: the library (nil)
    /// and every schedule with its estimate, cheapest first (the library first on a tie). Nil
    /// without such a model.
    public func calibratedEstimates(_ collective: Collective = .allReduce, topology: GroupTopology, bytes: Int) -> [(Algorithm?, Double)]? {
        guard let calibrated, let library = calibrated.librarySeconds(collective, ranks: topology.size, bytes: bytes) else { return nil }
        let all: [(Algorithm?, Double)] = [(nil, library)] + scheduleEstimates(collective, topology: topology, bytes: bytes).map { ($0.0, $0.1) }
        // A stable sort: equal estimates keep the library, then the candidates' order.
        return all.enumerated().sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element)
    }

    /// How far above the cheapest estimate a candidate is still timed (`closeCandidates`).
    public static let closeFactor = 1.5

    /// The candidates worth timing (`TORUS_TUNE`) among `estimates` (cheapest first): those within
    /// `factor` of the cheapest estimate — the model is not trusted closer than that: on this
    /// project's 2-core VM the order of ring-like schedules and recursive doubling between 256 KiB
    /// and 2 MiB turns over between the machine's two modes, at 1.2–1.3 times (README) — skipping
    /// any whose estimate equals one already taken (the predictor ran the same messages: sixring,
    /// ring and Rabenseifner on two ranks build one schedule), at most `most`.
    public static func closeCandidates(_ estimates: [(Algorithm?, Double)], factor: Double = closeFactor, most: Int = 4) -> [(Algorithm?, Double)] {
        guard let cheapest = estimates.first?.1 else { return [] }
        var taken: [(Algorithm?, Double)] = []
        for e in estimates where e.1 <= cheapest * factor && taken.count < most {
            if !taken.contains(where: { abs($0.1 - e.1) <= 1e-9 * max($0.1, e.1) }) { taken.append(e) }
        }
        return taken
    }

    /// Each candidate that runs `collective` on the group (ring when none does), with its estimate.
    func scheduleEstimates(_ collective: Collective, topology: GroupTopology, bytes: Int) -> [(Algorithm, Double)] {
        let able = candidates.filter { $0.unavailable(collective, topology: topology) == nil }
        return (able.isEmpty ? [.ring] : able).map { a in
            (a, topology.size < 2 ? 0 : calibrated?.seconds(a, collective, topology: topology, bytes: bytes) ?? model.estimate(a, collective, topology: topology, bytes: bytes))
        }
    }

    /// "sixring 1.2 us, mpi 3.4 us, …", cheapest first.
    static func list(_ estimates: [(Algorithm?, Double)]) -> String {
        estimates.sorted { $0.1 < $1.1 }.map { String(format: "%@ %.1f us", $0.0?.rawValue ?? "mpi", $0.1 * 1e6) }.joined(separator: ", ")
    }
}
