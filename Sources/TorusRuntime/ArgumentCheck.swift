import TorusCore
import TorusSchedules

/// The arguments of one AllReduce call that every rank must pass alike.
public struct CallArguments: Equatable, Sendable {
    public var count: Int
    public var type: ElementType
    public var op: ReduceOp
    public var route: AllReduceRoute
    public var inPlace: Bool

    public init(count: Int, type: ElementType, op: ReduceOp, route: AllReduceRoute, inPlace: Bool) {
        self.count = count
        self.type = type
        self.op = op
        self.route = route
        self.inPlace = inPlace
    }

    /// Five integers: count, type, op, route (-1 the library, else the algorithm's index), in place.
    public var record: [Int64] {
        let routeCode: Int64
        switch route {
        case .library: routeCode = -1
        case let .schedule(a): routeCode = Int64(Algorithm.allCases.firstIndex(of: a) ?? 0)
        }
        return [Int64(count), Int64(ElementType.allCases.firstIndex(of: type) ?? 0), Int64(ReduceOp.allCases.firstIndex(of: op) ?? 0),
                routeCode, inPlace ? 1 : 0]
    }

    /// Each field of a record as the error names it.
    static let fields = ["count", "type", "op", "route", "in place"]

    static func describe(field: Int, _ value: Int64) -> String {
        switch field {
        case 1: return ElementType.allCases.indices.contains(Int(value)) ? "\(ElementType.allCases[Int(value)])" : "a type the library leaves to MPI"
        case 2: return ReduceOp.allCases.indices.contains(Int(value)) ? "\(ReduceOp.allCases[Int(value)])" : "an op the library leaves to MPI"
        case 3:
            if value == -1 { return "mpi (below the size threshold, or a type or op left to MPI)" }
            if value == -2 { return "the library" }
            return Algorithm.allCases.indices.contains(Int(value)) ? Algorithm.allCases[Int(value)].rawValue : "\(value)"
        case 4: return value == 0 ? "no" : "yes"
        default: return "\(value)"
        }
    }

    /// The disagreements among the ranks' records (one per rank), or nil when all agree: per field,
    /// the ranks ("ranks 0-2, 5") that passed each value.
    public static func disagreements(_ records: [[Int64]]) -> String? {
        disagreements(records, fields: fields, verbs: ("passed", "passed"), describe: describe(field:_:))
    }

    /// The disagreements among the ranks' `records` (one per rank, a value per field), or nil when
    /// all agree: for each field that differs, the ranks that have each value ("count: ranks 0-2
    /// passed 100000; rank 3 passed 100001", with `verbs` for one rank and for several), fields
    /// apart by " | ".
    static func disagreements(_ records: [[Int64]], fields: [String], verbs: (one: String, many: String),
                              describe: (_ field: Int, _ value: Int64) -> String) -> String? {
        var lines: [String] = []
        for f in fields.indices {
            var groups: [(value: Int64, ranks: [Int])] = []
            for (rank, record) in records.enumerated() {
                if let i = groups.firstIndex(where: { $0.value == record[f] }) { groups[i].ranks.append(rank) } else { groups.append((record[f], [rank])) }
            }
            guard groups.count > 1 else { continue }
            lines.append("\(fields[f]): " + groups.map { "\(rankList($0.ranks)) \($0.ranks.count == 1 ? verbs.one : verbs.many) \(describe(f, $0.value))" }.joined(separator: "; "))
        }
        return lines.isEmpty ? nil : lines.joined(separator: " | ")
    }

    /// The error every rank reports.
    public static func mismatchMessage(_ what: String, size: Int, rank: Int, function: String = "AllReduce") -> String {
        "TORUS_CHECK: the \(size) ranks of the communicator called \(function) with different arguments (this is rank \(rank)): "
            + "\(what). Every rank must pass the same count, type, op, algorithm and in-place choice; no data was sent"
    }

    /// "rank 3", "ranks 0-2, 5".
    public static func rankList(_ ranks: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < ranks.count {
            var j = i
            while j + 1 < ranks.count && ranks[j + 1] == ranks[j] + 1 { j += 1 }
            parts.append(i == j ? "\(ranks[i])" : "\(ranks[i])-\(ranks[j])")
            i = j + 1
        }
        return (ranks.count == 1 ? "rank " : "ranks ") + parts.joined(separator: ", ")
    }
}

/// A backend with an allgather of its own (MPI's), used by `checkAgreement` instead of the
/// transport's point-to-point exchange.
public protocol RecordGathering {
    /// Every rank's `record` (all of the same length), in rank order. Collective over the group.
    func allGather(_ record: [Int64]) throws -> [[Int64]]
}

