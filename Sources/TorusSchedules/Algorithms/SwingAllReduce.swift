import Foundation
import Synchronization
import TorusCore

/// Swing (De Sensi et al., "Swing: Short-cutting Rings for Higher Bandwidth Allreduce", NSDI 2024).
///
/// The peers: at step k along a ring of d ranks (d a power of two), the rank at position c talks
/// to c + ρ(k) if c is even and to c − ρ(k) if c is odd (mod d), with
/// ρ(k) = Σ_{i=0..k} (−2)^i = 1, −1, 3, −5, 11, −21, … — the distances grow by about 2× per step
/// like recursive doubling's, but alternate in direction, so on a torus the partners stay close
/// (|ρ(k)| ≈ 2^(k+1)/3 hops, against 2^k) and each step's pairs use both directions of a ring.
/// On a group that is a box whose every axis longer than 1 is a power of two the steps cycle through
/// the axes (step t runs along axis t mod D, with the k of that axis); any other group runs one
/// ring in rank order over the power of two that `PowerOfTwoFold` leaves.
///
/// Each step pairs every rank with one other (c ± ρ(k) has the other parity, so the pairing is an
/// involution), and the ranks a rank reaches in the steps after k merge with its partner's, disjoint,
/// into twice as many (the verifier proves it for every shape the tests use).
///
/// `swing` is the bandwidth-optimal form. A reduce-scatter over the steps in order (the largest
/// halves go to the nearest partners, ρ(0) = 1 hop), then an all-gather retracing it. At
/// reduce-scatter step k a rank keeps the blocks of the ranks it reaches in the steps after k and
/// sends its partner the blocks of the ranks the partner reaches; blocks are laid out in the order
/// of that reach tree, so every set sent is one contiguous range. Every block is reduced on one rank
/// and then copied, so every rank ends with the same bits. Multi-port, as in the paper: the buffer
/// is cut into 2·D parts (D axes longer than 1), each starting on another axis or mirrored, so that
/// all of a node's links carry data at once.
///
/// The paper's latency-optimal form (whole-buffer exchanges with the same partners) is
/// `swing-latency` (`SwingLatencyAllReduce`), which keeps partial sums apart so that every rank
/// adds them up in one order.
enum Swing {
    /// ρ(k) = Σ_{i=0..k} (−2)^i.
    static func rho(_ k: Int) -> Int {
        var sum = 0, term = 1
        for _ in 0...k {
            sum += term
            term *= -2
        }
        return sum
    }

    /// The pairings of a group: `steps` of them, `partner(v, t)` the partner of virtual rank v at
    /// step t, and `real(v)` the group rank of virtual rank v (nil for ranks a fold leaves out).
    struct Pairings {
        let active: Int
        let steps: Int
        let fold: PowerOfTwoFold?
        /// Per step: the axis and the step k along it (box), or the step k of the one ring (fold).
        let plan: [(axis: Int, k: Int)]
        let dims: [Int]
        let topology: GroupTopology?

        /// +ρ for even positions, or (`mirrored`) −ρ; `rotation` starts the turns at that long axis.
        let sign: Int

        /// `axesInTurn` false runs every step of one axis before the next (the latency form).
        init(topology: GroupTopology, rotation: Int = 0, mirrored: Bool = false, axesInTurn: Bool = true) {
            sign = mirrored ? -1 : 1
            let dims = topology.grid.dims
            var long = dims.indices.filter { dims[$0] > 1 }
            if !long.isEmpty {
                let first = rotation % long.count
                long = Array(long[first...]) + Array(long[..<first])
            }
            if !long.isEmpty, long.allSatisfy({ dims[$0] & (dims[$0] - 1) == 0 }), topology.rankAt.count == topology.size {
                // A box of powers of two: virtual rank = grid node; the axes take turns.
                var left = long.map { ($0, dims[$0].trailingZeroBitCount) }
                var plan: [(axis: Int, k: Int)] = []
                var used = [Int: Int]()
                while left.contains(where: { $0.1 > 0 }) {
                    for i in left.indices where left[i].1 > 0 {
                        let axis = left[i].0
                        repeat {
                            plan.append((axis, used[axis, default: 0]))
                            used[axis, default: 0] += 1
                            left[i].1 -= 1
                        } while !axesInTurn && left[i].1 > 0
                    }
                }
                self.plan = plan
                self.dims = dims
                self.topology = topology
                active = topology.size
                fold = nil
            } else {
                let f = PowerOfTwoFold(size: topology.size, rank: 0)
                plan = (0..<f.active.trailingZeroBitCount).map { (0, $0) }
                self.dims = [f.active]
                self.topology = nil
                active = f.active
                fold = f
            }
            steps = plan.count
        }

