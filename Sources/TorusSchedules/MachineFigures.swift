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
    /// CPU per message at the receiver, when its receive completes.
    public var receiveOverhead: Double = 0
    /// Messages of more bytes than this go by rendezvous: a ready-to-receive handshake
    /// (`rendezvousDelay`) before the data moves, and never before the receive is posted.
    /// Smaller ones are eager: sent at once, buffered if the receive is not posted yet.
    public var eagerLimit: Int = .max
    /// What the rendezvous handshake adds to a message above `eagerLimit`: on a network, one round
    /// trip; measured, whatever the library's switch of protocol costs.
    public var rendezvousDelay: Double = 0
    /// Bytes per second the receiving CPU copies a message, one message at a time with its other
    /// work: a single-copy shared-memory transport (CMA, XPMEM) in which the receiver pulls the data,
    /// and, for an eager message, the sender copies it in as well. Infinite: the network moves the
    /// data (RDMA, no CPU); the links then carry it.
    public var receiveCopyRate: Double = .infinity
    /// A call whose buffer is at most this many bytes stays in cache between calls: its copies and
    /// reductions run at the cached rates below (0: no cached regime).
    public var cacheBytes: Int = 0
    /// `receiveCopyRate` and `reductionRatePerThread` of such a call.
    public var cachedReceiveCopyRate: Double = .infinity
    public var cachedReductionRatePerThread: Double = .infinity
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

    /// The figures a call of `bytes` bytes runs at: the cached rates when it fits `cacheBytes`, and
    /// a memory bandwidth no lower than they need.
    public func forCall(bytes: Int) -> MachineFigures {
        guard cacheBytes > 0, bytes <= cacheBytes else { return self }
        var m = self
        m.receiveCopyRate = cachedReceiveCopyRate
        m.reductionRatePerThread = cachedReductionRatePerThread
        // In cache, memory's bandwidth no longer caps them: it rises to what the cached rates move.
        m.memoryBandwidth = max(memoryBandwidth, 3 * cachedReductionRatePerThread, cachedReceiveCopyRate.isFinite ? 2 * cachedReceiveCopyRate : 0)
        return m
    }

    /// The rendezvous handshake's extra time for a message of `bytes` (0 for an eager message).
    public func handshake(bytes: Int) -> Double {
        bytes > eagerLimit ? rendezvousDelay : 0
    }

    /// Seconds the network's links are busy with a message of `bytes`: none when the receiver's
    /// CPU copies the data (`receiveCopyRate` finite).
    public func wireTime(bytes: Int) -> Double {
        receiveCopyRate.isFinite ? 0 : Double(bytes) / linkBandwidth
    }

    /// Bytes of result per second a node's reductions produce: threads × rate (one thread's rate
    /// inline), capped by memory.
    public var reductionRate: Double { min(Double(max(1, reductionThreads)) * reductionRatePerThread, memoryBandwidth / 3) }

    /// Tofu interconnect D and the A64FX node (DESIGN §1): 6.8 GB/s per link direction, 0.49 µs
    /// 8-byte put latency, about 1 µs MPI software overhead, 1,024 GB/s HBM2 per node. Reductions:
    /// one A64FX core's STREAM Add moves 47.2 GB/s (two reads and a write per result), 15.7 GB/s
    /// of result per thread; 4 threads, the 2 assistant cores of a Fugaku node (48 compute cores
    /// and 2 or 4 assistant cores) and 2 compute cores. Assumed (no public figure): 0.1 µs per
    /// further hop, a 16 KiB eager limit, no receive overhead of its own (the 1 µs per message
    /// covers both ends). `sources` says where each figure comes from; `torus sim --sweep-threads
    /// 0:12` shows what other thread counts give.
    public static let tofuD: MachineFigures = {
        var m = MachineFigures(linkBandwidth: 6.8e9, linkLatency: 0.49e-6, hopDelay: 0.1e-6, softwareOverhead: 1.0e-6,
                               reductionRatePerThread: 47.2e9 / 3, reductionThreads: 4, memoryBandwidth: 1024e9)
        m.eagerLimit = 16 << 10
        m.rendezvousDelay = 2 * m.linkLatency
        return m
    }()

    /// A generic cluster node: 100 Gb/s links (12.5 GB/s), 1 µs latency, 0.1 µs per hop, 1.5 µs
    /// software overhead, one reduction thread at 10 GB/s, 200 GB/s DDR memory, Open MPI's 12 KiB
    /// eager limit over InfiniBand (`btl_openib_eager_limit`).
    public static let generic: MachineFigures = {
        var m = MachineFigures(linkBandwidth: 12.5e9, linkLatency: 1e-6, hopDelay: 0.1e-6, softwareOverhead: 1.5e-6,
                               reductionRatePerThread: 10e9, reductionThreads: 1, memoryBandwidth: 200e9)
        m.eagerLimit = 12 << 10
        m.rendezvousDelay = 2 * m.linkLatency
        return m
    }()
}
