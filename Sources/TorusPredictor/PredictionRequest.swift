import Foundation
import TorusCore
import TorusSchedules

/// What to predict: one AllReduce per group, all groups at once on one machine.
public struct PredictionRequest: Sendable {
    public var machine: TorusShape
    /// Each group's torus view; `machineNodeOf` places its ranks (groups may share nodes).
    public var groups: [GroupTopology]
    public var algorithm: Algorithm
    /// AllReduce, or one half alone: a ReduceScatter or AllGather of each group's buffer of `bytes`
    /// (p blocks of bytes / p, rounded down to whole elements).
    public var collective: Collective = .allReduce
    /// Bytes of each group's buffer.
    public var bytes: Int
    public var type: ElementType
    public var op: ReduceOp
    public var model: NetworkModel
    /// Move real data and check every rank's result (small runs); otherwise timing only.
    public var payload: Bool
    /// Record one slice per step of every rank and part (for `--trace`).
    public var trace: Bool
    /// Record every segment's issue and completion per rank (`Prediction.issueLog`; small runs,
    /// for tests that hold the predictor against the executor).
    public var recordIssues = false
    /// Threads to predict on (nil: every core for machines of 512 nodes or more, or for payload
    /// runs of 64 MiB or more in all; else one). The prediction is the same for any number.
    public var threads: Int?

    public init(machine: TorusShape, groups: [GroupTopology], algorithm: Algorithm, bytes: Int, type: ElementType = .float32,
                op: ReduceOp = .sum, model: NetworkModel, payload: Bool = false, trace: Bool = false, threads: Int? = nil) {
        self.machine = machine
        self.groups = groups
        self.algorithm = algorithm
        self.bytes = bytes
        self.type = type
        self.op = op
        self.model = model
        self.payload = payload
        self.trace = trace
        self.threads = threads
    }

    /// One group: every node of `machine`, rank = node.
    public static func world(_ machine: TorusShape, algorithm: Algorithm, bytes: Int, model: NetworkModel) -> PredictionRequest {
        PredictionRequest(machine: machine, groups: [.box(machine)], algorithm: algorithm, bytes: bytes, model: model)
    }
}

/// One step of one rank's stream, from the start of its first segment to the end of its last.
public struct TraceSlice: Sendable {
    public var rank: Int
    public var group: Int
    public var stream: Int
    /// The stream's label ("part 0 +X,Y,Z") and the step ("send 4096 → 3").
    public var part: String
    public var label: String
    public var start: Double
    public var end: Double
}

/// What the predictor found.
public struct Prediction: Sendable {
    public var request: PredictionRequest
    /// Seconds until the last group finished, and each group's time.
    public var time: Double
    public var groupTimes: [Double]
    /// Bytes that crossed each directed link of the machine (`DirectedLink.index`); empty on a full network.
    public var linkBytes: [Int]
    public var messages: Int
    public var events: Int
    /// Payload mode: elements that differ from the expected result over all ranks (nil: timing only).
    public var wrongElements: Int?
    public var trace: [TraceSlice]
    /// With `recordIssues`: per simulated rank, its segments' issues and completions in time order.
    public var issueLog: [[IssueRecord]]
    /// Seconds the prediction took to compute, and on how many threads.
    public var wallSeconds: Double
    public var threads: Int

    public var groupSize: Int { request.groups.map(\.size).max() ?? 1 }
    public var algbw: Double { time > 0 ? Double(request.bytes) / time : 0 }
    /// nccl-tests' bus bandwidth: algbw · 2(p−1)/p for AllReduce, algbw · (p−1)/p for the halves.
    public var busbw: Double { algbw * request.collective.busFactor(ranks: groupSize) }

    /// The bus bandwidth bound of DESIGN §1 for the first group's torus view: one link bandwidth
    /// per directed link a node can drive on the group's axes (6β on a 3D torus); nil on a full
    /// network. The same for either half alone: each moves (p−1)/p of the buffer through every node.
    public var boundBusbw: Double? {
        guard request.model.network == .torus, let g = request.groups.first else { return nil }
        return g.grid.busBandwidthBound(linkBandwidth: request.model.machine.linkBandwidth)
    }

    public var boundFraction: Double? { boundBusbw.map { busbw / $0 } }
}

/// One entry of the predictor's issue log: at `time`, stream `stream` of a rank issued segment
/// `serial`, or the segment's receive was over, or it finished.
public struct IssueRecord: Sendable, Equatable {
    public enum Event: UInt8, Sendable { case issued, received, finished }
    public var time: Double
    public var event: Event
    public var stream: Int
    public var serial: Int32
    /// The segment (issue records only).
    public var kind: SegmentKind
    public var peer: Int32
    public var access: SegmentAccess
}
