import TorusSchedules

/// Raw views of the tables a partition touches per event, so that no event pays for reference
/// counting. Lifetime: the `AlignedArray`s behind them belong to the `PredictorRun`, which outlives
/// every partition (the partitions run and finish inside `PredictorRun.execute`).
///
/// Ownership: an entry belongs to the partition owning its stream, rank or node (a link: its
/// source node) and is written by that partition only.
struct PredictorTables {
    /// Per stream: its state, its request table (in the slab, `slabStride` records apart, until it
    /// outgrows it: then on the heap, `opTables`/`opCapacity` say where), its receive window
    /// (`window` completion times), its posted receives (`window` waiters), its early messages.
    let streams: UnsafeMutablePointer<StreamState>
    let opTables: UnsafeMutablePointer<UnsafeMutablePointer<IssuedSegment>>
    let opCapacity: UnsafeMutablePointer<Int>
    let recvRing: UnsafeMutablePointer<Double>
    let waiters: UnsafeMutablePointer<Waiter>
    let early: UnsafeMutablePointer<[Early]>
    /// Every rank's steps, one table (`StreamIssue.step` indexes it).
    let steps: UnsafeMutablePointer<CompactStep>
    /// Per rank (CPU), node (reduction engine), directed link, ordered pair of ranks (full network),
    /// and per step (trace only): when it started and ended.
    let cpuFree, engineFree, linkFree, pairFree, traceStart, traceEnd: UnsafeMutablePointer<Double>
    let linkBytes: UnsafeMutablePointer<Int>
    /// Read-only: each rank's node, first stream and group's first rank; each rank's group; each
    /// stream's and node's partition.
    let rankNode, firstStream, groupFirstRank: UnsafeMutablePointer<Int>
    let rankGroup, streamPartition, nodePartition: UnsafeMutablePointer<Int32>
    let ranks: Int
    let window: Int
    /// Request-table records between two streams' tables: one more than a table, so the tables'
    /// first lines do not all fall in the same cache sets.
    static let slabStride = IssueRules.requestTable + 1

    /// Stream `si`'s request table and receive window, for the issue rules.
    @inline(__always) func issueTables(_ si: Int) -> StreamTables {
        StreamTables(ops: opTables[si], capacity: opCapacity[si], recvRing: recvRing + si * window)
    }

    /// Doubles stream `si`'s request table (on the heap; `PredictorRun` frees what left the slab).
    func grow(_ si: Int, slab: ClosedRange<UnsafeMutablePointer<IssuedSegment>>) {
        let old = opTables[si], capacity = opCapacity[si]
        let bigger = UnsafeMutablePointer<IssuedSegment>.allocate(capacity: 2 * capacity)
        bigger.moveInitialize(from: old, count: Int(streams[si].issue.opCount))
        if !slab.contains(old) { old.deallocate() }
        opTables[si] = bigger
        opCapacity[si] = 2 * capacity
    }
}
