/// How good a placement of a DP×TP×PP job is: for each kind of group the hops per ring step (worst
/// and mean), and the most loaded directed link when all data-parallel groups run the six-direction
/// ring at once (DESIGN §8).
public struct PlacementReport: Codable, Sendable, CustomStringConvertible {
    public struct GroupStats: Codable, Sendable {
        public var kind: String
        public var groups: Int
        public var size: Int
        /// Machine hops of one step: DP and TP groups step between neighbours of their torus view
        /// (the rings sixring runs), PP groups from stage to stage.
        public var worstHops: Int
        public var meanHops: Double
    }

    public var torus: String
    public var job: String
    public var ranks: Int
    /// Most ranks on one node.
    public var procsPerNode: Int
    public var dp: GroupStats
    public var tp: GroupStats
    public var pp: GroupStats
    /// DP groups whose members fill a box of the machine, and the torus view of DP group 0.
    public var dpBoxes: Int
    public var dpView: String
    /// All DP groups reducing at once: ring steps routed over the busiest directed link, the mean
    /// over links in use, the busiest link, links in use and links idle.
    public var dpMaxLinkLoad: Int
    public var dpMeanLinkLoad: Double
    public var dpBusiestLink: String
    public var dpLinksUsed: Int
    public var linksIdle: Int

    public var description: String {
        func row(_ g: GroupStats) -> String {
            let name = g.kind.uppercased()
            return "  \(name) groups: \(g.groups) of \(g.size) ranks, hops per ring step worst \(g.worstHops) mean "
                + format2(g.meanHops)
        }
        return [
            "placement of \(job) (\(ranks) ranks, up to \(procsPerNode) per node) on torus \(torus)",
            row(dp), row(tp), row(pp),
            "  DP groups filling a box: \(dpBoxes) of \(dp.groups); group 0 runs on \(dpView)",
            "  all DP groups at once: busiest link \(dpBusiestLink) carries \(dpMaxLinkLoad) ring steps (mean "
                + format2(dpMeanLinkLoad) + " over \(dpLinksUsed) links in use, \(linksIdle) idle)",
        ].joined(separator: "\n")
    }

    /// The report for rank r on machine node `nodes[r]`.
    public static func of(nodes: [Int], on machine: TorusShape, layout: JobLayout) throws -> PlacementReport {
        guard nodes.count == layout.ranks else {
            throw TorusError.invalidValue(name: "rank map", value: "\(nodes.count) ranks",
                                          expected: "\(layout.ranks) ranks for the job \(layout)")
        }
        var perNode: [Int: Int] = [:]
        for n in nodes { perNode[n, default: 0] += 1 }
        var load = [Int](repeating: 0, count: machine.directedLinkCount)

        var boxes = 0, view = ""
        let dp = try ringStats(.dp, layout: layout, nodes: nodes, machine: machine, onGroup: { g, topology in
            if topology.kind == .box { boxes += 1 }
            if g == 0 { view = topology.description }
        }, onRoute: { route in
            for link in route { load[link.index(axisCount: machine.axisCount)] += 1 }
        })
        let tp = try ringStats(.tp, layout: layout, nodes: nodes, machine: machine)
        let pp = try chainStats(.pp, layout: layout, nodes: nodes, machine: machine)

        var busiest = 0, used = 0, total = 0
        for (i, l) in load.enumerated() where l > 0 {
            used += 1
            total += l
            if l > load[busiest] { busiest = i }
        }
        let link = DirectedLink(index: busiest, axisCount: machine.axisCount)
        let realLinks = machine.dims.enumerated().reduce(0) { $0 + ($1.element > 1 ? machine.nodeCount * 2 : 0) }
        return PlacementReport(
            torus: machine.description, job: layout.description, ranks: layout.ranks, procsPerNode: perNode.values.max() ?? 0,
            dp: dp, tp: tp, pp: pp, dpBoxes: boxes, dpView: view, dpMaxLinkLoad: load.max() ?? 0,
            dpMeanLinkLoad: used == 0 ? 0 : Double(total) / Double(used),
            dpBusiestLink: used == 0 ? "none" : linkName(link, on: machine), dpLinksUsed: used, linksIdle: realLinks - used)
    }

    /// `(x,y,z)+X`: the node's coordinate and the link's direction.
    public static func linkName(_ link: DirectedLink, on machine: TorusShape) -> String {
        "(" + machine.unsafeCoordinate(of: link.node).map(String.init).joined(separator: ",") + ")\(link.direction)\(TorusShape.axisName(link.axis))"
    }

    /// Ring steps of each group's torus view (the rings sixring runs: both directions of every grid
    /// axis); `onGroup` sees each group's view, `onRoute` every step's route.
    static func ringStats(_ kind: JobLayout.GroupKind, layout: JobLayout, nodes: [Int], machine: TorusShape,
                          onGroup: (Int, GroupTopology) -> Void = { _, _ in },
                          onRoute: ([DirectedLink]) -> Void = { _ in }) throws -> GroupStats {
        let groups = layout.groups(kind)
        var worst = 0, hops = 0, steps = 0
        for (g, members) in groups.enumerated() {
            let topology = try GroupTopology.of(nodes: members.map { nodes[$0] }, on: machine)
            onGroup(g, topology)
            for rank in 0..<topology.size {
                for axis in 0..<topology.grid.axisCount where topology.grid.dims[axis] > 1 {
                    for direction in Direction.allCases {
                        let peer = topology.neighbor(of: rank, axis: axis, direction: direction)
                        let route = try machine.route(from: nodes[members[rank]], to: nodes[members[peer]])
                        onRoute(route)
                        worst = max(worst, route.count)
                        hops += route.count
                        steps += 1
                    }
                }
            }
        }
        return GroupStats(kind: kind.rawValue, groups: groups.count, size: groups.first?.count ?? 0, worstHops: worst,
                          meanHops: steps == 0 ? 0 : Double(hops) / Double(steps))
    }

    /// Hops from each member to the next in group order (pipeline stages).
    static func chainStats(_ kind: JobLayout.GroupKind, layout: JobLayout, nodes: [Int], machine: TorusShape) throws -> GroupStats {
        let groups = layout.groups(kind)
        var worst = 0, hops = 0, steps = 0
        for members in groups where members.count > 1 {
            for (a, b) in zip(members, members.dropFirst()) {
                let h = try machine.hops(from: nodes[a], to: nodes[b])
                worst = max(worst, h)
                hops += h
                steps += 1
            }
        }
        return GroupStats(kind: kind.rawValue, groups: groups.count, size: groups.first?.count ?? 0, worstHops: worst,
                          meanHops: steps == 0 ? 0 : Double(hops) / Double(steps))
    }
}

/// Two decimals, without Foundation.
func format2(_ x: Double) -> String {
    let scaled = Int((x * 100).rounded())
    let frac = abs(scaled) % 100
    return "\(scaled / 100).\(frac < 10 ? "0" : "")\(frac)"
}
