import CMPI
import Foundation
import TorusCore
import TorusMPI
import TorusPredictor
import TorusRuntime
import TorusSchedules

/// `torus-bench --calibrate FILE`: measures the machine it runs on and writes (or adds to) a model
/// file that `torus sim --model FILE` and automatic selection (`TORUS_MODEL=FILE`) read.
///
/// What is measured, every rank at once unless said (medians of the slowest rank; all but the
/// ping-pong in three rounds spread over the run, at its start, after the ping-pong and at its end,
/// and the median round taken — this project's VM changes speed by up to
/// 2× for seconds at a time, and one round caught in a slow spell set the whole model; the 16 MiB
/// exchange once came out at 2.6 GB/s against 4.8–5.9 in the runs around it, and the model then
/// predicted sixring's 16 and 64 MiB 1.7 times too slow):
/// - ping-pong between ranks 0 and 1 from 8 B to 16 MiB (others wait): the eager limit, where the
///   time jumps above the trend of its neighbours;
/// - an exchange of every rank with its neighbour (r xor 1) at 8 B and 16 MiB: the latency, and the
///   rate at which a message moves while every rank moves one (the receiver's copy on one node,
///   a link's bandwidth across nodes);
/// - a 64 MiB memcpy and a 64 MiB float sum on every rank: memory bandwidth and the reduction rate;
/// - the executor's recursive doubling at 8 B: its cost per message above MPI's (split evenly
///   between the sending and the receiving end: an assumption the sources say);
/// - MPI's own AllReduce (float sum, out of place) from 8 B to 64 MiB, in three passes beside the
///   rounds, each size's median pass taken.
struct Calibrator {
    let world: MPICommunicator
    let path: String
    let replace: Bool
    let largest: Int

