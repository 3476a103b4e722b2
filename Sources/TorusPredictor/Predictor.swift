import Foundation
import TorusCore
import TorusSchedules

/// The discrete-event predictor (DESIGN §7.2): runs the schedules of every rank in virtual time.
///
/// Model: each stream's segments are issued by the executor's own rules (`IssueRules`: cutting,
/// conflicts, receive window, request table, receive-and-reduce), in virtual time. A send costs the rank `softwareOverhead`
/// of CPU (one message at a time), then crosses its route link by link: each directed link is a FIFO
/// resource busy `bytes / linkBandwidth` per message; the head reaches the next link `hopDelay`
/// after it entered one (cut-through) and the far end `linkLatency` after the tail left the last
/// link. A receive completes when it is posted and its message has arrived (messages of one
/// channel arrive in order); a receive-and-reduce then waits for the node's reduction engine, a FIFO
/// resource producing `reductionRate` bytes per second. A send completes when delivered. Ranks on one
/// node exchange messages through memory. On a `full` network every ordered pair of ranks has its own link.
/// Every rule depends on completion times alone, and events are handled in time order (checked), so the
/// result does not depend on how the run is split over threads.
public enum Predictor {
    public static func run(_ request: PredictionRequest, progress: ((Double) -> Void)? = nil) throws -> Prediction {
        try PredictorRun(request).execute(progress: progress)
    }
}

extension PredictorRun {
    func execute(progress: ((Double) -> Void)?) throws -> Prediction {
        let started = Date()
        let n = plan.partitions
        let sync = WindowSync(partitions: n)
        let parts = UnsafeMutablePointer<Partition>.allocate(capacity: n)
        for p in 0..<n { (parts + p).initialize(to: Partition(run: self, index: p, sync: sync)) }
        defer {
            parts.deinitialize(count: n)
            parts.deallocate()
        }
        if n == 1 {
            parts[0].runAlone(progress: progress)
        } else {
            let group = DispatchGroup()
            let shared = DisjointAccess(parts)
            for p in 1..<n {
                group.enter()
                let thread = Thread {
                    shared.value[p].runWindows(progress: nil)
                    group.leave()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            parts[0].runWindows(progress: progress)
            group.wait()
        }
        defer { freeGrownTables() }
        let events = (0..<n).reduce(0) { $0 + parts[$1].events }
        let messageCount = (0..<n).reduce(0) { $0 + parts[$1].messageCount }
        // Every stream must have run to its end; anything else is a schedule that cannot complete.
        if let stuck = (0..<streamCount).first(where: { !streams[$0].issue.isAtEnd }) {
            let s = streams[stuck]
            throw TorusError.communication("the prediction stalled: rank \(rankInGroup[Int(s.rank)]) of group \(rankGroup[Int(s.rank)]) waits at step \(Int(s.issue.step) - stepBases[stuck]) of \(labels[stuck]) for a message that is never sent (a schedule bug)")
        }
        var groupTimes = [Double](repeating: 0, count: request.groups.count)
        for s in UnsafeBufferPointer(start: streams, count: streamCount) {
            groupTimes[Int(rankGroup[Int(s.rank)])] = max(groupTimes[Int(rankGroup[Int(s.rank)])], s.finish)
        }
        var wrong: Int?
        if let payload {
            // Every rank's result against the expected pattern, on all cores.
            let patterns = request.groups.map { VerifiableInputs.expectedPattern(kernel: kernel, ranks: $0.size) }
            let data = DisjointAccess(payload.data), type = request.type, groupOf = rankGroup
            wrong = concurrentMap(payload.data.count) { g in
                VerifiableInputs.countWrong(UnsafeRawBufferPointer(data.value[g]), pattern: patterns[Int(groupOf[g])], type: type)
            }.reduce(0, +)
        }
        var trace: [TraceSlice] = []
        if request.trace {
            for (si, s) in UnsafeBufferPointer(start: streams, count: streamCount).enumerated() {
                let g = Int(s.rank)
                for k in stepBases[si] ..< Int(s.issue.stepEnd) where !traceStart.base[k].isNaN {
                    trace.append(TraceSlice(rank: Int(rankInGroup[g]), group: Int(rankGroup[g]), stream: Int(s.index), part: labels[si],
                                            label: allSteps.base[k].issueStep.description, start: traceStart.base[k], end: traceEnd.base[k]))
                }
            }
        }
        var issueLog: [[IssueRecord]] = []
        if request.recordIssues {
            issueLog = Array(repeating: [], count: rankGroup.count)
            for p in 0..<n { for (rank, record) in parts[p].issueLog { issueLog[rank].append(record) } }
            // In time order; at one time, what finished before what it let start.
            for r in issueLog.indices {
                issueLog[r].sort { ($0.time, $0.event == .issued ? 1 : 0) < ($1.time, $1.event == .issued ? 1 : 0) }
            }
        }
        progress?(1)
        return Prediction(request: request, time: groupTimes.max() ?? 0, groupTimes: groupTimes,
                          linkBytes: Array(UnsafeBufferPointer(start: linkBytes.base, count: linkBytes.count)),
                          messages: messageCount, events: events, wrongElements: wrong, trace: trace, issueLog: issueLog,
                          wallSeconds: Date().timeIntervalSince(started), threads: n)
    }
}
