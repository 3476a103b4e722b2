import Foundation
import TorusCore

extension Prediction {
    /// One event of a Chrome trace.
    struct TraceEvent: Encodable {
        var ph: String
        var name: String
        var pid: Int
        var tid: Int?
        var ts: Double?
        var dur: Double?
        var args: [String: TraceArgument]?
    }

    enum TraceArgument: Encodable {
        case text(String), number(Int)
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .text(t): try c.encode(t)
            case let .number(n): try c.encode(n)
            }
        }
    }

    /// A Chrome trace (Perfetto, chrome://tracing): a process per rank (per group and rank when
    /// several groups run), a thread per part, one complete ("X") slice per step, times in µs.
    /// Written with `JSONEncoder`, so any label gives valid JSON.
    public func chromeTrace() throws -> String {
        var events: [TraceEvent] = []
        let several = request.groups.count > 1
        var named = Set<Int>(), namedThreads = Set<Int>()
        for slice in trace {
            let pid = slice.group * 1_000_000 + slice.rank
            if named.insert(pid).inserted {
                let name = several ? "group \(slice.group) rank \(slice.rank)" : "rank \(slice.rank)"
                events.append(TraceEvent(ph: "M", name: "process_name", pid: pid, args: ["name": .text(name)]))
                events.append(TraceEvent(ph: "M", name: "process_sort_index", pid: pid, args: ["sort_index": .number(pid)]))
            }
            if namedThreads.insert(pid * 64 + slice.stream).inserted {
                events.append(TraceEvent(ph: "M", name: "thread_name", pid: pid, tid: slice.stream, args: ["name": .text(slice.part)]))
            }
            // Microseconds to 0.1 ns, as Perfetto shows them.
            let ts = (slice.start * 1e10).rounded() / 1e4, dur = (max(0, slice.end - slice.start) * 1e10).rounded() / 1e4
            events.append(TraceEvent(ph: "X", name: slice.label, pid: pid, tid: slice.stream, ts: ts, dur: dur))
        }
        struct Trace: Encodable {
            var displayTimeUnit = "ns"
            var traceEvents: [TraceEvent]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(Trace(traceEvents: events)), as: UTF8.self) + "\n"
    }

    /// The busiest and the idlest directed link on axes longer than one, with their bytes.
    public var linkExtremes: (busiest: (DirectedLink, Int), idlest: (DirectedLink, Int))? {
        let machine = request.machine
        guard !linkBytes.isEmpty else { return nil }
        var busiest: (DirectedLink, Int)?, idlest: (DirectedLink, Int)?
        for node in 0..<machine.nodeCount {
            for axis in 0..<machine.axisCount where machine.dims[axis] > 1 {
                for direction in Direction.allCases {
                    let link = DirectedLink(node: node, axis: axis, direction: direction)
                    let b = linkBytes[link.index(axisCount: machine.axisCount)]
                    if busiest == nil || b > busiest!.1 { busiest = (link, b) }
                    if idlest == nil || b < idlest!.1 { idlest = (link, b) }
                }
            }
        }
        guard let busiest, let idlest else { return nil }
        return (busiest, idlest)
    }

    /// An SVG of bytes per directed link: a panel per Z plane with X across and Y down; each node a
    /// square with a bar on each side for its ±X and ±Y links and two small squares inside for ±Z,
    /// coloured from white (idle) to dark red (the busiest link); a legend gives the scale.
    public func heatmapSVG(title: String) -> String {
        let machine = request.machine
        let dims = machine.dims + Array(repeating: 1, count: max(0, 3 - machine.axisCount))
        let (nx, ny, nz) = (dims[0], dims[1], dims[2])
        let cell = max(10, min(28, 560 / max(nx, ny)))
        let gap = 24, top = 80
        let panelW = nx * cell, panelH = ny * cell
        let columns = max(1, min(nz, max(1, 1400 / (panelW + gap))))
        let rows = (nz + columns - 1) / columns
        let width = max(520, columns * (panelW + gap) + gap), height = top + rows * (panelH + gap + 14) + gap
        let maxBytes = max(1, linkBytes.max() ?? 1)
        func colour(_ b: Int) -> String {
            let f = Double(b) / Double(maxBytes)
            // White → yellow → red → dark red.
            let r = Int(255 - max(0, f - 0.66) * 3 * 115), g = Int(255 * max(0, 1 - f * 1.5)), bl = Int(255 * max(0, 1 - f * 3))
            return "rgb(\(r),\(g),\(bl))"
        }
        func bytes(_ node: Int, _ axis: Int, _ d: Direction) -> Int {
            axis < machine.axisCount ? linkBytes[DirectedLink(node: node, axis: axis, direction: d).index(axisCount: machine.axisCount)] : 0
        }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(gap)\" y=\"20\" font-size=\"15\">\(title)</text>\n"
        out += "<text x=\"\(gap)\" y=\"38\">bytes per directed link; a panel per Z plane (X across, Y down); bars: +X right, -X left, +Y bottom, -Y top; inner squares: +Z (right), -Z (left)</text>\n"
        // Legend: a gradient in five steps.
        for i in 0...4 {
            let b = maxBytes * i / 4
            out += "<rect x=\"\(gap + i * 90)\" y=\"48\" width=\"24\" height=\"14\" fill=\"\(colour(b))\" stroke=\"#999\"/>"
            out += "<text x=\"\(gap + i * 90 + 28)\" y=\"60\">\(ByteCount.format(b))</text>\n"
        }
        let bar = max(2, cell / 5)
        for z in 0..<nz {
            let ox = gap + (z % columns) * (panelW + gap), oy = top + (z / columns) * (panelH + gap + 14) + 14
            out += "<text x=\"\(ox)\" y=\"\(oy - 4)\">z=\(z)</text>\n"
            for y in 0..<ny {
                for x in 0..<nx {
                    let node = x + nx * (y + ny * z)
                    let cx = ox + x * cell, cy = oy + y * cell
                    out += "<g><title>node (\(x),\(y),\(z)): +X \(bytes(node, 0, .plus)) -X \(bytes(node, 0, .minus)) +Y \(bytes(node, 1, .plus)) -Y \(bytes(node, 1, .minus)) +Z \(bytes(node, 2, .plus)) -Z \(bytes(node, 2, .minus)) bytes</title>"
                    out += "<rect x=\"\(cx)\" y=\"\(cy)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"#f4f4f4\" stroke=\"#ccc\"/>"
                    out += "<rect x=\"\(cx + cell - bar)\" y=\"\(cy + bar)\" width=\"\(bar)\" height=\"\(cell - 2 * bar)\" fill=\"\(colour(bytes(node, 0, .plus)))\"/>"
                    out += "<rect x=\"\(cx)\" y=\"\(cy + bar)\" width=\"\(bar)\" height=\"\(cell - 2 * bar)\" fill=\"\(colour(bytes(node, 0, .minus)))\"/>"
                    out += "<rect x=\"\(cx + bar)\" y=\"\(cy + cell - bar)\" width=\"\(cell - 2 * bar)\" height=\"\(bar)\" fill=\"\(colour(bytes(node, 1, .plus)))\"/>"
                    out += "<rect x=\"\(cx + bar)\" y=\"\(cy)\" width=\"\(cell - 2 * bar)\" height=\"\(bar)\" fill=\"\(colour(bytes(node, 1, .minus)))\"/>"
                    let inner = max(2, (cell - 2 * bar) / 2)
                    out += "<rect x=\"\(cx + bar + inner)\" y=\"\(cy + bar + inner / 2)\" width=\"\(inner)\" height=\"\(inner)\" fill=\"\(colour(bytes(node, 2, .plus)))\"/>"
                    out += "<rect x=\"\(cx + bar)\" y=\"\(cy + bar + inner / 2)\" width=\"\(inner)\" height=\"\(inner)\" fill=\"\(colour(bytes(node, 2, .minus)))\"/></g>\n"
                }
            }
        }
        return out + "</svg>\n"
    }
}
