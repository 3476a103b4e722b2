import TorusCore

/// A pending nonblocking operation of a transport: an opaque handle (on MPI, the `MPI_Request`
/// itself, so that a caller's flat list of them is the array MPI tests).
public struct TransportRequest: Hashable, Sendable {
    public let id: Int
    public init(id: Int) { self.id = id }
}

/// How long `Transport.complete` may block.
public enum TransportWait: Sendable, Equatable {
    /// Not at all: report what has completed.
    case poll
    /// Until at least one request completes.
    case block
    /// Until at least one completes or `seconds` pass (the stall watch). Transports without a clock
    /// of their own wait without a limit.
    case within(seconds: Double)
}

/// Point-to-point messaging among the ranks of one group: nonblocking send and receive with tags,
/// and completion of a flat list of requests. Messages between two ranks with the same tag arrive
/// in the order they were sent (MPI's non-overtaking rule), which is what matches the executor's
/// sends to its receives.
///
/// Only the thread that runs the executor calls a transport (MPI_THREAD_FUNNELED is enough).
/// Buffers lent to `isend`/`irecv` must stay valid until the request completes.
public protocol Transport: AnyObject {
    /// This rank in the group.
    var rank: Int { get }
    /// Ranks in the group.
    var size: Int { get }
    /// Starts sending `buffer` to `peer`.
    func isend(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws -> TransportRequest
    /// Starts receiving exactly `buffer.count` bytes from `peer` into `buffer`.
    func irecv(_ buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws -> TransportRequest
    /// Completes what it can of `requests` (MPI_Testsome / MPI_Waitsome): writes the indices of the
    /// completed ones into `completed` (room for `requests.count`) and returns how many — 0 when
    /// nothing completed (`poll`, or `within` timed out). Completed requests are forgotten by the
    /// transport, which may overwrite their entries; the caller drops them. On an error, a request
    /// the transport has let go of has its entry replaced by one that `cancel` ignores.
    func complete(_ requests: UnsafeMutableBufferPointer<TransportRequest>, into completed: UnsafeMutableBufferPointer<Int32>,
                  wait: TransportWait) throws -> Int
    /// Withdraws a request after a failure, so that its buffer is never touched again; the
    /// request is forgotten. Called only on the way out of an error.
    func cancel(_ request: TransportRequest)
}

extension Transport {
    /// Blocks until the request completes.
    public func wait(_ request: TransportRequest) throws {
        var list = [request]
        var index: Int32 = 0
        _ = try list.withUnsafeMutableBufferPointer { r in
            try withUnsafeMutablePointer(to: &index) { try complete(r, into: UnsafeMutableBufferPointer(start: $0, count: 1), wait: .block) }
        }
    }
}

/// Requests in flight in one flat list, each with what its owner needs to know when it completes:
/// completion costs the transport's scan of the list and, here, work per completed request only —
/// no dictionary, and no allocation once the list has grown to its largest.
public struct RequestList<Owner> {
    private var requests: [TransportRequest] = []
    private var owners: [Owner] = []
    private var indices: [Int32] = []
    private var finished: [Owner] = []

    public init() {}

    public var isEmpty: Bool { requests.isEmpty }
    public var count: Int { requests.count }
    /// The owners of the requests in flight.
    public var pending: [Owner] { owners }

    public mutating func append(_ request: TransportRequest, _ owner: Owner) {
        requests.append(request)
        owners.append(owner)
    }

    /// Completes what the transport can (`wait` as in `Transport.complete`), drops the completed
    /// requests and returns their owners (empty when none completed).
    public mutating func complete(on transport: Transport, wait: TransportWait) throws -> [Owner] {
        guard !requests.isEmpty else { return [] }
        if indices.count < requests.count { indices = [Int32](repeating: 0, count: max(requests.count, 2 * indices.count)) }
        let n = try requests.withUnsafeMutableBufferPointer { r in
            try indices.withUnsafeMutableBufferPointer { i in try transport.complete(r, into: i, wait: wait) }
        }
        guard n > 0 else { return [] }
        // Highest index first, each replaced by the last entry: no entry still to drop is moved.
        indices[0 ..< n].sort(by: >)
        finished.removeAll(keepingCapacity: true)
        for k in 0 ..< n {
            let i = Int(indices[k])
            finished.append(owners[i])
            requests[i] = requests[requests.count - 1]
            owners[i] = owners[owners.count - 1]
            requests.removeLast()
            owners.removeLast()
        }
        return finished
    }

    /// Empties the list, keeping its memory (its requests are over or withdrawn).
    public mutating func removeAll() {
        requests.removeAll(keepingCapacity: true)
        owners.removeAll(keepingCapacity: true)
    }

    /// Withdraws every request (after a failure) and empties the list.
    public mutating func cancelAll(on transport: Transport) {
        for r in requests { transport.cancel(r) }
        requests.removeAll(keepingCapacity: true)
        owners.removeAll(keepingCapacity: true)
    }
}
