import Foundation
import TorusCore

/// The α-β-γ cost model of DESIGN §3, extended to the torus algorithms: α seconds per message
/// step, β seconds per byte on one link, γ seconds per byte reduced.
public struct CostModel: Hashable, Codable, Sendable {
    public var alpha: Double
    public var beta: Double
    public var gamma: Double

    /// α = 5 µs, 1/β = 5 GB/s, 1/γ = 10 GB/s: a generic cluster node.
    public static let generic = CostModel(alpha: 5e-6, beta: 1 / 5e9, gamma: 1 / 10e9)

    public init(alpha: Double, beta: Double, gamma: Double) {
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
    }

    /// Estimated seconds for an AllReduce of `bytes` bytes on the group.
    public func estimate(_ algorithm: Algorithm, topology: GroupTopology, bytes: Int) -> Double {
        let p = Double(topology.size), n = Double(bytes)
        guard topology.size > 1 else { return 0 }
        let share = (p - 1) / p
        let log2p = ceil(log2(p))
        let folded = topology.size & (topology.size - 1) == 0 ? 0 : 2 * (alpha + n * beta)
        let axes = topology.grid.dims.filter { $0 > 1 }
        switch algorithm {
        case .ring:
            return 2 * (p - 1) * alpha + 2 * share * n * beta + share * n * gamma
        case .bidirectionalRing:
            return 2 * (p - 1) * alpha + share * n * beta + share * n * gamma
        case .sixRing:
            let steps = 2 * Double(axes.reduce(0) { $0 + $1 - 1 })
            let links = Double(2 * axes.count)
            return steps * alpha + 2 * share * n / links * beta + share * n * gamma
        case .recursiveDoubling:
            return log2p * (alpha + n * beta + n * gamma) + folded
        case .rabenseifner:
            return 2 * log2p * alpha + 2 * share * n * beta + share * n * gamma + folded
        case .reduceBroadcast:
            let depth = Double(axes.reduce(0) { $0 + $1 / 2 })
            return 2 * depth * alpha + 2 * n * beta + n * gamma
        }
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

    /// The cheapest candidate, and an explanation listing every estimate.
    public func choose(topology: GroupTopology, bytes: Int) -> (Algorithm, String) {
        let estimates = candidates.map { ($0, model.estimate($0, topology: topology, bytes: bytes)) }
        let best = estimates.min { $0.1 < $1.1 }!.0
        let list = estimates.sorted { $0.1 < $1.1 }
            .map { String(format: "%@ %.1f us", $0.0.rawValue, $0.1 * 1e6) }.joined(separator: ", ")
        return (best, "\(best.rawValue) for \(bytes) bytes on \(topology): estimates \(list)")
    }
}
