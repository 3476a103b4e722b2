import TorusSchedules

/// Segment issue: the streams of this partition run through the shared `IssueRules`; this file only
/// turns the rules' decisions into events (a send to hand to the network, a receive to post, a
/// reduction to start) and reports completions back.
extension Partition {
    /// Issues the stream's segments for as long as the rules allow. A receive matched at once by an
    /// early message completes inside this loop; the loop then goes on (no recursion, however many).
    mutating func advance(_ si: Int) {
        guard issuing != si else { return }
        let outer = issuing
        issuing = si
        defer { issuing = outer }
        var tables = t.issueTables(si)
        let streams = t.streams
        let cut = cuts[Int(t.rankGroup[Int(streams[si].rank)])]
        while true {
            guard let i = rules.issueNext(&streams[si].issue, tables, steps: CompactSteps(base: t.steps), cut: cut) else {
                guard streams[si].issue.blockedOn == IssueRules.needsRoom else { return }
                t.grow(si, slab: slab)
                tables = t.issueTables(si)
                continue
            }
            let op = tables.ops[i]
            let stepIndex = Int(op.step)
            if traceMode, op.access.a.lo == t.steps[stepIndex].issueStep.a { t.traceStart[stepIndex] = op.issue }
            if logMode { log(si, .issued, op, at: op.issue) }
            switch op.kind {
            case .send:
                // A stream's sends start in issue order at non-decreasing times: one heap entry per
                // stream is enough (the heap stays small).
                streams[si].sendsWaiting += 1
                if !streams[si].sendEventPending {
                    streams[si].sendEventPending = true
                    schedule(op.issue, .issueSend, Int32(si), op.serial)
                }
            case .recv, .recvReduce, .recvReduceReceivedFirst:
                post(stream: si, serial: op.serial, peer: Int(op.peer))
            case .reduce, .copy:
                schedule(op.issue, .reduce, Int32(si), op.serial)
            }
        }
    }

    /// The simulated rank of group rank `peer` in the group of rank `g`.
    @inline(__always) func peerRank(_ g: Int, _ peer: Int) -> Int { t.groupFirstRank[Int(t.rankGroup[g])] + peer }

    mutating func post(stream si: Int, serial: Int32, peer: Int) {
        let src = Int32(peerRank(Int(streams[si].rank), peer))
        let early = t.early + si
        if streams[si].earlyCount > 0, let k = early.pointee.firstIndex(where: { $0.src == src }) {
            let e = early.pointee.remove(at: k)
            streams[si].earlyCount -= 1
            received(stream: si, serial: serial, arrival: e.arrival, afterPosting: e.afterPosting, payload: e.payload)
        } else {
            // The receive window keeps unmatched receives at `window` or fewer.
            precondition(Int(streams[si].waiting) < t.window, "predictor: more posted receives than the window")
            t.waiters[si * t.window + Int(streams[si].waiting)] = Waiter(src: src, serial: serial)
            streams[si].waiting += 1
        }
    }

    /// A posted receive met its message. With a receive overhead or a receiving copy, the message
    /// then takes its turn on the receiving CPU at that time (an event: the CPU is reserved in time
    /// order, so a send issued earlier is not held up by a copy that is due later).
    /// A rendezvous message (`afterPosting` > 0) whose receive was posted after its request came
    /// moves only then: its data arrives `afterPosting` after the posting at the soonest. The rule
    /// reads times alone, so it holds whichever of the two the run handles first.
    mutating func received(stream si: Int, serial: Int32, arrival: Double, afterPosting: Double, payload: [UInt8]?) {
        let tables = t.issueTables(si)
        guard let i = tables.find(serial, count: streams[si].issue.opCount) else { return }
        let op = tables.ops[i]
        let done = max(op.issue + afterPosting, arrival)
        // An early message's data lands now (a matched one was copied on delivery).
        if let payload { write(payload, rank: Int(streams[si].rank), at: op.access.a) }
        let machine = model.machine
        if machine.receiveOverhead > 0 || machine.receiveCopyRate.isFinite {
            schedule(done, .receive, Int32(si), serial)
        } else {
            complete(stream: si, index: i, at: done)
        }
    }

    /// The receiving CPU's share of a message, one at a time with its other work.
    mutating func receivedOnCPU(stream si: Int, serial: Int32, at time: Double) {
        let tables = t.issueTables(si)
        guard let i = tables.find(serial, count: streams[si].issue.opCount) else { return }
        let machine = model.machine
        let g = Int(streams[si].rank), cpuFree = t.cpuFree
        cpuFree[g] = max(time, cpuFree[g]) + machine.receiveOverhead + Double(tables.ops[i].access.a.count * elementSize) / machine.receiveCopyRate
        complete(stream: si, index: i, at: cpuFree[g])
    }

    /// The receive at table index `i` is over at `done`: a plain receive finishes; a
    /// receive-and-reduce frees its window slot and may start its reduction.
    mutating func complete(stream si: Int, index i: Int, at done: Double) {
        let tables = t.issueTables(si)
        let streams = t.streams
        let op = tables.ops[i]
        if op.kind == .recv {
            resolve(stream: si, index: i, at: done)
        } else {
            if logMode { log(si, .received, op, at: done) }
            let (reduceAt, mayIssue) = rules.receiveDone(&streams[si].issue, tables, index: i, at: done)
            if let reduceAt { schedule(reduceAt, .reduce, Int32(si), op.serial) }
            if mayIssue { advance(si) }
        }
    }

    /// The segment's completion time is known: tell the rules, start the reductions they release,
    /// and let the stream go on if it waited for this.
    mutating func resolve(stream si: Int, index i: Int, at time: Double) {
        let tables = t.issueTables(si)
        let streams = t.streams
        let op = tables.ops[i]
        if logMode { log(si, .finished, op, at: time) }
        let mayIssue = rules.finish(&streams[si].issue, tables, index: i, at: time) { k, at in
            schedule(at, .reduce, Int32(si), tables.ops[k].serial)
        }
        streams[si].finish = max(streams[si].finish, time)
        if traceMode {
            let k = Int(op.step)
            t.traceEnd[k] = max(t.traceEnd[k], time)
        }
        doneSegments += 1
        if mayIssue { advance(si) }
    }

    mutating func log(_ si: Int, _ event: IssueRecord.Event, _ op: IssuedSegment, at time: Double) {
        issueLog.append((Int(streams[si].rank), IssueRecord(time: time, event: event, stream: Int(streams[si].index), serial: op.serial,
                                                            kind: op.kind, peer: op.peer, access: op.access)))
    }
}
