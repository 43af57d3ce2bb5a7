import Foundation
import Synchronization
import Testing

@testable import ReproWorker

/// Runs the example study's `train.py` the way the worker does: under
/// JobRunner with the study's memory limit, metrics read by MetricsParser.
///
/// Needs a Python with the example's requirements installed, given as
/// `REPRO_TEST_SKLEARN_PYTHON` (e.g. a venv built from
/// worker/examples/sklearn-mlp/requirements.txt); skipped without it, since
/// installing scikit-learn needs the network.
@Suite("Example study sklearn-mlp")
struct ExampleStudyTests {
    static let python = ProcessInfo.processInfo.environment["REPRO_TEST_SKLEARN_PYTHON"]

    static var exampleDirectory: URL {
        // Resolved, because the dev package reaches this file through a symlink.
        URL(filePath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "worker/examples/sklearn-mlp")
    }

    @Test("the example's files are where the study says")
    func filesPresent() {
        for name in ["train.py", "requirements.txt", "study.yaml", "study-small.yaml"] {
            #expect(FileManager.default.fileExists(atPath: Self.exampleDirectory.appending(path: name).path), "\(name)")
        }
    }

    @Test("train.py reports metrics within its limits", .enabled(if: python != nil), arguments: ["digits", "wine"])
    func trainsAndReports(dataset: String) async throws {
        let output = try TemporaryDirectory()
        let job = JobRunner.Job(
            executable: try #require(Self.python),
            arguments: ["train.py", "--seed", "1", "--dataset", dataset],
            workingDirectory: Self.exampleDirectory,
            environment: [
                "PATH": "/usr/bin:/bin", "REPRO_OUTPUT_DIR": output.url.path, "PYTHONDONTWRITEBYTECODE": "1",
            ],
            timeLimit: .seconds(120),
            memoryLimitBytes: 2 * 1024 * 1024 * 1024
        )
        let parser = Mutex(MetricsParser())
        let outcome = try await JobRunner(job: job, logger: .test).run { line in
            parser.withLock { $0.consume(line: line) }
        }
        #expect(outcome.succeeded, "\(outcome.outputTail)")
        let metrics = try parser.withLock { try $0.metrics(outputDirectory: output.url) }
        #expect(Set(metrics.keys) == ["accuracy", "f1_macro", "train_seconds"])
        #expect((0.85...1.0).contains(metrics["accuracy"] ?? 0))
    }
}
