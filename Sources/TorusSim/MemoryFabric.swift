import Foundation
import TorusCore
import TorusRuntime

/// A fault to inject into a simulated torus.
public enum Fault: Sendable, Hashable {
    /// Every message whose route crosses `link` arrives `seconds` later (later messages between the
    /// same ranks queue behind it, as on a real link).
    case slowLink(DirectedLink, seconds: Double)
    /// The `index`-th message (0-based, any communicator) from world rank `from` to `to` is lost.
    case dropMessage(from: Int, to: Int, index: Int)
}

/// The shared memory that carries the simulated torus's messages: a mailbox per rank, the link
/// counters, the registry of waiting ranks (for timeout reports) and the abort flag.
// @unchecked Sendable: mailboxes, counters and the waiting registry are behind `lock`; the rest is immutable.
final class MemoryFabric: @unchecked Sendable {
    struct Key: Hashable { var context: Int, source: Int, tag: Int }
    struct Envelope {
        var bytes: [UInt8]
        var availableAt: Double
        var delayed: Bool
        /// For a rendezvous send: the sender's world rank and request, completed when matched.
        var sender: (rank: Int, request: Int)?
    }
    struct Posted { var id: Int; var buffer: UnsafeMutableRawBufferPointer; var from: Int }

    /// One rank's incoming side. Everything in it is guarded by `condition`'s lock.
    final class Mailbox {
        let condition = NSCondition()
        var envelopes: [Key: [Envelope]] = [:]
        var posted: [Key: [Posted]] = [:]
        /// Completed request ids, with an error message for a failed one.
        var completed: [Int: String?] = [:]
        var nextID = 0
        /// Delayed messages not yet delivered: while any, waits re-check the queues as time passes.
        var delayed = 0
    }

    let shape: TorusShape
    let timeout: Double
    let faults: [Fault]
    /// Messages larger than this complete at the sender only once the receiver has posted a
    /// matching receive (rendezvous), as MPI's large messages do; smaller ones complete at once.
    let eagerLimit: Int
    let mailboxes: [Mailbox]
    private let lock = NSLock()
    private var traffic: LinkTraffic
    private var waiting: [Int: String] = [:]
    private var abortReason: String?
    private var contexts: [String: Int] = [:]
    private var sentCounts: [[Int]: Int] = [:]

