import Foundation
import TorusCore
import TorusSchedules

/// Everything built before the run: the configuration, every rank's schedule compacted into one
/// step table, and the shared tables (see `PredictorTables` for who writes what).
struct PredictorRun {
    let request: PredictionRequest
    let model: NetworkModel
    let rules: IssueRules
    let machine: TorusShape
    let routing: DimensionOrderRouting
    let elementSize: Int
    /// How each group's steps are cut (`IssueRules.cut` with its schedule's `segmentLimitElements`).
    let cuts: [SegmentCut]
    let kernel: ReductionKernel
    let count: Int
    /// Per simulated rank: its group and rank in the group (its node, first stream and the like are
    /// in `readOnly`, for the partitions).
    let rankGroup: [Int32]
    let rankInGroup: [Int32]
    let streamCount: Int
    let stepBases: [Int]
    let allSteps: AlignedArray<CompactStep>
    let labels: [String]
    let totalSegments: Int
    let streamStore: AlignedArray<StreamState>
    let opStore: AlignedArray<IssuedSegment>
    /// Where each stream's request table is, and its capacity (see `PredictorTables`).
    let opTables: AlignedArray<UnsafeMutablePointer<IssuedSegment>>
    let opCapacity: AlignedArray<Int>
    let waiters: AlignedArray<Waiter>
    let early: AlignedArray<[Early]>
    let recvRing: AlignedArray<Double>
    let cpuFree: AlignedArray<Double>
    let engineFree: AlignedArray<Double>
    let linkFree: AlignedArray<Double>
    let linkBytes: AlignedArray<Int>
    let pairFree: AlignedArray<Double>
    let traceStart: AlignedArray<Double>
    let traceEnd: AlignedArray<Double>
    let payload: PayloadBuffers?
    let plan: PartitionPlan
    let readOnly: (rankNode: AlignedArray<Int>, firstStream: AlignedArray<Int>, groupFirstRank: AlignedArray<Int>,
                   rankGroup: AlignedArray<Int32>, streamPartition: AlignedArray<Int32>, nodePartition: AlignedArray<Int32>)
    let tables: PredictorTables

    var streams: UnsafeMutablePointer<StreamState> { streamStore.base }

    /// The slab's records: a request table outside them was grown on the heap.
    var slab: ClosedRange<UnsafeMutablePointer<IssuedSegment>> { opStore.base ... opStore.base + max(0, opStore.count - 1) }

    /// Frees the request tables that outgrew the slab (after the run).
    func freeGrownTables() {
        for si in 0..<streamCount where !slab.contains(opTables.base[si]) { opTables.base[si].deallocate() }
    }

