import Synchronization
import TorusCore

/// How `sixring` divides the buffer among its parts on a grid: each part's direction, axis order
/// and share of the elements.
///
/// **What a part puts on each link.** A part with share w and axis order (a₁, a₂, a₃) runs a ring
/// reduce-scatter along a₁: every rank sends w·(n₁−1)/n₁ of the buffer over its link in the part's
/// direction. Along a₂ it sends w/n₁ · (n₂−1)/n₂ of what is left, then along a₃
/// w/(n₁n₂) · (n₃−1)/n₃. Its all-gather runs along (b₁, b₂, b₃) — the reverse of the
/// reduce-scatter's order, or any other — and sends w·(n_b₁−1)/p, then w·n_b₁(n_b₂−1)/p, then
/// w·n_b₁n_b₂(n_b₃−1)/p. Each half telescopes to w·(p − 1)/p, whatever the orders: a part costs
/// the same total bytes per unit of share wherever it starts.
///
/// **The bound.** A node drives K directed links (`TorusShape.directedLinksPerNode`):
/// - two on an axis longer than 2;
/// - one on an axis of length 2 (both neighbours are one node, and routing sends both ways over
///   the + link, so a + part and a − part share it);
/// - none on an axis of length 1.
///
/// The AllReduce ends no sooner than when each of the K links has carried 2(p − 1)/(pK) of the
/// buffer. Since the total is fixed, that is reached only when every link carries the same bytes:
/// the shares w_t of the part types t = (direction, reduce-scatter order, all-gather order) must
/// satisfy Σ_t L[c][t]·w_t = 2(p − 1)/(pK) for every link class c, w_t ≥ 0, with L the loads
/// above (Σ w_t = 1 follows, since every column of L sums to 2(p − 1)/p).
///
/// Equal bytes are not enough: a part runs its phases one after another, links are shared
/// message by message, and a part whose small phase shares a link with another's large phase
/// waits. Which balanced shares finish soonest was found with the predictor (`torus sim --preset
/// ideal`, 256 MiB, segments of 1 MiB and 256 KiB); the README has the table.
///
/// **The choice, by group shape.**
/// - *One axis, or a cube:* the six rotations with equal shares. Part 2i runs + and part 2i+1 −,
///   pair i takes the order (X,Y,Z) rotated by i, and the all-gather retraces it. At every step the
///   six parts then use six different directed links. This split (`Partition.piece` into six)
///   is kept exactly.
/// - *Two axes of one length:* four parts, (X,Y) and (Y,X) in both directions, equal shares.
/// - *Two axes of different lengths (a 2D group such as 48×6):* crossing parts. A part that
///   reduce-scatters along the long axis first all-gathers along it first too, so its large
///   all-gather phase runs on the short axis, and the other way round. Every link then carries
///   one large phase in each half of the run. The shares minimize Σ_k max_c (work on link class c
///   in phase k, over all parts): a linear program over the eight types that prefers, by a little,
///   all-gathers in the reduce-scatter's order. Where both axes are longer than 2, their steps
///   are cut finer than the executor's 1 MiB segments: 1/1024 of the buffer, at least 64 Ki
///   elements (`segmentLimitElements(count:)`; 48×6 at 256 MiB: 0.881 → 0.908 of the bound).
/// - *Three axes, not a cube:* the work spreads over all 72 types. Every link class carries the
///   same bytes in the reduce-scatter and again in the all-gather, and the largest share is as
///   small as it can be; all-gathers that retrace are preferred by a little. With some sixty
///   small parts on every link, no single part's chain decides the end. Where that sends too many
///   messages (`mostMessagesOverRotations`), the same program over the 24 types whose
///   all-gather ends on the reduce-scatter's first axis: their largest phase moves one range per
///   message (6×4×4: 0.87 of the bound against 0.93).
/// - Types are listed longest axis first. Stream order is the order in which the executor issues,
///   and parts that start on the longest rings then go first (on 3×4×5 this is 0.94 of the bound
///   against 0.85 the other way round).
/// - Fewer than six chosen parts are halved, largest first, until there are six. When no shares
///   balance the links, the six rotations stay.
/// - A tuned plan runs only where its messages are large (`minimumMessageElements`); smaller
///   buffers run the rotations, as before.
///
/// The verifier proves the result whatever the shares, so a plan can only change the speed.
struct SixRingPlan: Sendable {
    struct Part: Sendable, Equatable {
        let direction: Direction
        /// The axes longer than 1, in the order this part reduces along them.
        let order: [Int]
        /// The order of its all-gather phases: `order` reversed (retracing the reduce-scatter, each
        /// message one range) or another order (each message one range per block gathered so far).
        let gatherOrder: [Int]
        /// The part's fraction of the buffer.
        let share: Double