    func run() throws {
        let p = world.size, r = world.rank
        guard p >= 2 else {
            throw TorusError.invalidValue(name: "--calibrate", value: "1 rank", expected: "at least 2 ranks: mpirun -np 2 torus-bench --calibrate FILE")
        }
        // Refuse before measuring: a file that is not a model is never overwritten.
        let existing = FileManager.default.fileExists(atPath: path) ? try CalibratedModel.load(path: path) : nil
        let big = max(16 << 20, largest)
        let a = UnsafeMutableRawPointer.allocate(byteCount: big, alignment: 64), b = UnsafeMutableRawPointer.allocate(byteCount: big, alignment: 64)
        defer { a.deallocate(); b.deallocate() }
        // Inputs as an application's: floats that are not all zero (torus-bench's pattern).
        let pattern = VerifiableInputs.bytes(type: .float32, op: .sum, rank: r, count: big / 4, values: .mpiComparable)
        pattern.withUnsafeBytes { a.copyMemory(from: $0.baseAddress!, byteCount: big) }
        memset(b, 0, big)
        let say = { (text: String) in if r == 0 { printError("torus-bench --calibrate: " + text) } }

        let (hosts, perNode) = try hostLayout()
        say("\(p) ranks, \(perNode) on rank 0's node (\(hosts[0])); ranks 0 and 1 \(hosts[0] == hosts[1] ? "share a node: shared-memory transport" : "are on different nodes: network links")")
        let sharedMemory = hosts[0] == hosts[1]

        // Ping-pong, ranks 0 and 1: half the round trip.
        let pingPong = { (bytes: Int, reps: Int) throws -> Double in
            try median(reps: reps) {
                guard r < 2 else { return }
                let peer = Int32(1 - r)
                let send = { try mpiCheck(PMPI_Send(a, Int32(bytes), torus_MPI_BYTE(), peer, 7, world.handle), "MPI_Send") }
                let receive = { try mpiCheck(PMPI_Recv(b, Int32(bytes), torus_MPI_BYTE(), peer, 7, world.handle, torus_MPI_STATUS_IGNORE()), "MPI_Recv") }
                if r == 0 { try send(); try receive() } else { try receive(); try send() }
            } / 2
        }
        let pingSizes = [8, 64, 512, 1 << 10, 2 << 10, 3 << 10, 4 << 10, 6 << 10, 8 << 10, 12 << 10, 16 << 10, 32 << 10, 64 << 10,
                         256 << 10, 1 << 20, 4 << 20, 16 << 20]
        // Exchanges with the neighbour, every rank at once.
        let exchange = { (bytes: Int, reps: Int) throws -> Double in
            try median(reps: reps) {
                let peer = Int32(r ^ 1)
                guard peer < p else { return }
                try mpiCheck(PMPI_Sendrecv(a, Int32(bytes), torus_MPI_BYTE(), peer, 8, b, Int32(bytes), torus_MPI_BYTE(), peer, 8,
                                           world.handle, torus_MPI_STATUS_IGNORE()), "MPI_Sendrecv")
            }
        }
        // Each round: the latency; large messages and reductions, out of cache as a large call's are,
        // and the same in cache (a 1 MiB call's buffers stay there between calls); the executor's
        // recursive doubling of 2 floats, one message per round, whose time above the latency is its
        // cost per message — every rank at once. Three rounds spread over the run (the type's comment).
        let streamBytes = 16 << 20, hot = 1 << 20
        let half = 32 << 20
        let m1 = UnsafeMutableRawPointer.allocate(byteCount: 2 * half, alignment: 64), m2 = UnsafeMutableRawPointer.allocate(byteCount: 2 * half, alignment: 64)
        defer { m1.deallocate(); m2.deallocate() }
        memset(m1, 1, 2 * half)
        memset(m2, 0, 2 * half)
        let kernel = try ReductionKernel(type: .float32, op: .sum)
        let rdMessages = try Algorithm.recursiveDoubling.schedule(topology: world.topology, rank: 0, count: 2).streams
            .reduce(0) { $0 + $1.steps.filter { if case .send = $0 { return true } else { return false } }.count }
        var latencies: [Double] = [], moveRates: [Double] = [], copyRates: [Double] = [], reduceRates: [Double] = []
        var cachedMoveRates: [Double] = [], cachedReduceRates: [Double] = [], rdTimes: [Double] = []
        let measureRound = {
            let latency = try exchange(8, 1000)
            latencies.append(latency)
            moveRates.append(Double(streamBytes) / max(1e-9, try exchange(streamBytes, 30) - latency))
            copyRates.append(Double(2 * half) / (try median(reps: 15) { memcpy(m2, m1, 2 * half) }))
            reduceRates.append(Double(2 * half) / (try median(reps: 15) { kernel.accumulate(into: m2, m1, count: half / 2) }))
            cachedMoveRates.append(Double(hot) / max(1e-9, try exchange(hot, 600) - latency))
            cachedReduceRates.append(Double(hot) / (try median(reps: 1000) { kernel.accumulate(into: m2, m1, count: hot / 4) }))
            rdTimes.append(try median(reps: 1000) {
                try world.allReduce(a, b, count: 2, type: .float32, op: .sum, algorithm: .recursiveDoubling)
            })
        }
        // MPI's AllReduce, in three passes too (with the rounds), each size's median pass taken.
        var libraryPasses: [[TimedSize]] = []
        let libraryPass = {
            var pass: [TimedSize] = []
            var bytes = 8
            while bytes <= largest {
                let reps = bytes <= 64 << 10 ? 300 : bytes <= 1 << 20 ? 40 : bytes <= 16 << 20 ? 10 : 5
                let count = Int32(bytes / 4)
                let t = try median(reps: reps) {
                    try mpiCheck(PMPI_Allreduce(a, b, count, torus_MPI_FLOAT(), torus_MPI_SUM(), world.handle), "MPI_Allreduce")
                }
                pass.append(TimedSize(bytes: bytes, seconds: t))
                // Every power of two: ×4 steps left MPI's eager jump to interpolation (2 KiB 1.0 µs, 8 KiB
                // 6.3 µs here), which put 4 KiB at 2.6 µs against 1.3–1.7 measured.
                bytes = bytes == largest ? largest + 1 : min(bytes * 2, largest)
            }
            libraryPasses.append(pass)
        }
        try measureRound()
        try libraryPass()

        let ping = try pingSizes.map { bytes in
            TimedSize(bytes: bytes, seconds: try pingPong(bytes, bytes <= 64 << 10 ? 400 : bytes <= 1 << 20 ? 60 : 12))
        }
        try measureRound()
        try libraryPass()
        let lastLevelCache = Self.lastLevelCacheBytes()

        try measureRound()
        try libraryPass()
        let library = libraryPasses[0].indices.map { k in
            TimedSize(bytes: libraryPasses[0][k].bytes, seconds: libraryPasses.map { $0[k].seconds }.sorted()[libraryPasses.count / 2])
        }
        let medianOf = { (values: [Double]) in values.sorted()[values.count / 2] }
        let (latency, moveRate, copyRate, reduceRate) = (medianOf(latencies), medianOf(moveRates), medianOf(copyRates), medianOf(reduceRates))
        let (cachedMoveRate, cachedReduceRate, rd) = (medianOf(cachedMoveRates), medianOf(cachedReduceRates), medianOf(rdTimes))
        let perMessage = max(0, rd / Double(max(1, rdMessages)) - latency)
        let eachRound = { (rates: [Double]) in rates.map { String(format: "%.2f", $0 / 1e9) }.joined(separator: ", ") }
        let eachRoundTime = { (times: [Double]) in times.map { String(format: "%.2f", $0 * 1e6) }.joined(separator: ", ") }

        let (switchFound, jump) = Self.eagerLimit(ping)
        var eager = switchFound
        if let found = switchFound, let above = ping.first(where: { $0.bytes > found }) {
            // Narrow the switch to 64 bytes: a size is rendezvous if its time is nearer the size above the switch's.
            var (lo, hi) = (found, above.bytes)
            let middle = (ping.first { $0.bytes == found }!.seconds + above.seconds) / 2
            while hi - lo > 64 {
                let mid = (lo + hi) / 2 / 64 * 64
                let t = try pingPong(mid, 300)
                if t > middle { hi = mid } else { lo = mid }
            }
            eager = lo
        }
        let machineName = sharedMemory ? "shared memory" : "network"
        var figures = MachineFigures(linkBandwidth: moveRate, linkLatency: latency, hopDelay: 0, softwareOverhead: perMessage / 2,
                                     reductionRatePerThread: reduceRate, reductionThreads: ReductionThreads.current?.threads ?? 0,
                                     memoryBandwidth: max(2 * copyRate, 3 * reduceRate))
        figures.receiveOverhead = perMessage / 2
        figures.eagerLimit = eager ?? .max
        figures.rendezvousDelay = eager == nil ? 0 : jump
        if sharedMemory { figures.receiveCopyRate = moveRate }
        if let llc = lastLevelCache {
            // Input, result and scratch of every rank of the node share the last-level cache.
            figures.cacheBytes = llc / max(1, perNode) / 3
            figures.cachedReceiveCopyRate = sharedMemory ? cachedMoveRate : .infinity
            figures.cachedReductionRatePerThread = cachedReduceRate
        }
        var model = NetworkModel(name: "calibrated", machine: figures)
        let how = "measured by torus-bench --calibrate on \(hosts[0]), \(p) ranks"
        let us = { (s: Double) in String(format: "%.2f us", s * 1e6) }
        let gbs = { (v: Double) in String(format: "%.2f GB/s", v / 1e9) }
        model.sources = [
            "link-bandwidth": "\(how): an exchange of 16 MiB with the neighbour, every rank at once (\(gbs(moveRate)), the median of three rounds: \(eachRound(moveRates)) GB/s)"
                + (sharedMemory ? "; on one node the receiver's copy moves the data, so links add no time" : ""),
            "link-latency": "\(how): an exchange of 8 B with the neighbour, every rank at once (\(us(latency)), the median of three rounds: \(eachRoundTime(latencies)) us)",
            "hop-delay": "0: the calibrated ranks are neighbours",
            "software-overhead": "\(how): recursive doubling of 8 B takes \(us(rd)) (the median of three rounds: \(eachRoundTime(rdTimes)) us) for \(rdMessages) message\(rdMessages == 1 ? "" : "s"), \(us(perMessage)) each above MPI's exchange; assumed half at the sender",
            "receive-overhead": "\(how): the other half of the executor's \(us(perMessage)) per message (assumed even split)",
            "eager-limit": eager.map { "\(how): ping-pong between ranks 0 and 1 jumps above \($0) bytes (to 64 bytes)" }
                ?? "\(how): no jump in the ping-pong times from 1 KiB to 64 KiB, so no rendezvous is modelled",
            "rendezvous-delay": eager == nil ? "no rendezvous seen" : "\(how): the ping-pong's jump at the eager limit, above the trend of its neighbours",
            "receive-copy-rate": sharedMemory ? "\(how): as link-bandwidth (the receiving rank copies each message)" : "inf: ranks 0 and 1 are on different nodes; the network moves the data",
            "reduction-rate": "\(how): float sum of 64 MiB into 64 MiB, every rank at once (\(gbs(reduceRate)) of result, the median of three rounds: \(eachRound(reduceRates)) GB/s)",
            "reduction-threads": "the runtime's reduction threads in this run",
            "cache-bytes": lastLevelCache.map { "the last-level cache (\(ByteCount.format($0)), sysfs) shared by \(perNode) rank\(perNode == 1 ? "" : "s") of a node, a third each for input, result and scratch" }
                ?? "0: sysfs names no cache size here",
            "cached-copy-rate": sharedMemory ? "\(how): an exchange of 1 MiB with the neighbour, again and again (in cache; \(gbs(cachedMoveRate)), the median of three rounds: \(eachRound(cachedMoveRates)) GB/s)" : "inf: the network moves the data",
            "cached-reduction-rate": "\(how): float sum of 1 MiB into 1 MiB, again and again (in cache; \(gbs(cachedReduceRate)) of result, the median of three rounds: \(eachRound(cachedReduceRates)) GB/s)",
            "memory-bandwidth": "\(how): twice the rate of a 64 MiB memcpy, every rank at once (\(gbs(copyRate)) copied, the median of three rounds: \(eachRound(copyRates)) GB/s), or three times the reduction rate if more (its measurement has memory's limit in it already)",
        ]
        model.network = .torus
        // Eager halves (`IssueRules.eagerSplitBytes`), which TORUS_MODEL turns on for the runtime
        // as this sets them for the predictor: where a rendezvous costs more than one more message.
        if let eager, jump > latency + perMessage {
            model.eagerSplitBytes = eager
            model.sources["eager-split-bytes"] = "the executor's issue rules, set to the measured eager limit: the rendezvous (\(us(jump))) costs more than one more message (\(us(latency + perMessage)))"
        }
        // The scratch ring the runtime ran these ranks with (one host: `IssueRules.sharedMemoryScratchSegments`).
        let ring = world.options.executor.rules.scratchSegments
        if ring != IssueRules().scratchSegments {
            model.scratchSegments = ring
            model.sources["scratch-segments"] = "the executor's issue rules in this run (TORUS_SCRATCH_SEGMENTS, else its default where every rank shares a host)"
        }
        let date = ISO8601DateFormatter().string(from: Date())
        let calibration = Calibration(ranks: p, ranksPerNode: perNode, host: hosts[0], library: Self.libraryVersion(), date: date, model: model,
                                      libraryAllReduce: library, pingPong: ping,
                                      notes: ["\(machineName); the model's links join ranks (one rank per node of a \(world.topology.grid) grid, as the runtime sees them)",
                                              "exchange of 16 MiB: \(gbs(moveRate)); ping-pong at 16 MiB: \(gbs(Double(16 << 20) / (ping.last!.seconds)))"])
        guard r == 0 else { return }
        let next = try existing.map { try $0.adding(calibration, replace: replace) } ?? CalibratedModel(calibrations: [calibration])
        let text = String(decoding: try CalibratedModel.encoder.encode(next), as: UTF8.self) + "\n"
        try writeText(text, to: path, overwrite: true)
        print("# torus-bench --calibrate: \(p) ranks on \(hosts[0]) → \(path)" + (existing == nil ? "" : " (added to the calibrations of \(existing!.calibrations.map { "\($0.ranks)" }.joined(separator: ", ")) ranks)"))
        for line in model.figureLines { print("#   " + line) }
        print("#   " + "mpi-allreduce".padding(toLength: 22, withPad: " ", startingAt: 0) + library.map { "\(ByteCount.format($0.bytes)) \(us($0.seconds))" }.joined(separator: ", "))
    }

