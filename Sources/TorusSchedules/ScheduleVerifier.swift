import Foundation
import TorusCore

/// What the verifier proved, or what it found wrong.
public struct VerificationReport: Codable, Sendable, CustomStringConvertible {
    public var algorithm: Algorithm
    public var topology: String
    public var ranks: Int
    public var count: Int
    /// True when every check passed.
    public var proven: Bool
    /// What is wrong, one line each (empty when proven).
    public var problems: [String]
    /// Messages sent by all ranks, and elements in them.
    public var messages: Int
    public var elementsSent: Int
    /// Largest and mean machine hops of a message (nil when the placement is unknown).
    public var maxHops: Int?
    public var meanHops: Double?
    /// For `sixring` on a box: (rank, phase) pairs at which two parts share a directed link.
    public var linkConflicts: Int?
    /// Elements carried per directed link (first hop of each message, all ranks): the least and most
    /// loaded of the links in use, and their ratio (1 when perfectly even).
    public var linkLoad: LinkLoad?

    public struct LinkLoad: Codable, Sendable {
        public var linksUsed: Int
        public var minElements: Int
        public var maxElements: Int
        public var maxOverMin: Double
        /// Elements per direction summed over all nodes, in the order +X −X +Y −Y +Z −Z.
        public var perDirection: [Int]
    }

    public var description: String {
        var lines: [String] = []
        let verdict = proven ? "PROVEN" : "FAILED"
        lines.append("\(algorithm.rawValue) on \(topology), \(ranks) ranks, \(count) elements: \(verdict)")
        lines.append("  matched sends and receives, no deadlock, every element holds every rank's contribution exactly once: "
                     + (proven ? "yes" : "no"))
        var traffic = "  messages \(messages), elements sent \(elementsSent)"
        if let maxHops { traffic += ", hops max \(maxHops)" }
        if let meanHops { traffic += String(format: " mean %.2f", meanHops) }
        lines.append(traffic)
        if let linkConflicts { lines.append("  phases where two parts share a directed link: \(linkConflicts)") }
        if let l = linkLoad {
            lines.append("  directed links used \(l.linksUsed): elements per link min \(l.minElements) max \(l.maxElements)"
                         + String(format: " (max/min %.3f)", l.maxOverMin))
            let names = ["+X", "-X", "+Y", "-Y", "+Z", "-Z"]
            lines.append("  elements per direction: " + zip(names, l.perDirection).map { "\($0) \($1)" }.joined(separator: "  "))
        }
        for p in problems.prefix(20) { lines.append("  problem: \(p)") }
        if problems.count > 20 { lines.append("  … and \(problems.count - 20) more problems") }
        return lines.joined(separator: "\n")
    }
}

/// Runs the schedules of all ranks symbolically — each element carries the set of ranks whose
/// contributions it holds — and proves: every send meets a receive of the same size, nothing
/// deadlocks, no contribution is counted twice, and at the end every rank holds every rank's
/// contribution in every element. It also counts hops and link load on the machine.
public enum ScheduleVerifier {
    /// Most (ranks × elements × set words) the symbolic run will hold in memory.
    public static let maxCells = 1 << 26

    /// Why `ranks` ranks of `count` elements are too large to verify — the symbolic state (a bit
    /// per rank for every element of every rank) would pass `maxCells` words — or nil. Known before
    /// any schedule is built.
    public static func tooLarge(ranks: Int, count: Int) -> String? {
        func cells(_ p: Int) -> Double { Double(p) * Double(max(1, count)) * Double((p + 63) / 64) }
        guard cells(ranks) > Double(maxCells) else { return nil }
        var k = 1
        while cells((k + 1) * (k + 1) * (k + 1)) <= Double(maxCells) { k += 1 }
        return "\(ranks) ranks × \(count) elements need at least \(MemoryBudget.format(cells(ranks) * 8)) of symbolic state, "
            + "past the \(MemoryBudget.format(Double(maxCells) * 8)) the verifier allows: verify a smaller torus (at \(count) elements, up to about "
            + "\(k)x\(k)x\(k)) or a smaller --count"
    }

