/// One step of a stream as the issue rules see it: its kind, peer and spans (offsets include
/// `ElementSpan.scratchBase` for scratch), in elements. Both consumers of the rules build their step
/// tables from these.
public struct IssueStep: Hashable, Sendable {
    public var kind: SegmentKind
    /// The group rank on the other end (-1 for local steps).
    public var peer: Int32
    /// First element of span `a` and of span `b` (see `SegmentAccess`).
    public var a: Int
    public var b: Int
    public var count: Int

    @inlinable public init(kind: SegmentKind, peer: Int32, a: Int, b: Int, count: Int) {
        self.kind = kind
        self.peer = peer
        self.a = a
        self.b = b
        self.count = count
    }

    public init(_ step: Step) {
        func span(_ r: Region) -> Int { ElementSpan(r, count: 0).lo }
        switch step {
        case let .send(p, r): (kind, peer, a, b, count) = (.send, Int32(p), span(r), 0, r.count)
        case let .recv(p, r): (kind, peer, a, b, count) = (.recv, Int32(p), span(r), 0, r.count)
        case let .recvReduce(p, s, t): (kind, peer, a, b, count) = (.recvReduce, Int32(p), span(s), span(t), t.count)
        case let .recvReduceReceivedFirst(p, s, t): (kind, peer, a, b, count) = (.recvReduceReceivedFirst, Int32(p), span(s), span(t), t.count)
        case let .reduce(s, t): (kind, peer, a, b, count) = (.reduce, -1, span(s), span(t), t.count)
        case let .copy(s, t): (kind, peer, a, b, count) = (.copy, -1, span(s), span(t), t.count)
        }
    }

    public var description: String {
        switch kind {
        case .send: return "send \(count) → \(peer)"
        case .recv: return "recv \(count) ← \(peer)"
        case .recvReduce: return "recv-reduce \(count) ← \(peer)"
        case .recvReduceReceivedFirst: return "recv-reduce \(count) ← \(peer), received first"
        case .reduce: return "reduce \(count)"
        case .copy: return "copy \(count)"
        }
    }
}

/// Where the issue rules read a stream's steps: a table indexed by `StreamIssue.step`. The executor
/// hands a plain table of `IssueStep`; the predictor, which holds millions of steps, a compact one.
public protocol IssueStepTable {
    func issueStep(_ index: Int) -> IssueStep
}

extension UnsafePointer: IssueStepTable where Pointee == IssueStep {
    @inlinable public func issueStep(_ index: Int) -> IssueStep { self[index] }
}
