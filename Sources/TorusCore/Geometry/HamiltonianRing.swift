extension TorusShape {
    /// A ring through every node in which consecutive nodes, and the last and the first, are one hop
    /// apart (a Hamiltonian cycle of the box), or an error explaining why none exists.
    ///
    /// Construction: pick a "column" axis of length a; the other axes are walked in boustrophedon
    /// (snake) order, a path of L rows in which each step is one hop. The ring starts at column 0,
    /// row 0, snakes over columns 1…a−1 row by row, and returns to the start along column 0. The last
    /// row ends next to column 0 when L is even (snake comes back) or a = 2, and across the wrap-around
    /// link when the column axis is periodic. When no axis allows either, none exists: the box is a
    /// mesh with an odd number of nodes (bipartite, so every cycle has even length) or an open line.
    public func hamiltonianRing() throws -> [Int] {
        let active = (0..<axisCount).filter { dims[$0] > 1 }
        if active.isEmpty { return [0] }
        for column in active {
            let a = dims[column]
            let rowAxes = active.filter { $0 != column }
            let rowCount = rowAxes.reduce(1) { $0 * dims[$1] }
            guard rowCount % 2 == 0 || a == 2 || periodic[column] else { continue }
            let rows = snakePath(rowAxes)
            var ring: [Int] = []
            ring.reserveCapacity(nodeCount)
            var c = Array(repeating: 0, count: axisCount)
            func visit(_ row: [Int], _ x: Int) {
                for (k, axis) in rowAxes.enumerated() { c[axis] = row[k] }
                c[column] = x
                ring.append(unsafeNode(at: c))
            }
            visit(rows[0], 0)
            for (r, row) in rows.enumerated() {
                let xs = r % 2 == 0 ? Array(1..<a) : Array((1..<a).reversed())
                for x in xs { visit(row, x) }
            }
            for r in stride(from: rows.count - 1, through: 1, by: -1) { visit(rows[r], 0) }
            return ring
        }
        let reason = active.count == 1
            ? "it is an open line of \(dims[active[0]]) nodes; make the axis periodic or use at most 2 nodes"
            : "it is a mesh (no wrap-around) with an odd number of nodes, \(nodeCount); make an axis periodic or use an even length"
        throw TorusError.noHamiltonianRing(shape: description, reason: reason)
    }

    /// The coordinates of the given axes in boustrophedon order: each one hop from the previous
    /// (the first axis sweeps forward, then backward, as the next axis advances, and so on).
    func snakePath(_ axes: [Int]) -> [[Int]] {
        guard let first = axes.first else { return [[]] }
        let outer = snakePath(Array(axes.dropFirst()))
        var path: [[Int]] = []
        path.reserveCapacity(outer.count * dims[first])
        for (q, rest) in outer.enumerated() {
            let xs = q % 2 == 0 ? Array(0..<dims[first]) : Array((0..<dims[first]).reversed())
            for x in xs { path.append([x] + rest) }
        }
        return path
    }
}
