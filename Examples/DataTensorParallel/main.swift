// A DP×TP training step in Swift, on a simulated torus or on MPI: a linear model whose weight
// matrix is split by input columns over the tensor-parallel (TP) ranks. Each step, the TP ranks
// of a replica sum their partial outputs (AllReduce on the TP subcommunicator), compute their
// shard's gradient, and the data-parallel (DP) ranks holding the same shard sum their gradients
// (AllReduce on the DP subcommunicator). Ranks are placed with the placement generator.
//
//     swift run example-dp-tp                       # 2x2x2 simulated torus, tp=2, dp=4, generated placement
//     torus rankmap generate --torus 2x2x2 --job tp=2,dp=4 --format json --output job.json
//     mpirun -np 8 -x TORUS_RANKMAP=job.json .build/debug/example-dp-tp --mpi
//
// Ends by checking that the replicas of each shard hold bit-identical weights and that the loss
// fell; exits non-zero otherwise.
import CMPI
import Foundation
import Synchronization
import TorusCore
import TorusMPI
import TorusRuntime
import TorusSim

let inputs = 256, outputs = 32, batch = 64, steps = 40
let layout = try JobLayout(tp: 2, pp: 1, dp: 4)

/// A deterministic generator in [-1, 1).
struct Numbers {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float((state >> 40) & 0xFFFFFF) / Float(1 << 23) - 1
    }
}

/// Trains on `job`, whose rank r is job rank r of `layout`; returns the losses seen by job rank 0.
func train(_ job: Communicator) throws -> [Double] {
    let (t, _, d) = layout.indices(of: job.rank)
    let tensor = try job.split(color: d, key: t)!       // the TP ranks of this replica
    let data = try job.split(color: t, key: d)!         // the DP ranks holding this shard
    let columns = inputs / layout.tp, first = t * columns
    var teacherNumbers = Numbers(state: 99)
    let teacher = (0..<outputs * inputs).map { _ in teacherNumbers.next() }
    var weights = [Float](repeating: 0, count: outputs * columns)          // this rank's shard, row-major
    var numbers = Numbers(state: 1000 + UInt64(d))                          // the replica's own samples
    var losses: [Double] = []
    for _ in 0..<steps {
        let x = (0..<batch * inputs).map { _ in numbers.next() }
        // Forward: partial outputs from this shard's columns, summed over the TP group.
        var output = [Float](repeating: 0, count: batch * outputs)
        for b in 0..<batch {
            for o in 0..<outputs {
                var z: Float = 0
                for c in 0..<columns { z += weights[o * columns + c] * x[b * inputs + first + c] }
                output[b * outputs + o] = z
            }
        }
        try tensor.allReduce(inPlace: &output, op: .sum)
        // Loss and gradient of the mean squared error against the teacher.
        var loss = 0.0
        var gradient = [Float](repeating: 0, count: outputs * columns)
        let scale = 2 / Float(batch * layout.dp)
        for b in 0..<batch {
            for o in 0..<outputs {
                var target: Float = 0
                for i in 0..<inputs { target += teacher[o * inputs + i] * x[b * inputs + i] }
                let error = output[b * outputs + o] - target
                loss += Double(error * error)
                for c in 0..<columns { gradient[o * columns + c] += scale * error * x[b * inputs + first + c] }
            }
        }
        try data.allReduce(inPlace: &gradient, op: .sum)
        var total = [loss / Double(batch * outputs)]
        try data.allReduce(inPlace: &total, op: .sum)
        losses.append(total[0] / Double(layout.dp))
        for i in weights.indices { weights[i] -= 0.05 * gradient[i] }
    }
    // Every replica of this shard must hold the same bits.
    let bits = weights.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1.bitPattern)) &* 1099511628211 }
    let low = try data.allReduce([bits], op: .min)[0], high = try data.allReduce([bits], op: .max)[0]
    guard low == high else { throw TorusError.invalidValue(name: "weights", value: "different on the replicas of shard \(t)", expected: "identical") }
    if job.rank == 0 {
        print("job rank 0: TP group of \(tensor.size) ranks on \(tensor.topology); DP group of \(data.size) ranks on \(data.topology)")
    }
    return losses
}

func report(_ losses: [Double]) -> Bool {
    for (step, loss) in losses.enumerated() where step % 10 == 0 || step == losses.count - 1 {
        print(String(format: "step %3d  loss %.5f", step, loss))
    }
    let fell = losses.last! < 0.5 * losses.first!
    print("replicas of every shard hold identical weights; loss \(fell ? "fell" : "did NOT fall") from \(String(format: "%.4f", losses.first!)) to \(String(format: "%.4f", losses.last!))")
    return fell
}

if CommandLine.arguments.contains("--mpi") {
    // World rank = job rank; TORUS_RANKMAP tells the library where each rank sits.
    let world = try MPICommunicator.world()
    guard world.size == layout.ranks else {
        printError("example-dp-tp: run with \(layout.ranks) ranks (mpirun -np \(layout.ranks)), not \(world.size)")
        exit(64)
    }
    let losses = try train(world)
    let ok = world.rank == 0 ? report(losses) : true
    try MPIEnvironment.finalize()
    exit(ok ? 0 : 1)
} else {
    // One rank per node of a 2x2x2 torus; job rank j runs on the node the placement generator gives it.
    let machine = try TorusShape(2, 2, 2)
    let placement = try PlacementGenerator.generate(layout: layout, machine: machine, procsPerNode: 1)
    print("placement (job rank → node): \(placement.nodes)")
    let torus = SimulatedTorus(shape: machine)
    let result = Mutex<[Double]>([])
    try torus.run { world in
        let jobRank = placement.nodes.firstIndex(of: world.rank)!
        let job = try world.split(color: 0, key: jobRank)!
        let losses = try train(job)
        if job.rank == 0 { result.withLock { $0 = losses } }
    }
    exit(report(result.withLock { $0 }) ? 0 : 1)
}
