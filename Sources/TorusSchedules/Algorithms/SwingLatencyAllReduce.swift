import Foundation
import Synchronization
import TorusCore

/// Swing's latency-optimal form (De Sensi et al., NSDI 2024): log2(p) steps with Swing's partners
/// (`Swing.Pairings`: c ± ρ(k) along an axis, ρ = 1, −1, 3, −5, …), each a whole-buffer exchange,
/// as recursive doubling's — but with partners at most |ρ(k)| ≈ 2^(k+1)/3 hops away instead of 2^k.
///
/// **One order of addition on every rank.** The paper's form adds the partner's running sum to its
/// own. From a ring of 8 on that makes every rank add up in another order (ranks 0 and 1 hold
/// {0,1}; then 0 meets 7, holding {6,7}, and 1 meets 2, holding {2,3}), and floats would differ in
/// the last bits between ranks, which this library never allows. Here every rank computes one tree
/// instead: along an axis of d positions the sum of an aligned block [i·2^l, (i+1)·2^l) is the sum
/// of its two halves, the lower half as the first operand (the order recursive doubling uses). The
/// positions a rank has heard from after step k form a cyclic interval of 2^(k+1) positions, a
/// union of aligned blocks (at most k + 1 on the rings up to 256 checked). A rank keeps one partial
/// sum per block, sends them all, and adds two blocks only once both halves of their parent are in
/// hand. After the axis's last step every rank holds the one block [0, d), summed by the same tree.
/// The axes run one after another (all steps of x, then y, then z), each summing the previous axis's
/// results, so every rank ends with the same bits. Messages carry one buffer per block (on a ring of
/// 8: 1, 1 and 2 at the three steps), so this form suits small buffers, where the α term rules.
/// Where both ranks hold one block and the two are halves of one (rings of 2 and 4, and every axis's
/// first step), the step is recursive doubling's, in place in the data buffer.
///
/// Groups that are boxes of powers of two run on the grid; any other group folds onto a power of two
/// (`PowerOfTwoFold`) and runs one ring in rank order.
public enum SwingLatencyAllReduce: AllReduceAlgorithm {
    public static let name = "swing-latency"
    public static let aliases = ["swinglatency"]
    public static let summary = "Swing's latency-optimal form: log2 p whole-buffer exchanges with peers ±1, ∓1, ±3, … (bit-identical on every rank)"

