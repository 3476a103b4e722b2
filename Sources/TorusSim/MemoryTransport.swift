import TorusCore
import TorusRuntime

/// A `Transport` over the simulated torus's shared memory: one per rank and communicator.
final class MemoryTransport: Transport {
    let fabric: MemoryFabric
    /// This rank in the group.
    let rank: Int
    /// World rank of each group rank.
    let members: [Int]
    let context: Int
    /// What each outstanding receive waits for, for timeout reports.
    private var pending: [Int: String] = [:]

    var size: Int { members.count }
    var worldRank: Int { members[rank] }

    init(fabric: MemoryFabric, rank: Int, members: [Int], context: Int) {
        self.fabric = fabric
        self.rank = rank
        self.members = members
        self.context = context
    }

    func isend(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws -> TransportRequest {
        try check(peer)
        let id = try fabric.send(buffer, from: worldRank, to: members[peer], context: context, tag: tag)
        pending[id] = "for rank \(members[peer]) to receive \(buffer.count) bytes (tag \(tag), communicator \(context))"
        return TransportRequest(id: id)
    }

    func irecv(_ buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws -> TransportRequest {
        try check(peer)
        let id = fabric.post(buffer, at: worldRank, from: members[peer], context: context, tag: tag)
        pending[id] = "for \(buffer.count) bytes from rank \(members[peer]) (tag \(tag), communicator \(context))"
        return TransportRequest(id: id)
    }

    /// The stall watch's `within` returns 0 after its seconds with none complete (the simulation's
    /// own timeout, which ends the whole job, still applies).
    func complete(_ requests: UnsafeMutableBufferPointer<TransportRequest>, into completed: UnsafeMutableBufferPointer<Int32>,
                  wait: TransportWait) throws -> Int {
        var limit: Double?
        if case let .within(seconds) = wait { limit = seconds }
        let n = try fabric.complete(requests, into: completed, at: worldRank, block: wait != .poll, limit: limit, describing: {
            requests.compactMap { pending[$0.id] }.prefix(3).joined(separator: ", ")
        })
        for k in 0 ..< n { pending[requests[Int(completed[k])].id] = nil }
        return n
    }

    func cancel(_ request: TransportRequest) {
        fabric.cancel(request.id, at: worldRank)
        pending[request.id] = nil
    }

    private func check(_ peer: Int) throws {
        guard (0..<size).contains(peer) else {
            throw TorusError.invalidValue(name: "peer", value: "\(peer)", expected: "a rank in 0..<\(size)")
        }
    }
}