        func with(share: Double) -> Part { Part(direction: direction, order: order, gatherOrder: gatherOrder, share: share) }
    }

    let parts: [Part]
    /// True when every part has the same share (the rotations, the square 2D split): ranges are
    /// `Partition.piece`, as they always were.
    let isEqualSplit: Bool

    /// The messages each rank sends, counted from the parts' rings and the ranges of their
    /// all-gather pieces (phase-boundary cuts aside).
    let messagesPerRank: Int

    /// Its steps go in finer segments than the issue rules' (`segmentLimitElements(count:)`):
    /// a crossing plan on a group whose two axes are both longer than 2.
    let finerSegments: Bool

    static let partCount = 6

    init(parts: [Part], isEqualSplit: Bool, dims: [Int], finerSegments: Bool = false) {
        self.parts = parts
        self.isEqualSplit = isEqualSplit
        self.finerSegments = finerSegments
        messagesPerRank = parts.reduce(0) { total, part in
            var sends = part.order.reduce(0) { $0 + dims[$1] - 1 }
            var gathered: Set<Int> = []
            for axis in part.gatherOrder {
                // Blocks nest in reduce-scatter order; gathered axes innermost merge into one range.
                var levels = part.order[...]
                while let inner = levels.last, gathered.contains(inner) { levels.removeLast() }
                sends += (dims[axis] - 1) * levels.filter { gathered.contains($0) }.reduce(1) { $0 * dims[$1] }
                gathered.insert(axis)
            }
            return total + sends
        }
    }

    /// The elements of part `index` of a buffer of `count`.
    func range(of index: Int, count: Int) -> Range<Int> {
        if isEqualSplit { return Partition.piece(index, of: parts.count, in: 0..<count) }
        func boundary(_ j: Int) -> Int {
            if j == 0 { return 0 }
            if j == parts.count { return count }
            let before = parts[..<j].reduce(0.0) { $0 + $1.share }
            return Swift.min(count, Int((Double(count) * before).rounded()))
        }
        return boundary(index) ..< boundary(index + 1)
    }

    private static let cache = Mutex<[[Int]: [SixRingPlan]]>([:])

    /// The least average message, in elements, at which a tuned plan (more parts, and all-gather
    /// pieces cut into one range per block) replaces the rotations: 16 Ki elements, 64 KiB of
    /// float32. A message then costs ten times its software overhead on the wire (1 µs against
    /// 9.6 µs at 6.8 GB/s), and below it the extra messages cost more than balanced links save.
    static let minimumMessageElements = 16 * 1024

    /// The most messages a tuned plan may send per rank, as a multiple of the rotations'. The
    /// 72-type spread sends 20–30 times as many on the boxes of the README's table, 49 times on
    /// 8×6×6; past 32 the 24-type plan runs instead (a 13,824-rank job at 10,000 messages per
    /// rank would also need 33 GB to predict).
    static let mostMessagesOverRotations = 32

