import ArgumentParser

/// `repro-bench`: the performance programs of issues 3, 4 and 10. They measure and print figures; they never
/// pass or fail on a threshold (targets are judged in BENCHMARKS.md).
struct ReproBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro-bench",
        abstract: "Benchmarks of the coordinator: the lease → result cycle, report computation, idle long-polls, ghost leases, the chaos run.",
        version: "0.1.0",
        subcommands: [
            LeaseBenchCommand.self, ReportBenchCommand.self, SandboxBenchCommand.self, IdleBenchCommand.self,
            GhostBenchCommand.self, CalibrateCommand.self, ExpandBenchCommand.self, ChaosBenchCommand.self,
        ])
}
