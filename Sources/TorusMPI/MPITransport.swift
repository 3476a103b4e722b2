import CMPI
#if canImport(Glibc)
import Glibc
#endif
import TorusCore
import TorusRuntime

/// A `Transport` over an MPI communicator, built on the PMPI entry points so that a library that
/// replaces `MPI_Allreduce` can use it without calling itself.
final class MPITransport: Transport {
    let comm: MPI_Comm
    let rank: Int
    let size: Int
    private var requests: [Int: MPI_Request?] = [:]
    private var nextID = 0

    init(comm: MPI_Comm, rank: Int, size: Int) {
        self.comm = comm
        self.rank = rank
        self.size = size
    }

    func isend(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws -> TransportRequest {
        var request: MPI_Request? = torus_MPI_REQUEST_NULL()
        try mpiCheck(PMPI_Isend(buffer.baseAddress, try messageCount(buffer.count), torus_MPI_BYTE(), Int32(peer), Int32(tag), comm, &request),
                     "MPI_Isend of \(buffer.count) bytes to rank \(peer)")
        return remember(request)
    }

    func irecv(_ buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws -> TransportRequest {
        var request: MPI_Request? = torus_MPI_REQUEST_NULL()
        try mpiCheck(PMPI_Irecv(buffer.baseAddress, try messageCount(buffer.count), torus_MPI_BYTE(), Int32(peer), Int32(tag), comm, &request),
                     "MPI_Irecv of \(buffer.count) bytes from rank \(peer)")
        return remember(request)
    }

    func test(_ request: TransportRequest) throws -> Bool {
        guard var r: MPI_Request? = requests[request.id] ?? nil else { return true }
        var flag: Int32 = 0
        let code = PMPI_Test(&r, &flag, torus_MPI_STATUS_IGNORE())
        // MPI frees a request that completes, even in error, and sets the handle to MPI_REQUEST_NULL:
        // keep what MPI left, so that `cancel` never frees a handle twice.
        requests[request.id] = flag != 0 || r == torus_MPI_REQUEST_NULL() ? nil : r
        try mpiCheck(code, "MPI_Test")
        return flag != 0
    }

    func waitAny(_ list: [TransportRequest]) throws -> Int {
        var handles: [MPI_Request?] = list.map { requests[$0.id] ?? torus_MPI_REQUEST_NULL() }
        var index: Int32 = 0
        let code = PMPI_Waitany(Int32(handles.count), &handles, &index, torus_MPI_STATUS_IGNORE())
        return try settle(list, handles, index: index, code: code)
    }

    /// MPI_Testany until one completes or `seconds` pass (nil then): the stall watch's wait. MPI's
    /// own Waitany polls too, so this costs no more; the clock is read every 256 polls.
    func waitAny(_ list: [TransportRequest], within seconds: Double) throws -> Int? {
        var handles: [MPI_Request?] = list.map { requests[$0.id] ?? torus_MPI_REQUEST_NULL() }
        let deadline = monotonicSeconds() + seconds
        var polls = 0
        while true {
            var index: Int32 = 0, flag: Int32 = 0
            let code = PMPI_Testany(Int32(handles.count), &handles, &index, &flag, torus_MPI_STATUS_IGNORE())
            if flag != 0 || code != torus_MPI_SUCCESS() { return try settle(list, handles, index: index, code: code) }
            polls += 1
            if polls % 256 == 0 && monotonicSeconds() > deadline { return nil }
        }
    }

    /// After MPI_Waitany/MPI_Testany: a request that completed — in error too — has been freed by
    /// MPI and its handle set to MPI_REQUEST_NULL. Forget it before reporting, so that `cancel`
    /// never frees it again; then report the error or return the index.
    private func settle(_ list: [TransportRequest], _ handles: [MPI_Request?], index: Int32, code: Int32) throws -> Int {
        for (i, handle) in handles.enumerated() where handle == torus_MPI_REQUEST_NULL() { requests[list[i].id] = nil }
        if index >= 0 && index != torus_MPI_UNDEFINED() && Int(index) < list.count { requests[list[Int(index)].id] = nil }
        try mpiCheck(code, "MPI_Waitany (a message size that differs between ranks shows up here: did every rank pass the same count and type? TORUS_CHECK=1 checks that before any data moves)")
        guard index != torus_MPI_UNDEFINED() else {
            throw TorusError.communication("MPI_Waitany: none of the \(list.count) requests was active")
        }
        return Int(index)
    }

    func cancel(_ request: TransportRequest) {
        guard var r: MPI_Request? = requests.removeValue(forKey: request.id) ?? nil else { return }
        PMPI_Cancel(&r)
        PMPI_Request_free(&r)
    }

    private func remember(_ request: MPI_Request?) -> TransportRequest {
        nextID += 1
        requests[nextID] = request
        return TransportRequest(id: nextID)
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
