import ArgumentParser
import Foundation
import TorusRuntime

@main
struct Torus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torus",
        abstract: "TorusCollectives tools that need no MPI.",
        subcommands: [SimCommand.self, AllReduceCommand.self, ScheduleCommand.self, RankMapCommand.self, KernelsCommand.self]
    )

    /// Argument errors print the usage (exit 64); a run-time error prints its message alone
    /// (exit 1); a result that failed its check prints why (exit 3).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failed as CheckFailed {
            printError("Error: \(failed)")
            Foundation.exit(CheckFailed.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

/// A run that finished but whose result failed its check (payload mode, `torus allreduce`).
struct CheckFailed: Error, CustomStringConvertible {
    static let exitCode: Int32 = 3
    let description: String
    init(_ description: String) { self.description = description }
}
