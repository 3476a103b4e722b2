import Foundation
import TorusCore

/// The six-direction ring AllReduce (DESIGN §2).
///
/// The buffer is split into six parts. On a cube they are equal: part 2i runs in the + direction and
/// part 2i+1 in the − direction, and pair i takes the axis order rotated by i: (X,Y,Z), (Y,Z,X),
/// (Z,X,Y). At every step the six parts then use six different directed links of every node. On
/// other boxes `SixRingPlan` chooses each part's direction, axis order and share so that every
/// directed link carries the same bytes (the rule and its math are there). Each part does one
/// ring reduce-scatter phase per axis of its order, each leaving the rank with the piece of its
/// block indexed by its coordinate on that axis (the block of the next phase), then the ring
/// all-gather phases in reverse. Axes of length 1 are skipped.
public enum SixRingAllReduce: AllReduceAlgorithm {
    public static let name = "sixring"
    public static let aliases = ["six-ring"]
    public static let summary = "six parts, three axes, both directions: all six links of a node busy at every step"
    public static let proofs: Set<AlgorithmProof> = [.distinctLinksPerPhase]
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
        streams(topology: topology, rank: rank, count: count, plan: SixRingPlan.of(dims: topology.grid.dims, count: count))
    }

    /// A crossing plan's (`SixRingPlan.segmentLimitElements`); `count` is the data buffer's
    /// elements, as the plan is chosen for the AllReduce and for either half.
    public static func segmentLimitElements(topology: GroupTopology, count: Int) -> Int? {
        SixRingPlan.of(dims: topology.grid.dims, count: count).segmentLimitElements(count: count)
    }

    /// The streams of `plan`'s parts (tests give a plan of their own, to prove tuned plans at
    /// counts the verifier can hold): an AllReduce of `count` elements, or one half
    /// (`.reduceScatter`, `.allGather`) on a buffer of `count` = p·c elements.
    static func streams(topology: GroupTopology, rank: Int, count: Int, plan: SixRingPlan,
                        collective: Collective = .allReduce) -> (streams: [Stream], scratch: Int) {
        let grid = topology.grid
        let coordinate = topology.gridCoordinate(of: rank)
        var builders: [StreamBuilder] = []
        for (part, planned) in plan.parts.enumerated() {
            let direction = planned.direction, order = planned.order
            var b = StreamBuilder(label: "part \(part) \(direction)" + order.map { TorusShape.axisName($0) }.joined(separator: ","))
            // blocks[s] is the block this rank works on in phase s; the last is what it owns at the end.
            let blocks = reduceScatterBlocks(partRange(plan, part, count: count, collective: collective, ranks: topology.size),
                                             planned, topology: topology, rank: rank, coordinate: coordinate)
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
            if collective != .allGather {
                for (s, axis) in order.enumerated() {
                    let (pieces, position, next, previous) = ring(axis: axis, direction: direction, block: blocks[s],
                                                                  topology: topology, rank: rank, coordinate: coordinate)
                    b.ringReduceScatter(pieces, position: position, next: next, previous: previous, split: split(s, first: 1))
                }
            }
            if collective == .reduceScatter {
                builders.append(b)   // the reduce-scatter alone: this rank's block is blocks.last
                continue
            }
            if planned.gatherOrder == Array(order.reversed()) {
                for (s, axis) in order.enumerated().reversed() {
                    let (pieces, position, next, previous) = ring(axis: axis, direction: direction, block: blocks[s],
                                                                  topology: topology, rank: rank, coordinate: coordinate)
                    b.ringAllGather(pieces, position: position, next: next, previous: previous, split: split(s, first: 0))
                }
            } else {
                // The rank owns the block whose sub-index on each axis a is −(ring position) mod n_a.
                // Gathering along axis g, ring position j holds the blocks with sub-index −j on g, any
                // on the axes gathered before, and the rank's own on the rest.
                var own: [Int: Int] = [:]
                for axis in order {
                    own[axis] = mod(-ring(axis: axis, direction: direction, block: 0..<0, topology: topology,
                                          rank: rank, coordinate: coordinate).1, grid.dims[axis])
                }
                var gathered = Set<Int>()
                for axis in planned.gatherOrder {
                    let (_, position, next, previous) = ring(axis: axis, direction: direction, block: 0..<0,
                                                             topology: topology, rank: rank, coordinate: coordinate)
                    let n = grid.dims[axis]
                    let pieces = (0..<n).map { j in
                        blockRanges(blocks[0], order: order, dims: grid.dims) { a in
                            a == axis ? [mod(-j, n)] : gathered.contains(a) ? Array(0..<grid.dims[a]) : [own[a]!]
                        }
                    }
                    b.ringAllGather(pieces: pieces, position: position, next: next, previous: previous)
                    gathered.insert(axis)
                }
            }
            builders.append(b)
        }
        return placeStreams(builders)
    }

    /// The blocks a rank works on in each reduce-scatter phase of a part, from the part's range
    /// to the block it owns at the end (the last).
    static func reduceScatterBlocks(_ part: Range<Int>, _ planned: SixRingPlan.Part, topology: GroupTopology, rank: Int,
                                    coordinate: [Int]) -> [Range<Int>] {
        var blocks = [part]
        for axis in planned.order {
            let (pieces, position, _, _) = ring(axis: axis, direction: planned.direction, block: blocks.last!,
                                                topology: topology, rank: rank, coordinate: coordinate)
            blocks.append(pieces[position])
        }
        return blocks
    }

    /// Part `part`'s range. For the halves alone the parts are p times the parts of one block, so
    /// that every phase cuts exactly and each rank's share of every part is the part's c-th.
    static func partRange(_ plan: SixRingPlan, _ part: Int, count: Int, collective: Collective, ranks p: Int) -> Range<Int> {
        guard collective != .allReduce else { return plan.range(of: part, count: count) }
        let r = plan.range(of: part, count: count / p)
        return r.lowerBound * p ..< r.upperBound * p
    }

    /// The ranges, in memory order and merged where adjacent, of the blocks of `part` whose sub-index
    /// on each axis of `order` is one of `allowed(axis)`; the reduce-scatter along `order` nests
    /// them, the first axis outermost, each level cut by `Partition.piece`.
    static func blockRanges(_ part: Range<Int>, order: [Int], dims: [Int], allowed: (Int) -> [Int]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        func walk(_ level: Int, _ block: Range<Int>) {
            guard level < order.count else {
                if block.isEmpty { return }
                if let last = ranges.last, last.upperBound == block.lowerBound {
                    ranges[ranges.count - 1] = last.lowerBound ..< block.upperBound
                } else {
                    ranges.append(block)
                }
                return
            }
            for s in allowed(order[level]).sorted() { walk(level + 1, Partition.piece(s, of: dims[order[level]], in: block)) }
        }
        walk(0, part)
        return ranges
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

extension SixRingAllReduce: ReduceScatterAllGather {
    public static func halfStreams(_ half: Collective, topology: GroupTopology, rank: Int, blockCount: Int) -> (streams: [Stream], scratch: Int) {
        let count = topology.size * blockCount
        return streams(topology: topology, rank: rank, count: count, plan: SixRingPlan.of(dims: topology.grid.dims, count: count),
                       collective: half)
    }

    /// In rank order a piece of a phase holds one range per rank whose block it covers: along the
    /// k-th axis of a part's order, n_k − 1 steps of p / (n_1⋯n_k) ranges each; six parts.
    public static func halfSteps(topology: GroupTopology) -> Double {
        let axes = topology.grid.dims.filter { $0 > 1 }
        var covered = Double(topology.size), steps = 0.0
        for n in axes {
            covered /= Double(n)
            steps += Double(n - 1) * max(1, covered)
        }
        return Double(SixRingPlan.partCount) * steps
    }

    public static func blockRanges(topology: GroupTopology, rank: Int, blockCount: Int) -> [Range<Int>] {
        blockRanges(topology: topology, rank: rank, blockCount: blockCount,
                    plan: SixRingPlan.of(dims: topology.grid.dims, count: topology.size * blockCount))
    }

    /// One range per part of `plan`: the block of the part this rank owns after the reduce-scatter.
    static func blockRanges(topology: GroupTopology, rank: Int, blockCount: Int, plan: SixRingPlan) -> [Range<Int>] {
        let count = topology.size * blockCount
        let coordinate = topology.gridCoordinate(of: rank)
        return plan.parts.indices.map { part in
            reduceScatterBlocks(partRange(plan, part, count: count, collective: .reduceScatter, ranks: topology.size), plan.parts[part],
                                topology: topology, rank: rank, coordinate: coordinate).last!
        }
    }
}

extension Algorithm {
    public static let sixRing = Algorithm(SixRingAllReduce.self)
}