        /// The partner of virtual rank `v` at step `t`.
        func partner(_ v: Int, _ t: Int) -> Int {
            let (axis, k) = plan[t]
            let d = dims[axis]
            let r = sign * rho(k)
            if topology == nil {
                return mod(v % 2 == 0 ? v + r : v - r, d)
            }
            var c = topology!.grid.unsafeCoordinate(of: v)
            c[axis] = mod(c[axis] % 2 == 0 ? c[axis] + r : c[axis] - r, d)
            return topology!.grid.unsafeNode(at: c)
        }

        /// The group rank of virtual rank `v`.
        func real(_ v: Int) -> Int {
            if let fold { return fold.realRank(v) }
            return topology!.rankAt[v]
        }

        /// The virtual rank of group rank `rank`, or nil if a fold leaves it out.
        func virtual(_ rank: Int, size: Int) -> Int? {
            if topology != nil { return topology!.gridNodeOf[rank] }
            return PowerOfTwoFold(size: size, rank: rank).newRank
        }
    }

    /// reach[t][v]: the virtual ranks v reaches through steps t..<steps (reach[steps][v] = {v}),
    /// as a range of `order` positions; `position[v]`: v's place in the order of that tree, in which
    /// every reach set is contiguous. Built bottom up: the set of v at step t is its own set at t+1
    /// followed or preceded by its partner's (the one holding the smaller position of the two
    /// lowest ranks first, so both partners agree).
    struct ReachTree: Sendable {
        /// reach[t][v] as positions lo..<hi.
        let reach: [[Range<Int>]]

        /// What a tree depends on: the grid (or the folded ring) and the order and sign of the steps.
        private struct Key: Hashable {
            let dims: [Int]
            let steps: [Int]
            let sign: Int
        }
        private static let cache = Mutex<[Key: ReachTree]>([:])

        /// The tree of `pairings`, built once and kept: every rank's schedule needs it, and building
        /// it follows every rank's set through every step (a 16×16×16 group took minutes to
        /// predict when each of its 4,096 ranks built its own).
        static func of(_ pairings: Pairings) -> ReachTree {
            let key = Key(dims: pairings.dims, steps: pairings.plan.map { $0.axis * 64 + $0.k }, sign: pairings.sign)
            if let known = cache.withLock({ $0[key] }) { return known }
            let tree = ReachTree(pairings)
            cache.withLock { trees in
                if trees.count >= 64 { trees.removeAll() }
                trees[key] = tree
            }
            return tree
        }

        init(_ pairings: Pairings) {
            let p = pairings.active, steps = pairings.steps
            // Each set as a list of virtual ranks, in tree order; merged pairwise from the leaves.
            var members: [[Int]] = (0..<p).map { [$0] }
            var levels: [[[Int]]] = [members]
            for t in stride(from: steps - 1, through: 0, by: -1) {
                var next = members
                for v in 0..<p {
                    let q = pairings.partner(v, t)
                    next[v] = members[v].min()! < members[q].min()! ? members[v] + members[q] : members[q] + members[v]
                }
                members = next
                levels.append(members)
            }
            // levels[i] is the reach through steps (steps − i)..<steps; members[v] (top) is every rank in one order.
            let order = members[0]
            var position = [Int](repeating: 0, count: p)
            for (i, v) in order.enumerated() { position[v] = i }
            var reach = [[Range<Int>]](repeating: [], count: steps + 1)
            for i in 0...steps {
                reach[steps - i] = levels[i].map { set in
                    let at = set.map { position[$0] }
                    return at.min()! ..< at.max()! + 1
                }
            }
            self.reach = reach
        }
    }

    /// One stream of `block`: the fold's steps around `body`, which gets this rank's virtual rank
    /// (ranks a fold leaves out only fold in and out).
    static func stream(_ label: String, pairings: Pairings, topology: GroupTopology, rank: Int, block: Range<Int>,
                       _ body: (inout StreamBuilder, Int) -> Void) -> StreamBuilder {
        var b = StreamBuilder(label: label, slots: 1)
        let fold = pairings.fold.map { _ in PowerOfTwoFold(size: topology.size, rank: rank) }
        fold?.foldIn(&b, block)
        if let me = pairings.virtual(rank, size: topology.size) { body(&b, me) }
        fold?.foldOut(&b, block)
        return b
    }

