import Foundation
import ReproClient
import ReproCore
import ReproTestSupport
import Testing

/// The MLflow example (worker/examples/mlflow-logistic) on real processes with real MLflow from PyPI:
/// an unmodified script that logs only with `mlflow.log_param`/`log_metric`, run in the sandbox, its
/// metrics in the report and its params with each run.
@Suite("MLflow end to end", .serialized)
struct MLflowExampleEndToEndTests {
    static let example = Paths.repository.appendingPathComponent("worker/examples/mlflow-logistic")

    @Test("an MLflow-only training script's metrics and params reach the report", .timeLimit(.minutes(20)))
    func mlflowStudy() async throws {
        let database = try await TestDatabase.create()
        let cluster = try Cluster(databaseURL: database.url)
        do {
            try await run(cluster)
        } catch {
            Issue.record("end-to-end run failed: \(error)\n\(cluster.dumpLogs())")
        }
        await cluster.stopAll()
        try await database.drop()
    }

    func run(_ cluster: Cluster) async throws {
        let url = try await cluster.startCoordinator()
        try await cluster.createKeys()
        let worker = try cluster.startWorker(name: "mlflow")

        let submitted = try await cluster.cli(["submit", Self.example.appendingPathComponent("study-small.yaml").path])
        let idLine = try #require(submitted.split(separator: "\n").last { UUID(uuidString: String($0)) != nil })
        let studyID = try #require(UUID(uuidString: String(idLine)))

        // The first run on a machine builds the virtualenv with scikit-learn and mlflow-skinny.
        let client = CoordinatorClient(baseURL: url, key: cluster.researcherKey)
        let deadline = ContinuousClock.now + .seconds(900)
        var status = try await client.study(studyID)
        while !status.isFinished && ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            status = try await client.study(studyID)
        }
        #expect(status.state == .completed)
        #expect(status.tasks.succeeded == 2, "tasks: \(status.tasks)")

        let runs = try await client.runs(studyID)
        let accepted = runs.filter(\.accepted)
        #expect(accepted.count == 2)
        for run in accepted {
            // Logged at steps 0, 1, 2; the step-2 value (1000 iterations) is the run's.
            let accuracy = try #require(run.metrics["accuracy"])
            #expect(accuracy > 0.85 && accuracy <= 1.0, "got \(accuracy)")
            #expect(run.metrics["train_accuracy"] != nil)
            #expect(run.params == ["C": "1.0", "dataset": "wine", "model": "LogisticRegression"])
            // Real MLflow applied the study and task tags the worker passed in MLFLOW_RUN_CONTEXT (train.py
            // sets none): the worker logs the reprogrid.* tags of the run it read from the file store.
            let expected: Set<String> = [
                "reprogrid.task_id=\(run.taskID)", "reprogrid.study_id=\(studyID.uuidString.lowercased())",
                "reprogrid.seed=\(run.seed)", "reprogrid.dataset=\(run.dataset)",
            ]
            let tagged = worker.output.split(separator: "\n").contains { line in
                // `repro.mlflow.tags=reprogrid.dataset=wine reprogrid.seed=0 …`: a tag per word, the first
                // one behind the metadata key.
                let words = Set(
                    line.split { " \t\"',[]{}".contains($0) }.map {
                        String($0.hasPrefix("repro.mlflow.tags=") ? $0.dropFirst("repro.mlflow.tags=".count) : $0)
                    })
                return line.contains("MLflow run read") && expected.isSubset(of: words)
            }
            #expect(tagged, "no MLflow run with this task's tags in the worker log:\n\(worker.output.suffix(4000))")
        }

        let report = try WireCoding.decoder().decode(StudyReport.self, from: try await client.reportData(studyID))
        #expect(report.acceptedRuns == 2)
        let entry = try #require(report.summaries.first { $0.dataset == "wine" && $0.metric == "accuracy" })
        #expect(entry.summary.n == 2)
        let reported = try #require(report.runs)
        #expect(reported.count == 2)
        #expect(reported.allSatisfy { $0.params?["model"] == "LogisticRegression" })
        let text = try await cluster.cli(["report", studyID.uuidString])
        #expect(text.contains("Runs (params logged with MLflow)"))
        #expect(text.contains("LogisticRegression"))
    }
}
