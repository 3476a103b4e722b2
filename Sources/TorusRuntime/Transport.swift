import TorusCore

/// A pending nonblocking operation of a transport.
public struct TransportRequest: Hashable, Sendable {
    public let id: Int
    public init(id: Int) { self.id = id }
}

/// Point-to-point messaging among the ranks of one group: nonblocking send and receive with tags,
/// and completion by test, wait and wait-any. Messages between two ranks with the same tag arrive
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
    /// Whether the request has completed (a completed request is forgotten by the transport).
    func test(_ request: TransportRequest) throws -> Bool
    /// Blocks until one of `requests` completes and returns its index; the request is forgotten.
    func waitAny(_ requests: [TransportRequest]) throws -> Int
    /// As `waitAny`, but gives up after `seconds` without any of `requests` completing and returns
    /// nil (the stall watch). Transports without a clock of their own wait without a limit.
    func waitAny(_ requests: [TransportRequest], within seconds: Double) throws -> Int?
    /// Withdraws a request after a failure, so that its buffer is never touched again; the
    /// request is forgotten. Called only on the way out of an error.
    func cancel(_ request: TransportRequest)
}

extension Transport {
    public func waitAny(_ requests: [TransportRequest], within seconds: Double) throws -> Int? {
        try waitAny(requests)
    }

    /// Blocks until the request completes.
    public func wait(_ request: TransportRequest) throws {
        _ = try waitAny([request])
    }
}
