import TorusSchedules

/// The node's reduction engine: a FIFO resource producing `reductionRate` bytes of result per
/// second (threads × rate per thread, capped by memory bandwidth); a local copy moves at half the
/// memory bandwidth. With no reduction threads (`reductionThreads` 0, the runtime's inline engine)
/// the thread that issues the rank's messages — the calling thread of a blocking call, the progress
/// thread of a nonblocking one — reduces too, at one thread's rate: its reductions and its sends'
/// software overhead take turns on one FIFO resource, the rank's CPU.
extension Partition {
    mutating func startReduction(stream si: Int, serial: Int32, at time: Double) {
        let tables = t.issueTables(si)
        guard let i = tables.find(serial, count: streams[si].issue.opCount) else { return }
        let op = tables.ops[i]
        let g = Int(streams[si].rank)
        let node = t.rankNode[g]
        let rate = op.kind == .copy ? model.machine.memoryBandwidth / 2 : model.reductionRate
        let inline = model.machine.reductionThreads == 0
        let engineFree = inline ? t.cpuFree : t.engineFree
        let resource = inline ? g : node
        let start = max(time, engineFree[resource])
        let done = rate.isInfinite ? start : start + Double(op.access.a.count * elementSize) / rate
        engineFree[resource] = done
        if payloadMode {
            switch op.kind {
            case .recvReduce, .reduce: combine(rank: g, target: op.access.b, source: op.access.a)
            case .recvReduceReceivedFirst: combine(rank: g, target: op.access.b, source: op.access.a, sourceFirst: true)
            default: write(read(rank: g, at: op.access.a), rank: g, at: op.access.b)
            }
        }
        resolve(stream: si, index: i, at: done)
    }
}
