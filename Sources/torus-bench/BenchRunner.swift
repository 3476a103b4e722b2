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
        let p = comm.size
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
        for route in settings.routes {
            let name = route?.description ?? "auto"
            if case .library? = route, settings.type.mpiName == nil {
                printer.note("skipping mpi: MPI has no datatype for \(settings.type.rawValue)")
                continue
            }
            printer.header(name)
            var rows: [Row] = []
            for bytes in settings.sizes {
                let count = bytes / settings.type.size
                let input = VerifiableInputs.bytes(type: settings.type, op: settings.op, rank: comm.rank, count: count, values: .mpiComparable)
                var pair: [Row] = []
                for inPlace in [false, true] {
                    let call = {
                        if inPlace {
                            try comm.run(route, nil, recv, count: count, type: settings.type, op: settings.op)
                        } else {
                            try comm.run(route, send, recv, count: count, type: settings.type, op: settings.op)
                        }
                    }
                    let fill = { input.withUnsafeBytes { (inPlace ? recv : send).copyMemory(from: $0.baseAddress!, byteCount: input.count) } }
                    fill()
                    for _ in 0..<settings.warmup { fill(); try call() }
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
                        let result = Array(UnsafeRawBufferPointer(start: recv, count: input.count))
                        wrong = try sum(VerifiableInputs.countWrong(result, pattern: pattern, type: settings.type))
                    }
                    pair.append(try row(name, bytes: count * settings.type.size, count: count, inPlace: inPlace,
                                        times: times, wrong: wrong, groups: groups))
                }
                rows += pair
                printer.row(pair)
            }
            printer.footer(rows)
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
        let p = Double(comm.size)
        let algbw = median > 0 ? Double(bytes) / median / 1e9 : 0
        return Row(algorithm: name, bytes: bytes, count: count, type: settings.type.rawValue, op: settings.op.rawValue, ranks: comm.size,
                   groups: groups, inPlace: inPlace, timeUs: median * 1e6, algbwGbps: algbw, busbwGbps: algbw * 2 * (p - 1) / p,
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
    /// One AllReduce by the given route: the library (`PMPI_Allreduce`), a forced algorithm, or the
    /// automatic choice (nil).
    func run(_ route: AllReduceRoute?, _ send: UnsafeRawPointer?, _ recv: UnsafeMutableRawPointer, count: Int,
             type: ElementType, op: ReduceOp) throws {
        switch route {
        case .library?:
            guard let datatype = type.mpiDatatype else {
                throw TorusError.invalidValue(name: "-d", value: type.rawValue, expected: "a type MPI has, for -a mpi")
            }
            try mpiCheck(PMPI_Allreduce(send ?? UnsafeRawPointer(torus_MPI_IN_PLACE()), recv, Int32(count), datatype, op.mpiOp, handle),
                    "MPI_Allreduce")
        case let .schedule(a)?:
            try allReduce(send, recv, count: count, type: type, op: op, algorithm: a)
        case nil:
            try allReduce(send, recv, count: count, type: type, op: op)
        }
    }
}