    /// log2(p)·α as recursive doubling, the messages carrying `Plan.buffersSent` buffers in all
    /// (the blocks' partial sums), and as many reductions.
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        let steps = ceil(log2(Double(topology.size)))
        let buffers = Double(Plan(topology: topology).buffersSent)
        return steps * m.alpha + buffers * Double(bytes) * (m.beta + m.gamma) + m.foldCost(topology, bytes: bytes)
    }

    /// The most elements run at once: a larger buffer runs in chunks of this many, one after
    /// another, so that the scratch — one buffer per block held or received, and a spare: 13
    /// buffers on a ring of 32, 16 on a ring of 64 (2 MiB of float32) — stays bounded at any
    /// count. The form pays off far below it (up to 8 KiB on 4×4×4, `torus sim`).
    static let chunkElements = 32_768

    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        guard count > 0, topology.size > 1 else { return ([Stream(label: "swing-latency", steps: [])], 0) }
        let plan = Plan(topology: topology)
        let pairings = plan.pairings
        let fold = pairings.fold.map { _ in PowerOfTwoFold(size: topology.size, rank: rank) }
        // Scratch, in areas sized for one chunk (a chunk's buffers lie `n` apart in them): the
        // received blocks, two areas of this rank's blocks (taking turns), and a spare.
        let slot = min(count, chunkElements), most = plan.mostBlocks
        let received = 0, areas = [most * slot, 2 * most * slot], spare = 3 * most * slot
        var steps: [Step] = []
        for lo in stride(from: 0, to: count, by: slot) {
            let all = lo ..< min(lo + slot, count), n = all.count
            if let fold, rank < 2 * fold.remainder {
                if rank % 2 == 0 {
                    steps.append(.send(peer: rank + 1, region: .data(all)))
                } else {
                    steps.append(.recvReduce(peer: rank - 1, scratch: .scratch(received, n), target: .data(all)))
                }
            }
            if let me = pairings.virtual(rank, size: topology.size) {
                var t = 0
                for axis in plan.axes {
                    let position = axis.position(of: me, pairings)
                    // This rank's blocks, in ascending order, and where each lies.
                    var held: [(Block, Region)] = [(Block(level: 0, index: position), .data(all))]
                    var area = 0
                    for k in 0..<axis.steps {
                        let peer = pairings.real(pairings.partner(me, t))
                        let theirs = axis.held[k][axis.partner(position, k)]
                        // This rank's blocks go in one message (one block, or an area written in
                        // order), the partner's come into consecutive slots.
                        let first = held[0].1
                        steps.append(.send(peer: peer, region: Region(first.buffer, first.offset, held.count * n)))
                        let merged = Block.merge(held.map(\.0) + theirs)
                        if first == .data(all), held.count == 1, theirs.count == 1, merged.count == 1 {
                            // One block each, the two halves of one: recursive doubling's step, in
                            // place (the lower half first on both ranks).
                            if held[0].0.index < theirs[0].index {
                                steps.append(.recvReduce(peer: peer, scratch: .scratch(received, n), target: .data(all)))
                            } else {
                                steps.append(.recvReduceReceivedFirst(peer: peer, scratch: .scratch(received, n), target: .data(all)))
                            }
                            held = [(merged[0].block, .data(all))]
                            t += 1
                            continue
                        }
                        steps.append(.recv(peer: peer, region: .scratch(received, theirs.count * n)))
                        var located: [Block: Region] = [:]
                        for (b, r) in held { located[b] = r }
                        for (i, b) in theirs.enumerated() { located[b] = .scratch(received + i * n, n) }
                        let last = k == axis.steps - 1
                        var next: [(Block, Region)] = []
                        for (i, tree) in merged.enumerated() {
                            let into: Region = last ? .data(all) : .scratch(areas[area] + i * n, n)
                            tree.emit(into: into, located: located, spare: .scratch(spare, n), steps: &steps)
                            next.append((tree.block, into))
                        }
                        held = next
                        area = 1 - area
                        t += 1
                    }
                }
            }
            if let fold, rank < 2 * fold.remainder {
                steps.append(rank % 2 == 0 ? .recv(peer: rank + 1, region: .data(all)) : .send(peer: rank - 1, region: .data(all)))
            }
        }
        return ([Stream(label: "swing-latency", steps: steps)], spare + slot)
    }

    /// The steps of a group, axis by axis, and the blocks every position holds before each step.
    struct Plan {
        let pairings: Swing.Pairings
        let axes: [Axis]

        init(topology: GroupTopology) {
            pairings = Swing.Pairings(topology: topology, axesInTurn: false)
            var axes: [Axis] = []
            var t = 0
            while t < pairings.steps {
                let axis = pairings.plan[t].axis
                let n = pairings.plan[t...].prefix { $0.axis == axis }.count
                axes.append(Axis(axis: axis, length: pairings.dims[axis], steps: n))
                t += n
            }
            self.axes = axes
        }

        /// The most blocks a rank holds or receives at once.
        var mostBlocks: Int { axes.map(\.mostBlocks).max() ?? 1 }
        /// Buffers a rank sends over all steps (the most over positions at each step).
        var buffersSent: Int { axes.reduce(0) { $0 + $1.buffersSent } }
    }

    /// One axis: `held[k][x]`, the blocks position x holds before step k (ascending).
    struct Axis {
        let axis: Int
        let length: Int
        let steps: Int
        private let blocks: AxisBlocks

        init(axis: Int, length: Int, steps: Int) {
            self.axis = axis
            self.length = length
            self.steps = steps
            blocks = AxisBlocks.of(length: length)
        }

        var held: [[[Block]]] { blocks.held }
        var mostBlocks: Int { blocks.mostBlocks }
        /// Buffers a rank sends over the axis's steps (the most over positions at each step).
        var buffersSent: Int { blocks.mostPerStep.reduce(0, +) }

        /// The position of virtual rank `v` along this axis.
        func position(of v: Int, _ pairings: Swing.Pairings) -> Int {
            pairings.topology.map { $0.grid.unsafeCoordinate(of: v)[axis] } ?? v
        }

        func partner(_ x: Int, _ k: Int) -> Int { Self.partner(x, k, length) }

        /// Swing's partner along a ring of `length` (`Swing.Pairings.partner` with sign +).
        static func partner(_ x: Int, _ k: Int, _ length: Int) -> Int {
            let r = Swing.rho(k)
            return mod(x % 2 == 0 ? x + r : x - r, length)
        }
    }

    /// The blocks every position of a ring of `length` holds before each of its log2(length)
    /// steps, worked out once per length and kept: every rank's schedule and every estimate reads
    /// them, and a group folded onto a ring of 8192 (13,824 ranks) has 8192 positions to follow.
    struct AxisBlocks: Sendable {
        let held: [[[Block]]]
        let mostBlocks: Int
        let mostPerStep: [Int]

        private static let cache = Mutex<[Int: AxisBlocks]>([:])

        static func of(length: Int) -> AxisBlocks {
            if let known = cache.withLock({ $0[length] }) { return known }
            var held: [[[Block]]] = [(0..<length).map { [Block(level: 0, index: $0)] }]
            for k in 0..<(length.trailingZeroBitCount) {
                let now = held[k]
                held.append((0..<length).map { x in Block.merge(now[x] + now[Axis.partner(x, k, length)]).map(\.block) })
            }
            let blocks = AxisBlocks(held: held, mostBlocks: held.joined().map(\.count).max() ?? 1,
                                    mostPerStep: held.dropLast().map { $0.map(\.count).max() ?? 0 })
            cache.withLock { $0[length] = blocks }
            return blocks
        }
    }

    /// An aligned block of an axis: positions index·2^level ..< (index + 1)·2^level.
    struct Block: Hashable {
        let level: Int
        let index: Int
        var start: Int { index << level }

        /// Disjoint blocks merged wherever both halves of a parent are present (repeatedly), as the
        /// trees that compute them, in ascending order.
        static func merge(_ blocks: [Block]) -> [Tree] {
            var trees = blocks.sorted { $0.start < $1.start }.map { Tree.leaf($0) }
            var changed = true
            while changed {
                changed = false
                var i = 0
                while i + 1 < trees.count {
                    let a = trees[i].block, b = trees[i + 1].block
                    if a.level == b.level, a.index % 2 == 0, b.index == a.index + 1 {
                        trees[i] = .node(Block(level: a.level + 1, index: a.index / 2), trees[i], trees[i + 1])
                        trees.remove(at: i + 1)
                        changed = true
                    } else {
                        i += 1
                    }
                }
            }
            return trees
        }
    }

    /// How a block's partial sum is computed from the blocks in hand: lower half op upper half.
    indirect enum Tree {
        case leaf(Block)
        case node(Block, Tree, Tree)

        var block: Block {
            switch self {
            case let .leaf(b), let .node(b, _, _): return b
            }
        }

        /// The leaves' blocks, lowest first.
        var leaves: [Block] {
            switch self {
            case let .leaf(b): return [b]
            case let .node(_, lower, upper): return lower.leaves + upper.leaves
            }
        }

        /// Steps that leave this tree's sum in `into`, leaves read from `located`. An upper half
        /// that is not a leaf is summed in place in its first leaf's buffer (every leaf is read
        /// once, by its own tree, and nothing reads it after this step). Written into `into`
        /// directly unless `into` holds a leaf other than the first, which it would overwrite
        /// before use: then summed in `spare` and copied.
        func emit(into: Region, located: [Block: Region], spare: Region, steps: inout [Step]) {
            if leaves.dropFirst().contains(where: { located[$0] == into }) {
                evaluate(into: spare, located: located, steps: &steps)
                steps.append(.copy(source: spare, target: into))
            } else {
                evaluate(into: into, located: located, steps: &steps)
            }
        }

        private func evaluate(into: Region, located: [Block: Region], steps: inout [Step]) {
            switch self {
            case let .leaf(b):
                let at = located[b]!
                if at != into { steps.append(.copy(source: at, target: into)) }
            case let .node(_, lower, upper):
                lower.evaluate(into: into, located: located, steps: &steps)
                let source = located[upper.leaves[0]]!
                upper.evaluate(into: source, located: located, steps: &steps)
                // target = target op source: the lower half first.
                steps.append(.reduce(source: source, target: into))
            }
        }
    }
}

extension Algorithm {
    public static let swingLatency = Algorithm(SwingLatencyAllReduce.self)
}
