import ArgumentParser
import CMPI
import Foundation
import TorusCore
import TorusMPI
import TorusRuntime
import TorusSchedules

/// `mpirun -np N torus-bench …`: AllReduce latency and bandwidth per algorithm over a size sweep,
/// out of place and in place, in the nccl-tests layout (default), the OSU layout (`--osu`) or JSON.
@main
struct TorusBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torus-bench",
        abstract: "AllReduce, ReduceScatter and AllGather micro-benchmark under mpirun: TorusCollectives algorithms beside MPI's own.",
        discussion: """
            Sizes run from -b to -e, multiplied by -f. Each size runs out of place, then in place: -w \
            warm-up calls, then -n timed calls, each between barriers; the time of a call is the \
            slowest rank's, and the table shows the median over calls. algbw = bytes / time, \
            busbw = algbw · 2(p−1)/p for AllReduce and algbw · (p−1)/p for ReduceScatter and AllGather \
            (GB/s = 10^9 B/s), as nccl-tests reports them; for those two the size is the whole buffer of \
            p blocks and the count one rank's block (nccl-tests' reduce_scatter_perf and all_gather_perf). \
            With -c 1 inputs are built so the result is exact in any order and every rank's result is \
            compared bit for bit.
            Example: mpirun --oversubscribe -np 8 torus-bench -b 64K -e 64M -f 4 -a sixring,mpi
            """
    )

    @Option(name: [.customShort("b"), .customLong("minbytes")], help: "Smallest size in bytes (K/M/G suffixes).")
    var minBytes: String = "1K"
    @Option(name: [.customShort("e"), .customLong("maxbytes")], help: "Largest size in bytes.")
    var maxBytes: String = "64M"
    @Option(name: [.customShort("f"), .customLong("stepfactor")], help: "Multiply the size by this each step.")
    var factor: Int = 2
    @Option(name: [.customShort("n"), .customLong("iters")], help: "Timed calls per size.")
    var iterations: Int = 20
    @Option(name: [.customShort("w"), .customLong("warmup_iters")], help: "Untimed calls before timing.")
    var warmup: Int = 5
    @Option(name: [.customShort("c"), .customLong("check")], help: "Check results: 1 (default) or 0.")
    var check: Int = 1
    @Option(name: [.customShort("d"), .customLong("datatype")], help: "Element type (f32 f64 f16 bf16 i8 … u64; float, double, half …).")
    var datatype: String = "f32"
    @Option(name: [.customShort("o"), .customLong("op")], help: "Reduction op (sum prod min max band bor bxor land lor lxor).")
    var op: String = "sum"
    @Option(name: [.customShort("a"), .customLong("algorithms")],
            help: "Comma-separated: auto, mpi, \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")).")
    var algorithms: String = "sixring,mpi"
    @Option(name: .customLong("collective"), help: "all-reduce (MPI_Allreduce), reduce-scatter (MPI_Reduce_scatter_block) or all-gather (MPI_Allgather).")
    var collective: String = "all-reduce"
    @Option(name: .customLong("split"), help: "tp=T: run on every data-parallel subcommunicator of a DP×TP layout at once.")
    var split: String?
    @Option(name: .customLong("reduction-threads"),
            help: "Reduction worker threads per rank (0 = inline); sets TORUS_REDUCTION_THREADS. Default: from the free cores.")
    var reductionThreads: Int?
    @Flag(name: .customLong("osu"), help: "Print the OSU osu_allreduce layout.")
    var osu = false
    @Flag(name: .customLong("full"), help: "With --osu: add min and max latency and iterations (OSU's -f).")
    var full = false
    @Flag(name: .customLong("json"), help: "One JSON object per algorithm, size and placement (in place or not).")
    var json = false
    @Flag(name: .customLong("ignore-memory"), help: "Run even when the estimated memory exceeds what this machine has available.")
    var ignoreMemory = false
    @Option(name: .customLong("calibrate"), help: ArgumentHelp("Measure this machine and write its model to FILE (JSON; added to FILE if it holds a model already), for `torus sim --model FILE` and TORUS_MODEL=FILE.", valueName: "FILE"))
    var calibrate: String?
    @Flag(name: .customLong("force"), help: "With --calibrate: replace the file's calibration of this many ranks if it has one.")
    var force = false

    func validate() throws {
        guard factor >= 2 else { throw ValidationError("-f must be 2 or more, got \(factor)") }
        guard iterations >= 1 else { throw ValidationError("-n must be 1 or more, got \(iterations)") }
        guard warmup >= 0 else { throw ValidationError("-w must be 0 or more, got \(warmup)") }
        guard check == 0 || check == 1 else { throw ValidationError("-c takes 0 or 1, got \(check)") }
        if let n = reductionThreads, !(0...256).contains(n) {
            throw ValidationError("--reduction-threads takes 0 (inline) to 256, got \(n)")
        }
    }

    func run() throws {
        do {
            // Before anything reads the environment: the flag is TORUS_REDUCTION_THREADS for this run.
            if let n = reductionThreads { setenv("TORUS_REDUCTION_THREADS", "\(n)", 1) }
            try MPIEnvironment.initialize()
            let world = try MPICommunicator.world()
            if let calibrate {
                // -e bounds the sizes of MPI's AllReduce it times (default 64 MiB).
                let largest = try ByteCount.parse(maxBytes, name: "-e")
                try Calibrator(world: world, path: calibrate, replace: force, largest: max(8, largest)).run()
                try MPIEnvironment.finalize()
                return
            }
            let settings = try BenchSettings(self, worldSize: world.size)
            let comm = try settings.communicator(world)
            try BenchRunner(settings: settings, world: world, comm: comm).run()
            try MPIEnvironment.finalize()
        } catch let error as TorusError {
            // Every rank reads the same arguments and files, so every rank stops here: no hang.
            var r: Int32 = 0
            if MPIEnvironment.isInitialized { MPI_Comm_rank(torus_MPI_COMM_WORLD(), &r) }
            if r == 0 { printError("torus-bench: error: \(error)") }
            try? MPIEnvironment.finalize()
            throw ExitCode(2)
        }
    }
}

