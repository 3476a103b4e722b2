import Foundation
import TorusCore
import TorusSchedules

/// The parameters of the predictor's machine (DESIGN §7.2), in SI units: bytes, seconds, bytes per
/// second. Presets name their sources; every parameter can be overridden (`torus sim --set`).
public struct NetworkModel: Hashable, Codable, Sendable, CustomStringConvertible {
    /// How nodes are wired.
    public enum Network: String, Codable, Sendable, CaseIterable {
        /// The torus of the run, dimension-order routing the shorter way round.
        case torus
        /// Every ordered pair of ranks has a link of its own (the setting of the α-β-γ formulas).
        case full
    }

    public var name: String
    public var network: Network = .torus
    /// Links, routers, MPI overhead, reduction speed and memory (`MachineFigures`, which the cost
    /// model of automatic selection reads too). Per link: one direction; reductions move three bytes
    /// per result byte, so they never run faster than a third of the memory bandwidth; copies
    /// between ranks of one node move two.
    public var machine: MachineFigures
    /// Steps larger than this are cut into segments, as the executor cuts them (0: never cut).
    public var segmentBytes: Int
    /// Receives a stream may have posted at once, as in the executor.
    public var window: Int
    /// Steps above this and at most twice it go as two eager halves, as in the executor
    /// (`IssueRules.eagerSplitBytes`; nil or 0: off, the executor's default). A calibrated model
    /// sets it to the eager limit it measured, as `TORUS_MODEL` sets it for the runtime.
    public var eagerSplitBytes: Int? = nil
    /// Segments of a receive-and-reduce step that have scratch of their own, as in the executor
    /// (`IssueRules.scratchSegments`; nil: the rules' default).
    public var scratchSegments: Int? = nil
    /// Where each figure comes from, by `--set` name: a paper, a vendor document, a measurement
    /// (`torus-bench --calibrate`), or "assumed". `torus sim --show-model` prints them.
    public var sources: [String: String] = [:]

    /// The executor's issue rules with this model's segment size and window.
    public var rules: IssueRules {
        IssueRules(segmentBytes: segmentBytes, window: window, eagerSplitBytes: eagerSplitBytes ?? 0,
                   scratchSegments: scratchSegments ?? IssueRules().scratchSegments)
    }

    /// Bytes of result per second a node's reductions produce: threads × rate, capped by memory.
    public var reductionRate: Double { machine.reductionRate }

    /// Tofu interconnect D and the A64FX node (`MachineFigures.tofuD`).
    public static let tofuD: NetworkModel = {
        var m = NetworkModel(name: "tofu-d", machine: .tofuD)
        let tofu = "Tofu interconnect D (Ajima et al., IEEE CLUSTER 2018; REFERENCES.md)"
        m.sources = [
            "link-bandwidth": "\(tofu): 6.8 GB/s per link and direction",
            "link-latency": "\(tofu): 8-byte put latency 0.49 us",
            "hop-delay": "assumed (no public figure per router hop)",
            "software-overhead": "assumed: about 1 us per message for MPI and the executor together (Tofu-D's MPI ping-pong is 1.05 us, 0.49 us of it the put)",
            "receive-overhead": "assumed: 0, the send's 1 us covers both ends",
            "eager-limit": "assumed: 16 KiB (no public figure for Fujitsu MPI; Open MPI's InfiniBand default is 12 KiB)",
            "rendezvous-delay": "one round trip of the link latency (2 x 0.49 us)",
            "receive-copy-rate": "inf: RDMA, the network moves the data",
            "cache-bytes": "0: no cached regime modelled", "cached-copy-rate": "unused (cache-bytes 0)", "cached-reduction-rate": "unused (cache-bytes 0)",
            "reduction-rate": "A64FX STREAM Add, one core: 47.2 GB/s moved, a third of it result",
            "reduction-threads": "assumed: the 2 assistant cores and 2 compute cores",
            "memory-bandwidth": "A64FX HBM2: 1,024 GB/s per node",
        ]
        return m
    }()