    /// The most elements a segment of this plan carries for a buffer of `count` (the schedule's
    /// `segmentLimitElements`): with `finerSegments`, 1/1024 of the buffer and no fewer than
    /// 64 Ki elements (256 KiB of float32); nil otherwise (the issue rules decide).
    ///
    /// Within a part, a phase's segment starts only once the previous phase has delivered it, so
    /// finer segments start a crossing part's large phase on the other axis sooner. Measured
    /// (`torus sim`, fraction of the bound), a buffer in 256 KiB segments behaves about as one
    /// four times larger did in 1 MiB segments, and on these groups the fraction grows with the
    /// buffer up to about 1 GiB in 1 MiB segments: so segments of 1/1024 of the buffer make every
    /// buffer from 256 MiB up behave about as 1 GiB did, and the floor keeps smaller buffers'
    /// messages long beside their software overhead (a 4× finer cut of a 1 GiB buffer on
    /// the Fugaku-LLM job gained 0.5% and took 2.4× as long to predict: 114 s, 3.4 GB). With
    /// `ideal` at 256 MiB, 1 MiB → 256 KiB: 48×6 0.881 → 0.908, 6×4 0.901 → 0.942, 12×6 0.928 →
    /// 0.938; with `tofu-d` (1 µs per message), 48×6 at 64 MiB 0.785 → 0.862 and at 128 MiB
    /// 0.786 → 0.888. Of 49 sizes × groups from 4 MiB to 256 MiB (48×6, 24×6, 12×6, 6×4, 12×4,
    /// 8×3, 5×3), with `tofu-d` 32 gained more than 1% and one lost more (8×3 at 8 MiB, 0.766 →
    /// 0.746), with `ideal` 21 and one (24×6 at 32 MiB, 0.905 → 0.894); README has the table.
    /// With an axis of 2 the fraction does not grow with the buffer (4×2 at 256 MiB: 0.983 in
    /// 1 MiB segments, 0.933 in 256 KiB), nor on cubes (4×4×4 0.992 → 0.969) and 3D boxes: those
    /// keep the rules' segments.
    func segmentLimitElements(count: Int) -> Int? {
        finerSegments ? Swift.max(Self.crossingSegmentElements, count / Self.crossingSegmentsPerBuffer) : nil
    }

    /// The floor and the fraction of `segmentLimitElements(count:)`.
    static let crossingSegmentElements = 64 << 10, crossingSegmentsPerBuffer = 1024

    /// The plan for a buffer of `count` elements on a grid with these dims: the first of the
    /// tuned plans (`candidates`, made once per dims and kept) that sends at most
    /// `mostMessagesOverRotations` times the rotations' messages, each averaging at least
    /// `minimumMessageElements`; the rotations when none does.
    static func of(dims: [Int], count: Int) -> SixRingPlan {
        let equal = rotations(dims: dims)
        let p = Double(dims.reduce(1, *))
        let sent = Double(count) * 2 * (p - 1) / p
        // A ring of two (one link class: both neighbours are the one peer, DESIGN §1's single link
        // on an axis of 2) gains no link from more parts, only messages; and small buffers run one part.
        if linkClasses(dims: dims).count <= 1 || sent < Double(singlePartBelowElements * equal.messagesPerRank) {
            return single(dims: dims)
        }
        let tuned: [SixRingPlan]
        if let known = cache.withLock({ $0[dims] }) {
            tuned = known
        } else {
            tuned = candidates(dims: dims)
            cache.withLock { $0[dims] = tuned }
        }
        let most = mostMessagesOverRotations * equal.messagesPerRank
        func fits(_ plan: SixRingPlan) -> Bool {
            plan.isEqualSplit || (plan.messagesPerRank <= most && sent >= Double(minimumMessageElements * plan.messagesPerRank))
        }
        return tuned.first(where: fits) ?? equal
    }

    /// Below this average message, in elements, of the six rotations, one part runs instead: each
    /// part adds 2·Σ(n−1) messages, and with `tofu-d`'s 1 µs of software overhead per message and
    /// 6.8 GB/s links five more parts pay off only once a message's wire time matches its overhead,
    /// as for Swing's ports (`SwingAllReduce.multiPortLeastMessageElements`). (README, "Sixring on
    /// small buffers", has the predicted and measured times.)
    static let singlePartBelowElements = 1536

    /// One part, + direction, the axes in order: the rotations' first part with the whole buffer.
    static func single(dims: [Int]) -> SixRingPlan {
        let order = dims.indices.filter { dims[$0] > 1 }
        return SixRingPlan(parts: [Part(direction: .plus, order: order, gatherOrder: order.reversed(), share: 1)], isEqualSplit: true,
                           dims: dims)
    }

    /// The six rotations: part 2i runs + and part 2i+1 −, pair i takes the axis order (X,Y,Z) rotated by i.
    static func rotations(dims: [Int]) -> SixRingPlan {
        let parts = (0..<partCount).map { part -> Part in
            let order = (0..<3).map { ($0 + part / 2) % 3 }.filter { $0 < dims.count && dims[$0] > 1 }
            return Part(direction: part % 2 == 0 ? .plus : .minus, order: order, gatherOrder: order.reversed(),
                        share: 1 / Double(partCount))
        }
        return SixRingPlan(parts: parts, isEqualSplit: true, dims: dims)
    }