/// Every rank's fixed-size record through point-to-point messages (each rank sends its record to
/// every other): the allgather of the backends without one of their own, and of nonblocking calls,
/// which `poll` it round by round.
public final class RecordExchange {
    private let transport: Transport
    private let n: Int
    private let mine: UnsafeMutablePointer<Int64>
    private let all: UnsafeMutablePointer<Int64>
    private var requests = RequestList<ExecutorStall.Pending>()

    /// Posts the exchange: a receive from and a send to every other rank, with `tag`.
    public init(_ record: [Int64], transport: Transport, tag: Int) throws {
        self.transport = transport
        n = record.count
        let p = transport.size, me = transport.rank
        mine = .allocate(capacity: max(1, n))
        all = .allocate(capacity: max(1, p * n))
        mine.initialize(from: record, count: n)
        all.initialize(repeating: 0, count: p * n)
        (all + me * n).initialize(from: record, count: n)
        let bytes = n * MemoryLayout<Int64>.stride
        do {
            for peer in 0..<p where peer != me {
                requests.append(try transport.irecv(UnsafeMutableRawBufferPointer(start: all + peer * n, count: bytes), from: peer, tag: tag),
                                .init(kind: .recv, peer: peer, part: -1, step: 0, bytes: bytes))
                requests.append(try transport.isend(UnsafeRawBufferPointer(start: mine, count: bytes), to: peer, tag: tag),
                                .init(kind: .send, peer: peer, part: -1, step: 0, bytes: bytes))
            }
        } catch {
            requests.cancelAll(on: transport)
            throw error
        }
    }

    /// Completes what has arrived (`wait` as in `Transport.complete`); true if anything completed.
    /// On an error the other requests are withdrawn.
    public func poll(_ wait: TransportWait) throws -> Bool {
        do {
            return try requests.complete(on: transport, wait: wait) > 0
        } catch {
            requests.cancelAll(on: transport)
            throw error
        }
    }

    public var isDone: Bool { requests.isEmpty }

    /// The messages still in flight.
    public var pending: [ExecutorStall.Pending] { requests.pending }

    /// Every rank's record, in rank order (once done).
    public var records: [[Int64]] {
        (0..<transport.size).map { r in Array(UnsafeBufferPointer(start: all + r * n, count: n)) }
    }

    /// The blocking exchange.
    public static func allGather(_ record: [Int64], transport: Transport, tag: Int) throws -> [[Int64]] {
        let exchange = try RecordExchange(record, transport: transport, tag: tag)
        while !exchange.isDone { _ = try exchange.poll(.block) }
        return exchange.records
    }

    deinit {
        // Withdrawn requests may still be writing into the buffers: those are left allocated.
        defer { requests.free() }
        guard requests.isEmpty else {
            requests.cancelAll(on: transport)
            return
        }
        mine.deallocate()
        all.deallocate()
    }
}

/// `TORUS_CHECK` for a nonblocking call: the first stage of its request exchanges the call's
/// record with every rank (point-to-point, so that it never blocks) and fails, on every rank, if
/// any differ — before any data moves. Watched for stalls as the reduction is.
final class ArgumentAgreement: RequestStage {
    private let record: [Int64]
    private let transport: Transport
    private let rank: Int
    private var exchange: RecordExchange?
    private var watch: StallWatch
    private let onStall: ((ExecutorStall) throws -> Void)?

    init(record: [Int64], transport: Transport, stallSeconds: Double, onStall: ((ExecutorStall) throws -> Void)?) {
        self.record = record
        self.transport = transport
        rank = transport.rank
        watch = StallWatch(seconds: stallSeconds)
        self.onStall = onStall
    }

    func advance() throws -> Bool {
        if exchange == nil { exchange = try RecordExchange(record, transport: transport, tag: MessageTags.check) }
        let exchange = exchange!
        let moved = try exchange.poll(.poll)
        if exchange.isDone {
            if let what = CallArguments.disagreements(exchange.records) {
                throw TorusError.communication(CallArguments.mismatchMessage(what, size: transport.size, rank: rank))
            }
            return true
        }
        if watch.isDue(moved: moved) {
            try onStall?(ExecutorStall(seconds: watch.seconds, pending: exchange.pending, reductions: 0))
        }
        return false
    }
}

extension Communicator {
    /// `TORUS_CHECK=1`: the ranks exchange the call's arguments (one small allgather) and, if any
    /// differ, every rank throws an error naming the ranks and their values — before any data
    /// moves, so that a mismatch is never a hang, a crash or a wrong answer.
    public func checkAgreement(_ call: CallArguments, function: String = "AllReduce") throws {
        guard size > 1 else { return }
        let records: [[Int64]]
        if let gathering = self as? RecordGathering {
            records = try gathering.allGather(call.record)
        } else {
            records = try RecordExchange.allGather(call.record, transport: transport, tag: MessageTags.check)
        }
        if let what = CallArguments.disagreements(records) {
            throw TorusError.communication(CallArguments.mismatchMessage(what, size: size, rank: rank, function: function))
        }
    }
}
