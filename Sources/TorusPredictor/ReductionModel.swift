import TorusSchedules

/// The node's reduction engine: a FIFO resource producing `reductionRate` bytes of result per
/// second (threads × rate per thread, capped by memory bandwidth); a local copy moves at half the
/// memory bandwidth.
extension Partition {
    mutating func startReduction(stream si: Int, serial: Int32, at time: Double) {
        let tables = t.issueTables(si)
        guard let i = tables.find(serial, count: streams[si].issue.opCount) else { return }
        let op = tables.ops[i]
        let g = Int(streams[si].rank)
        let node = t.rankNode[g]
        let rate = op.kind == .copy ? model.machine.memoryBandwidth / 2 : model.reductionRate
        let engineFree = t.engineFree
        let start = max(time, engineFree[node])
        let done = rate.isInfinite ? start : start + Double(op.access.a.count * elementSize) / rate
        engineFree[node] = done
        if payloadMode {
            switch op.kind {
            case .recvReduce, .reduce: combine(rank: g, target: op.access.b, source: op.access.a)
            default: write(read(rank: g, at: op.access.a), rank: g, at: op.access.b)
            }
        }
        resolve(stream: si, index: i, at: done)
    }
}