    /// The eager limit: the size after which ping-pong's time jumps most above the line through its
    /// neighbours (1 KiB to 64 KiB), and the jump; nil when no jump exceeds a third of a microsecond
    /// and 10% of the time.
    static func eagerLimit(_ ping: [TimedSize]) -> (Int?, Double) {
        let t = ping.filter { (1 << 10 ... 64 << 10).contains($0.bytes) }
        guard t.count >= 3 else { return (nil, 0) }
        var best: (Int, Double)?
        for k in 0 ..< t.count - 1 {
            // The slope the neighbours show (below k and above k + 1), per byte.
            let below = k > 0 ? (t[k].seconds - t[k - 1].seconds) / Double(t[k].bytes - t[k - 1].bytes) : .infinity
            let above = k + 2 < t.count ? (t[k + 2].seconds - t[k + 1].seconds) / Double(t[k + 2].bytes - t[k + 1].bytes) : .infinity
            let slope = max(0, min(below, above))
            let jump = t[k + 1].seconds - t[k].seconds - slope * Double(t[k + 1].bytes - t[k].bytes)
            if jump > best?.1 ?? 0 { best = (t[k].bytes, jump) }
        }
        guard let best, best.1 > 0.33e-6, best.1 > 0.1 * t.first { $0.bytes > best.0 }!.seconds else { return (nil, best?.1 ?? 0) }
        return best
    }

