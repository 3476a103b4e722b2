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

/// Picks the algorithm for a call from the group's shape, the message size and the cost model,
/// and says why.
public struct AlgorithmSelection: Sendable {
    public var model: CostModel
    /// Algorithms considered.
    public var candidates: [Algorithm]

    public init(model: CostModel = .generic, candidates: [Algorithm] = Algorithm.allCases) {
        self.model = model
        self.candidates = candidates
    }

    /// The cheapest candidate, and an explanation listing every estimate. For a ReduceScatter or
    /// AllGather (`bytes`: the whole buffer, p blocks) the candidates are those that run the half
    /// on the group (`CostModel.estimate(_:_:…)`); ring runs any group when no candidate can.
    public func choose(_ collective: Collective = .allReduce, topology: GroupTopology, bytes: Int) -> (Algorithm, String) {
        let able = candidates.filter { $0.unavailable(collective, topology: topology) == nil }
        let estimates = (able.isEmpty ? [.ring] : able).map { ($0, model.estimate($0, collective, topology: topology, bytes: bytes)) }
        let best = estimates.min { $0.1 < $1.1 }!.0
        let list = estimates.sorted { $0.1 < $1.1 }
            .map { String(format: "%@ %.1f us", $0.0.rawValue, $0.1 * 1e6) }.joined(separator: ", ")
        let what = collective == .allReduce ? "" : " (\(collective))"
        return (best, "\(best.rawValue)\(what) for \(bytes) bytes on \(topology): estimates \(list)")
    }
}