/// The checked arguments.
struct BenchSettings {
    var collective: Collective
    var sizes: [Int]
    var type: ElementType
    var op: ReduceOp
    var routes: [AllReduceRoute?]
    var tp: Int?
    var iterations: Int
    var warmup: Int
    var check: Bool
    var osu: Bool
    var full: Bool
    var json: Bool

    init(_ a: TorusBench, worldSize: Int) throws {
        let lo = try ByteCount.parse(a.minBytes, name: "-b"), hi = try ByteCount.parse(a.maxBytes, name: "-e")
        guard lo <= hi else { throw TorusError.invalidValue(name: "-b/-e", value: "\(lo) > \(hi)", expected: "-b no larger than -e") }
        // Each rank holds a send and a receive buffer of the largest size, and up to as much scratch
        // and expected results again; every rank on this node does (Open MPI says how many there are).
        if !a.ignoreMemory {
            let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
            try MemoryBudget.check(4 * Double(local) * Double(hi), for: "\(local) rank\(local == 1 ? "" : "s") on this node with \(ByteCount.format(hi)) buffers",
                                   override: "--ignore-memory")
        }
        collective = try Collective(parsing: a.collective, name: "--collective")
        type = try ElementType(parsing: a.datatype, name: "-d")
        op = try ReduceOp(parsing: a.op, name: "-o")
        try op.check(type)
        var s: [Int] = []
        var size = max(lo, type.size)
        while size <= hi { s.append(size); size *= a.factor }
        sizes = s
        routes = try a.algorithms.split(separator: ",", omittingEmptySubsequences: false).map { name -> AllReduceRoute? in
            let name = name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                throw TorusError.invalidValue(name: "-a", value: a.algorithms,
                                              expected: "a comma-separated list of auto, mpi or algorithm names, none empty (such as sixring,mpi)")
            }
            return name.lowercased() == "auto" ? nil : try AllReduceRoute(parsing: name, name: "-a")
        }
        guard sizes.count > 0 else {
            throw TorusError.invalidValue(name: "-b/-e", value: "\(lo) to \(hi)", expected: "a range holding at least one size of \(type.size) bytes or more (-b at most -e)")
        }
        if let text = a.split {
            guard text.hasPrefix("tp="), let t = Int(text.dropFirst(3)), t >= 1, worldSize % t == 0 else {
                throw TorusError.invalidValue(name: "--split", value: text,
                                              expected: "tp=T with T dividing the \(worldSize) ranks (DP groups of \(worldSize)/T ranks, one per tp index)")
            }
            tp = t
        }
        iterations = a.iterations
        warmup = a.warmup
        check = a.check == 1
        osu = a.osu
        full = a.full
        json = a.json
    }

    /// The world, or this rank's data-parallel group: Megatron order rank = dp·TP + tp with PP = 1,
    /// so the DP group of a rank is every rank with the same rank mod TP.
    func communicator(_ world: MPICommunicator) throws -> MPICommunicator {
        guard let tp else { return world }
        return try world.split(color: world.rank % tp, key: world.rank) as! MPICommunicator
    }
}
