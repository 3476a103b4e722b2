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
/// no dictionary, no allocation once the list has grown to its largest, and no reference counting
/// (`UnsafeList`). Its owner calls `free()` once, as for `UnsafeList`.
public struct RequestList<Owner> {
    private var requests = UnsafeList<TransportRequest>()
    private var owners = UnsafeList<Owner>()
    /// The transport's answer: indices of completed requests (room for every request).
    private var indices = UnsafeList<Int32>()
    /// The owners of the requests the last `complete` reported.
    private var done = UnsafeList<Owner>()

    public init() {}

    public var isEmpty: Bool { requests.isEmpty }
    public var count: Int { requests.count }
    /// The owners of the requests in flight.
    public var pending: [Owner] { owners.array }

    public mutating func append(_ request: TransportRequest, _ owner: Owner) {
        requests.append(request)
        owners.append(owner)
    }

    /// Completes what the transport can (`wait` as in `Transport.complete`), drops the completed
    /// requests and returns how many completed (0 when none did); `completed(k)` is the owner of
    /// the k-th, until the next call.
    public mutating func complete(on transport: Transport, wait: TransportWait) throws -> Int {
        done.removeAll()
        guard !requests.isEmpty else { return 0 }
        indices.reserve(requests.count)
        let n = try transport.complete(UnsafeMutableBufferPointer(start: requests.base, count: requests.count),
                                       into: UnsafeMutableBufferPointer(start: indices.base, count: requests.count), wait: wait)
        guard n > 0 else { return 0 }
        // Sorted in place, then dropped highest index first, each replaced by the last entry: no
        // entry still to drop is moved.
        let index = indices.base
        var reported = UnsafeMutableBufferPointer(start: index, count: n)
        if n > 1 { reported.sort() }
        for k in stride(from: n - 1, through: 0, by: -1) {
            let i = Int(index[k])
            done.append(owners[i])
            requests.swapRemove(at: i)
            owners.swapRemove(at: i)
        }
        return n
    }

    /// The owner of the k-th request the last `complete` reported.
    public func completed(_ k: Int) -> Owner { done[k] }

    /// Empties the list (its requests are over or withdrawn).
    public mutating func removeAll() {
        requests.removeAll()
        owners.removeAll()
        done.removeAll()
    }

    /// Withdraws every request (after a failure) and empties the list.
    public mutating func cancelAll(on transport: Transport) {
        for k in 0 ..< requests.count { transport.cancel(requests[k]) }
        removeAll()
    }

    /// Frees the list's memory; it is unusable afterwards.
    public func free() {
        requests.free()
        owners.free()
        indices.free()
        done.free()
    }
}