    /// The size of this CPU's last-level cache, from sysfs (nil where it says nothing).
    static func lastLevelCacheBytes() -> Int? {
        var best: (level: Int, bytes: Int)?
        for index in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let level = (try? String(contentsOfFile: dir + "level", encoding: .utf8)).flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                  let text = try? String(contentsOfFile: dir + "size", encoding: .utf8) else { continue }
            let size = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = try? ByteCount.parse(size, name: "cache size") else { continue }
            if level > best?.level ?? 0 { best = (level, bytes) }
        }
        return best?.bytes
    }

    /// The median over `reps` runs of `body` of the slowest rank's time (a barrier before each).
    func median(reps: Int, _ body: () throws -> Void) throws -> Double {
        for _ in 0 ..< min(3, reps) { try body() }
        var times = [Double](repeating: 0, count: reps)
        for i in 0 ..< reps {
            try mpiCheck(PMPI_Barrier(world.handle), "MPI_Barrier")
            let t0 = MPI_Wtime()
            try body()
            times[i] = MPI_Wtime() - t0
        }
        try mpiCheck(PMPI_Allreduce(UnsafeRawPointer(torus_MPI_IN_PLACE()), &times, Int32(reps), torus_MPI_DOUBLE(), torus_MPI_MAX(), world.handle),
                     "MPI_Allreduce of timings")
        return times.sorted()[reps / 2]
    }

    /// Every rank's host name, and how many ranks share rank 0's.
    func hostLayout() throws -> ([String], Int) {
        var mine = [CChar](repeating: 0, count: 256)
        gethostname(&mine, 255)
        var all = [CChar](repeating: 0, count: 256 * world.size)
        try mpiCheck(PMPI_Allgather(&mine, 256, torus_MPI_CHAR(), &all, 256, torus_MPI_CHAR(), world.handle), "MPI_Allgather of host names")
        let hosts = (0 ..< world.size).map { k in
            all[k * 256 ..< (k + 1) * 256].withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
        return (hosts, hosts.filter { $0 == hosts[0] }.count)
    }

    static func libraryVersion() -> String {
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&text, &length)
        return String(cString: text).split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
    }
}
