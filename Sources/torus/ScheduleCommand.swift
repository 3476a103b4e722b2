import ArgumentParser
import Foundation
import TorusCore
import TorusSchedules

/// `torus schedule show|verify`: print a rank's schedule, or prove an algorithm correct on a torus.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Show or verify the schedule of an AllReduce algorithm, or of its reduce-scatter or all-gather half.",
        subcommands: [Show.self, Verify.self]
    )

    enum Defaults: CommandDefaults {
        static let torus = "2x2x2", bytes = "384"
        static let algorithms: [Algorithm] = [.sixRing]
    }

    /// Options shared by both subcommands.
    struct Target: ParsableArguments {
        @OptionGroup var algorithmOption: AlgorithmOption<Defaults>
        @OptionGroup var torusOption: TorusOption<Defaults>
        @OptionGroup var collectiveOption: CollectiveOption

        @Option(name: .long, help: "Elements in the buffer (reduce-scatter, all-gather: in each rank's block, as nccl-tests' count).")
        var count: Int = 96

        func validate() throws {
            guard count >= 0 else { throw ValidationError("--count must be 0 or more, got \(count)") }
            let collective = collectiveOption.collective, topology = GroupTopology.box(torusOption.torus)
            for a in algorithmOption.algorithms {
                if let why = a.unavailable(collective, topology: topology) { throw ValidationError("--collective \(collective): \(why)") }
            }
        }

        var collective: Collective { collectiveOption.collective }
        /// Elements of the data buffer.
        var elements: Int { collective == .allReduce ? count : count * torusOption.torus.nodeCount }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one rank's schedule (or dump it as JSON).")
        @OptionGroup var target: Target
        @Option(name: .long, help: "The rank whose schedule to print.")
        var rank: Int = 0
        @Flag(name: .long, help: "Print the schedule as JSON.")
        var json = false

        func run() throws {
            let shape = target.torusOption.torus
            guard (0..<shape.nodeCount).contains(rank) else {
                throw ValidationError("--rank \(rank) is outside the torus \(shape) (ranks 0...\(shape.nodeCount - 1))")
            }
            for algorithm in target.algorithmOption.algorithms {
                let schedule = try algorithm.schedule(target.collective, topology: .box(shape), rank: rank, count: target.count)
                print(json ? try jsonString(schedule, pretty: true) : schedule.description)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove a schedule correct for every rank: matched messages, no deadlock, every contribution exactly once.",
            discussion: "Exit status 0 when proven, 1 when not, 4 when the torus and count are too large to verify (refused at once). For sixring it also checks that every message crosses one hop and reports the load of the six directed links.")
        @OptionGroup var target: Target
        @Flag(name: .long, help: "Print the report as JSON.")
        var json = false

        func run() throws {
            let shape = target.torusOption.torus
            if let why = ScheduleVerifier.tooLarge(ranks: shape.nodeCount, count: target.elements) {
                FileHandle.standardError.write(Data("Error: too large to verify: \(why)\n".utf8))
                throw ExitCode(4)
            }
            var proven = true
            for algorithm in target.algorithmOption.algorithms {
                let report = try ScheduleVerifier.verify(algorithm, target.collective, topology: .box(target.torusOption.torus), count: target.count)
                print(json ? try jsonString(report, pretty: false) : report.description)
                proven = proven && report.proven
            }
            if !proven { throw ExitCode(1) }
        }
    }
}

/// Turns a `TorusError` raised while reading an argument's value into an argument error, printed
/// as `Error: …` with the usage hint. Run-time errors are not passed through here: they print their
/// own message without the usage (exit 1).
func cliErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as TorusError {
        throw ValidationError(error.description)
    }
}

/// JSON with snake_case keys and sorted keys.
func jsonString<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