    init(_ request: PredictionRequest) throws {
        self.request = request
        var model = request.model
        model.machine = model.machine.forCall(bytes: request.bytes)   // cached rates for a call that fits the cache
        self.model = model
        rules = request.model.rules
        machine = request.machine
        routing = DimensionOrderRouting(machine)
        elementSize = request.type.size
        kernel = try ReductionKernel(type: request.type, op: request.op)
        guard request.bytes >= 0, request.bytes % elementSize == 0 else {
            throw TorusError.invalidValue(name: "--bytes", value: "\(request.bytes)", expected: "a multiple of the \(elementSize)-byte element size")
        }
        count = request.bytes / elementSize
        guard count < 1 << 30 else {
            throw TorusError.invalidValue(name: "--bytes", value: "\(request.bytes)", expected: "fewer than 2^30 elements per buffer")
        }
        if let threads = request.threads, !(1...256).contains(threads) {
            throw TorusError.invalidValue(name: "--threads", value: "\(threads)", expected: "1 to 256 (the cores to use)")
        }

        var rankGroup: [Int32] = [], rankInGroup: [Int32] = [], rankNode: [Int] = [], groupFirstRank: [Int] = []
        var ranks = 0
        for (g, topology) in request.groups.enumerated() {
            guard let nodes = topology.machineNodeOf, topology.machine == machine else {
                throw TorusError.invalidValue(name: "group \(g)", value: topology.description, expected: "a group placed on the machine \(machine)")
            }
            groupFirstRank.append(ranks)
            for r in 0..<topology.size {
                rankGroup.append(Int32(g))
                rankInGroup.append(Int32(r))
                rankNode.append(nodes[r])
            }
            ranks += topology.size
        }
        self.rankGroup = rankGroup
        self.rankInGroup = rankInGroup
        guard ranks < 1 << 27 else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer than 2^27 simulated ranks")
        }
        if model.network == .full {
            guard ranks <= 4096 else {
                throw TorusError.invalidValue(name: "--network full", value: "\(ranks) ranks", expected: "at most 4096 ranks (a link per pair)")
            }
        }
        if request.payload {
            guard request.collective == .allReduce else {
                throw TorusError.invalidValue(name: "--payload", value: "\(request.collective)",
                                              expected: "an all-reduce: payload mode checks AllReduce results (the halves are proven by `torus schedule verify --collective`)")
            }
            guard ranks * (request.bytes * 2) <= 8 << 30 else {
                throw TorusError.invalidValue(name: "--payload", value: "\(ranks) ranks × \(request.bytes) bytes",
                                              expected: "at most 8 GiB of buffers in payload mode; drop --payload for timing only")
            }
        }
        cpuFree = AlignedArray(repeating: 0, count: ranks)
        engineFree = AlignedArray(repeating: 0, count: machine.nodeCount)
        let links = model.network == .torus ? machine.directedLinkCount : 0
        linkFree = AlignedArray(repeating: 0, count: links)
        linkBytes = AlignedArray(repeating: 0, count: links)
        pairFree = AlignedArray(repeating: 0, count: model.network == .full ? ranks * ranks : 0)

