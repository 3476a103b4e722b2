import CMPI
import Foundation
import TorusCore
import TorusMPI
import TorusRuntime
import TorusSchedules

/// Runs the sweep and prints it.
struct BenchRunner {
    let settings: BenchSettings
    let world: MPICommunicator
    let comm: MPICommunicator

    /// One measured (route, size, placement).
    struct Row: Codable {
        var collective: String
        var algorithm: String
        var bytes: Int
        var count: Int
        var type: String
        var op: String
        var ranks: Int
        var groups: Int
        var inPlace: Bool
        /// Median over calls of the slowest rank's time.
        var timeUs: Double
        var algbwGbps: Double
        var busbwGbps: Double
        /// Wrong elements summed over all ranks; nil when not checked.
        var wrong: Int?
        /// OSU figures: mean over calls per rank, then mean, min and max over ranks.
        var avgUs: Double
        var minUs: Double
        var maxUs: Double
        var iterations: Int
        /// Reduction worker threads of each rank (0: inline).
        var reductionThreads: Int
    }

    func run() throws {
        let p = comm.size, r = comm.rank, s = settings.type.size
        let collective = settings.collective
        let groups = world.size / p
        let checkable = settings.check && VerifiableInputs.inexact(type: settings.type, op: settings.op, ranks: p) == nil
        let kernel = try ReductionKernel(type: settings.type, op: settings.op)
        // Checked against our own fold and run beside MPI's AllReduce: values both treat alike.
        let pattern = VerifiableInputs.expectedPattern(kernel: kernel, ranks: p, values: .mpiComparable)
        let maxBytes = settings.sizes.last ?? 0
        let send = UnsafeMutableRawPointer.allocate(byteCount: max(maxBytes, 64), alignment: 64)
        let recv = UnsafeMutableRawPointer.allocate(byteCount: max(maxBytes, 64), alignment: 64)
        defer { send.deallocate(); recv.deallocate() }
        let printer = BenchPrinter(settings: settings, world: world, comm: comm, checkable: checkable)
        for case let .schedule(a)? in settings.routes {
            if let why = a.unavailable(collective, topology: comm.topology) {
                throw TorusError.invalidValue(name: "-a", value: a.rawValue, expected: "an algorithm that runs a \(collective) here: \(why)")
            }
        }
        for route in settings.routes {
            let name = route?.description ?? "auto"
            if case .library? = route, settings.type.mpiName == nil, collective != .allGather {
                printer.note("skipping mpi: MPI has no datatype for \(settings.type.rawValue)")
                continue
            }
            printer.header(name)
            var rows: [Row] = []
            for bytes in settings.sizes {
                // nccl-tests: an AllReduce of `bytes`; a ReduceScatter or AllGather of p blocks of `count` in `bytes`.
                let count = collective == .allReduce ? bytes / s : bytes / (s * p)
                guard count > 0 else { continue }
                let whole = collective == .allReduce ? count : count * p
                // This rank's input: the whole buffer, or (AllGather) its block.
                let input = VerifiableInputs.bytes(type: settings.type, op: settings.op, rank: r,
                                                   count: collective == .reduceScatter ? whole : count, values: .mpiComparable)
                var pair: [Row] = []
                for inPlace in [false, true] {
                    let call = { try comm.run(route, collective, inPlace ? nil : send, recv, count: count, type: settings.type, op: settings.op) }
                    let target = !inPlace ? send : collective == .allGather ? recv + r * count * s : recv
                    let fill = { input.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: input.count) } }
                    fill()
                    // Warm-up calls run as the timed ones do, each between barriers (as OSU's skipped
                    // iterations) and refilled only in place: a route TORUS_TUNE times in them is
                    // timed as the table times it (a refill before each call made recursive doubling
                    // of 256 KiB at np=2 80 µs in the trial against 54 µs in the table).
                    for _ in 0..<settings.warmup {
                        if inPlace { fill() }
                        try mpiCheck(PMPI_Barrier(torus_MPI_COMM_WORLD()), "MPI_Barrier")
                        try call()
                    }
                    var times: [Double] = []
                    for _ in 0..<settings.iterations {
                        if inPlace { fill() }
                        try mpiCheck(PMPI_Barrier(torus_MPI_COMM_WORLD()), "MPI_Barrier")
                        let t0 = MPI_Wtime()
                        try call()
                        times.append(MPI_Wtime() - t0)
                    }
                    var wrong: Int?
                    if checkable {
                        fill()
                        try call()
                        wrong = try sum(countWrong(recv, count: count, pattern: pattern))
                    }
                    pair.append(try row(name, bytes: whole * s, count: count, inPlace: inPlace, times: times, wrong: wrong, groups: groups))
                }
                rows += pair
                printer.row(pair)
            }
            printer.footer(rows)
        }
    }

    /// Wrong elements of this rank's result: the AllReduce `pattern` (periodic), block `rank` of it
    /// (ReduceScatter), or every rank's input block (AllGather).
    func countWrong(_ recv: UnsafeMutableRawPointer, count: Int, pattern: [UInt8]) -> Int {
        let s = settings.type.size, p = comm.size
        switch settings.collective {
        case .allReduce:
            return VerifiableInputs.countWrong(UnsafeRawBufferPointer(start: recv, count: count * s), pattern: pattern, type: settings.type)
        case .reduceScatter:
            // Block r starts r·c elements into the periodic pattern: rotate it to start there.
            let period = pattern.count / s, shift = comm.rank * count % period * s
            let rotated = Array(pattern[shift...] + pattern[..<shift])
            return VerifiableInputs.countWrong(UnsafeRawBufferPointer(start: recv, count: count * s), pattern: rotated, type: settings.type)
        case .allGather:
            return (0..<p).reduce(0) { total, k in
                let expected = VerifiableInputs.bytes(type: settings.type, op: settings.op, rank: k, count: count, values: .mpiComparable)
                return total + VerifiableInputs.countWrong(UnsafeRawBufferPointer(start: recv + k * count * s, count: count * s),
                                                           pattern: expected, type: settings.type)
            }
        }
    }

    /// Summarises per-rank call times over the whole world: the slowest rank per call, then the median.
    func row(_ name: String, bytes: Int, count: Int, inPlace: Bool, times: [Double], wrong: Int?, groups: Int) throws -> Row {
        var slowest = times
        try mpiCheck(PMPI_Allreduce(UnsafeRawPointer(torus_MPI_IN_PLACE()), &slowest, Int32(slowest.count), torus_MPI_DOUBLE(), torus_MPI_MAX(),
                               torus_MPI_COMM_WORLD()), "MPI_Allreduce of timings")
        let median = slowest.sorted()[slowest.count / 2]
        var mean = times.reduce(0, +) / Double(times.count)
        var lo = mean, hi = mean, total = mean
        try mpiCheck(PMPI_Allreduce(UnsafeRawPointer(torus_MPI_IN_PLACE()), &lo, 1, torus_MPI_DOUBLE(), torus_MPI_MIN(), torus_MPI_COMM_WORLD()), "MPI_Allreduce")
        try mpiCheck(PMPI_Allreduce(UnsafeRawPointer(torus_MPI_IN_PLACE()), &hi, 1, torus_MPI_DOUBLE(), torus_MPI_MAX(), torus_MPI_COMM_WORLD()), "MPI_Allreduce")
        try mpiCheck(PMPI_Allreduce(UnsafeRawPointer(torus_MPI_IN_PLACE()), &total, 1, torus_MPI_DOUBLE(), torus_MPI_SUM(), torus_MPI_COMM_WORLD()), "MPI_Allreduce")
        mean = total / Double(world.size)
        let algbw = median > 0 ? Double(bytes) / median / 1e9 : 0
        return Row(collective: settings.collective.rawValue, algorithm: name, bytes: bytes, count: count, type: settings.type.rawValue, op: settings.op.rawValue, ranks: comm.size,
                   groups: groups, inPlace: inPlace, timeUs: median * 1e6, algbwGbps: algbw, busbwGbps: algbw * settings.collective.busFactor(ranks: comm.size),
                   wrong: wrong, avgUs: mean * 1e6, minUs: lo * 1e6, maxUs: hi * 1e6, iterations: times.count,
                   reductionThreads: ReductionThreads.current?.threads ?? 0)
    }

    func sum(_ n: Int) throws -> Int {
        var v = Int64(n)
        try mpiCheck(PMPI_Allreduce(UnsafeRawPointer(torus_MPI_IN_PLACE()), &v, 1, torus_MPI_INT64_T(), torus_MPI_SUM(), torus_MPI_COMM_WORLD()),
                "MPI_Allreduce of error counts")
        return Int(v)
    }
}