    init(shape: TorusShape, timeout: Double, faults: [Fault], eagerLimit: Int) {
        self.shape = shape
        self.timeout = timeout
        self.faults = faults
        self.eagerLimit = eagerLimit
        mailboxes = (0..<shape.nodeCount).map { _ in Mailbox() }
        traffic = LinkTraffic(shape: shape)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    // MARK: Messages

    /// Sends a copy of `buffer` from world rank `source` to `destination`, counts it on every link
    /// of its route, and returns the sender's request: complete at once for an eager message (up to
    /// `eagerLimit` bytes) or one that meets a posted receive, else when the receive is posted.
    func send(_ buffer: UnsafeRawBufferPointer, from source: Int, to destination: Int, context: Int, tag: Int) throws -> Int {
        let route = try shape.route(from: source, to: destination)
        var delay = 0.0
        var dropped = false
        lock.lock()
        traffic.record(route: route, bytes: buffer.count)
        let index = sentCounts[[source, destination], default: 0]
        sentCounts[[source, destination]] = index + 1
        lock.unlock()
        for fault in faults {
            switch fault {
            case let .slowLink(link, seconds) where route.contains(link): delay += seconds
            case let .dropMessage(from, to, i) where from == source && to == destination && i == index: dropped = true
            default: break
            }
        }
        let request = newRequest(at: source)
        if dropped {
            complete(request, at: source)
            return request
        }
        let box = mailboxes[destination]
        box.condition.lock()
        let key = Key(context: context, source: source, tag: tag)
        // A receive already waits and nothing is queued ahead: copy straight into it.
        if delay == 0, box.envelopes[key]?.isEmpty ?? true, let receive = box.posted[key]?.first {
            box.posted[key]!.removeFirst()
            if buffer.count != receive.buffer.count {
                box.completed[receive.id] = .some(sizeMismatch(sent: buffer.count, expected: receive.buffer.count, from: receive.from))
            } else {
                if buffer.count > 0 { ByteCopy.copy(to: receive.buffer.baseAddress!, from: buffer.baseAddress!, count: buffer.count) }
                box.completed[receive.id] = .some(nil)
            }
            box.condition.broadcast()
            box.condition.unlock()
            complete(request, at: source)
            return request
        }
        let rendezvous = buffer.count > eagerLimit
        box.envelopes[key, default: []].append(Envelope(bytes: Array(buffer), availableAt: MemoryFabric.now() + delay,
                                                        delayed: delay > 0, sender: rendezvous ? (source, request) : nil))
        if delay > 0 { box.delayed += 1 }
        let notify = match(key, in: box)
        box.condition.unlock()
        deliver(notify)
        if !rendezvous { complete(request, at: source) }
        return request
    }

    /// A new request id at `rank`.
    private func newRequest(at rank: Int) -> Int {
        let box = mailboxes[rank]
        box.condition.lock()
        defer { box.condition.unlock() }
        box.nextID += 1
        return box.nextID
    }

    /// Marks a request of `rank` complete and wakes the rank. Takes only that rank's lock.
    private func complete(_ id: Int, at rank: Int) {
        let box = mailboxes[rank]
        box.condition.lock()
        box.completed[id] = .some(nil)
        box.condition.broadcast()
        box.condition.unlock()
    }

    /// Completes matched rendezvous sends; called with no mailbox lock held (lock order).
    private func deliver(_ senders: [(rank: Int, request: Int)]) {
        for s in senders { complete(s.request, at: s.rank) }
    }

    /// Posts a receive on `destination`'s mailbox; returns its request id.
    func post(_ buffer: UnsafeMutableRawBufferPointer, at destination: Int, from source: Int, context: Int, tag: Int) -> Int {
        let box = mailboxes[destination]
        box.condition.lock()
        defer { box.condition.unlock() }
        box.nextID += 1
        let id = box.nextID
        let key = Key(context: context, source: source, tag: tag)
        box.posted[key, default: []].append(Posted(id: id, buffer: buffer, from: source))
        let notify = match(key, in: box)
        box.condition.unlock()
        deliver(notify)
        box.condition.lock()
        return id
    }

    /// Pairs arrived messages with posted receives, oldest first, and returns the rendezvous
    /// senders to complete once the lock is released. Caller holds the mailbox lock.
    private func match(_ key: Key, in box: Mailbox) -> [(rank: Int, request: Int)] {
        var senders: [(rank: Int, request: Int)] = []
        let now = MemoryFabric.now()
        while let envelope = box.envelopes[key]?.first, envelope.availableAt <= now, let receive = box.posted[key]?.first {
            box.envelopes[key]!.removeFirst()
            box.posted[key]!.removeFirst()
            if envelope.delayed { box.delayed -= 1 }
            if envelope.bytes.count != receive.buffer.count {
                box.completed[receive.id] = .some(sizeMismatch(sent: envelope.bytes.count, expected: receive.buffer.count, from: receive.from))
            } else {
                envelope.bytes.withUnsafeBytes { if $0.count > 0 { ByteCopy.copy(to: receive.buffer.baseAddress!, from: $0.baseAddress!, count: $0.count) } }
                box.completed[receive.id] = .some(nil)
            }
            if let sender = envelope.sender { senders.append(sender) }
        }
        if !senders.isEmpty || box.completed.count > 0 { box.condition.broadcast() }
        return senders
    }

    /// Matches every due message at a mailbox whose lock the caller holds, completing rendezvous
    /// senders with the lock briefly released.
    private func matchDue(_ box: Mailbox) {
        var notify: [(rank: Int, request: Int)] = []
        for key in Array(box.envelopes.keys) { notify += match(key, in: box) }
        guard !notify.isEmpty else { return }
        box.condition.unlock()
        deliver(notify)
        box.condition.lock()
    }

    private func sizeMismatch(sent: Int, expected: Int, from: Int) -> String {
        "rank \(from) sent \(sent) bytes where \(expected) were expected: the ranks called the collective with different counts, types or algorithms"
    }

    /// Completes what it can of `requests` at `rank` (their ids): writes the indices of the
    /// completed ones into `completed` and returns how many. With `block`, waits until one completes;
    /// with a `limit` below the timeout as well, returns 0 once `limit` seconds pass with none.
    /// Throws on a failed request, a timeout (naming every waiting rank) or an abort of the job.
    func complete(_ requests: UnsafeMutableBufferPointer<TransportRequest>, into completed: UnsafeMutableBufferPointer<Int32>, at rank: Int,
                  block: Bool, limit: Double? = nil, describing what: () -> String) throws -> Int {
        let box = mailboxes[rank]
        let start = MemoryFabric.now()
        let deadline = start + timeout
        let giveUp = limit.map { start + $0 } ?? .infinity
        var registered = false
        box.condition.lock()
        defer {
            box.condition.unlock()
            if registered { setWaiting(rank, nil) }
        }
        while true {
            if box.delayed > 0 { matchDue(box) }
            var n = 0
            if !box.completed.isEmpty {
                for (i, request) in requests.enumerated() {
                    guard let failure = box.completed.removeValue(forKey: request.id) else { continue }
                    if let failure { throw TorusError.communication("rank \(rank): \(failure)") }
                    completed[n] = Int32(i)
                    n += 1
                }
            }
            if n > 0 || !block { return n }
            if let reason = aborted() { throw TorusError.communication("rank \(rank) stopped: \(reason)") }
            let now = MemoryFabric.now()
            if now >= giveUp && giveUp < deadline { return 0 }
            if now >= deadline {
                let list = waitingRanks()
                abort("rank \(rank) timed out")
                throw TorusError.timeout(seconds: timeout, waiting: list)
            }
            if !registered {
                setWaiting(rank, what())
                registered = true
            }
            // Short slices: wake for delayed messages and for an abort raised elsewhere.
            _ = box.condition.wait(until: Date(timeIntervalSinceNow: min(0.05, min(deadline, giveUp) - now)))
        }
    }

    /// Withdraws a receive that has not matched yet (or forgets a completed request).
    func cancel(_ id: Int, at rank: Int) {
        let box = mailboxes[rank]
        box.condition.lock()
        defer { box.condition.unlock() }
        box.completed[id] = nil
        for key in Array(box.posted.keys) { box.posted[key]!.removeAll { $0.id == id } }
    }

    // MARK: Job state

    func abort(_ reason: String) {
        lock.lock()
        if abortReason == nil { abortReason = reason }
        lock.unlock()
    }

    func aborted() -> String? {
        lock.lock()
        defer { lock.unlock() }
        return abortReason
    }

    private func setWaiting(_ rank: Int, _ what: String?) {
        lock.lock()
        waiting[rank] = what
        lock.unlock()
    }

    private func waitingRanks() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return waiting.keys.sorted().map { "rank \($0) \(waiting[$0]!)" }
    }

    /// A context id shared by all members of a new communicator: the same name gives the same id.
    func context(named name: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        if let id = contexts[name] { return id }
        let id = contexts.count + 1
        contexts[name] = id
        return id
    }

    func linkTraffic() -> LinkTraffic {
        lock.lock()
        defer { lock.unlock() }
        return traffic
    }
}
