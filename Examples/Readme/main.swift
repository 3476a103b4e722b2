// The AllReduce example of the README, compiled as written (`swift run example-readme`); a test
// keeps the two identical.
import TorusSim   // brings TorusCore, TorusSchedules, TorusRuntime and TorusPredictor

let torus = SimulatedTorus(shape: try TorusShape(4, 4, 4))      // 64 ranks, one thread each
try torus.run { comm in                                          // comm: Communicator
    var grads = [Float](repeating: 1, count: 1 << 20)
    try comm.allReduce(inPlace: &grads, op: .sum)                 // algorithm chosen per call
    let maxima = try comm.allReduce(grads, op: .max, algorithm: .sixRing) // out of place, forced
    if comm.rank == 0 { print(maxima[0]) }
    let dp = try comm.split(color: comm.rank % 2, key: comm.rank)!        // MPI_Comm_split semantics
    try dp.allReduce(inPlace: &grads, op: .sum)
}
print(torus.linkTraffic.outgoing(node: 0))    // bytes on +X −X +Y −Y +Z −Z of node 0