    /// Proves `algorithm`'s `collective` on the group: an AllReduce of `count` elements, or a
    /// ReduceScatter or AllGather of blocks of `count` elements per rank.
    public static func verify(_ algorithm: Algorithm, _ collective: Collective = .allReduce, topology: GroupTopology,
                              count: Int) throws -> VerificationReport {
        let elements = collective == .allReduce ? count : count * topology.size
        if let why = tooLarge(ranks: topology.size, count: elements) {
            return VerificationReport(algorithm: algorithm, topology: topology.description, ranks: topology.size, count: elements, proven: false,
                                      problems: ["too large to verify symbolically: " + why], messages: 0, elementsSent: 0)
        }
        let schedules = try (0..<topology.size).map { try algorithm.schedule(collective, topology: topology, rank: $0, count: count) }
        return verify(schedules, topology: topology)
    }

    /// Proves the schedules of every rank. A ReduceScatter's or AllGather's blocks lie in rank
    /// order unless `layout` says where (streams in an algorithm's own layout, before
    /// `BlockLayout.rewrite`); it must split the buffer into p blocks of c.
    public static func verify(_ schedules: [Schedule], topology: GroupTopology, layout: BlockLayout? = nil) -> VerificationReport {
        var run = SymbolicRun(schedules: schedules, topology: topology, layout: layout)
        return run.execute()
    }
}

/// The state of a symbolic run: contribution sets per element, message queues per
/// (sender, receiver, stream), a program counter per stream.
private struct SymbolicRun {
    struct Channel: Hashable { var from: Int, to: Int, stream: Int }
    struct Message { var elements: [UInt64]; var count: Int }
    enum Outcome { case done, blocked, failed }

    let schedules: [Schedule]
    let topology: GroupTopology
    let collective: Collective
    let layout: BlockLayout?
    let p: Int
    let count: Int
    let words: Int
    var data: [[UInt64]] = []
    var scratch: [[UInt64]] = []
    var channels: [Channel: [Message]] = [:]
    var heads: [Channel: Int] = [:]
    var problems: [String] = []
    var messages = 0, elementsSent = 0, hopsTotal = 0
    var maxHops: Int?
    var linkElements: [DirectedLink: Int] = [:]
    /// sendLinks[rank][stream]: the first-hop link of each send, in order.
    var sendLinks: [[[DirectedLink?]]]

    init(schedules: [Schedule], topology: GroupTopology, layout: BlockLayout?) {
        self.schedules = schedules
        self.topology = topology
        collective = schedules.first?.collective ?? .allReduce
        let ranks = schedules.count, elements = schedules.first?.count ?? 0
        self.layout = layout ?? (collective == .allReduce || ranks == 0 ? nil : .rankOrder(ranks: ranks, blockCount: elements / ranks))
        p = schedules.count
        count = schedules.first?.count ?? 0
        words = (p + 63) / 64
        sendLinks = schedules.map { [[DirectedLink?]](repeating: [], count: $0.streams.count) }
    }

