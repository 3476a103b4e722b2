import TorusCore
import TorusSchedules

/// Settings of a communicator's collectives.
public struct CollectiveOptions: Sendable {
    /// Forces an algorithm for every call; nil chooses per call.
    public var algorithm: Algorithm?
    public var selection: AlgorithmSelection
    public var executor: ExecutorOptions
    /// Print the choice of algorithm per call (stderr).
    public var verbose: Bool

    public init(algorithm: Algorithm? = nil, selection: AlgorithmSelection = AlgorithmSelection(),
                executor: ExecutorOptions = ExecutorOptions(), verbose: Bool = false) {
        self.algorithm = algorithm
        self.selection = selection
        self.executor = executor
        self.verbose = verbose
    }
}

/// A group of ranks that can reduce together: the public face of every backend.
public protocol Communicator: AnyObject {
    /// This rank, in 0..<size.
    var rank: Int { get }
    /// Ranks in the group.
    var size: Int { get }
    /// The torus view of the group: the grid its algorithms run on and the placement of its ranks.
    var topology: GroupTopology { get }
    /// Point-to-point messaging among the group's ranks.
    var transport: Transport { get }
    /// Where reductions run.
    var reductionEngine: ReductionEngine { get }
    /// Scratch memory kept between calls (fresh memory would be paid for in page faults every call).
    var scratch: ScratchSpace { get }
    /// Settings of the collectives.
    var options: CollectiveOptions { get set }
    /// Splits the group, as MPI_Comm_split: ranks with equal `color` form a new group, ordered by
    /// `key` then by rank; a nil color takes no part and gets nil. Collective over the group.
    func split(color: Int?, key: Int) throws -> Communicator?
}

extension Communicator {
    /// AllReduce over raw buffers: `recvBuffer[i] = op over all ranks of sendBuffer[i]` for `count`
    /// elements of `type`. A nil `sendBuffer` means in place (the input is `recvBuffer`, as
    /// MPI_IN_PLACE). `algorithm` overrides the communicator's choice for this call. Every rank
    /// must pass the same count, type, op and algorithm.
    public func allReduce(_ sendBuffer: UnsafeRawPointer?, _ recvBuffer: UnsafeMutableRawPointer, count: Int,
                          type: ElementType, op: ReduceOp, algorithm: Algorithm? = nil) throws {
        let kernel = try ReductionKernel(type: type, op: op)
        guard count >= 0 else {
            throw TorusError.invalidValue(name: "count", value: "\(count)", expected: "a non-negative element count")
        }
        if let sendBuffer, sendBuffer != UnsafeRawPointer(recvBuffer) {
            recvBuffer.copyMemory(from: sendBuffer, byteCount: count * type.size)
        }
        guard size > 1 else { return }
        let chosen = try chooseAlgorithm(count: count, type: type, forced: algorithm)
        let schedule = try chosen.schedule(topology: topology, rank: rank, count: count)
        try ScheduleExecutor(options: options.executor).run(schedule, data: recvBuffer, kernel: kernel,
                                                            transport: transport, engine: reductionEngine, scratch: scratch)
    }

    /// The algorithm for a call: forced by argument, then by the communicator's options, else chosen.
    public func chooseAlgorithm(count: Int, type: ElementType, forced: Algorithm? = nil) throws -> Algorithm {
        if let a = forced ?? options.algorithm { return a }
        let (a, why) = options.selection.choose(topology: topology, bytes: count * type.size)
        if options.verbose && rank == 0 { printError("torus: \(why)") }
        return a
    }

    /// AllReduce of an array, out of place: returns the reduced array.
    public func allReduce<T: ReducibleElement>(_ values: [T], op: ReduceOp, algorithm: Algorithm? = nil) throws -> [T] {
        var result = values
        try allReduce(inPlace: &result, op: op, algorithm: algorithm)
        return result
    }

    /// AllReduce of an array in place.
    public func allReduce<T: ReducibleElement>(inPlace values: inout [T], op: ReduceOp, algorithm: Algorithm? = nil) throws {
        let count = values.count
        try values.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else {
                // An empty array still takes part (other ranks must not wait for it).
                var dummy: UInt64 = 0
                try withUnsafeMutableBytes(of: &dummy) {
                    try allReduce(nil, $0.baseAddress!, count: 0, type: T.elementType, op: op, algorithm: algorithm)
                }
                return
            }
            try allReduce(nil, base, count: count, type: T.elementType, op: op, algorithm: algorithm)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error.
public func printError(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    _ = text.withCString { fputs($0, stderr) }
}
