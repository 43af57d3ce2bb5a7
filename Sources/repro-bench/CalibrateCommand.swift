import ArgumentParser
import Foundation
import ReproCoordinator

/// `repro-bench calibrate`: how often the verdicts of ReproStats are wrong, measured by simulating studies with a
/// known true mean and running the report's own functions on them (issue 15; results in
/// docs/statistics-calibration.md). It prints figures and never passes or fails. The work is in ``Calibration``.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Simulate studies with known truth; print verdict error rates and interval coverage as Markdown.")

    @Option(
        help: """
            Simulated studies per scenario (default 2000: the Monte-Carlo error of a rate within 5.2 pp of 0 % or \
            100 %, i.e. every error rate and coverage the goals judge, is ≤ 0.5 pp; 10000 bounds every rate by 0.5 pp).
            """)
    var studies = 2_000

    @Option(help: "Seed of the simulation (default 15); the same seed gives the same figures.")
    var seed: UInt64 = 15

    @Option(help: "Write the full per-scenario tables here (the summary goes to standard output).")
    var full: String?

    @Flag(help: "Skip the bootstrap coverage (the slow part).")
    var noBootstrap = false

    func validate() throws {
        guard (100...1_000_000).contains(studies) else { throw ValidationError("--studies must be 100…1000000.") }
    }

    func run() throws {
        // The report's own bootstrap settings, so the BCa coverage is that of the intervals reports show.
        let calibration = Calibration(
            studies: studies, seed: seed, bootstrap: noBootstrap ? nil : ReportBuilder.bootstrap)
        let (summary, fullTable) = calibration.run()
        print(summary)
        if let full {
            try fullTable.write(toFile: full, atomically: true, encoding: .utf8)
            print("full table: \(full)")
        }
    }
}