    mutating func execute() -> VerificationReport {
        var report = VerificationReport(algorithm: schedules.first?.algorithm ?? .ring, topology: topology.description, ranks: p,
                                        count: count, proven: false, problems: [], messages: 0, elementsSent: 0)
        guard p > 0, p == topology.size else {
            report.problems = ["\(p) schedules for a group of \(topology.size) ranks"]
            return report
        }
        let cells = p * (count + schedules.map(\.scratchCount).max()!) * words
        guard cells <= ScheduleVerifier.maxCells else {
            report.problems = ["too large to verify symbolically (\(p) ranks × \(count) elements); use a smaller --count"]
            return report
        }
        for s in schedules where s.count != count || s.size != p {
            problems.append("rank \(s.rank) has a schedule for \(s.size) ranks and \(s.count) elements, expected \(p) and \(count)")
        }
        for s in schedules where s.collective != collective {
            problems.append("rank \(s.rank) has a schedule for \(s.collective), rank 0 one for \(collective)")
        }
        if collective != .allReduce {
            if let layout, layout.ranges.count == p, layout.blockCount * p == count {
                if let why = layout.problem { problems.append("the block layout is wrong: \(why)") }
            } else {
                problems.append("the block layout does not split \(count) elements into \(p) blocks")
            }
        }
        guard problems.isEmpty else { report.problems = problems; return report }
        // An AllGather starts with each rank's own block only; the others start with nothing.
        data = (0..<p).map { r in
            var a = [UInt64](repeating: 0, count: count * words)
            let own = collective == .allGather ? layout!.ranges[r] : [0..<count]
            for range in own { for e in range { a[e * words + r / 64] |= 1 << UInt64(r % 64) } }
            return a
        }
        scratch = schedules.map { [UInt64](repeating: 0, count: $0.scratchCount * words) }

        var pc = schedules.map { [Int](repeating: 0, count: $0.streams.count) }
        var progress = true, failed = false
        while progress && !failed {
            progress = false
            for rank in 0..<p {
                for s in schedules[rank].streams.indices {
                    let steps = schedules[rank].streams[s].steps
                    loop: while pc[rank][s] < steps.count {
                        switch execute(steps[pc[rank][s]], rank: rank, stream: s, index: pc[rank][s]) {
                        case .done: pc[rank][s] += 1; progress = true
                        case .blocked: break loop
                        case .failed: failed = true; break loop
                        }
                    }
                }
            }
        }
        if !failed {
            var waiting: [String] = []
            for rank in 0..<p {
                for s in schedules[rank].streams.indices where pc[rank][s] < schedules[rank].streams[s].steps.count {
                    waiting.append("rank \(rank) stream \(s) step \(pc[rank][s]) (\(schedules[rank].streams[s].steps[pc[rank][s]]))")
                }
            }
            if !waiting.isEmpty {
                problems.append("deadlock: \(waiting.count) streams wait for messages that are never sent: "
                                + waiting.prefix(8).joined(separator: "; "))
            }
            for (key, queue) in channels where heads[key, default: 0] < queue.count {
                problems.append("rank \(key.from) sent \(queue.count - heads[key, default: 0]) message(s) on stream \(key.stream) that rank \(key.to) never receives")
            }
            if problems.isEmpty { checkComplete() }
        }
        report.problems = problems
        report.proven = problems.isEmpty
        report.messages = messages
        report.elementsSent = elementsSent
        report.maxHops = maxHops
        report.meanHops = maxHops == nil || messages == 0 ? nil : Double(hopsTotal) / Double(messages)
        if topology.machine != nil {
            let proves = schedules.first?.algorithm.implementation.proofs.contains(.distinctLinksPerPhase) ?? false
            report.linkConflicts = proves && topology.kind == .box ? linkConflicts() : nil
            report.linkLoad = linkLoad()
        }
        return report
    }

    /// AllReduce: every element of every rank holds all p contributions. ReduceScatter: every
    /// element of each rank's block does. AllGather: every element of every rank holds exactly the
    /// contribution of the rank whose block it is in.
    mutating func checkComplete() {
        var full = [UInt64](repeating: 0, count: words)
        for r in 0..<p { full[r / 64] |= 1 << UInt64(r % 64) }
        var ownerOf = [Int](repeating: 0, count: collective == .allGather ? count : 0)
        if collective == .allGather {
            for (r, list) in layout!.ranges.enumerated() { for range in list { for e in range { ownerOf[e] = r } } }
        }
        for rank in 0..<p {
            let checked = collective == .reduceScatter ? layout!.ranges[rank] : [0..<count]
            for range in checked {
                for e in range {
                    var expected = full
                    if collective == .allGather {
                        expected = [UInt64](repeating: 0, count: words)
                        expected[ownerOf[e] / 64] = 1 << UInt64(ownerOf[e] % 64)
                    }
                    guard Array(data[rank][e * words ..< (e + 1) * words]) != expected else { continue }
                    let have = (0..<p).filter { data[rank][e * words + $0 / 64] & (1 << UInt64($0 % 64)) != 0 }
                    problems.append(collective == .allGather
                                    ? "rank \(rank) element \(e) ends with the blocks of ranks \(have.prefix(8)), not rank \(ownerOf[e])'s"
                                    : "rank \(rank) element \(e) ends with \(have.count) of \(p) contributions")
                    return
                }
            }
        }
    }

