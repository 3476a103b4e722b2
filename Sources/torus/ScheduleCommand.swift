import ArgumentParser
import Foundation
import TorusCore
import TorusSchedules

/// `torus schedule show|verify`: print a rank's schedule, or prove an algorithm correct on a torus.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Show or verify the schedule of an AllReduce algorithm.",
        subcommands: [Show.self, Verify.self]
    )

    /// Options shared by both subcommands.
    struct Target: ParsableArguments {
        @Option(name: .long, help: "Algorithm: \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")).")
        var algorithm: String = "sixring"

        @Option(name: .long, help: "Torus shape, e.g. 4x4x4 (a trailing m makes an axis a mesh: 4mx4x4).")
        var torus: String = "2x2x2"

        @Option(name: .long, help: "Elements in the buffer.")
        var count: Int = 96

        func parse() throws -> (Algorithm, TorusShape) {
            guard count >= 0 else { throw ValidationError("--count must be 0 or more, got \(count)") }
            return try cliErrors { (try Algorithm(parsing: algorithm, name: "--algorithm"), try TorusShape(parsing: torus, name: "--torus")) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one rank's schedule (or dump it as JSON).")
        @OptionGroup var target: Target
        @Option(name: .long, help: "The rank whose schedule to print.")
        var rank: Int = 0
        @Flag(name: .long, help: "Print the schedule as JSON.")
        var json = false

        func run() throws {
            let (algorithm, shape) = try target.parse()
            guard (0..<shape.nodeCount).contains(rank) else {
                throw ValidationError("--rank \(rank) is outside the torus \(shape) (ranks 0...\(shape.nodeCount - 1))")
            }
            let schedule = try cliErrors { try algorithm.schedule(topology: .box(shape), rank: rank, count: target.count) }
            if json {
                print(try jsonString(schedule, pretty: true))
            } else {
                print(schedule)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove a schedule correct for every rank: matched messages, no deadlock, every contribution exactly once.",
            discussion: "Exit status 0 when proven, 1 otherwise. For sixring it also checks that every message crosses one hop and reports the load of the six directed links.")
        @OptionGroup var target: Target
        @Flag(name: .long, help: "Print the report as JSON.")
        var json = false

        func run() throws {
            let (algorithm, shape) = try target.parse()
            let report = try cliErrors { try ScheduleVerifier.verify(algorithm, topology: .box(shape), count: target.count) }
            print(json ? try jsonString(report, pretty: false) : report.description)
            if !report.proven { throw ExitCode(1) }
        }
    }
}

/// Turns a `TorusError` into an argument error, printed as `Error: …` with the usage hint.
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
