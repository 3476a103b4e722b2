import ArgumentParser
import Foundation
import TorusCore
import TorusSchedules
import TorusSim

/// `torus sim`: predict the time, bandwidth and link load of an AllReduce on a torus with the
/// discrete-event predictor (no MPI, no threads per rank; scales to Fugaku-sized tori).
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Predict AllReduce (or ReduceScatter, AllGather) time, bandwidth and link load on a torus (discrete-event simulation).",
        discussion: """
            Runs every rank's schedule in virtual time over a model of links, routers, MPI overhead and \
            reduction speed (--preset, --set). Prints time, algbw, busbw (nccl-tests definitions), the bound \
            of DESIGN.md §1 and the fraction of it reached, and the busiest and idlest link.
            Examples:
              torus sim --torus 8x8x8 --algorithm sixring --bytes 256M --preset tofu-d
              torus sim --torus 4x4x4 -a sixring,ring,rabenseifner --sweep 8:1G --csv
              torus sim --torus 48x6x48 --job tp=6,pp=8,dp=288 --bytes 1G
              torus sim --torus 8x8x8 --bytes 256M --sweep-threads 0:12
              torus sim --torus 4x4x4 --collective reduce-scatter -a sixring,ring,rabenseifner --bytes 64M
            --collective reduce-scatter or all-gather predicts one half: --bytes is then the whole buffer \
            of p blocks, and busbw = algbw · (p−1)/p (nccl-tests' reduce_scatter_perf and all_gather_perf).
            """
    )

    enum Defaults: CommandDefaults {
        static let torus = "4x4x4", bytes = "256M"
        static let algorithms: [Algorithm] = [.sixRing]
    }

    @OptionGroup var torusOption: TorusOption<Defaults>
    @OptionGroup var algorithmOption: AlgorithmOption<Defaults>
    @OptionGroup var size: SizeOption<Defaults>
    @OptionGroup var reduction: ReductionOptions
    @OptionGroup var collectiveOption: CollectiveOption

    @Option(name: .long, help: "Size sweep MIN:MAX, doubling (one row per size; replaces --bytes).")
    var sweep: String?

    @Option(name: .long, help: "Reduction threads per node to sweep, MIN:MAX or a list such as 0,1,2,4 (one row each; 0: inline, on the thread that issues messages; one --algorithm and no --sweep).")
    var sweepThreads: String?

    @Option(name: .long, help: "Machine model (default tofu-d).")
    var preset: NetworkModel?

    @Option(name: .long, help: ArgumentHelp("A calibrated model (`mpirun -np N torus-bench --calibrate FILE`): the calibration of the group's number of ranks, or the nearest.", valueName: "FILE"))
    var model: String?

    @Flag(name: .long, help: "Print the model's figures and where each comes from, then stop.")
    var showModel = false

    @Option(name: .long, help: ArgumentHelp("Override a model parameter, NAME=VALUE (repeatable).",
                                            discussion: NetworkModel.parameters.map { "\($0.name) (\($0.unit))" }.joined(separator: ", ")))
    var set: [String] = []

    @Option(name: .long, help: "Network: torus (dimension-order routes) or full (a link per pair of ranks).")
    var network: NetworkModel.Network = .torus

    @Flag(name: .long, help: "Move real data and check every rank's result (small runs).")
    var payload = false

    @Option(name: .long, help: "Simulate all DP groups of a DP×TP×PP job at once, e.g. tp=6,pp=8,dp=288.")
    var job: String?

    @Option(name: .long, help: "Ranks per node for --job.")
    var procsPerNode: Int = 1

    @Option(name: .long, help: "Rank map for --job (vcoord, rankfile or JSON); default: the generated placement.")
    var rankmap: String?

    @Flag(name: .long, help: "With --job and no --rankmap: lay ranks in rank order, X fastest (the naive map).")
    var naive = false

    @Option(name: .long, help: "Threads to predict on (default: every core for machines of 512 nodes or more and for payload runs of 64 MiB or more in all; the result is the same for any number).")
    var threads: Int?

    @Flag(name: .long, help: "Print JSON (an object, or an array for a sweep or several algorithms).")
    var json = false

    @Flag(name: .long, help: "Print CSV.")
    var csv = false

    @Option(name: .long, help: "Write a Chrome/Perfetto trace (JSON) of the run: a track per rank and part, a slice per step.")
    var trace: String?

    @Option(name: .long, help: "Write an SVG heat map of bytes per directed link.")
    var heatmap: String?

    @Flag(name: .long, help: "Replace --trace or --heatmap files that exist already.")
    var force = false

    @Flag(name: .long, help: "Run even when the estimated memory exceeds what this machine has available.")
    var ignoreMemory = false

    struct Row: Codable {
        var collective: String
        var algorithm: String
        var torus: String
        var bytes: Int
        var timeS: Double
        var algbwGbps: Double
        var busbwGbps: Double
        var boundBusbwGbps: Double?
        var boundFraction: Double?
        var ranks: Int
        var groups: Int
        var groupSize: Int
        var preset: String
        var network: String
        var mode: String
        var busiestLink: String?
        var busiestLinkBytes: Int?
        var idlestLink: String?
        var idlestLinkBytes: Int?
        var wrongElements: Int?
        var slowestGroupS: Double
        var fastestGroupS: Double
        var messages: Int
        var events: Int
        var wallS: Double
        var threads: Int
        var reductionThreads: Int
    }

    func run() throws {
        let algorithms = algorithmOption.algorithms, machine = torusOption.torus, type = reduction.type, op = reduction.op
        if preset != nil && self.model != nil { throw ValidationError("choose one of --preset and --model") }
        let sizes = try cliErrors { try self.sizes(elementSize: type.size) }
        if json && csv { throw ValidationError("choose one of --json and --csv") }
        if (trace != nil || heatmap != nil) && (sizes.count > 1 || algorithms.count > 1) {
            throw ValidationError("--trace and --heatmap picture one run: give one --algorithm and no --sweep")
        }
        let threadCounts = try cliErrors { try self.threadCounts() }
        if threadCounts != nil && (sizes.count > 1 || algorithms.count > 1 || trace != nil || heatmap != nil) {
            throw ValidationError("--sweep-threads varies one run: give one --algorithm and no --sweep, --trace or --heatmap")
        }
        if (rankmap != nil || naive) && job == nil {
            throw ValidationError("\(rankmap != nil ? "--rankmap" : "--naive") places the ranks of a --job: add --job tp=…,pp=…,dp=…")
        }
        // Before the groups are even made: at least 32 KiB for each node of the machine.
        if !ignoreMemory {
            try MemoryBudget.check(Double(machine.nodeCount) * 32768, for: "predicting on \(machine) (\(machine.nodeCount) nodes)", override: "--ignore-memory")
        }
        let groups = try self.groups(machine)
        var model = preset ?? .tofuD
        if let path = self.model {
            let calibration = try cliErrors { try CalibratedModel.load(path: path) }.calibration(ranks: groups[0].size)
            model = calibration.model
            model.name = "calibrated-np\(calibration.ranks)"
        }
        model.network = network
        for s in set { try cliErrors { try model.set(s) } }
        if showModel {
            print("model: \(model.name)")
            for line in model.figureLines { print("  " + line) }
            return
        }
        let models = try threadCounts.map { counts in
            try counts.map { n -> NetworkModel in
                var m = model
                try m.set("reduction-threads=\(n)")
                return m
            }
        } ?? [model]
        if model.network == .full && groups.count > 1 { throw ValidationError("--network full models one group: drop --job") }
        let collective = collectiveOption.collective
        if collective != .allReduce {
            if payload { throw ValidationError("--payload checks AllReduce results: drop it for --collective \(collective)") }
            for a in algorithms {
                if let why = a.unavailable(collective, topology: groups[0]) { throw ValidationError("--collective \(collective): \(why)") }
            }
        }

        if !ignoreMemory, let available = MemoryBudget.available() {
            for algorithm in algorithms {
                let need = try Self.memoryEstimate(groups: groups, algorithm: algorithm, collective: collective, bytes: sizes.max() ?? 0,
                                                   elementSize: type.size, payload: payload, available: available)
                try MemoryBudget.check(need, for: "predicting \(algorithm.rawValue) on \(machine)", override: "--ignore-memory",
                                       available: available)
            }
        }

        var rows: [Row] = []
        let bar = ProgressBar()
        for size in sizes {
            for algorithm in algorithms {
                for model in models {
                    var request = PredictionRequest(machine: machine, groups: groups, algorithm: algorithm, bytes: size, type: type, op: op,
                                                    model: model, payload: payload, trace: trace != nil, threads: threads)
                    request.collective = collective
                    bar.label = "\(algorithm.rawValue) \(ByteCount.format(size))"
                    let p = try Predictor.run(request, progress: bar.update)
                    bar.clear()
                    if let wrong = p.wrongElements, wrong > 0 {
                        throw CheckFailed("payload check failed: \(wrong) elements differ from the expected result (\(algorithm.rawValue), \(size) bytes)")
                    }
                    rows.append(row(p))
                    if let trace { try writeText(try p.chromeTrace(), to: trace, overwrite: force) }
                    if let heatmap {
                        let title = "\(algorithm.rawValue) on \(machine), \(ByteCount.format(size)), \(model.name)" + (job.map { ", job \($0)" } ?? "")
                        try writeText(p.heatmapSVG(title: title), to: heatmap, overwrite: force)
                    }
                    if !json && !csv && sizes.count == 1 && models.count == 1 { print(summary(p, rows.last!)) }
                }
            }
        }
        if json {
            print(rows.count == 1 ? try jsonString(rows[0], pretty: true) : try jsonString(rows, pretty: true))
        } else if csv {
            print("algorithm,torus,bytes,time_s,algbw_gbps,busbw_gbps,bound_busbw_gbps,bound_fraction,groups,group_size,preset,mode")
            for r in rows {
                print([r.algorithm, r.torus, "\(r.bytes)", "\(r.timeS)", "\(r.algbwGbps)", "\(r.busbwGbps)", r.boundBusbwGbps.map { "\($0)" } ?? "",
                       r.boundFraction.map { "\($0)" } ?? "", "\(r.groups)", "\(r.groupSize)", r.preset, r.mode].joined(separator: ","))
            }
        } else if sizes.count > 1 {
            printSweep(rows, algorithms: algorithms, sizes: sizes, machine: machine, model: model)
        } else if models.count > 1 {
            printThreadSweep(rows, model: model)
        }
    }

    /// `--sweep-threads`: MIN:MAX (every count) or a comma-separated list, each from 0 to 4096.
    func threadCounts() throws -> [Int]? {
        guard let text = sweepThreads else { return nil }
        let bad = TorusError.invalidValue(name: "--sweep-threads", value: text, expected: "MIN:MAX or a list such as 0,1,2,4, counts from 0 to 4096")
        let range = text.split(separator: ":", omittingEmptySubsequences: false)
        let counts: [Int]
        if range.count == 2 {
            guard let lo = Int(range[0]), let hi = Int(range[1]), lo <= hi else { throw bad }
            counts = Array(lo...hi)
        } else {
            counts = try text.split(separator: ",", omittingEmptySubsequences: false).map { guard let n = Int($0) else { throw bad }; return n }
        }
        guard !counts.isEmpty, counts.allSatisfy({ (0...4096).contains($0) }) else { throw bad }
        return counts
    }

    func sizes(elementSize: Int) throws -> [Int] {
        guard let sweep else { return [size.bytes.bytes] }
        let parts = sweep.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw TorusError.invalidValue(name: "--sweep", value: sweep, expected: "MIN:MAX such as 8:1G") }
        let lo = try ByteCount.parse(String(parts[0]), name: "--sweep"), hi = try ByteCount.parse(String(parts[1]), name: "--sweep")
        guard lo >= 1, lo <= hi else { throw TorusError.invalidValue(name: "--sweep", value: sweep, expected: "1 <= MIN <= MAX") }
        var out: [Int] = []
        var s = lo
        while s <= hi {
            out.append(max(elementSize, s / elementSize * elementSize))
            s *= 2
        }
        return out
    }

    /// The groups to run: the whole torus, or every DP group of the job.
    /// The predictor's memory for an algorithm on these groups: about 120 bytes per schedule step
    /// of every rank and 32 KiB per rank (measured with the release build at 256 MiB: sixring on
    /// 16x16x16 used 0.3 GB and on 24x24x24 1.2 GB, ring on 16x16x16 2.7 GB), plus three buffers of
    /// `bytes` per rank with `--payload`. Rank 0's schedule gives the steps, built only when the
    /// cost model's count of rounds does not already rule the run out.
    static func memoryEstimate(groups: [GroupTopology], algorithm: Algorithm, collective: Collective = .allReduce, bytes: Int,
                               elementSize: Int, payload: Bool, available: Int) throws -> Double {
        let rounds = CostModel(alpha: 1, beta: 0, gamma: 0)
        var total = 0.0, steps: [GroupTopology: Int] = [:]
        for group in groups {
            let ranks = Double(group.size)
            if payload { total += ranks * 3 * Double(bytes) }
            let atLeast = ranks * max(1, rounds.estimate(algorithm, topology: group, bytes: bytes)) * 120
            if total + atLeast > Double(available) { return total + atLeast }
            if steps[group] == nil {
                let count = max(1, bytes / elementSize)
                steps[group] = try algorithm.schedule(collective, topology: group, rank: 0,
                                                      count: collective == .allReduce ? count : max(1, count / group.size)).stepCount
            }
            total += ranks * (Double(steps[group]!) * 120 + 32768)
        }
        return total
    }

    func groups(_ machine: TorusShape) throws -> [GroupTopology] {
        guard let job else { return [.box(machine)] }
        let layout = try cliErrors { try JobLayout(parsing: job, ranks: machine.nodeCount * procsPerNode) }
        let nodes: [Int]
        if let rankmap {
            let map = try RankMap.load(path: rankmap)
            nodes = try map.nodes(on: machine, ranks: layout.ranks, procsPerNode: procsPerNode)
        } else if naive {
            nodes = try PlacementGenerator.naive(layout: layout, machine: machine, procsPerNode: procsPerNode)
        } else {
            nodes = try PlacementGenerator.generate(layout: layout, machine: machine, procsPerNode: procsPerNode).nodes
        }
        return try layout.groups(.dp).map { members in try GroupTopology.of(nodes: members.map { nodes[$0] }, on: machine) }
    }

    func row(_ p: Prediction) -> Row {
        let r = p.request
        let extremes = p.linkExtremes
        return Row(collective: r.collective.rawValue, algorithm: r.algorithm.rawValue, torus: r.machine.description, bytes: r.bytes, timeS: p.time,
                   algbwGbps: p.algbw / 1e9, busbwGbps: p.busbw / 1e9, boundBusbwGbps: p.boundBusbw.map { $0 / 1e9 },
                   boundFraction: p.boundFraction, ranks: r.groups.reduce(0) { $0 + $1.size }, groups: r.groups.count, groupSize: p.groupSize,
                   preset: r.model.name, network: r.model.network.rawValue, mode: r.payload ? "payload" : "timing",
                   busiestLink: extremes.map { PlacementReport.linkName($0.busiest.0, on: r.machine) }, busiestLinkBytes: extremes?.busiest.1,
                   idlestLink: extremes.map { PlacementReport.linkName($0.idlest.0, on: r.machine) }, idlestLinkBytes: extremes?.idlest.1,
                   wrongElements: p.wrongElements, slowestGroupS: p.groupTimes.max() ?? 0, fastestGroupS: p.groupTimes.min() ?? 0,
                   messages: p.messages, events: p.events, wallS: p.wallSeconds, threads: p.threads,
                   reductionThreads: r.model.machine.reductionThreads)
    }

    func summary(_ p: Prediction, _ r: Row) -> String {
        let request = p.request
        var lines: [String] = []
        let what = r.groups > 1 ? "\(r.groups) groups of \(r.groupSize) ranks at once (job \(job ?? ""))" : "\(r.ranks) ranks"
        let half = request.collective == .allReduce ? "" : " \(request.collective)"
        lines.append("torus sim: \(r.algorithm)\(half) on \(r.torus), \(what), \(ByteCount.format(r.bytes)) of \(request.type.rawValue) \(request.op.rawValue), "
                     + (request.payload ? "payload (checked: \(r.wrongElements == 0 ? "correct" : "WRONG"))" : "timing only"))
        lines.append("model: \(request.model)")
        lines.append(String(format: "time %.3f us   algbw %.2f GB/s   busbw %.2f GB/s", r.timeS * 1e6, r.algbwGbps, r.busbwGbps))
        if r.groups > 1 { lines.append(String(format: "groups: slowest %.3f us, fastest %.3f us", r.slowestGroupS * 1e6, r.fastestGroupS * 1e6)) }
        if let bound = r.boundBusbwGbps, let f = r.boundFraction {
            lines.append(String(format: "bound (DESIGN §1): busbw <= %.2f GB/s (one link bandwidth per directed link of the group's axes); reached %.3f", bound, f))
        }
        if let b = r.busiestLink, let i = r.idlestLink {
            lines.append("busiest link \(b) \(ByteCount.format(r.busiestLinkBytes!)), idlest link \(i) \(ByteCount.format(r.idlestLinkBytes!))")
        }
        lines.append(String(format: "predicted in %.2f s", r.wallS) + " on \(r.threads) thread\(r.threads == 1 ? "" : "s"): \(r.messages) messages, \(r.events) events")
        return lines.joined(separator: "\n")
    }

    func printThreadSweep(_ rows: [Row], model: NetworkModel) {
        let r0 = rows[0]
        print("# torus sim: \(r0.algorithm) on \(r0.torus), \(ByteCount.format(r0.bytes)) per rank, reduction threads per node varied")
        print("# \(model)")
        print("# threads: 0 = inline (the thread that issues messages reduces); rate = GB/s of result the node's reductions produce")
        print(["threads", "time (us)", "rate", "busbw", "frac"].enumerated().map { i, h in
            String(repeating: " ", count: [8, 15, 11, 11, 9][i] - h.count) + h
        }.joined())
        for r in rows {
            var m = model.machine
            m.reductionThreads = r.reductionThreads
            print(String(format: "%8d %14.2f %10.1f %10.2f %8.3f", r.reductionThreads, r.timeS * 1e6, m.reductionRate / 1e9, r.busbwGbps, r.boundFraction ?? 0))
        }
    }

    func printSweep(_ rows: [Row], algorithms: [Algorithm], sizes: [Int], machine: TorusShape, model: NetworkModel) {
        print("# torus sim sweep on \(machine), \(model)")
        print("# time in us, busbw in GB/s, frac = fraction of the bus bandwidth bound")
        var header = String(format: "%12s", "size")
        for a in algorithms { header += String(format: "  %28s", "\(a.rawValue): time busbw frac") }
        print(header)
        for (i, size) in sizes.enumerated() {
            var line = String(format: "%12d", size)
            for (j, _) in algorithms.enumerated() {
                let r = rows[i * algorithms.count + j]
                line += String(format: "  %12.2f %8.2f %6.3f", r.timeS * 1e6, r.busbwGbps, r.boundFraction ?? 0)
            }
            print(line)
        }
    }
}

/// A progress bar on stderr, shown only when stderr is a terminal and a run lasts over a second.
// @unchecked Sendable: used by one thread at a time — the predictor reports progress only on the thread that called it.
final class ProgressBar: @unchecked Sendable {
    let started = Date()
    var label = ""
    var shown = false
    let enabled = isatty(2) == 1

    func update(_ fraction: Double) {
        guard enabled, Date().timeIntervalSince(started) > 1 else { return }
        let width = 40, filled = Int(fraction * Double(width))
        let text = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] " + String(format: "%3.0f%%", fraction * 100)
        FileHandle.standardError.write(Data(text.utf8))
        shown = true
    }

    func clear() {
        if shown { FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 80) + "\r").utf8)); shown = false }
    }
}
