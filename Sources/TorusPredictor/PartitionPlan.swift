import Foundation
import TorusCore
import TorusSchedules

/// How the machine is cut for threads: partitions of contiguous nodes, each owning those nodes'
/// ranks, streams and outgoing links, advancing in conservative windows of `lookahead` virtual
/// seconds.
struct PartitionPlan {
    let partitions: Int
    /// The partition of every machine node.
    let nodePartition: [Int32]
    /// How soon after the moment a partition hands something over it can be due.
    let lookahead: Double

    init(request: PredictionRequest, streams: [StreamState], steps: UnsafeMutablePointer<CompactStep>, rankNode: [Int], rankGroup: [Int32],
         groupFirstRank: [Int], cuts: [SegmentCut], elementSize: Int, routing: DimensionOrderRouting) {
        let model = request.model
        let nodes = request.machine.nodeCount
        let ranks = rankNode.count
        let big = request.payload ? ranks * request.bytes >= 64 << 20 : nodes >= 512
        var n = max(1, min(request.threads ?? (big ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1), nodes))
        var nodePartition = (0..<nodes).map { Int32($0 * n / nodes) }
        // A message arrives `linkLatency` after its tail left the last link, and its tail is at
        // least the smallest segment's bytes behind its head; a head that crosses into another
        // partition on the way (a route of several hops) is due there `hopDelay` later.
        var smallest = Int.max, crossesOnTheWay = false
        var routesSeen = Set<Int>()
        for st in streams {
            let g = Int(st.rank)
            let cut = cuts[Int(rankGroup[g])]
            for k in Int(st.issue.step) ..< Int(st.issue.stepEnd) where steps[k].kind == .send && steps[k].count > 0 {
                let c = Int(steps[k].count)
                let piece = cut.pieceElements(c)
                smallest = min(smallest, c % piece == 0 ? min(c, piece) : c % piece)
                guard n > 1, model.network == .torus, !crossesOnTheWay else { continue }
                var node = rankNode[g]
                let destination = rankNode[groupFirstRank[Int(rankGroup[g])] + Int(steps[k].peer)]
                guard routesSeen.insert(node * nodes + destination).inserted else { continue }
                while node != destination {
                    let next = routing.nextHop(from: node, to: destination).next
                    if next != destination && nodePartition[next] != nodePartition[node] { crossesOnTheWay = true }
                    node = next
                }
            }
        }
        let arrival = model.machine.linkLatency + model.machine.wireTime(bytes: smallest == Int.max ? 0 : smallest * elementSize)
        // A hair short, so rounding in `time + busy + latency` cannot land inside the window.
        var lookahead = (crossesOnTheWay ? min(arrival, model.machine.hopDelay) : arrival) * (1 - 1e-9)
        if !(lookahead > 0) || !lookahead.isFinite {
            n = 1
            nodePartition = Array(repeating: 0, count: nodes)
            lookahead = .infinity
        }
        partitions = n
        self.nodePartition = nodePartition
        self.lookahead = lookahead
    }
}
