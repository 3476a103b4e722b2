import Foundation
import TorusCore

/// Per-axis reduce to a root, then broadcast back (the pipelined "Trinary" style, a baseline).
///
/// Axis by axis (X, then Y among the ranks at x = 0, then Z among those at x = y = 0) each line
/// reduces towards coordinate 0 along two chains, one from each side of the ring (coordinates
/// 1…L/2 pass to c − 1, the rest to c + 1 round the wrap), so the root has the total; the broadcast
/// retraces the chains in reverse. Whole-buffer steps are cut into segments by the executor, so a
/// chain is a pipeline: segment k moves on while segment k + 1 is reduced.
public enum ReduceBroadcastAllReduce: AllReduceAlgorithm {
    public static let name = "reduce-broadcast"
    public static let aliases = ["reducebroadcast", "trinary"]
    public static let summary = "per-axis pipelined reduce to a root and broadcast back (the Trinary style)"

    /// Chains of half an axis each way, reduce then broadcast, the whole buffer on each link.
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        let n = Double(bytes)
        let depth = Double(topology.grid.dims.filter { $0 > 1 }.reduce(0) { $0 + $1 / 2 })
        return 2 * depth * m.alpha + 2 * n * m.beta + n * m.gamma
    }

    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        let grid = topology.grid
        let c = topology.gridCoordinate(of: rank)
        let all = 0..<count
        var b = StreamBuilder(label: "reduce-broadcast", slots: 1)
        let axes = (0..<grid.axisCount).filter { grid.dims[$0] > 1 }
        // A rank takes part in the phase of `axis` when its coordinates on all earlier axes are 0.
        let takesPart = { (axis: Int) in axes.filter { $0 < axis }.allSatisfy { c[$0] == 0 } }
        for axis in axes where takesPart(axis) {
            let l = grid.dims[axis]
            for child in children(of: c[axis], length: l) {
                b.recvReduce(all, from: rankAt(c, axis: axis, coordinate: child, topology))
            }
            if let p = parent(of: c[axis], length: l) { b.send(all, to: rankAt(c, axis: axis, coordinate: p, topology)) }
        }
        for axis in axes.reversed() where takesPart(axis) {
            let l = grid.dims[axis]
            if let p = parent(of: c[axis], length: l) { b.recv(all, from: rankAt(c, axis: axis, coordinate: p, topology)) }
            for child in children(of: c[axis], length: l) {
                b.send(all, to: rankAt(c, axis: axis, coordinate: child, topology))
            }
        }
        return placeStreams([b])
    }

    /// The next coordinate towards the root 0, or nil at the root.
    static func parent(of x: Int, length l: Int) -> Int? {
        if x == 0 { return nil }
        return x <= l / 2 ? x - 1 : (x + 1) % l
    }

    static func children(of x: Int, length l: Int) -> [Int] {
        (0..<l).filter { parent(of: $0, length: l) == x }
    }

    static func rankAt(_ c: [Int], axis: Int, coordinate: Int, _ topology: GroupTopology) -> Int {
        var d = c
        d[axis] = coordinate
        return topology.rankAt[topology.grid.unsafeNode(at: d)]
    }
}

extension Algorithm {
    public static let reduceBroadcast = Algorithm(ReduceBroadcastAllReduce.self)
}
