import ArgumentParser
import Foundation
import TorusCore

/// `torus rankmap generate|check|convert`: place DP×TP×PP jobs on a torus and judge placements.
struct RankMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rankmap",
        abstract: "Generate, check and convert rank maps (vcoord, Open MPI rankfile, JSON).",
        subcommands: [Generate.self, Check.self, Convert.self]
    )

    struct Output: ParsableArguments {
        @Option(name: .long, help: "Write the map to this file instead of standard output.")
        var output: String?
        @Flag(name: .long, help: "Replace --output or --svg files that exist already.")
        var force = false
        @Option(name: .long, help: "Draw the placement as SVG into this file (one panel per Z plane).")
        var svg: String?

        func write(_ text: String) throws {
            if let output { try writeText(text, to: output, overwrite: force) } else { print(text, terminator: "") }
        }

        func draw(_ nodes: [Int], _ machine: TorusShape, _ layout: JobLayout, title: String) throws {
            guard let svg else { return }
            try writeText(PlacementPicture.svg(nodes: nodes, on: machine, layout: layout, title: title), to: svg, overwrite: force)
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Place a DP×TP×PP job: TP groups on one node or adjacent nodes, DP groups on boxes whose rings are one hop per step.",
            discussion: "The map goes to standard output (or --output); the placement report to standard error (or, with --json, to standard output).")
        @Option(name: .long, help: "Machine torus, e.g. 48x6x48.", transform: parseShape) var torus: TorusShape
        @Option(name: .long, help: "Job sizes, e.g. tp=6,pp=8,dp=288 (a missing dp fills the machine).") var job: String
        @Option(name: .long, help: "Ranks per node.") var procsPerNode = 1
        @Option(name: .long, help: "Map format.") var format: RankMap.Format = .vcoord
        @Flag(name: .long, help: "Lay ranks in rank order, X fastest, instead (the naive map, for comparison).") var naive = false
        @Flag(name: .long, help: "Print the report as JSON on standard output (needs --output for the map).") var json = false
        @OptionGroup var out: Output

        func run() throws {
            let machine = torus
            let layout = try cliErrors { try JobLayout(parsing: job, ranks: machine.nodeCount * max(1, procsPerNode)) }
            if json && out.output == nil { throw ValidationError("--json prints the report on standard output: give --output FILE for the map") }
            let (nodes, report) = try cliErrors { () -> ([Int], PlacementReport) in
                if naive {
                    let nodes = try PlacementGenerator.naive(layout: layout, machine: machine, procsPerNode: procsPerNode)
                    return (nodes, try PlacementReport.of(nodes: nodes, on: machine, layout: layout))
                }
                let g = try PlacementGenerator.generate(layout: layout, machine: machine, procsPerNode: procsPerNode)
                return (g.nodes, g.report)
            }
            var map = RankMap(nodes: nodes, on: machine)
            if procsPerNode > 1 {
                var used: [Int: Int] = [:]
                map.fields = nodes.map { n in defer { used[n, default: 0] += 1 }; return "core=\(used[n, default: 0])" }
            }
            try out.write(map.text(format))
            try out.draw(nodes, machine, layout, title: "\(naive ? "naive" : "generated") placement of \(layout) on \(machine)")
            if json { print(try jsonString(report, pretty: true)) } else { FileHandle.standardError.write(Data((report.description + "\n").utf8)) }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a rank map and report hops per ring step and link load for a job on it.",
            discussion: "Exit status 0 when the map is valid; any problem is reported with file, line, what was found and what was expected.")
        @Argument(help: "The rank map (vcoord, rankfile or JSON; the format is guessed from the name and first line).") var file: String
        @Option(name: .long, help: "Machine torus (default: the one the file names, else the coordinates' bounding box).", transform: parseShape)
        var torus: TorusShape?
        @Option(name: .long, help: "Job sizes, e.g. tp=2,pp=2,dp=16 (default: one DP group of every rank).") var job: String?
        @Option(name: .long, help: "Most ranks allowed on one node.") var procsPerNode: Int?
        @Option(name: .long, help: "Force the file format (default: guessed from the name and first line).") var format: RankMap.Format?
        @Option(name: .long, help: "Node list (lines 'host x y z') for a rankfile without '# node' lines.") var nodes: String?
        @Flag(name: .long, help: "Print the report as JSON.") var json = false
        @OptionGroup var out: Output

        func run() throws {
            // What the file says is data: its errors are run-time errors (no usage text).
            let map = try RankMap.load(path: file, format: format, nodeList: nodes)
            let machine = try torus ?? map.torus ?? map.boundingShape
            let layout = try cliErrors { try job.map { try JobLayout(parsing: $0, ranks: map.rankCount) } ?? JobLayout(tp: 1, pp: 1, dp: map.rankCount) }
            let placed = try map.nodes(on: machine, ranks: layout.ranks, procsPerNode: procsPerNode)
            let report = try PlacementReport.of(nodes: placed, on: machine, layout: layout)
            try out.draw(placed, machine, layout, title: "\(file): \(layout) on \(machine)")
            print(json ? try jsonString(report, pretty: true) : "\(file): valid, \(map.rankCount) ranks\n" + report.description)
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rewrite a rank map in another format (nothing is lost: fields, hosts and slots are kept).")
        @Argument(help: "The rank map to read.") var file: String
        @Option(name: .long, help: "Output format.") var format: RankMap.Format
        @Option(name: .long, help: "Node list (lines 'host x y z') for a rankfile without '# node' lines.") var nodes: String?
        @Option(name: .long, help: "Machine torus to record in the output (rankfile and JSON).", transform: parseShape) var torus: TorusShape?
        @OptionGroup var out: Output

        func run() throws {
            var map = try RankMap.load(path: file, nodeList: nodes)
            if let torus {
                _ = try map.nodes(on: torus)
                map.torus = torus
            }
            try out.write(map.text(format))
        }
    }
}
