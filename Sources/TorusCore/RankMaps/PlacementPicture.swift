/// Draws a placement as SVG: one panel per Z plane (X across, Y down), each node a cell coloured by
/// the DP group of its ranks (split in slivers when it holds several), TP neighbours joined by lines.
public enum PlacementPicture {
    public static func svg(nodes: [Int], on machine: TorusShape, layout: JobLayout, title: String) -> String {
        let dims = machine.dims + Array(repeating: 1, count: max(0, 3 - machine.axisCount))
        let (nx, ny, nz) = (dims[0], dims[1], dims[2])
        let cell = max(6, min(24, 480 / max(nx, ny)))
        let gap = 24
        let panelW = nx * cell, panelH = ny * cell
        let columns = max(1, min(nz, max(1, 1200 / (panelW + gap))))
        let rows = (nz + columns - 1) / columns
        let legendH = 56
        let width = columns * (panelW + gap) + gap, height = legendH + rows * (panelH + gap + 14) + gap
        let groups = layout.tp * layout.pp

        func origin(_ z: Int) -> (Int, Int) {
            (gap + (z % columns) * (panelW + gap), legendH + (z / columns) * (panelH + gap + 14) + 14)
        }
        func center(_ node: Int) -> (Double, Double, Int) {
            let c = machine.unsafeCoordinate(of: node) + [0, 0]
            let (ox, oy) = origin(c[2])
            return (Double(ox + c[0] * cell) + Double(cell) / 2, Double(oy + c[1] * cell) + Double(cell) / 2, c[2])
        }
        func colour(_ group: Int) -> String {
            // Golden-ratio hues keep neighbouring group numbers apart.
            let hue = Int((Double(group) * 137.508).truncatingRemainder(dividingBy: 360))
            return "hsl(\(hue),\(55 + (group % 3) * 15)%,\(45 + (group / 3 % 3) * 10)%)"
        }

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(gap)\" y=\"20\" font-size=\"15\">\(escape(title))</text>\n"
        out += "<text x=\"\(gap)\" y=\"40\">one panel per Z plane (X across, Y down); colour: DP group (\(groups) groups of \(layout.dp)); black lines: TP neighbours in the plane, black dots: TP neighbours in another plane</text>\n"
        for z in 0..<nz {
            let (ox, oy) = origin(z)
            out += "<text x=\"\(ox)\" y=\(q(oy - 4))>z=\(z)</text>\n"
            out += "<rect x=\"\(ox)\" y=\"\(oy)\" width=\"\(panelW)\" height=\"\(panelH)\" fill=\"#eee\" stroke=\"#999\"/>\n"
        }
        var ranksOn: [Int: [Int]] = [:]
        for (rank, node) in nodes.enumerated() { ranksOn[node, default: []].append(rank) }
        for (node, ranks) in ranksOn.sorted(by: { $0.key < $1.key }) {
            let c = machine.unsafeCoordinate(of: node) + [0, 0]
            let (ox, oy) = origin(c[2])
            let x = ox + c[0] * cell, y = oy + c[1] * cell
            let sliver = Double(cell) / Double(ranks.count)
            for (i, rank) in ranks.enumerated() {
                let group = layout.dpGroup(of: rank)
                out += "<rect x=\(q(Double(x) + Double(i) * sliver)) y=\"\(y)\" width=\(q(sliver)) height=\"\(cell)\" fill=\"\(colour(group))\"><title>rank \(rank), DP group \(group)</title></rect>\n"
            }
        }
        for members in layout.groups(.tp) where members.count > 1 {
            for (a, b) in zip(members, members.dropFirst()) where nodes[a] != nodes[b] {
                let (x1, y1, z1) = center(nodes[a]), (x2, y2, z2) = center(nodes[b])
                if z1 == z2 {
                    out += "<line x1=\(q(x1)) y1=\(q(y1)) x2=\(q(x2)) y2=\(q(y2)) stroke=\"black\" stroke-width=\"1.5\"/>\n"
                } else {
                    // The neighbour is in another plane: a dot on each end.
                    for (x, y) in [(x1, y1), (x2, y2)] { out += "<circle cx=\(q(x)) cy=\(q(y)) r=\"2\" fill=\"black\"/>\n" }
                }
            }
        }
        return out + "</svg>\n"
    }

    static func q<T>(_ v: T) -> String { "\"\(v)\"" }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
