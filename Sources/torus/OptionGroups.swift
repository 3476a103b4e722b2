import ArgumentParser
import TorusCore
import TorusSchedules

/// What a command's shared options default to (the options are spelled and described once, below).
protocol CommandDefaults {
    static var torus: String { get }
    static var bytes: String { get }
    static var algorithms: [Algorithm] { get }
}

/// A size in bytes, shown with its suffix (`256M`).
struct ByteSize: CustomStringConvertible, Sendable {
    var bytes: Int
    var description: String { ByteCount.format(bytes) }
}

/// `--torus`.
struct TorusOption<D: CommandDefaults>: ParsableArguments {
    @Option(name: .long, help: "Torus shape, e.g. 8x8x8 (a trailing m makes an axis a mesh: 4mx4x4).", transform: parseShape)
    var torus: TorusShape = try! parseShape(D.torus)
}

/// `--bytes`.
struct SizeOption<D: CommandDefaults>: ParsableArguments {
    @Option(name: .long, help: "Bytes per rank (K/M/G suffixes: KiB, MiB, GiB).", transform: { ByteSize(bytes: try parseBytes($0)) })
    var bytes: ByteSize = ByteSize(bytes: try! parseBytes(D.bytes))
}

/// `-a/--algorithm`, one or several comma-separated.
struct AlgorithmOption<D: CommandDefaults>: ParsableArguments {
    @Option(name: [.customShort("a"), .long], help: "Algorithm, or several comma-separated.")
    var algorithm: ArgumentList<Algorithm> = ArgumentList(D.algorithms)

    var algorithms: [Algorithm] { algorithm.values }
}

/// `--collective`.
struct CollectiveOption: ParsableArguments {
    @Option(name: .long, help: "The collective: all-reduce, reduce-scatter (MPI_Reduce_scatter_block) or all-gather (MPI_Allgather).")
    var collective: Collective = .allReduce
}

/// `-d/--type` and `-o/--op`.
struct ReductionOptions: ParsableArguments {
    @Option(name: [.customShort("d"), .long], help: "Element type.")
    var type: ElementType = .float32

    @Option(name: [.customShort("o"), .long], help: "Reduction op.")
    var op: ReduceOp = .sum

    func validate() throws {
        guard op.supports(type) else {
            throw ValidationError(TorusError.unsupportedOperation(op: op.rawValue, type: type.rawValue).description)
        }
    }
}