        // Every rank's schedule, as issue steps; built on all cores.
        let count = self.count
        let failure = ErrorList()
        let groupOf = rankGroup, rankOf = rankInGroup
        var perRank: [(scratch: Int, limit: Int?, streams: [(label: String, steps: [CompactStep])])?] = concurrentMap(ranks) { g in
            do {
                let group = request.groups[Int(groupOf[g])]
                let schedule = try request.algorithm.schedule(request.collective, topology: group, rank: Int(rankOf[g]),
                                                              count: request.collective == .allReduce ? count : count / group.size)
                return (schedule.scratchCount, schedule.segmentLimitElements, schedule.streams.map { stream in (stream.label, stream.steps.map { CompactStep(IssueStep($0)) }) })
            } catch {
                failure.append(rank: g, error)
                return nil
            }
        }
        if let error = failure.rootCause() { throw error }
        let scratchCounts = perRank.map { $0!.scratch }
        // A group's ranks cut alike (sender and receiver must agree on every message): its schedules' limit.
        let rules = self.rules, elementSize = self.elementSize
        let cuts = try groupFirstRank.indices.map { group -> SegmentCut in
            let first = groupFirstRank[group], end = group + 1 < groupFirstRank.count ? groupFirstRank[group + 1] : ranks
            let limit = perRank[first]!.limit
            guard perRank[first..<end].allSatisfy({ $0!.limit == limit }) else {
                throw TorusError.invalidValue(name: "group \(group)", value: "schedules with different segment limits",
                                              expected: "one limit on every rank of a group (an algorithm's bug)")
            }
            return rules.cut(elementSize: elementSize, limitElements: limit)
        }
        self.cuts = cuts
        var list: [StreamState] = [], firstStream: [Int] = [], stepBases: [Int] = [], labels: [String] = []
        var totalSegments = 0
        let stepCount = perRank.reduce(0) { $0 + $1!.streams.reduce(0) { $0 + $1.steps.count } }
        guard stepCount < Int(Int32.max) else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer than 2^31 schedule steps in all (fewer ranks or a larger --bytes per step)")
        }
        let allSteps = AlignedArray(repeating: CompactStep(IssueStep(.send(peer: 0, region: .data(0..<0)))), count: stepCount)
        var filled = 0
        for g in 0..<ranks {
            firstStream.append(list.count)
            let cut = cuts[Int(groupOf[g])]
            for (index, (label, steps)) in perRank[g]!.streams.enumerated() {
                list.append(StreamState(rank: Int32(g), index: Int32(index), stepEnd: Int32(filled + steps.count), step: Int32(filled)))
                stepBases.append(filled)
                for step in steps {
                    allSteps.base[filled] = step
                    filled += 1
                    totalSegments += cut.segmentCount(Int(step.count))
                }
                labels.append(label)
            }
            perRank[g] = nil
        }
        firstStream.append(list.count)
        streamCount = list.count
        guard streamCount < 1 << 30 else {
            throw TorusError.invalidValue(name: "ranks", value: "\(ranks)", expected: "fewer streams in all")
        }
        guard scratchCounts.allSatisfy({ $0 < 1 << 30 }) else {
            throw TorusError.invalidValue(name: "--bytes", value: "\(request.bytes)", expected: "a buffer whose schedule needs fewer than 2^30 scratch elements")
        }
        self.stepBases = stepBases
        self.allSteps = allSteps
        self.labels = labels
        self.totalSegments = totalSegments
        streamStore = AlignedArray(list)
        recvRing = AlignedArray(repeating: 0, count: streamCount * rules.window)
        opStore = AlignedArray(repeating: .blank, count: streamCount * PredictorTables.slabStride)
        let slab = opStore.base
        opTables = AlignedArray((0..<streamCount).map { slab + $0 * PredictorTables.slabStride })
        opCapacity = AlignedArray(repeating: PredictorTables.slabStride, count: streamCount)
        waiters = AlignedArray(repeating: Waiter(src: -1, serial: -1), count: streamCount * rules.window)
        early = AlignedArray(repeating: [], count: streamCount)
        traceStart = AlignedArray(repeating: .nan, count: request.trace ? stepCount : 0)
        traceEnd = AlignedArray(repeating: 0, count: request.trace ? stepCount : 0)
        payload = request.payload ? PayloadBuffers(type: request.type, op: request.op, ranks: rankInGroup, count: count, scratchCounts: scratchCounts) : nil

        let plan = PartitionPlan(request: request, streams: list, steps: allSteps.base, rankNode: rankNode, rankGroup: rankGroup,
                                 groupFirstRank: groupFirstRank, cuts: cuts, elementSize: elementSize, routing: routing)
        self.plan = plan
        let streamPartition = list.map { plan.nodePartition[rankNode[Int($0.rank)]] }
        readOnly = (AlignedArray(rankNode), AlignedArray(firstStream), AlignedArray(groupFirstRank), AlignedArray(rankGroup),
                    AlignedArray(streamPartition), AlignedArray(plan.nodePartition))
        tables = PredictorTables(streams: streamStore.base, opTables: opTables.base, opCapacity: opCapacity.base, recvRing: recvRing.base, waiters: waiters.base, early: early.base,
                                 steps: allSteps.base, cpuFree: cpuFree.base, engineFree: engineFree.base, linkFree: linkFree.base,
                                 pairFree: pairFree.base, traceStart: traceStart.base, traceEnd: traceEnd.base, linkBytes: linkBytes.base,
                                 rankNode: readOnly.rankNode.base, firstStream: readOnly.firstStream.base,
                                 groupFirstRank: readOnly.groupFirstRank.base, rankGroup: readOnly.rankGroup.base,
                                 streamPartition: readOnly.streamPartition.base, nodePartition: readOnly.nodePartition.base,
                                 ranks: ranks, window: rules.window)
    }
}
