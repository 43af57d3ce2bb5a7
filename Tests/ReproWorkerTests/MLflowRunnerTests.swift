import Foundation
import Logging
import ReproCore
import Testing

@testable import ReproWorker

/// MLflow through the worker's real task path (``LocalBundleRunner``: job folder, environment, job
/// runner, metrics), not only ``MLflowStore/combine`` alone: a job that reports a metric one way in
/// `metrics.json` and another way in the MLflow file store the worker pointed it at fails, naming both.
@Suite("MLflow through the job runner")
struct MLflowRunnerTests {
    /// A job that writes `accuracy` into `metrics.json` and, as MLflow's file store lays it out, into
    /// the store `MLFLOW_TRACKING_URI` names (so the worker's environment is what leads it there).
    static let job = """
        import json, os, pathlib, sys, urllib.parse
        direct, logged = float(sys.argv[1]), float(sys.argv[2])
        output = pathlib.Path(os.environ["REPRO_OUTPUT_DIR"])
        store = pathlib.Path(urllib.parse.urlparse(os.environ["MLFLOW_TRACKING_URI"]).path)
        run = store / "1" / "abc123"
        (run / "metrics").mkdir(parents=True)
        (store / "1" / "meta.yaml").write_text("name: reprogrid\\n")
        (run / "metrics" / "accuracy").write_text(f"1700000000000 {logged} 0\\n")
        (output / "metrics.json").write_text(json.dumps({"accuracy": direct}))
        """

    static func run(direct: String, logged: String) async throws -> TaskResult {
        let work = try TemporaryDirectory()
        var logger = Logger(label: "test.mlflow-runner")
        logger.logLevel = .warning
        let runner = try await LocalBundleRunner.prepare(
            isolation: .none, workDirectory: work.url, python: nil, files: ["job.py": Data(job.utf8)],
            requirements: nil, logger: logger)
        let result = await runner.run(["python3", "job.py", direct, logged], seed: 0)
        withExtendedLifetime(work) {}
        return result
    }

    @Test("metrics.json and MLflow disagreeing on a metric fail the run, naming both sources and values")
    func disagreementFailsTheRun() async throws {
        let result = try await Self.run(direct: "0.9", logged: "0.8")
        #expect(result.outcome == .failed)
        let error = result.error ?? ""
        #expect(error.contains("metrics.json"), "\(error)")
        #expect(error.contains("MLflow (mlruns/1/abc123/metrics/accuracy)"), "\(error)")
        #expect(error.contains("0.9") && error.contains("0.8"), "\(error)")
        #expect(result.metrics.isEmpty)
    }

    @Test("the same job with agreeing values succeeds with the metric (the check above is the disagreement's)")
    func agreementSucceeds() async throws {
        let result = try await Self.run(direct: "0.9", logged: "0.9")
        #expect(result.outcome == .succeeded, "\(result.error ?? "")")
        #expect(result.metrics == ["accuracy": 0.9])
    }
}
