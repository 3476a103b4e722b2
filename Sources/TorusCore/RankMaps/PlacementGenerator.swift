/// Places a DP×TP×PP job on a torus (DESIGN §8): TP groups on one node or on adjacent nodes, every
/// DP group on a box whose rings embed with dilation 1 where the shape allows (folded rings, dilation
/// 2, otherwise), and concurrent DP groups on disjoint links where possible.
///
/// The search: the job's ranks fill the slots of the nodes (`procsPerNode`) and the torus axes. Each
/// of these "axes" (slot, X, Y, Z) is split into a TP, a DP and a PP factor (t·d·p = its length,
/// TP innermost, PP outermost), so every group is a product of intervals. Each split is scored in
/// closed form, the most promising are placed and measured with `PlacementReport`, and the best
/// by (DP worst hops, busiest link, TP worst hops, DP mean hops, PP worst hops) wins.
public enum PlacementGenerator {
    /// One way to split the axes: factors[k] = (t, d, p) for axis k (k = 0 is the slot axis).
    public struct Plan: Hashable, Sendable, CustomStringConvertible {
        public var lengths: [Int]
        public var factors: [(t: Int, d: Int, p: Int)]

        public static func == (a: Plan, b: Plan) -> Bool {
            a.lengths == b.lengths && a.factors.elementsEqual(b.factors) { $0 == $1 }
        }
        public func hash(into h: inout Hasher) {
            h.combine(lengths)
            for f in factors { h.combine(f.t); h.combine(f.d); h.combine(f.p) }
        }

        public var description: String {
            let names = ["slot"] + (1..<lengths.count).map { TorusShape.axisName($0 - 1) }
            return zip(names, factors).map { "\($0): tp \($1.t) dp \($1.d) pp \($1.p)" }.joined(separator: "; ")
        }
    }

    /// Ranks laid on the torus in rank order, X fastest, `procsPerNode` consecutive ranks per node.
    public static func naive(layout: JobLayout, machine: TorusShape, procsPerNode: Int) throws -> [Int] {
        try checkFits(layout: layout, machine: machine, procsPerNode: procsPerNode)
        return (0..<layout.ranks).map { $0 / procsPerNode }
    }

    /// The best placement found: the node of every rank, its plan and its report.
    public static func generate(layout: JobLayout, machine: TorusShape, procsPerNode: Int) throws
        -> (nodes: [Int], plan: Plan, report: PlacementReport)
    {
        try checkFits(layout: layout, machine: machine, procsPerNode: procsPerNode)
        let lengths = [procsPerNode] + machine.dims
        var plans: [Plan] = []
        enumerate(lengths: lengths, axis: 0, remaining: (layout.tp, layout.dp, layout.pp), current: [], into: &plans)
        let periodic = [false] + machine.periodic
        let ranked = plans.map { ($0, estimate($0, periodic: periodic)) }.sorted { $0.1.lexicographicallyPrecedes($1.1) }
        var best: (nodes: [Int], plan: Plan, report: PlacementReport, key: [Double])?
        for (plan, _) in ranked.prefix(12) {
            let nodes = place(layout: layout, machine: machine, plan: plan)
            let r = try PlacementReport.of(nodes: nodes, on: machine, layout: layout)
            let key = [Double(r.dp.worstHops), Double(r.dpMaxLinkLoad), Double(r.tp.worstHops), r.dp.meanHops, Double(r.pp.worstHops)]
            if best == nil || key.lexicographicallyPrecedes(best!.key) { best = (nodes, plan, r, key) }
        }
        guard let best else {
            throw TorusError.invalidValue(name: "--job", value: layout.description, expected: "a job whose sizes factor over the torus \(machine)")
        }
        return (best.nodes, best.plan, best.report)
    }