    /// The link classes a node drives: (axis, direction), one class per axis of length 2.
    static func linkClasses(dims: [Int]) -> [(axis: Int, direction: Direction?)] {
        dims.indices.flatMap { a -> [(axis: Int, direction: Direction?)] in
            dims[a] > 2 ? [(a, .plus), (a, .minus)] : dims[a] == 2 ? [(a, nil)] : []
        }
    }

    /// The phases of a part of share 1, in the order it runs them: each phase's link class and the
    /// fraction of the buffer it sends over that link (the formula in the type's comment; an
    /// all-gather along b₁, b₂, b₃ moves (n_b₁ − 1)/p, then n_b₁(n_b₂ − 1)/p, then n_b₁n_b₂(n_b₃ − 1)/p).
    static func phases(of part: Part, dims: [Int]) -> [(linkClass: Int, work: Double)] {
        let classes = linkClasses(dims: dims)
        func linkClass(_ axis: Int) -> Int {
            classes.firstIndex { $0.axis == axis && ($0.direction == nil || $0.direction == part.direction) }!
        }
        var phases: [(linkClass: Int, work: Double)] = []
        var left = 1.0
        for axis in part.order {
            let n = Double(dims[axis])
            phases.append((linkClass(axis), left * (n - 1) / n))
            left /= n
        }
        for axis in part.gatherOrder {
            phases.append((linkClass(axis), left * Double(dims[axis] - 1)))
            left *= Double(dims[axis])
        }
        return phases
    }

    /// True when the parts put the same bytes on every link class.
    static func isBalanced(_ parts: [Part], dims: [Int]) -> Bool {
        var load = [Double](repeating: 0, count: linkClasses(dims: dims).count)
        for part in parts {
            for phase in phases(of: part, dims: dims) { load[phase.linkClass] += phase.work * part.share }
        }
        let most = load.max() ?? 0
        return most - (load.min() ?? 0) <= 1e-12 * most
    }

    /// The tuned plans for these dims, most preferred first (the type's comment says which).
    static func candidates(dims: [Int]) -> [SixRingPlan] {
        let equal = rotations(dims: dims)
        let active = dims.indices.filter { dims[$0] > 1 }
        if active.count <= 1 || isBalanced(equal.parts, dims: dims) { return [equal] }
        // Types are listed longest axis first: stream order is issue order, and parts that
        // start on the longest rings go first.
        let axes = active.sorted { (dims[$0], $1) > (dims[$1], $0) }
        func types(gatherOrders: ([Int]) -> [[Int]]) -> [Part] {
            [Direction.plus, .minus].flatMap { d in
                permutations(axes).flatMap { order in
                    gatherOrders(order).map { Part(direction: d, order: order, gatherOrder: $0, share: 0) }
                }
            }
        }
        if active.count == 2 {
            let all = types { _ in permutations(axes) }
            let square = all.filter { $0.gatherOrder == Array($0.order.reversed()) }.map { $0.with(share: 0.25) }
            if isBalanced(square, dims: dims) { return [SixRingPlan(parts: square, isEqualSplit: true, dims: dims)] }
            let finer = active.allSatisfy { dims[$0] > 2 }
            return crossing(all, dims: dims).map { [plan(all, $0, dims: dims, finerSegments: finer)] } ?? []
        }
        // Every all-gather order; then only those ending on the reduce-scatter's first axis, whose
        // largest phase moves one range per message.
        let everyOrder = types { _ in permutations(axes) }
        let endingOnTheFirst = types { order in [[order[2], order[1], order[0]], [order[1], order[2], order[0]]] }
        return [everyOrder, endingOnTheFirst].compactMap { types -> SixRingPlan? in
            guard let x = spread(types, dims: dims, separateHalves: true) ?? spread(types, dims: dims, separateHalves: false) else { return nil }
            return plan(types, x, dims: dims)
        }
    }

