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

    func test(_ request: TransportRequest) throws -> Bool {
        guard try fabric.test(request.id, at: worldRank) else { return false }
        pending[request.id] = nil
        return true
    }

    func waitAny(_ requests: [TransportRequest]) throws -> Int {
        try waitAny(requests, limit: nil)!
    }

    /// The stall watch's wait: nil after `seconds` with none complete (the simulation's own
    /// timeout, which ends the whole job, still applies).
    func waitAny(_ requests: [TransportRequest], within seconds: Double) throws -> Int? {
        try waitAny(requests, limit: seconds)
    }

    private func waitAny(_ requests: [TransportRequest], limit: Double?) throws -> Int? {
        let ids = requests.map(\.id)
        guard let index = try fabric.waitAny(ids, at: worldRank, limit: limit, describing: {
            ids.compactMap { pending[$0] }.prefix(3).joined(separator: ", ")
        }) else { return nil }
        pending[ids[index]] = nil
        return index
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
