import TorusCore

/// Which buffer a region lies in: the user's data buffer (the result, `count` elements) or the
/// schedule's scratch space (`scratchCount` elements).
public enum BufferKind: String, Codable, Sendable {
    case data
    case scratch
}

/// A range of elements in one buffer.
public struct Region: Hashable, Codable, Sendable, CustomStringConvertible {
    public var buffer: BufferKind
    /// First element.
    public var offset: Int
    /// Number of elements.
    public var count: Int

    public init(_ buffer: BufferKind, _ offset: Int, _ count: Int) {
        self.buffer = buffer
        self.offset = offset
        self.count = count
    }

    public static func data(_ range: Range<Int>) -> Region { Region(.data, range.lowerBound, range.count) }
    public static func scratch(_ offset: Int, _ count: Int) -> Region { Region(.scratch, offset, count) }

    public var end: Int { offset + count }

    /// Whether two regions share an element.
    public func overlaps(_ other: Region) -> Bool {
        buffer == other.buffer && count > 0 && other.count > 0 && offset < other.end && other.offset < end
    }

    /// The sub-region `[offset + lo, offset + lo + n)`.
    public func slice(_ lo: Int, _ n: Int) -> Region { Region(buffer, offset + lo, n) }

    public var description: String { "\(buffer)[\(offset)..<\(end)]" }
}

/// One step of a stream. Peers are ranks of the group.
public enum Step: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Send `region` to `peer`.
    case send(peer: Int, region: Region)
    /// Receive from `peer` into `region`.
    case recv(peer: Int, region: Region)
    /// `target = target op source`.
    case reduce(source: Region, target: Region)
    /// Receive from `peer` into `scratch`, then `target = target op scratch`.
    case recvReduce(peer: Int, scratch: Region, target: Region)
    /// As `recvReduce`, but `target = scratch op target`: the received operand first (the higher
    /// rank of a pair that combines the same two buffers, so that both compute lower op higher).
    case recvReduceReceivedFirst(peer: Int, scratch: Region, target: Region)
    /// `target = source`.
    case copy(source: Region, target: Region)

    /// Elements the step moves or combines.
    public var count: Int {
        switch self {
        case let .send(_, r), let .recv(_, r): return r.count
        case let .reduce(_, t), let .recvReduce(_, _, t), let .recvReduceReceivedFirst(_, _, t), let .copy(_, t): return t.count
        }
    }

    /// The regions the step reads.
    public var reads: [Region] {
        switch self {
        case let .send(_, r): return [r]
        case .recv: return []
        case let .reduce(s, t): return [s, t]
        case let .recvReduce(_, _, t), let .recvReduceReceivedFirst(_, _, t): return [t]
        case let .copy(s, _): return [s]
        }
    }

    /// The regions the step writes.
    public var writes: [Region] {
        switch self {
        case .send: return []
        case let .recv(_, r): return [r]
        case let .reduce(_, t), let .copy(_, t): return [t]
        case let .recvReduce(_, s, t), let .recvReduceReceivedFirst(_, s, t): return [s, t]
        }
    }

    public var description: String {
        switch self {
        case let .send(p, r): return "send \(r) → \(p)"
        case let .recv(p, r): return "recv \(r) ← \(p)"
        case let .reduce(s, t): return "reduce \(s) into \(t)"
        case let .recvReduce(p, s, t): return "recv-reduce \(t) ← \(p) via \(s)"
        case let .recvReduceReceivedFirst(p, s, t): return "recv-reduce \(t) ← \(p) via \(s), received first"
        case let .copy(s, t): return "copy \(s) to \(t)"
        }
    }
}

/// An ordered list of steps. Steps of a stream depend only on earlier steps of the same stream;
/// streams are independent of each other, so an executor may interleave them freely.
public struct Stream: Hashable, Codable, Sendable {
    /// What the stream is, for printing and traces ("part 0 +X,Y,Z").
    public var label: String
    public var steps: [Step]

    public init(label: String, steps: [Step] = []) {
        self.label = label
        self.steps = steps
    }
}

/// Everything one rank does for one collective call: a plain value, printable and serialisable.
public struct Schedule: Hashable, Codable, Sendable, CustomStringConvertible {
    public var algorithm: Algorithm
    /// What it computes; a ReduceScatter's or AllGather's data buffer holds every rank's block
    /// (`count` = p·c), laid out as `Algorithm.layout` says.
    public var collective: Collective
    /// This rank, in the group.
    public var rank: Int
    /// Ranks in the group.
    public var size: Int
    /// Elements in the data buffer.
    public var count: Int
    /// Elements of scratch space the schedule needs.
    public var scratchCount: Int
    public var streams: [Stream]
    /// The most elements one segment of its steps carries, below the issue rules' `segmentBytes`
    /// (`IssueRules.cut`; a plan that pipelines better in finer segments, `SixRingPlan`); nil:
    /// the rules decide.
    public var segmentLimitElements: Int?

    public init(algorithm: Algorithm, collective: Collective = .allReduce, rank: Int, size: Int, count: Int, scratchCount: Int,
                streams: [Stream], segmentLimitElements: Int? = nil) {
        self.algorithm = algorithm
        self.collective = collective
        self.rank = rank
        self.size = size
        self.count = count
        self.scratchCount = scratchCount
        self.streams = streams
        self.segmentLimitElements = segmentLimitElements
    }

    /// Number of steps over all streams.
    public var stepCount: Int { streams.reduce(0) { $0 + $1.steps.count } }

    public var description: String {
        let what = collective == .allReduce ? "" : " \(collective)"
        let limit = segmentLimitElements.map { ", segments of at most \($0) elements" } ?? ""
        var lines = ["\(algorithm.rawValue)\(what) rank \(rank) of \(size), \(count) elements, scratch \(scratchCount)\(limit)"]
        for (i, s) in streams.enumerated() {
            lines.append("  stream \(i) (\(s.label)): \(s.steps.count) steps")
            for (k, step) in s.steps.enumerated() { lines.append("    \(k): \(step)") }
        }
        return lines.joined(separator: "\n")
    }
}

/// Balanced splitting: `count` elements in `parts` pieces whose sizes differ by at most one (the
/// first `count % parts` pieces get the extra element); pieces may be empty when count < parts.
public enum Partition {
    /// The range of piece `index` of `range` split in `parts`.
    @inline(__always)
    public static func piece(_ index: Int, of parts: Int, in range: Range<Int>) -> Range<Int> {
        let n = range.count
        let base = n / parts, extra = n % parts
        // Piece j starts after j base-sized pieces plus one extra element for each earlier piece < extra.
        let start = range.lowerBound + index * base + Swift.min(index, extra)
        return start ..< start + base + (index < extra ? 1 : 0)
    }
}
