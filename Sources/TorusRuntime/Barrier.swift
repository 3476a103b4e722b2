import TorusCore

extension Communicator {
    /// Blocks until every rank of the group has called `barrier` (dissemination: in round k each
    /// rank signals rank + 2^k and waits for rank − 2^k, ⌈log2 p⌉ rounds).
    public func barrier() throws {
        let p = size
        var distance = 1
        var token: UInt8 = 0, incoming: UInt8 = 0
        while distance < p {
            try withUnsafeBytes(of: &token) { out in
                try withUnsafeMutableBytes(of: &incoming) { into in
                    let r = try transport.irecv(into, from: (rank - distance + p) % p, tag: Self.barrierTag)
                    let s = try transport.isend(out, to: (rank + distance) % p, tag: Self.barrierTag)
                    do {
                        try transport.wait(s)
                        try transport.wait(r)
                    } catch {
                        transport.cancel(r)
                        throw error
                    }
                }
            }
            distance *= 2
        }
    }

    /// The tag barriers use (below the executor's tags).
    static var barrierTag: Int { MessageTags.barrier }
}
