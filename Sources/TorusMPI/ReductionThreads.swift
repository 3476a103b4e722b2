import CHwloc
import Foundation
import Synchronization
import TorusCore
import TorusRuntime

/// The reduction threads of an MPI process: how many workers, pinned to which processing units
/// (hwloc), made once and shared by every communicator of the process; and the unit of the
/// nonblocking requests' progress thread (`TORUS_PROGRESS_CORE`).
///
/// `TORUS_REDUCTION_THREADS` sets the number (0 reduces inline on the calling thread);
/// `TORUS_REDUCTION_CORES` names the processing units, shared out among the ranks of a node in
/// local-rank order. Without either, the workers go to the units that the node's ranks are not
/// bound to: the process's own binding is read with hwloc, and the other ranks' are taken to be
/// blocks of the same size in local-rank order (Open MPI's `--bind-to core`, its default for
/// np ≤ 2) — when the process is not bound, or its binding does not fit that picture, nothing is
/// known to be free and the default is inline. Ranks per node come from Open MPI's
/// `OMPI_COMM_WORLD_LOCAL_RANK/SIZE`; no collective call is needed, so any communicator may be
/// the first one made.
public enum ReductionThreads {
    /// Where the workers of this process go, and why.
    public struct Plan: Equatable, Sendable {
        public var threads: Int
        /// The unit of each worker (OS numbering, as `taskset` and hwloc use), empty when unpinned.
        public var units: [Int]
        public var reason: String
    }

    /// The plan from the settings and what hwloc sees: `allowed` units of the machine, `own` the
    /// units this process is bound to (both in OS numbering, ascending).
    public static func plan(threads: Int?, cores: [Int]?, localRank: Int, localSize: Int, allowed: [Int], own: [Int]) -> Plan {
        if let cores {
            let n = threads ?? max(1, cores.count / max(1, localSize))
            let units = (0..<n).map { cores[(localRank * n + $0) % cores.count] }
            return Plan(threads: n, units: n == 0 ? [] : units, reason: "TORUS_REDUCTION_CORES=\(cores.map(String.init).joined(separator: ","))")
        }
        // The node's ranks, bound to equal blocks in local-rank order, use the first localSize blocks.
        let block = own.count
        let mine = localRank * block + block <= allowed.count ? Array(allowed[localRank * block ..< localRank * block + block]) : []
        let known = !own.isEmpty && own.count < allowed.count && own == mine
        let free = known ? Array(allowed.dropFirst(localSize * block)) : []
        let n = threads ?? free.count / max(1, localSize)
        let units = free.count >= (localRank + 1) * n ? Array(free[localRank * n ..< (localRank + 1) * n]) : []
        let why: String
        if known {
            why = "\(free.count) of \(allowed.count) units free beside \(localSize) rank(s) bound to \(block) unit(s) each"
        } else if own.count >= allowed.count {
            why = "this process is not bound to cores, so no unit is known to be free"
        } else {
            why = "the ranks' bindings are not blocks in local-rank order, so no unit is known to be free"
        }
        return Plan(threads: n, units: n > 0 ? units : [], reason: threads != nil ? "TORUS_REDUCTION_THREADS=\(n); " + why : why)
    }

    /// The engine for a new communicator: the process's pool, made on first use, or inline.
    public static func engine(environment: TorusEnvironment) -> ReductionEngine {
        let pool = shared.withLock { state -> ReductionPool? in
            if let made = state { return made.pool }
            let made = makePool(environment)
            state = made
            return made.pool
        }
        return pool.map { PoolReductionEngine(pool: $0) } ?? InlineReductionEngine()
    }

    /// The plan in force (after the first communicator), for reports.
    public static var current: Plan? { shared.withLock { $0?.plan } }

    private struct Made: @unchecked Sendable {   // the pool is Sendable; the topology is only read by the workers
        let plan: Plan
        let pool: ReductionPool?
    }
    private static let shared = Mutex<Made?>(nil)

    private static func makePool(_ environment: TorusEnvironment) -> Made {
        let info = ProcessInfo.processInfo.environment
        let localRank = Int(info["OMPI_COMM_WORLD_LOCAL_RANK"] ?? "") ?? 0
        let localSize = Int(info["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
        var topology: hwloc_topology_t?
        guard hwloc_topology_init(&topology) == 0, hwloc_topology_load(topology) == 0 else {
            let plan = Plan(threads: 0, units: [], reason: "hwloc could not read this machine's topology")
            return Made(plan: plan, pool: nil)
        }
        let allowed = units(of: hwloc_topology_get_allowed_cpuset(topology))
        let own: [Int]
        if let set = hwloc_bitmap_alloc() {
            own = hwloc_get_cpubind(topology, set, Int32(HWLOC_CPUBIND_PROCESS.rawValue)) == 0 ? units(of: set) : allowed
            hwloc_bitmap_free(set)
        } else {
            own = allowed
        }
        let plan = plan(threads: environment.reductionThreads, cores: environment.reductionCores.flatMap(ProcessingUnitList.parse),
                        localRank: localRank, localSize: localSize, allowed: allowed, own: own)
        let pinned = plan.units
        let handle = TopologyHandle(topology: topology)
        let pool = plan.threads > 0 ? ReductionPool(workers: plan.threads) { worker in
            guard worker < pinned.count, let set = hwloc_bitmap_alloc() else { return }
            hwloc_bitmap_only(set, UInt32(pinned[worker]))
            _ = hwloc_set_cpubind(handle.topology, set, Int32(HWLOC_CPUBIND_THREAD.rawValue))
            hwloc_bitmap_free(set)
        } : nil
        if let unit = environment.progressCore {
            ProgressEngine.shared.setPin {
                guard let set = hwloc_bitmap_alloc() else { return }
                hwloc_bitmap_only(set, UInt32(unit))
                _ = hwloc_set_cpubind(handle.topology, set, Int32(HWLOC_CPUBIND_THREAD.rawValue))
                hwloc_bitmap_free(set)
            }
        }
        if environment.verbose >= 1 {
            let world = info["OMPI_COMM_WORLD_RANK"] ?? "?"
            let placed = plan.threads == 0 ? "reductions inline"
                : "\(plan.threads) reduction thread(s) " + (pinned.isEmpty ? "on the process's own binding" : "pinned to unit(s) \(pinned.map(String.init).joined(separator: ","))")
            let progress = environment.progressCore.map { "; progress thread pinned to unit \($0)" } ?? ""
            printError("torus: rank \(world) (local \(localRank) of \(localSize)): \(placed) (\(plan.reason))\(progress)")
        }
        return Made(plan: plan, pool: pool)
    }

    /// The units of a cpuset, ascending.
    private static func units(of set: hwloc_const_bitmap_t?) -> [Int] {
        var list: [Int] = []
        var unit = hwloc_bitmap_first(set)
        while unit >= 0 {
            list.append(Int(unit))
            unit = hwloc_bitmap_next(set, unit)
        }
        return list
    }
}

/// The hwloc topology the workers bind with (kept for the life of the process).
private struct TopologyHandle: @unchecked Sendable {   // hwloc's binding calls may share a loaded topology
    let topology: hwloc_topology_t?
}