    /// The element range of positions `positions` when `count` elements are cut into `p` blocks.
    static func elements(_ positions: Range<Int>, of p: Int, count: Int) -> Range<Int> {
        guard !positions.isEmpty else { return 0..<0 }
        return Partition.piece(positions.lowerBound, of: p, in: 0..<count).lowerBound
            ..< Partition.piece(positions.upperBound - 1, of: p, in: 0..<count).upperBound
    }
}

public enum SwingAllReduce: AllReduceAlgorithm {
    public static let name = "swing"
    public static let aliases = ["swing-bandwidth"]
    public static let summary = "Swing: reduce-scatter + all-gather with peers ±1, ∓1, ±3, ∓5, … along each axis (NSDI 2024)"

    /// As Rabenseifner's: 2·log2(p)·α + 2(p−1)/p·nβ + (p−1)/p·nγ, plus the fold. (What Swing saves
    /// on a torus — shorter paths, both directions of a link — the α-β model does not see; the
    /// predictor does.)
    public static func estimate(_ m: CostModel, topology: GroupTopology, bytes: Int) -> Double {
        RabenseifnerAllReduce.estimate(m, topology: topology, bytes: bytes)
    }

    /// The least average message, in elements, at which Swing runs multi-port. Each port adds
    /// 2·log2(p) messages; with `tofu-d`'s 1 µs per message and 6.8 GB/s links they pay off once a
    /// message's wire time matches its overhead, about 1.5 Ki elements (6 KiB of float32): in
    /// `torus sim`, multi-port wins from 256 KiB on 4×4×4 and from 512 KiB on 8×8×8, single-port
    /// below (4×4×4, 128 KiB: 57.9 µs against 74.1).
    static let multiPortLeastMessageElements = 1536

    /// Multi-port: 2·D parts on a box with D axes longer than 1 (2 on a folded group), part j
    /// starting its turns at long axis j/2, the odd parts mirrored (−ρ for even positions), so that
    /// at every step the parts drive different links of each node, as sixring's do. One part
    /// (single-port) when the parts' messages would average under `multiPortLeastMessageElements`.
    public static func streams(topology: GroupTopology, rank: Int, count: Int) -> (streams: [Stream], scratch: Int) {
        let base = Swing.Pairings(topology: topology)
        let axes = base.fold == nil ? topology.grid.dims.filter { $0 > 1 }.count : 1
        let ports = 2 * max(1, axes)
        let parts = count >= multiPortLeastMessageElements * ports * max(1, base.steps) ? ports : 1
        var builders: [StreamBuilder] = []
        for part in 0..<parts {
            let pairings = Swing.Pairings(topology: topology, rotation: part / 2, mirrored: part % 2 == 1)
            let block = Partition.piece(part, of: parts, in: 0..<count)
            builders.append(Swing.stream("swing part \(part)", pairings: pairings, topology: topology, rank: rank, block: block) { b, me in
                let tree = Swing.ReachTree.of(pairings)
                let p = pairings.active
                func range(_ positions: Range<Int>) -> Range<Int> {
                    let r = Swing.elements(positions, of: p, count: block.count)
                    return block.lowerBound + r.lowerBound ..< block.lowerBound + r.upperBound
                }
                // Reduce-scatter: step t keeps what this rank reaches after t, sends what the partner reaches.
                for t in 0..<pairings.steps {
                    let q = pairings.partner(me, t)
                    b.send(range(tree.reach[t + 1][q]), to: pairings.real(q))
                    b.recvReduce(range(tree.reach[t + 1][me]), from: pairings.real(q))
                }
                // All-gather, retracing: step t sends what this rank holds, receives the partner's.
                for t in stride(from: pairings.steps - 1, through: 0, by: -1) {
                    let q = pairings.partner(me, t)
                    b.send(range(tree.reach[t + 1][me]), to: pairings.real(q))
                    b.recv(range(tree.reach[t + 1][q]), from: pairings.real(q))
                }
            })
        }
        return placeStreams(builders)
    }
}

extension Algorithm {
    public static let swing = Algorithm(SwingAllReduce.self)
}