    /// The plan of these shares of the types: those above 10⁻⁶, scaled to sum to 1, the largest
    /// halved until there are six parts.
    static func plan(_ types: [Part], _ x: [Double], dims: [Int], finerSegments: Bool = false) -> SixRingPlan {
        var chosen = types.indices.filter { x[$0] > 1e-6 }.map { (type: $0, share: x[$0]) }
        let total = chosen.reduce(0.0) { $0 + $1.share }
        chosen = chosen.map { ($0.type, $0.share / total) }
        while chosen.count < partCount {
            let largest = chosen.indices.max { chosen[$0].share < chosen[$1].share }!
            chosen[largest].share /= 2
            chosen.insert(chosen[largest], at: largest + 1)
        }
        return SixRingPlan(parts: chosen.map { types[$0.type].with(share: $0.share) }, isEqualSplit: false, dims: dims,
                           finerSegments: finerSegments)
    }

    /// Shares for a 2D group (the type's comment, "crossing parts"): the parts run their phases in
    /// slots, slot k being every part's k-th phase; minimize the sum over slots of the busiest
    /// link's work in that slot, preferring (by a little) types whose all-gather does not retrace
    /// their reduce-scatter, so that a part's big reduce-scatter and big all-gather phases cross
    /// over to different axes.
    static func crossing(_ types: [Part], dims: [Int]) -> [Double]? {
        let k = linkClasses(dims: dims).count
        let phaseLists = types.map { phases(of: $0, dims: dims) }
        let slots = phaseLists[0].count, n = types.count
        // Variables: shares (n), slot times (slots), one slack per (slot, link class).
        let width = n + slots + slots * k
        var rows: [[Double]] = [], rhs: [Double] = []
        var sum = [Double](repeating: 0, count: width)
        for t in 0..<n { sum[t] = 1 }
        rows.append(sum); rhs.append(1)
        for slot in 0..<slots {
            for c in 0..<k {
                var row = [Double](repeating: 0, count: width)
                for t in 0..<n where phaseLists[t][slot].linkClass == c { row[t] = phaseLists[t][slot].work }
                row[n + slot] = -1
                row[n + slots + slot * k + c] = 1
                rows.append(row); rhs.append(0)
            }
        }
        var objective = [Double](repeating: 0, count: width)
        for t in 0..<n where types[t].gatherOrder == types[t].order { objective[t] = -1e-4 }
        for slot in 0..<slots { objective[n + slot] = 1 }
        return LinearProgram(objective: objective, rows: rows, rhs: rhs).solve().map { Array($0[..<n]) }
    }

    /// Shares for a 3D group (the type's comment, "the work spreads"): every link class carries the
    /// same bytes in the reduce-scatter and in the all-gather (or, when that is impossible, in
    /// both together), and the largest share is as small as it can be, so the work spreads over
    /// many parts; types whose all-gather retraces their reduce-scatter are preferred by a little.
    static func spread(_ types: [Part], dims: [Int], separateHalves: Bool) -> [Double]? {
        let k = linkClasses(dims: dims).count
        let n = types.count
        let phaseLists = types.map { phases(of: $0, dims: dims) }
        let axes = phaseLists[0].count / 2
        func load(_ t: Int, _ c: Int, _ phases: Range<Int>) -> Double {
            phases.reduce(0.0) { $0 + (phaseLists[t][$1].linkClass == c ? phaseLists[t][$1].work : 0) }
        }
        let halves = separateHalves ? [0..<axes, axes ..< 2 * axes] : [0 ..< 2 * axes]
        let target = (0..<k).reduce(0.0) { $0 + load(0, $1, 0 ..< 2 * axes) } / Double(k * halves.count)
        // Variables: shares (n), the largest share u, one slack per type (share + slack = u).
        var rows: [[Double]] = [], rhs: [Double] = []
        for c in 0..<k {
            for half in halves {
                rows.append((0..<n).map { load($0, c, half) } + [Double](repeating: 0, count: n + 1))
                rhs.append(target)
            }
        }
        for t in 0..<n {
            var row = [Double](repeating: 0, count: 2 * n + 1)
            row[t] = 1; row[n] = -1; row[n + 1 + t] = 1
            rows.append(row); rhs.append(0)
        }
        let objective = types.map { $0.gatherOrder == Array($0.order.reversed()) ? 0 : 1e-3 } + [1] + [Double](repeating: 0, count: n)
        return LinearProgram(objective: objective, rows: rows, rhs: rhs).solve().map { Array($0[..<n]) }
    }

    static func permutations(_ items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i -> [[Int]] in
            var rest = items
            let first = rest.remove(at: i)
            return permutations(rest).map { [first] + $0 }
        }
    }
}