    /// The node of every rank under `plan`. TP digits run in snake order (each digit reversed when
    /// the digits above it are odd), so consecutive TP ranks are always on the same or adjacent nodes.
    public static func place(layout: JobLayout, machine: TorusShape, plan: Plan) -> [Int] {
        let axes = plan.lengths.count
        var nodes = [Int](repeating: 0, count: layout.ranks)
        var coordinate = [Int](repeating: 0, count: axes - 1)
        for rank in 0..<layout.ranks {
            let (ti, si, di) = layout.indices(of: rank)
            let tDigits = snakeDigits(ti, radices: plan.factors.map(\.t))
            var dRest = di, pRest = si
            for k in 0..<axes {
                let f = plan.factors[k]
                let d = dRest % f.d, p = pRest % f.p
                dRest /= f.d; pRest /= f.p
                if k > 0 { coordinate[k - 1] = tDigits[k] + f.t * (d + f.d * p) }
            }
            nodes[rank] = machine.unsafeNode(at: coordinate)
        }
        return nodes
    }

    /// Mixed-radix digits of `value`, lowest first, in boustrophedon order: digit k runs backwards
    /// when the number formed by the digits above it is odd, so consecutive values differ by one
    /// step in one digit.
    static func snakeDigits(_ value: Int, radices: [Int]) -> [Int] {
        var digits = [Int](repeating: 0, count: radices.count)
        var rest = value
        for (k, r) in radices.enumerated() {
            let above = rest / r
            digits[k] = above % 2 == 1 ? r - 1 - rest % r : rest % r
            rest = above
        }
        return digits
    }

    static func checkFits(layout: JobLayout, machine: TorusShape, procsPerNode: Int) throws {
        guard procsPerNode >= 1 else {
            throw TorusError.invalidValue(name: "--procs-per-node", value: "\(procsPerNode)", expected: "a positive number of ranks per node")
        }
        let slots = machine.nodeCount * procsPerNode
        guard layout.ranks == slots else {
            var fits: [String] = []
            if slots % (layout.tp * layout.pp) == 0 { fits.append("dp=\(slots / (layout.tp * layout.pp))") }
            if layout.ranks % machine.nodeCount == 0 { fits.append("--procs-per-node \(layout.ranks / machine.nodeCount)") }
            let hint = fits.isEmpty ? "choose tp·pp·dp = \(slots)" : "with tp=\(layout.tp),pp=\(layout.pp) use " + fits.joined(separator: " or ")
            throw TorusError.invalidValue(
                name: "--job", value: layout.description,
                expected: "tp·pp·dp equal to the \(slots) ranks of the torus \(machine) with \(procsPerNode) per node (the job has \(layout.ranks)); \(hint)")
        }
    }

    static func enumerate(lengths: [Int], axis: Int, remaining: (Int, Int, Int), current: [(t: Int, d: Int, p: Int)], into plans: inout [Plan]) {
        if axis == lengths.count {
            if remaining == (1, 1, 1) { plans.append(Plan(lengths: lengths, factors: current)) }
            return
        }
        let n = lengths[axis]
        for t in divisors(n) where remaining.0 % t == 0 {
            for d in divisors(n / t) where remaining.1 % d == 0 {
                let p = n / t / d
                guard remaining.2 % p == 0 else { continue }
                enumerate(lengths: lengths, axis: axis + 1, remaining: (remaining.0 / t, remaining.1 / d, remaining.2 / p),
                          current: current + [(t, d, p)], into: &plans)
            }
        }
    }

    static func divisors(_ n: Int) -> [Int] { (1...n).filter { n % $0 == 0 } }

    /// A closed-form guess at (DP worst hops, DP groups sharing a link, TP node axes, −DP slots):
    /// only used to choose which plans to measure.
    static func estimate(_ plan: Plan, periodic: [Bool]) -> [Double] {
        var worst = 0, sharing = 1, tpAxes = 0
        for (k, f) in plan.factors.enumerated() where k > 0 {
            if f.t > 1 { tpAxes += 1 }
            guard f.d > 1 else { continue }
            let full = f.d * f.t == plan.lengths[k] && periodic[k]
            let step = f.d <= 2 ? 1 : (full ? 1 : 2)
            worst = max(worst, f.t * step)
            sharing = max(sharing, f.t)
        }
        return [Double(worst), Double(sharing), Double(tpAxes), -Double(plan.factors[0].d)]
    }
}
