import ArgumentParser

@main
struct Torus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torus",
        abstract: "TorusCollectives tools that need no MPI.",
        subcommands: [SimCommand.self, AllReduceCommand.self, ScheduleCommand.self, RankMapCommand.self, KernelsCommand.self]
    )
}
