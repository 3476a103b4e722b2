// The Swift API on a simulated torus: 64 ranks in this process, a data-parallel split, a
// six-direction AllReduce per group, and the link counters afterwards.
//
//     swift run example-simulated-allreduce
import TorusCore
import TorusRuntime
import TorusSim

let torus = SimulatedTorus(shape: try TorusShape(4, 4, 4))
try torus.run { world in
    // A DP×TP job with TP = 2 in Megatron order (rank = dp·TP + tp): the data-parallel group of a
    // rank is every rank with the same tp, here 32 ranks on a 2×4×4 box of the torus.
    let tp = 2
    let dataParallel = try world.split(color: world.rank % tp, key: world.rank)!
    var gradients = [Float](repeating: Float(world.rank % 3), count: 1 << 16)
    try dataParallel.allReduce(inPlace: &gradients, op: .sum, algorithm: .sixRing)
    if world.rank == 0 {
        print("DP group of rank 0: \(dataParallel.size) ranks on \(dataParallel.topology)")
        print("gradient[0] after AllReduce: \(gradients[0])")
    }
}
let traffic = torus.linkTraffic
// The counters cover the whole run: the split's exchange of colours (rank to every rank, several
// hops) as well as the AllReduce. On the DP group's grid X has length 2 (x = 0 and 2), so both
// directions of that ring go to the same node and count on +X.
print("bytes leaving node 0 on +X −X +Y −Y +Z −Z (split and AllReduce): \(traffic.outgoing(node: 0))")
print("most hops any message took: \(traffic.maxHops)")