    /// A generic cluster node (`MachineFigures.generic`).
    public static let generic: NetworkModel = {
        var m = NetworkModel(name: "generic", machine: .generic)
        m.sources = [
            "link-bandwidth": "100 Gb/s InfiniBand EDR: 12.5 GB/s", "link-latency": "assumed: 1 us",
            "hop-delay": "assumed", "software-overhead": "assumed: 1.5 us", "receive-overhead": "assumed: 0",
            "eager-limit": "Open MPI btl_openib_eager_limit default: 12 KiB", "rendezvous-delay": "one round trip of the link latency",
            "receive-copy-rate": "inf: RDMA", "cache-bytes": "0: no cached regime modelled",
            "cached-copy-rate": "unused (cache-bytes 0)", "cached-reduction-rate": "unused (cache-bytes 0)",
            "reduction-rate": "assumed: 10 GB/s per thread", "reduction-threads": "assumed: 1",
            "memory-bandwidth": "assumed: 200 GB/s, a two-socket DDR4 node",
        ]
        return m
    }()

    /// The `tofu-d` links with no software overhead, no rendezvous and free reduction: what the
    /// network alone allows, for checking algorithms against the bound of DESIGN §1.
    public static let ideal: NetworkModel = {
        var m = tofuD
        m.name = "ideal"
        m.machine.softwareOverhead = 0
        m.machine.eagerLimit = .max
        m.machine.reductionRatePerThread = .infinity
        m.machine.memoryBandwidth = .infinity
        for k in ["software-overhead", "receive-overhead", "eager-limit", "rendezvous-delay", "reduction-rate", "memory-bandwidth"] {
            m.sources[k] = "ideal: the network alone (no software, no handshake, free reduction and memory)"
        }
        return m
    }()

    public static let presets: [NetworkModel] = [tofuD, generic, ideal]

    public static func preset(named name: String) throws -> NetworkModel {
        guard let m = presets.first(where: { $0.name == name.lowercased() }) else {
            throw TorusError.invalidValue(name: "--preset", value: name, expected: presets.map(\.name).joined(separator: ", "))
        }
        return m
    }

    /// The names `--set` accepts, with their units.
    public static let parameters: [(name: String, unit: String)] = [
        ("link-bandwidth", "bytes/s, e.g. 6.8e9"), ("link-latency", "seconds, e.g. 0.49e-6"), ("hop-delay", "seconds"),
        ("software-overhead", "seconds per message at the sender"), ("receive-overhead", "seconds per message at the receiver"),
        ("eager-limit", "bytes, K/M/G suffixes; larger messages go by rendezvous (inf: never)"),
        ("rendezvous-delay", "seconds a message above the eager limit waits for its handshake"),
        ("receive-copy-rate", "bytes/s the receiving CPU copies (a shared-memory transport; inf: RDMA)"),
        ("cache-bytes", "bytes; a call's buffer this small stays in cache: the cached rates apply (0: never)"),
        ("cached-copy-rate", "bytes/s: receive-copy-rate of a call that fits cache-bytes"),
        ("cached-reduction-rate", "bytes/s per thread: reduction-rate of a call that fits cache-bytes"),
        ("reduction-rate", "bytes/s per thread (inf: free)"), ("reduction-threads", "count per node; 0: inline, on the thread that issues messages"),
        ("memory-bandwidth", "bytes/s (inf: unlimited)"), ("segment-bytes", "bytes, K/M/G suffixes, 0: whole steps (up to 2^31 - 1 bytes a message)"),
        ("window", "posted receives per stream"),
        ("eager-split-bytes", "bytes, K/M/G suffixes: steps above this and at most twice it go as two halves (0: off)"),
        ("scratch-segments", "segments of a receive-and-reduce step with scratch of their own (0: every segment)"),
    ]

    /// The `parameters` that are the executor's issue rules, not figures of the machine.
    public static let issueRuleParameters: Set<String> = ["segment-bytes", "window", "eager-split-bytes", "scratch-segments"]

