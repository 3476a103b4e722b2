import Foundation
import TorusCore
import TorusRuntime
import TorusSchedules

/// N ranks of a torus in one process, each on its own thread with a real `Communicator` over an
/// in-memory transport: real data, the real executor, per-link traffic counters, a timeout on
/// every wait (an error naming the ranks still waiting, never a hang) and optional faults.
///
///     let torus = try SimulatedTorus(shape: TorusShape(4, 4, 4))
///     try torus.run { comm in
///         let sum = try comm.allReduce([Float](repeating: 1, count: 1000), op: .sum)
///     }
// @unchecked Sendable: `fabric` and `options` change only in `run`, between runs; rank threads read copies taken before they start.
public final class SimulatedTorus: @unchecked Sendable {
    public let shape: TorusShape
    /// Seconds any rank may wait for a message before the run fails.
    public let timeout: Double
    public let faults: [Fault]
    /// Messages above this many bytes complete at the sender only when received (MPI rendezvous);
    /// 0 makes every message rendezvous, `Int.max` every message eager.
    public let eagerLimit: Int
    /// Collective settings every rank's world communicator starts with.
    public var options: CollectiveOptions
    /// Reduction worker threads shared by all ranks (nil: every rank reduces on its own thread).
    public let reductionPool: ReductionPool?
    private var fabric: MemoryFabric

    /// `reductionThreads` > 0 gives the ranks a shared `ReductionPool` of that many workers.
    public init(shape: TorusShape, timeout: Double = 60, faults: [Fault] = [], eagerLimit: Int = 4096,
                options: CollectiveOptions = CollectiveOptions(), reductionThreads: Int = 0) {
        self.shape = shape
        reductionPool = reductionThreads > 0 ? ReductionPool(workers: reductionThreads) : nil
        self.timeout = timeout
        self.faults = faults
        self.eagerLimit = eagerLimit
        self.options = options
        fabric = MemoryFabric(shape: shape, timeout: timeout, faults: faults, eagerLimit: eagerLimit)
    }

    /// Number of ranks (one per node).
    public var size: Int { shape.nodeCount }

    /// Runs `body` on every rank at once and waits for all. If any rank throws, the others are
    /// stopped at their next wait and the first root-cause error is rethrown.
    public func run(_ body: @escaping @Sendable (SimulatedCommunicator) throws -> Void) throws {
        fabric = MemoryFabric(shape: shape, timeout: timeout, faults: faults, eagerLimit: eagerLimit)
        let fabric = self.fabric
        let errors = ErrorList()
        let done = DispatchGroup()
        let world = Array(0..<size)
        let topology = GroupTopology.box(shape)
        for rank in 0..<size {
            done.enter()
            let options = self.options
            let thread = Thread {
                defer { done.leave() }
                let comm = SimulatedCommunicator(fabric: fabric, rank: rank, members: world, context: 0,
                                                 topology: topology, options: options, pool: self.reductionPool)
                do {
                    try body(comm)
                } catch {
                    errors.append(rank: rank, error)
                    fabric.abort("rank \(rank) failed: \(error)")
                }
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        done.wait()
        if let error = errors.rootCause() { throw error }
    }

    /// Bytes and messages per directed link since the last `run` started.
    public var linkTraffic: LinkTraffic { fabric.linkTraffic() }
}

/// A rank's communicator on a simulated torus.
public final class SimulatedCommunicator: Communicator {
    public let rank: Int
    public let topology: GroupTopology
    public let transport: Transport
    public let reductionEngine: ReductionEngine
    public let scratch = ScratchSpace()
    /// Changing them forgets the routes chosen from them.
    public var options: CollectiveOptions { didSet { scratch.optionsChanged() } }
    /// World rank (= torus node) of each member.
    public let members: [Int]
    private let fabric: MemoryFabric
    private let context: Int
    private var splits = 0

    public var size: Int { members.count }
    /// This rank's world rank, which is also its torus node.
    public var worldRank: Int { members[rank] }

    private let pool: ReductionPool?

    init(fabric: MemoryFabric, rank: Int, members: [Int], context: Int, topology: GroupTopology, options: CollectiveOptions,
         pool: ReductionPool?) {
        self.fabric = fabric
        self.pool = pool
        reductionEngine = pool.map { PoolReductionEngine(pool: $0) } ?? InlineReductionEngine()
        self.rank = rank
        self.members = members
        self.context = context
        self.topology = topology
        self.options = options
        transport = MemoryTransport(fabric: fabric, rank: rank, members: members, context: context)
    }

    public func split(color: Int?, key: Int) throws -> Communicator? {
        splits += 1
        guard let group = try GroupSplit.members(transport: transport, color: color, key: key, tag: MessageTags.split) else { return nil }
        let nodes = group.map { members[$0] }
        let id = fabric.context(named: "\(context)/\(splits)/\(color!)")
        return SimulatedCommunicator(fabric: fabric, rank: group.firstIndex(of: rank)!, members: nodes, context: id,
                                     topology: try GroupTopology.of(nodes: nodes, on: fabric.shape), options: options, pool: pool)
    }
}