    mutating func execute(_ step: Step, rank: Int, stream: Int, index: Int) -> Outcome {
        let place = "rank \(rank) stream \(stream) step \(index) (\(step))"
        for r in step.reads + step.writes {
            let limit = r.buffer == .data ? count : schedules[rank].scratchCount
            guard r.offset >= 0, r.count >= 0, r.end <= limit else {
                problems.append("\(place): region outside its buffer (\(r.buffer) has \(limit) elements)")
                return .failed
            }
        }
        switch step {
        case let .send(peer, region):
            guard (0..<p).contains(peer), peer != rank else {
                problems.append("\(place): peer \(peer) is not another rank of the group")
                return .failed
            }
            channels[Channel(from: rank, to: peer, stream: stream), default: []]
                .append(Message(elements: read(region, rank), count: region.count))
            messages += 1
            elementsSent += region.count
            if let h = topology.hops(from: rank, to: peer) {
                hopsTotal += h
                maxHops = Swift.max(maxHops ?? 0, h)
            }
            var link: DirectedLink?
            if let machine = topology.machine, let nodes = topology.machineNodeOf,
               let first = try? machine.route(from: nodes[rank], to: nodes[peer]).first {
                link = first
                linkElements[first, default: 0] += region.count
            }
            sendLinks[rank][stream].append(link)
            return .done
        case let .recv(peer, region), let .recvReduce(peer, region, _), let .recvReduceReceivedFirst(peer, region, _):
            guard (0..<p).contains(peer), peer != rank else {
                problems.append("\(place): peer \(peer) is not another rank of the group")
                return .failed
            }
            let key = Channel(from: peer, to: rank, stream: stream)
            let head = heads[key, default: 0]
            guard let queue = channels[key], head < queue.count else { return .blocked }
            let message = queue[head]
            heads[key] = head + 1
            guard message.count == region.count else {
                problems.append("\(place): expects \(region.count) elements but rank \(peer) sent \(message.count)")
                return .failed
            }
            write(region, rank, message.elements)
            switch step {
            // Contributions are sets: the operand order (`recvReduceReceivedFirst`) does not change them.
            case let .recvReduce(_, _, target), let .recvReduceReceivedFirst(_, _, target):
                return combine(target, rank, message.elements, place) ? .done : .failed
            default:
                return .done
            }
        case let .reduce(source, target):
            return combine(target, rank, read(source, rank), place) ? .done : .failed
        case let .copy(source, target):
            guard source.count == target.count else {
                problems.append("\(place): source and target sizes differ")
                return .failed
            }
            write(target, rank, read(source, rank))
            return .done
        }
    }

    func read(_ r: Region, _ rank: Int) -> [UInt64] {
        let a = r.buffer == .data ? data[rank] : scratch[rank]
        return Array(a[r.offset * words ..< r.end * words])
    }

    mutating func write(_ r: Region, _ rank: Int, _ v: [UInt64]) {
        if r.buffer == .data { data[rank].replaceSubrange(r.offset * words ..< r.end * words, with: v) }
        else { scratch[rank].replaceSubrange(r.offset * words ..< r.end * words, with: v) }
    }

    /// target ∪= v, failing if any contribution would be counted twice.
    mutating func combine(_ target: Region, _ rank: Int, _ v: [UInt64], _ place: String) -> Bool {
        guard target.count * words == v.count else {
            problems.append("\(place): source and target sizes differ")
            return false
        }
        var t = read(target, rank)
        for i in t.indices {
            if t[i] & v[i] != 0 {
                problems.append("\(place): element \(target.offset + i / words) would hold a contribution twice")
                return false
            }
            t[i] |= v[i]
        }
        write(target, rank, t)
        return true
    }

    /// (rank, k) pairs at which two streams leave on the same directed link in their k-th phase. A
    /// phase is a run of sends on one link (a stream may cut a ring step into several sends, so
    /// sends are counted by the link they use, not one by one).
    func linkConflicts() -> Int {
        var conflicts = 0
        for rank in 0..<p {
            let phases = sendLinks[rank].map { links in
                links.enumerated().compactMap { i, link in i > 0 && links[i - 1] == link ? nil : link }
            }
            let longest = phases.map(\.count).max() ?? 0
            for k in 0..<longest {
                let links = phases.compactMap { k < $0.count ? $0[k] : nil }
                if Set(links).count < links.count { conflicts += 1 }
            }
        }
        return conflicts
    }

    func linkLoad() -> VerificationReport.LinkLoad? {
        guard let machine = topology.machine, !linkElements.isEmpty else { return nil }
        var perDirection = [Int](repeating: 0, count: 6)
        for (link, n) in linkElements where link.axis < 3 {
            perDirection[link.axis * 2 + (link.direction == .plus ? 0 : 1)] += n
        }
        let loads = linkElements.values
        let lo = loads.min()!, hi = loads.max()!
        _ = machine
        return .init(linksUsed: linkElements.count, minElements: lo, maxElements: hi,
                     maxOverMin: lo == 0 ? .infinity : Double(hi) / Double(lo), perDirection: perDirection)
    }
}
