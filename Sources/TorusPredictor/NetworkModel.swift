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
    /// Bytes per second of one directed link.
    public var linkBandwidth: Double
    /// Seconds from the start of a transfer on the first link until its head reaches the far end.
    public var linkLatency: Double
    /// Seconds each further hop adds (router delay; cut-through).
    public var hopDelay: Double
    /// Seconds of CPU per message at the sender (MPI software overhead), one message at a time per rank.
    public var softwareOverhead: Double
    /// Bytes of result one reduction thread produces per second (reads two inputs, writes one).
    public var reductionRatePerThread: Double
    /// Reduction threads per node.
    public var reductionThreads: Int
    /// Node memory bandwidth, bytes per second: a reduction moves three bytes per result byte,
    /// so reductions never run faster than a third of it; copies between ranks of one node two.
    public var memoryBandwidth: Double
    /// Steps larger than this are cut into segments, as the executor cuts them (0: never cut).
    public var segmentBytes: Int
    /// Receives a stream may have posted at once, as in the executor.
    public var window: Int

    /// The executor's issue rules with this model's segment size and window.
    public var rules: IssueRules { IssueRules(segmentBytes: segmentBytes, window: window) }

    /// Bytes of result per second a node's reductions produce: threads × rate, capped by memory.
    public var reductionRate: Double {
        min(Double(reductionThreads) * reductionRatePerThread, memoryBandwidth / 3)
    }

    /// Tofu interconnect D and the A64FX node (DESIGN §1): 6.8 GB/s per link direction, 0.49 µs
    /// 8-byte put latency, about 1 µs MPI software overhead, 1,024 GB/s HBM2. Assumed (no public
    /// figure): 0.1 µs per further hop, 10 GB/s of sums per core, 4 reduction threads (2 assistant
    /// cores and 2 more).
    public static let tofuD = NetworkModel(
        name: "tofu-d", linkBandwidth: 6.8e9, linkLatency: 0.49e-6, hopDelay: 0.1e-6, softwareOverhead: 1.0e-6,
        reductionRatePerThread: 10e9, reductionThreads: 4, memoryBandwidth: 1024e9,
        segmentBytes: IssueRules().segmentBytes, window: IssueRules().window)

    /// A generic cluster node: 100 Gb/s links (12.5 GB/s), 1 µs latency, 0.1 µs per hop, 1.5 µs
    /// software overhead, one reduction thread at 10 GB/s, 200 GB/s DDR memory.
    public static let generic = NetworkModel(
        name: "generic", linkBandwidth: 12.5e9, linkLatency: 1e-6, hopDelay: 0.1e-6, softwareOverhead: 1.5e-6,
        reductionRatePerThread: 10e9, reductionThreads: 1, memoryBandwidth: 200e9,
        segmentBytes: IssueRules().segmentBytes, window: IssueRules().window)

    /// The `tofu-d` links with no software overhead and free reduction: what the network alone
    /// allows, for checking algorithms against the bound of DESIGN §1.
    public static let ideal: NetworkModel = {
        var m = tofuD
        m.name = "ideal"
        m.softwareOverhead = 0
        m.reductionRatePerThread = .infinity
        m.memoryBandwidth = .infinity
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
        ("software-overhead", "seconds"), ("reduction-rate", "bytes/s per thread (inf: free)"), ("reduction-threads", "count"),
        ("memory-bandwidth", "bytes/s (inf: unlimited)"), ("segment-bytes", "bytes, K/M/G suffixes, 0: never cut"),
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
        func number(_ allowInfinity: Bool, _ positive: Bool = false) throws -> Double {
            let v = text.lowercased() == "inf" ? Double.infinity : Double(text)
            guard let v, v >= 0, !v.isNaN, allowInfinity || v.isFinite, !positive || v > 0 else {
                let unit = NetworkModel.parameters.first { $0.name == key }!.unit
                throw TorusError.invalidValue(name: "--set \(key)", value: text, expected: (positive ? "a positive number" : "a non-negative number") + " (\(unit))")
            }
            return v
        }
        func count() throws -> Int {
            guard let v = Int(text), v >= 1, v <= 4096 else {
                throw TorusError.invalidValue(name: "--set \(key)", value: text, expected: "an integer from 1 to 4096")
            }
            return v
        }
        switch key {
        case "link-bandwidth": linkBandwidth = try number(false, true)
        case "link-latency": linkLatency = try number(false)
        case "hop-delay": hopDelay = try number(false)
        case "software-overhead": softwareOverhead = try number(false)
        case "reduction-rate": reductionRatePerThread = try number(true, true)
        case "reduction-threads": reductionThreads = try count()
        case "memory-bandwidth": memoryBandwidth = try number(true, true)
        case "segment-bytes": segmentBytes = text == "0" ? 0 : try ByteCount.parse(text, name: "--set segment-bytes")
        case "window": window = try count()
        default: break
        }
        name += "+" + assignment
    }

    public var description: String {
        func g(_ v: Double) -> String { v.isInfinite ? "inf" : String(format: "%.3g", v) }
        return "\(name): \(network) network, links \(g(linkBandwidth / 1e9)) GB/s, latency \(g(linkLatency * 1e6)) us + \(g(hopDelay * 1e6)) us/hop, "
            + "overhead \(g(softwareOverhead * 1e6)) us/message, reduction \(reductionThreads) x \(g(reductionRatePerThread / 1e9)) GB/s "
            + "(cap \(g(memoryBandwidth / 3e9)) GB/s), segments " + (segmentBytes == 0 ? "off" : ByteCount.format(segmentBytes)) + ", window \(window)"
    }
}