    /// Applies `name=value` (one of `parameters`).
    public mutating func set(_ assignment: String) throws {
        let kv = assignment.split(separator: "=", maxSplits: 1).map(String.init)
        let names = NetworkModel.parameters.map(\.name)
        guard kv.count == 2, names.contains(kv[0]) else {
            throw TorusError.invalidValue(name: "--set", value: assignment, expected: "NAME=VALUE with NAME one of " + names.joined(separator: ", "))
        }
        let (key, text) = (kv[0], kv[1])
        // Rates from 1 kB/s to 1 PB/s, times up to 1 s: outside these the model's times overflow or
        // mean nothing (a link of 1e-300 bytes/s would print "time inf").
        func number(_ allowInfinity: Bool, _ positive: Bool = false) throws -> Double {
            let v = text.lowercased() == "inf" ? Double.infinity : Double(text)
            let range = positive ? 1e3 ... 1e15 : 0 ... 1
            guard let v, !v.isNaN, (allowInfinity && v == .infinity) || range.contains(v) else {
                let unit = NetworkModel.parameters.first { $0.name == key }!.unit
                let bounds = positive ? "a rate from 1e3 to 1e15" : "a time from 0 to 1"
                throw TorusError.invalidValue(name: "--set \(key)", value: text, expected: bounds + (allowInfinity ? " or inf" : "") + " (\(unit))")
            }
            return v
        }
        func count(least: Int = 1) throws -> Int {
            guard let v = Int(text), v >= least, v <= 4096 else {
                throw TorusError.invalidValue(name: "--set \(key)", value: text, expected: "an integer from \(least) to 4096")
            }
            return v
        }
        switch key {
        case "link-bandwidth": machine.linkBandwidth = try number(false, true)
        case "link-latency": machine.linkLatency = try number(false)
        case "hop-delay": machine.hopDelay = try number(false)
        case "software-overhead": machine.softwareOverhead = try number(false)
        case "receive-overhead": machine.receiveOverhead = try number(false)
        case "eager-limit": machine.eagerLimit = text.lowercased() == "inf" ? .max : try ByteCount.parse(text, name: "--set eager-limit")
        case "rendezvous-delay": machine.rendezvousDelay = try number(false)
        case "cache-bytes": machine.cacheBytes = text == "0" ? 0 : try ByteCount.parse(text, name: "--set cache-bytes")
        case "cached-copy-rate": machine.cachedReceiveCopyRate = try number(true, true)
        case "cached-reduction-rate": machine.cachedReductionRatePerThread = try number(true, true)
        case "receive-copy-rate": machine.receiveCopyRate = try number(true, true)
        case "reduction-rate": machine.reductionRatePerThread = try number(true, true)
        case "reduction-threads": machine.reductionThreads = try count(least: 0)
        case "memory-bandwidth": machine.memoryBandwidth = try number(true, true)
        case "segment-bytes": segmentBytes = text == "0" ? 0 : try ByteCount.parse(text, name: "--set segment-bytes")
        case "window": window = try count()
        case "scratch-segments": scratchSegments = try count(least: 0)
        case "eager-split-bytes": eagerSplitBytes = text == "0" ? 0 : try ByteCount.parse(text, name: "--set eager-split-bytes")
        default: break
        }
        name += "+" + assignment
        sources[key] = "set: \(text)"
    }

    /// `figures` as aligned lines: name, value, source (`torus sim --show-model`, `torus-bench --calibrate`).
    public var figureLines: [String] {
        figures.map { $0.name.padding(toLength: 22, withPad: " ", startingAt: 0) + $0.value.padding(toLength: 24, withPad: " ", startingAt: 0) + $0.source }
    }

