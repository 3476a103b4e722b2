import Foundation
import TorusCore

/// The six-direction ring AllReduce (DESIGN §2).
///
/// The buffer is split into six balanced parts. Part 2i runs in the + direction and part 2i+1 in
/// the − direction; pair i takes the axis order rotated by i: (X,Y,Z), (Y,Z,X), (Z,X,Y). Each part
/// does three ring reduce-scatter phases, one per axis of its order, each leaving the rank with
/// the piece of its block indexed by its coordinate on that axis (the block of the next phase),
/// then three ring all-gather phases in reverse. At every step the six parts use six different
/// directed links of every node; axes of length 1 are skipped.
public enum SixRingAllReduce: AllReduceAlgorithm {
    public static let name = "sixring"
    public static let aliases = ["six-ring"]
    public static let summary = "six parts, three axes, both directions: all six links of a node busy at every step"
    public static let proofs: Set<AlgorithmProof> = [.distinctLinksPerPhase]
    static let parts = 6

    /// 2·Σ(k − 1) steps over the axes longer than 1, the bytes spread over the links a node drives
    /// (`TorusShape.directedLinksPerNode`, as in the bound).
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        let p = Double(topology.size), n = Double(bytes), share = (p - 1) / p
        let axes = topology.grid.dims.filter { $0 > 1 }
        let steps = 2 * Double(axes.reduce(0) { $0 + $1 - 1 })
        let links = Double(max(1, topology.grid.directedLinksPerNode))
        return steps * m.alpha + 2 * share * n / links * m.beta + share * n * m.gamma
    }

    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        let grid = topology.grid
        let coordinate = topology.gridCoordinate(of: rank)
        let axes = Array(0..<3).map { $0 < grid.axisCount ? $0 : -1 }
        var builders: [StreamBuilder] = []
        for part in 0..<parts {
            let pair = part / 2
            let direction: Direction = part % 2 == 0 ? .plus : .minus
            let order = (0..<3).map { axes[($0 + pair) % 3] }.filter { $0 >= 0 && grid.dims[$0] > 1 }
            var b = StreamBuilder(label: "part \(part) \(direction)" + order.map { TorusShape.axisName($0) }.joined(separator: ","))
            // blocks[s] is the block this rank works on in phase s; blocks[3] is what it owns at the end.
            var blocks = [Partition.piece(part, of: parts, in: 0..<count)]
            // Phase boundaries pipeline: the last reduce-scatter step of a phase moves its piece
            // starting with the sub-piece the next phase sends first (ring position − 1 on the next
            // axis), and every all-gather step starting with the sub-piece the previous phase
            // completed first (the rank's own); both orders then run up through memory and wrap, so a
            // piece moves as two ranges. Ring neighbours on one axis share their position on every
            // other axis, so sender and receiver cut alike.
            func split(_ s: Int, first: Int) -> ((Range<Int>) -> [Range<Int>])? {
                guard s + 1 < order.count else { return nil }
                return { range in
                    let (pieces, position, _, _) = ring(axis: order[s + 1], direction: direction, block: range,
                                                        topology: topology, rank: rank, coordinate: coordinate)
                    let cut = pieces[mod(position - first, pieces.count)].lowerBound
                    return [cut ..< range.upperBound, range.lowerBound ..< cut]
                }
            }
            for (s, axis) in order.enumerated() {
                let (pieces, position, next, previous) = ring(axis: axis, direction: direction, block: blocks.last!,
                                                              topology: topology, rank: rank, coordinate: coordinate)
                b.ringReduceScatter(pieces, position: position, next: next, previous: previous, split: split(s, first: 1))
                blocks.append(pieces[position])
            }
            for (s, axis) in order.enumerated().reversed() {
                let (pieces, position, next, previous) = ring(axis: axis, direction: direction, block: blocks[s],
                                                              topology: topology, rank: rank, coordinate: coordinate)
                b.ringAllGather(pieces, position: position, next: next, previous: previous, split: split(s, first: 0))
            }
            builders.append(b)
        }
        return placeStreams(builders)
    }

    /// The ring along `axis` in `direction` through this rank: the block's pieces in ring order, this
    /// rank's ring position, and its ring neighbours. In the − direction ring positions run
    /// backwards (position = −coordinate mod L). In both directions the piece at ring position j is
    /// piece −j mod L of the block, so the pieces a ring step sends (positions c−1, c−2, …) lie
    /// one after another upward in memory, which lets phase boundaries pipeline (see `split`).
    static func ring(axis: Int, direction: Direction, block: Range<Int>, topology: GroupTopology, rank: Int,
                     coordinate: [Int]) -> ([Range<Int>], Int, Int, Int) {
        let l = topology.grid.dims[axis]
        let c = coordinate[axis]
        let pieceAt = { (position: Int) -> Range<Int> in
            Partition.piece(mod(-position, l), of: l, in: block)
        }
        let pieces = (0..<l).map(pieceAt)
        let position = direction == .plus ? c : mod(-c, l)
        return (pieces, position,
                topology.neighbor(of: rank, axis: axis, direction: direction),
                topology.neighbor(of: rank, axis: axis, direction: direction.opposite))
    }
}

extension Algorithm {
    public static let sixRing = Algorithm(SixRingAllReduce.self)
}
