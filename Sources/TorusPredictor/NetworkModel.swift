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

    /// The executor's issue rules with this model's segment size and window.
    public var rules: IssueRules { IssueRules(segmentBytes: segmentBytes, window: window) }

    /// Bytes of result per second a node's reductions produce: threads × rate, capped by memory.
    public var reductionRate: Double { machine.reductionRate }

    /// Tofu interconnect D and the A64FX node (`MachineFigures.tofuD`).
    public static let tofuD = NetworkModel(name: "tofu-d", machine: .tofuD)

    /// A generic cluster node (`MachineFigures.generic`).
    public static let generic = NetworkModel(name: "generic", machine: .generic)

    /// The `tofu-d` links with no software overhead and free reduction: what the network alone
    /// allows, for checking algorithms against the bound of DESIGN §1.
    public static let ideal: NetworkModel = {
        var m = tofuD
        m.name = "ideal"
        m.machine.softwareOverhead = 0
        m.machine.reductionRatePerThread = .infinity
        m.machine.memoryBandwidth = .infinity
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
        ("software-overhead", "seconds"), ("reduction-rate", "bytes/s per thread (inf: free)"), ("reduction-threads", "count per node; 0: inline, on the thread that issues messages"),
        ("memory-bandwidth", "bytes/s (inf: unlimited)"), ("segment-bytes", "bytes, K/M/G suffixes, 0: whole steps (up to 2^31 - 1 bytes a message)"),
        ("window", "posted receives per stream"),
    ]

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
        case "reduction-rate": machine.reductionRatePerThread = try number(true, true)
        case "reduction-threads": machine.reductionThreads = try count(least: 0)
        case "memory-bandwidth": machine.memoryBandwidth = try number(true, true)
        case "segment-bytes": segmentBytes = text == "0" ? 0 : try ByteCount.parse(text, name: "--set segment-bytes")
        case "window": window = try count()
        default: break
        }
        name += "+" + assignment
    }

    public var description: String {
        func g(_ v: Double) -> String { v.isInfinite ? "inf" : String(format: "%.3g", v) }
        return "\(name): \(network) network, links \(g(machine.linkBandwidth / 1e9)) GB/s, latency \(g(machine.linkLatency * 1e6)) us + \(g(machine.hopDelay * 1e6)) us/hop, "
            + "overhead \(g(machine.softwareOverhead * 1e6)) us/message, reduction " + (machine.reductionThreads == 0 ? "inline" : "\(machine.reductionThreads) x") + " \(g(machine.reductionRatePerThread / 1e9)) GB/s "
            + "(cap \(g(machine.memoryBandwidth / 3e9)) GB/s), segments " + (segmentBytes == 0 ? "whole steps" : ByteCount.format(segmentBytes)) + ", window \(window)"
    }
}

extension NetworkModel {
    /// A model of `machine` with the executor's issue rules (the presets are built this way).
    public init(name: String, machine: MachineFigures, rules: IssueRules = IssueRules()) {
        self.init(name: name, machine: machine, segmentBytes: rules.segmentBytes, window: rules.window)
    }
}
