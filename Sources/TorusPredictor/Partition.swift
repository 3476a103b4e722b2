import Foundation
import TorusCore
import TorusSchedules

/// One partition of the run: its events, its messages in flight, its counters. Runs alone (one
/// partition) or in windows with the others.
struct Partition {
    let run: PredictorRun
    let index: Int
    let sync: WindowSync
    var heap = EventHeap()
    /// Messages whose head waits to enter the next link, by sending stream and serial.
    var inFlight: [UInt64: Message] = [:]
    /// With `recordIssues`: (rank, record) of every issue and completion of this partition's streams.
    var issueLog: [(Int, IssueRecord)] = []
    /// The stream whose segments `advance` is issuing (-1: none).
    var issuing = -1
    /// Payload mode: the data of messages on their way to another partition's rank, taken when sent.
    var carried: [UInt64: [UInt8]] = [:]
    var events = 0
    var messageCount = 0
    var doneSegments = 0
    /// The end of the current window: nothing handed over may be due earlier.
    var windowEnd = Double.infinity
    /// The time of the event being handled: nothing may be scheduled earlier.
    var now = 0.0

    let t: PredictorTables
    let model: NetworkModel
    let rules: IssueRules
    let routing: DimensionOrderRouting
    /// Each group's cutting of steps (`PredictorRun.cuts`).
    let cuts: [SegmentCut], elementSize: Int
    let payloadMode: Bool, traceMode: Bool, logMode: Bool
    let slab: ClosedRange<UnsafeMutablePointer<IssuedSegment>>

    init(run: PredictorRun, index: Int, sync: WindowSync) {
        self.run = run
        self.index = index
        self.sync = sync
        t = run.tables
        model = run.model
        rules = run.rules
        routing = run.routing
        cuts = run.cuts
        elementSize = run.elementSize
        payloadMode = run.request.payload
        traceMode = run.request.trace
        logMode = run.request.recordIssues
        slab = run.slab
    }

    var streams: UnsafeMutablePointer<StreamState> { t.streams }

    mutating func schedule(_ time: Double, _ kind: EventKind, _ a: Int32, _ b: Int32) {
        // Events in time order is what makes links, CPUs and engines FIFO (and windows sound).
        precondition(time >= now, "predictor: an event scheduled at \(time) s, before the one being handled (\(now) s)")
        heap.push(Event(time: time, kind: kind, a: a, b: b))
    }

    /// Issues the first segments of the partition's streams.
    mutating func start() {
        for s in 0..<run.streamCount where Int(t.streamPartition[s]) == index { advance(s) }
    }

    mutating func process(_ e: Event) {
        now = e.time
        events += 1
        switch e.kind {
        case .issueSend: startSend(stream: Int(e.a), serial: e.b, at: e.time)
        case .hop:
            let m = inFlight.removeValue(forKey: Partition.key(e.a, e.b))!
            hop(m, at: e.time)
        case .reduce: startReduction(stream: Int(e.a), serial: e.b, at: e.time)
        case .receive: receivedOnCPU(stream: Int(e.a), serial: e.b, at: e.time)
        }
    }

    mutating func runAlone(progress: ((Double) -> Void)?) {
        start()
        var nextReport = 1 << 16
        while !heap.isEmpty {
            process(heap.pop())
            if events >= nextReport {
                nextReport += 1 << 16
                progress?(Double(doneSegments) / Double(max(1, run.totalSegments)))
            }
        }
    }

    /// Conservative parallel run: every partition handles its events earlier than the window's end
    /// (the earliest pending event anywhere plus the lookahead), then takes over what the others
    /// handed it. Nothing handed over is due before the window's end, so the result is the one a
    /// single partition computes.
    mutating func runWindows(progress: ((Double) -> Void)?) {
        let n = sync.partitions
        start()
        var nextReport = 1 << 16
        while true {
            for from in 0..<n where from != index {
                let box = sync.outboxes.base + (from * n + index)
                for h in box.pointee { take(h) }
                box.pointee.removeAll(keepingCapacity: true)
            }
            sync.nextTime.base[index] = heap.isEmpty ? .infinity : heap.items[0].time
            sync.done.base[index] = doneSegments
            sync.wait()
            var begin = Double.infinity, done = 0
            for p in 0..<n {
                begin = min(begin, sync.nextTime.base[p])
                done += sync.done.base[p]
            }
            if begin == .infinity { break }
            if let progress, events >= nextReport {
                nextReport = events + (1 << 16) / n
                progress(Double(done) / Double(max(1, run.totalSegments)))
            }
            windowEnd = begin + run.plan.lookahead
            while let top = heap.items.first, top.time < windowEnd { process(heap.pop()) }
            sync.wait()
        }
    }

    /// A message's key: its sending stream and the send's serial.
    @inline(__always) static func key(_ stream: Int32, _ serial: Int32) -> UInt64 { UInt64(UInt32(stream)) << 32 | UInt64(UInt32(bitPattern: serial)) }

    mutating func take(_ h: Handover) {
        if let data = h.payload { carried[Partition.key(h.message.stream, h.message.serial)] = data }
        switch h.kind {
        case .deliver: deliver(h.message, at: h.time)
        case .sendDone: sendDone(stream: Int(h.message.stream), serial: h.message.serial, at: h.time)
        case .hop: enterNode(h.message, at: h.time)
        }
    }

    mutating func hand(_ kind: Handover.Kind, to partition: Int32, _ m: Message, at time: Double) {
        precondition(time >= windowEnd, "predictor: a handover due at \(time) s inside the window ending at \(windowEnd) s (lookahead too long)")
        let data = kind != .sendDone && !carried.isEmpty ? carried.removeValue(forKey: Partition.key(m.stream, m.serial)) : nil
        sync.outboxes.base[index * sync.partitions + Int(partition)].append(Handover(kind: kind, time: time, message: m, payload: data))
    }
}
