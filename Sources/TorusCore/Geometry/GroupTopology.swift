/// The torus view of a group of ranks: the grid its algorithms run on, which rank sits at each grid
/// position, and (when known) where each rank sits on the machine, for counting hops.
///
/// A group whose members' coordinates are exactly the product of the coordinates used on each axis
/// (a full box, a box that wraps around, or a regularly strided sub-grid) runs on that box's dims:
/// rings along each grid axis follow the machine's axes. Any other group (scattered members, several
/// ranks on one node) runs on a near-cubic virtual grid of its ranks in rank order — still correct,
/// with its hop counts reported.
public struct GroupTopology: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        /// Members fill a box of the machine; `grid` has the box's dims.
        case box
        /// Members do not form a box; `grid` is a near-cubic arrangement of the ranks.
        case virtualGrid = "virtual_grid"
    }

    public let kind: Kind
    /// The grid the algorithms run on; every axis is treated as a ring.
    public let grid: TorusShape
    /// `rankAt[g]`: the group rank at grid node g (grid nodes numbered X fastest).
    public let rankAt: [Int]
    /// `gridNodeOf[r]`: the grid node of group rank r.
    public let gridNodeOf: [Int]
    /// The machine torus, when known.
    public let machine: TorusShape?
    /// `machineNodeOf[r]`: the machine node of group rank r, when known.
    public let machineNodeOf: [Int]?

    /// Number of ranks.
    public var size: Int { rankAt.count }

    /// A group whose ranks are the nodes of `shape` in node order: rank = node index.
    public static func box(_ shape: TorusShape) -> GroupTopology {
        let ids = Array(0..<shape.nodeCount)
        let ringShape = try! TorusShape(shape.dims)  // the grid treats every axis as a ring
        return GroupTopology(kind: .box, grid: ringShape, rankAt: ids, gridNodeOf: ids, machine: shape, machineNodeOf: ids)
    }

    /// A group of `size` ranks on a near-cubic virtual grid with no machine placement.
    public static func virtualGrid(size: Int) throws -> GroupTopology {
        let grid = try TorusShape.nearCubic(size)
        let ids = Array(0..<size)
        return GroupTopology(kind: .virtualGrid, grid: grid, rankAt: ids, gridNodeOf: ids, machine: nil, machineNodeOf: nil)
    }

    /// The view of a group whose rank r sits on machine node `nodes[r]` of `machine`.
    public static func of(nodes: [Int], on machine: TorusShape) throws -> GroupTopology {
        guard !nodes.isEmpty else {
            throw TorusError.invalidValue(name: "group", value: "[]", expected: "at least one member")
        }
        let coords = try nodes.map { try machine.coordinate(of: $0) }
        var axisOrders: [[Int]] = []
        for axis in 0..<machine.axisCount {
            axisOrders.append(cyclicOrder(Set(coords.map { $0[axis] }), length: machine.dims[axis], periodic: machine.periodic[axis]))
        }
        let dims = axisOrders.map(\.count)
        let product = dims.reduce(1, *)
        if product == nodes.count, Set(nodes).count == nodes.count {
            let grid = try TorusShape(dims)
            var rankAt = Array(repeating: -1, count: product)
            var gridNodeOf = Array(repeating: -1, count: nodes.count)
            let position = axisOrders.map { order in Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) }) }
            for (rank, c) in coords.enumerated() {
                let g = grid.unsafeNode(at: (0..<c.count).map { position[$0][c[$0]]! })
                rankAt[g] = rank
                gridNodeOf[rank] = g
            }
            return GroupTopology(kind: .box, grid: grid, rankAt: rankAt, gridNodeOf: gridNodeOf, machine: machine, machineNodeOf: nodes)
        }
        let virtual = try virtualGrid(size: nodes.count)
        return GroupTopology(kind: .virtualGrid, grid: virtual.grid, rankAt: virtual.rankAt, gridNodeOf: virtual.gridNodeOf,
                             machine: machine, machineNodeOf: nodes)
    }

    /// The coordinates used on one axis in ring order: sorted, and on a periodic axis starting just
    /// after the widest gap, so that a wrapped interval such as {6, 7, 0, 1} runs 6, 7, 0, 1. An
    /// interval whose ring cannot close in one hop (it is not the whole periodic axis) is folded —
    /// every other coordinate out, the rest back: 6, 0, 1, 7 — so that no ring step crosses more
    /// than two hops (dilation 2) instead of one step crossing the whole interval.
    static func cyclicOrder(_ used: Set<Int>, length: Int, periodic: Bool) -> [Int] {
        var order = used.sorted()
        if periodic, order.count > 1 {
            var widest = 0, start = 0
            for (i, c) in order.enumerated() {
                let next = i + 1 < order.count ? order[i + 1] : order[0] + length
                if next - c > widest { widest = next - c; start = (i + 1) % order.count }
            }
            order = Array(order[start...] + order[..<start])
        }
        let closesInOneHop = periodic && order.count == length
        let interval = zip(order, order.dropFirst()).allSatisfy { ($1 - $0 + length) % length == 1 }
        guard order.count > 2, interval, !closesInOneHop else { return order }
        let out = stride(from: 0, to: order.count, by: 2).map { order[$0] }
        let back = stride(from: 1, to: order.count, by: 2).reversed().map { order[$0] }
        return out + back
    }

    /// The rank one step along grid `axis` in `direction`, wrapping around.
    public func neighbor(of rank: Int, axis: Int, direction: Direction) -> Int {
        var c = grid.unsafeCoordinate(of: gridNodeOf[rank])
        c[axis] = (c[axis] + direction.step + grid.dims[axis]) % grid.dims[axis]
        return rankAt[grid.unsafeNode(at: c)]
    }

    /// The grid coordinate of a rank.
    public func gridCoordinate(of rank: Int) -> [Int] { grid.unsafeCoordinate(of: gridNodeOf[rank]) }

    /// Machine hops from one rank to another, or nil when the placement is unknown.
    public func hops(from a: Int, to b: Int) -> Int? {
        guard let machine, let machineNodeOf else { return nil }
        return try? machine.hops(from: machineNodeOf[a], to: machineNodeOf[b])
    }

    /// The most machine hops between grid neighbours (the worst ring step of sixring), or nil
    /// when the placement is unknown.
    public var worstRingHops: Int? {
        guard machine != nil else { return nil }
        var worst = 0
        for rank in 0..<size {
            for axis in 0..<grid.axisCount where grid.dims[axis] > 1 {
                worst = max(worst, hops(from: rank, to: neighbor(of: rank, axis: axis, direction: .plus)) ?? 0)
            }
        }
        return worst
    }

    public var description: String {
        switch kind {
        case .box: return "box \(grid)" + (machine.map { " on machine \($0)" } ?? "")
        case .virtualGrid: return "virtual grid \(grid) (members do not form a box)" + (machine.map { " on machine \($0)" } ?? "")
        }
    }

    public init(kind: Kind, grid: TorusShape, rankAt: [Int], gridNodeOf: [Int], machine: TorusShape?, machineNodeOf: [Int]?) {
        self.kind = kind
        self.grid = grid
        self.rankAt = rankAt
        self.gridNodeOf = gridNodeOf
        self.machine = machine
        self.machineNodeOf = machineNodeOf
    }
}