    /// Each parameter's value and where it comes from, one line each (`torus sim --show-model`).
    public var figures: [(name: String, value: String, source: String)] {
        func g(_ v: Double, _ unit: String, scale: Double = 1) -> String { v.isInfinite ? "inf" : String(format: "%.4g", v * scale) + unit }
        let m = machine
        let values: [String: String] = [
            "link-bandwidth": g(m.linkBandwidth, " GB/s", scale: 1e-9), "link-latency": g(m.linkLatency, " us", scale: 1e6),
            "hop-delay": g(m.hopDelay, " us", scale: 1e6), "software-overhead": g(m.softwareOverhead, " us", scale: 1e6),
            "receive-overhead": g(m.receiveOverhead, " us", scale: 1e6),
            "eager-limit": m.eagerLimit == .max ? "inf" : ByteCount.format(m.eagerLimit), "rendezvous-delay": g(m.rendezvousDelay, " us", scale: 1e6),
            "receive-copy-rate": g(m.receiveCopyRate, " GB/s", scale: 1e-9),
            "cache-bytes": m.cacheBytes == 0 ? "0 (none)" : ByteCount.format(m.cacheBytes),
            "cached-copy-rate": g(m.cachedReceiveCopyRate, " GB/s", scale: 1e-9), "cached-reduction-rate": g(m.cachedReductionRatePerThread, " GB/s per thread", scale: 1e-9), "reduction-rate": g(m.reductionRatePerThread, " GB/s per thread", scale: 1e-9),
            "reduction-threads": "\(m.reductionThreads)", "memory-bandwidth": g(m.memoryBandwidth, " GB/s", scale: 1e-9),
            "segment-bytes": segmentBytes == 0 ? "whole steps" : ByteCount.format(segmentBytes), "window": "\(window)",
            "eager-split-bytes": (eagerSplitBytes ?? 0) == 0 ? "0 (off)" : ByteCount.format(eagerSplitBytes!),
            "scratch-segments": rules.scratchSegments == 0 ? "0 (every segment)" : "\(rules.scratchSegments)",
        ]
        return NetworkModel.parameters.map { p in
            (p.name, values[p.name] ?? "", sources[p.name] ?? (NetworkModel.issueRuleParameters.contains(p.name) ? "the executor's issue rules" : "assumed"))
        }
    }

    public var description: String {
        func g(_ v: Double) -> String { v.isInfinite ? "inf" : String(format: "%.3g", v) }
        return "\(name): \(network) network, links \(g(machine.linkBandwidth / 1e9)) GB/s, latency \(g(machine.linkLatency * 1e6)) us + \(g(machine.hopDelay * 1e6)) us/hop, "
            + "overhead \(g(machine.softwareOverhead * 1e6))" + (machine.receiveOverhead > 0 ? "+\(g(machine.receiveOverhead * 1e6))" : "") + " us/message, "
            + (machine.eagerLimit == .max ? "" : "eager up to \(ByteCount.format(machine.eagerLimit)), ")
            + (machine.receiveCopyRate.isInfinite ? "" : "receiver copies at \(g(machine.receiveCopyRate / 1e9)) GB/s, ")
            + (machine.cacheBytes == 0 ? "" : "calls up to \(ByteCount.format(machine.cacheBytes)) in cache (copies \(g(machine.cachedReceiveCopyRate / 1e9)), reductions \(g(machine.cachedReductionRatePerThread / 1e9)) GB/s), ") + "reduction " + (machine.reductionThreads == 0 ? "inline" : "\(machine.reductionThreads) x") + " \(g(machine.reductionRatePerThread / 1e9)) GB/s "
            + "(cap \(g(machine.memoryBandwidth / 3e9)) GB/s), segments " + (segmentBytes == 0 ? "whole steps" : ByteCount.format(segmentBytes)) + ", window \(window)"
            + ((eagerSplitBytes ?? 0) > 0 ? ", eager halves up to \(ByteCount.format(2 * eagerSplitBytes!))" : "")
    }
}

extension NetworkModel {
    /// A model of `machine` with the executor's issue rules (the presets are built this way).
    public init(name: String, machine: MachineFigures, rules: IssueRules = IssueRules()) {
        self.init(name: name, machine: machine, segmentBytes: rules.segmentBytes, window: rules.window,
                  eagerSplitBytes: rules.eagerSplitBytes == 0 ? nil : rules.eagerSplitBytes,
                  scratchSegments: rules.scratchSegments == IssueRules().scratchSegments ? nil : rules.scratchSegments)
    }
}
