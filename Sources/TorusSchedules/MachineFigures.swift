/// The figures of a machine, defined once and read by both cost models: the α-β-γ `CostModel` that
/// automatic selection uses and the predictor's `NetworkModel` presets. Units: bytes, seconds,
/// bytes per second.
public struct MachineFigures: Hashable, Codable, Sendable {
    /// One directed link.
    public var linkBandwidth: Double
    /// From the start of a transfer until its head reaches the far end of one link.
    public var linkLatency: Double
    /// Each further hop (router delay, cut-through).
    public var hopDelay: Double
    /// CPU per message at the sender (MPI software overhead).
    public var softwareOverhead: Double
    /// Bytes of result one reduction thread produces per second.
    public var reductionRatePerThread: Double
    /// Reduction threads per node; 0 is the inline engine: the thread that issues a rank's
    /// messages reduces as well, at one thread's rate.
    public var reductionThreads: Int
    /// Node memory bandwidth; a reduction moves three bytes per result byte.
    public var memoryBandwidth: Double

    public init(linkBandwidth: Double, linkLatency: Double, hopDelay: Double, softwareOverhead: Double,
                reductionRatePerThread: Double, reductionThreads: Int, memoryBandwidth: Double) {
        self.linkBandwidth = linkBandwidth
        self.linkLatency = linkLatency
        self.hopDelay = hopDelay
        self.softwareOverhead = softwareOverhead
        self.reductionRatePerThread = reductionRatePerThread
        self.reductionThreads = reductionThreads
        self.memoryBandwidth = memoryBandwidth
    }

    /// Bytes of result per second a node's reductions produce: threads × rate (one thread's rate
    /// inline), capped by memory.
    public var reductionRate: Double { min(Double(max(1, reductionThreads)) * reductionRatePerThread, memoryBandwidth / 3) }

    /// Tofu interconnect D and the A64FX node (DESIGN §1): 6.8 GB/s per link direction, 0.49 µs
    /// 8-byte put latency, about 1 µs MPI software overhead, 1,024 GB/s HBM2 per node. Reductions:
    /// one A64FX core's STREAM Add moves 47.2 GB/s (two reads and a write per result), 15.7 GB/s
    /// of result per thread; 4 threads, the 2 assistant cores of a Fugaku node (48 compute cores
    /// and 2 or 4 assistant cores) and 2 compute cores. Assumed (no public figure): 0.1 µs per
    /// further hop. `torus sim --sweep-threads 0:12` shows what other counts give.
    public static let tofuD = MachineFigures(linkBandwidth: 6.8e9, linkLatency: 0.49e-6, hopDelay: 0.1e-6, softwareOverhead: 1.0e-6,
                                             reductionRatePerThread: 47.2e9 / 3, reductionThreads: 4, memoryBandwidth: 1024e9)

    /// A generic cluster node: 100 Gb/s links (12.5 GB/s), 1 µs latency, 0.1 µs per hop, 1.5 µs
    /// software overhead, one reduction thread at 10 GB/s, 200 GB/s DDR memory.
    public static let generic = MachineFigures(linkBandwidth: 12.5e9, linkLatency: 1e-6, hopDelay: 0.1e-6, softwareOverhead: 1.5e-6,
                                               reductionRatePerThread: 10e9, reductionThreads: 1, memoryBandwidth: 200e9)
}
