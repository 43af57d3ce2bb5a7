import Foundation
import Logging

/// Fetches exactly one commit of a git repository (no history, no submodules).
enum GitCheckout {
    static func fetch(url: String, commit: String, into directory: URL, logger: Logger) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let steps: [[String]] = [
            ["init", "--quiet"],
            ["fetch", "--quiet", "--depth", "1", url, commit],
            ["-c", "advice.detachedHead=false", "checkout", "--quiet", "FETCH_HEAD"],
        ]
        for step in steps {
            let runner = JobRunner(
                job: .init(
                    executable: "git", arguments: step, workingDirectory: directory,
                    environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": directory.path, "GIT_TERMINAL_PROMPT": "0"],
                    timeLimit: .seconds(600)),
                logger: logger)
            let outcome = try await runner.run()
            guard outcome.succeeded else {
                throw WorkerError("git \(step.joined(separator: " ")) failed (\(outcome.termination)): \(outcome.outputTail.suffix(2000))")
            }
        }
    }
}
