import TorusSchedules

/// The stall watch of work advanced in rounds that never block (`TORUS_TIMEOUT`): counts the time
/// over rounds in which nothing moved.
public struct StallWatch: Sendable {
    /// 0: never due.
    public let seconds: Double
    private var quietSince: ContinuousClock.Instant?

    public init(seconds: Double) {
        self.seconds = seconds
    }

    /// Notes one round; true when `seconds` have passed since anything last moved (the count then
    /// starts again, so that a run that keeps waiting is reported again after as long).
    public mutating func isDue(moved: Bool) -> Bool {
        guard seconds > 0 else { return false }
        guard !moved, let since = quietSince else {
            quietSince = moved ? nil : .now
            return false
        }
        guard since.duration(to: .now) > .seconds(seconds) else { return false }
        quietSince = .now
        return true
    }
}

/// What a stalled run waits for (`ScheduleExecutor.onStall`).
public struct ExecutorStall: Sendable {
    /// One request in flight: a send or a receive of `bytes` with `peer` (a rank of the group), in
    /// part (stream) `part` at step `step` of that part; `part` −1 for a message outside a schedule
    /// (the `TORUS_CHECK` exchange).
    public struct Pending: Sendable {
        public var kind: SegmentKind
        public var peer: Int
        public var part: Int
        public var step: Int
        public var bytes: Int
    }
    /// Seconds without a completion.
    public var seconds: Double
    public var pending: [Pending]
    /// Reductions still running (these are local and not what the run waits for).
    public var reductions: Int

    /// The requests in report order: receives first, then by peer, part and step.
    public var sortedPending: [Pending] {
        pending.sorted { ($0.kind == .send ? 1 : 0, $0.peer, $0.part, $0.step) < ($1.kind == .send ? 1 : 0, $1.peer, $1.part, $1.step) }
    }

    /// "receive of 400000 bytes from rank 3 (part 2, step 5)", one per request, receives first.
    public var lines: [String] {
        sortedPending.map { "\($0.transfer) rank \($0.peer)\($0.place.isEmpty ? "" : " (\($0.place))")" }
    }
}

extension ExecutorStall.Pending {
    /// "receive of 400000 bytes from", "send of 40 bytes to".
    public var transfer: String { kind == .send ? "send of \(bytes) bytes to" : "receive of \(bytes) bytes from" }
    /// "part 2, step 5", or empty outside a schedule.
    public var place: String { part < 0 ? "" : "part \(part), step \(step)" }
}
