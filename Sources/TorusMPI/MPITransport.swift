import CMPI
#if canImport(Glibc)
import Glibc
#endif
import TorusCore
import TorusRuntime

/// A `Transport` over an MPI communicator, built on the PMPI entry points so that a library that
/// replaces `MPI_Allreduce` can use it without calling itself. A `TransportRequest` is the
/// `MPI_Request` itself: the caller's flat list is the array MPI_Testsome and MPI_Waitsome scan, and
/// this type keeps no table of its own.
final class MPITransport: Transport {
    let comm: MPI_Comm
    let rank: Int
    let size: Int

    init(comm: MPI_Comm, rank: Int, size: Int) {
        precondition(MemoryLayout<MPI_Request?>.stride == MemoryLayout<TransportRequest>.stride, "an MPI_Request is one pointer")
        self.comm = comm
        self.rank = rank
        self.size = size
    }

    func isend(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws -> TransportRequest {
        var request: MPI_Request? = torus_MPI_REQUEST_NULL()
        try mpiCheck(PMPI_Isend(buffer.baseAddress, try messageCount(buffer.count), torus_MPI_BYTE(), Int32(peer), Int32(tag), comm, &request),
                     "MPI_Isend of \(buffer.count) bytes to rank \(peer)")
        return TransportRequest(id: Int(bitPattern: request))
    }

    func irecv(_ buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws -> TransportRequest {
        var request: MPI_Request? = torus_MPI_REQUEST_NULL()
        try mpiCheck(PMPI_Irecv(buffer.baseAddress, try messageCount(buffer.count), torus_MPI_BYTE(), Int32(peer), Int32(tag), comm, &request),
                     "MPI_Irecv of \(buffer.count) bytes from rank \(peer)")
        return TransportRequest(id: Int(bitPattern: request))
    }

    /// MPI_Testsome, MPI_Waitsome, or (`within`) MPI_Testsome until one completes or the time is
    /// up — MPI's own Waitsome polls too, so this costs no more; the clock is read every 256 polls.
    /// MPI frees a request that completes without error and sets its entry to MPI_REQUEST_NULL, in
    /// the caller's list itself; a request that completes in error is left for `cancel` to free.
    func complete(_ requests: UnsafeMutableBufferPointer<TransportRequest>, into completed: UnsafeMutableBufferPointer<Int32>,
                  wait: TransportWait) throws -> Int {
        guard let base = requests.baseAddress, requests.count > 0 else { return 0 }
        let n = Int32(requests.count)
        return try base.withMemoryRebound(to: MPI_Request?.self, capacity: requests.count) { handles in
            var outcount: Int32 = 0
            var code: Int32
            switch wait {
            case .poll:
                code = PMPI_Testsome(n, handles, &outcount, completed.baseAddress, torus_MPI_STATUSES_IGNORE())
            case .block:
                code = PMPI_Waitsome(n, handles, &outcount, completed.baseAddress, torus_MPI_STATUSES_IGNORE())
            case let .within(seconds):
                // The clock is first read after 256 polls: most waits of a small call end sooner,
                // and a read costs as much as a poll (the limit is seconds; a few µs late is nothing).
                var deadline = Double.infinity
                var polls = 0
                while true {
                    code = PMPI_Testsome(n, handles, &outcount, completed.baseAddress, torus_MPI_STATUSES_IGNORE())
                    if code != torus_MPI_SUCCESS() || outcount != 0 { break }
                    polls += 1
                    if polls % 256 == 0 {
                        let now = monotonicSeconds()
                        if deadline == .infinity { deadline = now + seconds } else if now > deadline { return 0 }
                    }
                }
            }
            try mpiCheck(code, "MPI_Waitsome (a message size that differs between ranks shows up here: did every rank pass the same count and type? TORUS_CHECK=1 checks that before any data moves)")
            guard outcount != torus_MPI_UNDEFINED() else {
                throw TorusError.communication("MPI_Waitsome: none of the \(requests.count) requests was active")
            }
            return Int(outcount)
        }
    }

    func cancel(_ request: TransportRequest) {
        var r = MPI_Request(bitPattern: request.id)
        guard r != nil, r != torus_MPI_REQUEST_NULL() else { return }
        PMPI_Cancel(&r)
        PMPI_Request_free(&r)
    }

    private func messageCount(_ bytes: Int) throws -> Int32 {
        guard bytes <= Int(Int32.max) else {
            throw TorusError.invalidValue(name: "message size", value: "\(bytes) bytes", expected: "at most 2 GiB per message (lower TORUS_SEGMENT_BYTES)")
        }
        return Int32(bytes)
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
