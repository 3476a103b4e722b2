import ArgumentParser
import Foundation
import TorusCore
import TorusRuntime
import TorusSchedules
import TorusSim

/// `torus allreduce`: run AllReduce on a simulated torus in this process — real data, the real
/// executor, one thread per rank — check the result and show the link traffic.
struct AllReduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Run AllReduce on a simulated torus (one thread per rank), check it and count link traffic.",
        discussion: """
            Inputs are small integers built from (rank, index), so that sums, min, max and integer ops are \
            exact in any order and the result is compared bit for bit on every rank. Wall time is the \
            median over iterations; on a machine with fewer cores than ranks it measures the software, \
            not a network.
            Example: torus allreduce --torus 4x4x4 -a sixring,ring,rabenseifner --bytes 64M
            """
    )

    enum Defaults: CommandDefaults {
        static let torus = "2x2x2", bytes = "1M"
        static let algorithms: [Algorithm] = [.sixRing]
    }

    @OptionGroup var torusOption: TorusOption<Defaults>
    @OptionGroup var algorithmOption: AlgorithmOption<Defaults>
    @OptionGroup var size: SizeOption<Defaults>
    @OptionGroup var reduction: ReductionOptions

    @Option(name: [.customShort("n"), .long], help: "Timed iterations (the median is reported).")
    var iterations: Int = 5

    @Flag(name: .long, inversion: .prefixedNo, help: "Check every rank's result bit for bit.")
    var check = true

    @Flag(name: .long, help: "One JSON object per algorithm.")
    var json = false

    @Flag(name: .long, help: "Run even when the estimated memory exceeds what this machine has available.")
    var ignoreMemory = false

    struct Result: Codable {
        var algorithm: String
        var torus: String
        var ranks: Int
        var bytes: Int
        var type: String
        var op: String
        var iterations: Int
        var medianSeconds: Double
        var checked: Bool
        var wrong: Int
        /// Per node, bytes sent on each of its directed links (+X −X +Y −Y +Z −Z), over the run.
        var linkBytesMin: Int
        var linkBytesMax: Int
        var busyLinksPerNode: Double
        var maxHops: Int
    }

    func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1, got \(iterations)") }
    }

    func run() throws {
        let shape = torusOption.torus, list = algorithmOption.algorithms, elementType = reduction.type, reduceOp = reduction.op
        let byteCount = size.bytes.bytes
        let kernel = try ReductionKernel(type: elementType, op: reduceOp)
        let count = byteCount / elementType.size
        let p = shape.nodeCount
        if check, let why = VerifiableInputs.inexact(type: elementType, op: reduceOp, ranks: p) {
            throw ValidationError("cannot check this result exactly: \(why); pass --no-check to run unchecked")
        }
        // Every rank (a thread here) holds its input, its result and up to as much scratch and
        // message copies again: about 4 buffers of the message per rank, all in this process.
        if !ignoreMemory {
            try MemoryBudget.check(4 * Double(p) * Double(count * elementType.size), for: "\(p) ranks of \(ByteCount.format(count * elementType.size)) each",
                                   override: "--ignore-memory")
        }
        let pattern = VerifiableInputs.expectedPattern(kernel: kernel, ranks: p)
        if !json {
            print("# AllReduce on a simulated \(shape) torus: \(p) ranks (threads), \(count) × \(elementType.rawValue) \(reduceOp.rawValue) per rank, median of \(iterations)")
            print("# algorithm            time (ms)   checked   #wrong   busy links/node   link bytes min..max   max hops")
        }
        for algorithm in list {
            let sim = SimulatedTorus(shape: shape, timeout: 600)
            let wrong = Counter()
            let checkEnabled = check
            // One call alone, so the link counters hold exactly one AllReduce; its result is checked.
            try sim.run { comm in
                var buffer = VerifiableInputs.bytes(type: elementType, op: reduceOp, rank: comm.rank, count: count)
                try buffer.withUnsafeMutableBytes { b in
                    try comm.allReduce(nil, b.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!, count: count,
                                       type: elementType, op: reduceOp, algorithm: algorithm)
                }
                if checkEnabled { wrong.add(VerifiableInputs.countWrong(buffer, pattern: pattern, type: elementType)) }
            }
            let traffic = sim.linkTraffic
            // Timed calls, each between barriers; rank 0's clock.
            let times = Times()
            try sim.run { comm in
                let input = VerifiableInputs.bytes(type: elementType, op: reduceOp, rank: comm.rank, count: count)
                var buffer = input
                for _ in 0..<iterations {
                    buffer = input
                    buffer.withUnsafeMutableBytes { _ in }  // the copy-on-write copy, outside the timed region
                    try comm.barrier()
                    let start = DispatchTime.now().uptimeNanoseconds
                    try buffer.withUnsafeMutableBytes { b in
                        try comm.allReduce(nil, b.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!, count: count,
                                           type: elementType, op: reduceOp, algorithm: algorithm)
                    }
                    try comm.barrier()
                    if comm.rank == 0 { times.add(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
                }
            }
            let perLink = (0..<p).flatMap { traffic.outgoing(node: $0) }
            let used = perLink.filter { $0 > 0 }
            let result = Result(algorithm: algorithm.rawValue, torus: shape.description, ranks: p, bytes: count * elementType.size,
                                type: elementType.rawValue, op: reduceOp.rawValue, iterations: iterations,
                                medianSeconds: times.median(), checked: check, wrong: wrong.value,
                                linkBytesMin: used.min() ?? 0, linkBytesMax: used.max() ?? 0,
                                busyLinksPerNode: Double(used.count) / Double(p), maxHops: traffic.maxHops)
            if json {
                print(try jsonString(result, pretty: false))
            } else {
                let range = "\(result.linkBytesMin)..\(result.linkBytesMax)"
                print("  " + result.algorithm.padding(toLength: 18, withPad: " ", startingAt: 0)
                      + String(format: " %11.2f", result.medianSeconds * 1e3) + "   " + (check ? "    yes" : "     no")
                      + String(format: "   %6d   %15.1f", result.wrong, result.busyLinksPerNode)
                      + "   " + String(repeating: " ", count: max(0, 19 - range.count)) + range + String(format: "   %8d", result.maxHops))
            }
            fflush(nil)  // every C stream: stdout is shared mutable state to Swift 6
            if wrong.value > 0 { throw CheckFailed("\(wrong.value) elements differ from the expected result (\(algorithm.rawValue))") }
        }
    }
}

// @unchecked Sendable: all mutable state is behind `lock`.
final class Times: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Double] = []
    func add(_ t: Double) { lock.lock(); list.append(t); lock.unlock() }
    func median() -> Double { lock.lock(); defer { lock.unlock() }; return list.sorted()[list.count / 2] }
}

// @unchecked Sendable: all mutable state is behind `lock`.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var value = 0
    func add(_ n: Int) { lock.lock(); value += n; lock.unlock() }
}