extension MPICommunicator {
    /// One call of `collective` by the given route: the library (`PMPI_Allreduce`,
    /// `PMPI_Reduce_scatter_block`, `PMPI_Allgather`), a forced algorithm, or the automatic choice
    /// (nil). `count`: the AllReduce's elements, or one rank's block.
    func run(_ route: AllReduceRoute?, _ collective: Collective, _ send: UnsafeRawPointer?, _ recv: UnsafeMutableRawPointer, count: Int,
             type: ElementType, op: ReduceOp) throws {
        switch (route, collective) {
        case (.library?, .allGather):
            _ = try libraryHalf(.allGather, send, recv, blockCount: count, type: type, op: op)
        case (.library?, _):
            guard let datatype = type.mpiDatatype else {
                throw TorusError.invalidValue(name: "-d", value: type.rawValue, expected: "a type MPI has, for -a mpi")
            }
            let sendBuffer = send ?? UnsafeRawPointer(torus_MPI_IN_PLACE())
            if collective == .allReduce {
                try mpiCheck(PMPI_Allreduce(sendBuffer, recv, Int32(count), datatype, op.mpiOp, handle), "MPI_Allreduce")
            } else {
                try mpiCheck(PMPI_Reduce_scatter_block(sendBuffer, recv, Int32(count), datatype, op.mpiOp, handle), "MPI_Reduce_scatter_block")
            }
        case (_, .allReduce):
            try allReduce(send, recv, count: count, type: type, op: op, algorithm: route?.algorithm)
        case (_, .reduceScatter):
            try reduceScatter(send, recv, blockCount: count, type: type, op: op, algorithm: route?.algorithm)
        case (_, .allGather):
            try allGather(send, recv, blockCount: count, type: type, algorithm: route?.algorithm)
        }
    }
}

extension AllReduceRoute {
    /// The algorithm of a schedule route.
    var algorithm: Algorithm? {
        if case let .schedule(a) = self { return a }
        return nil
    }
}
