import Foundation
import ReproClient
import ReproCore
import ReproStats
import ReproTestSupport
import Testing

/// The whole product on real processes: a coordinator on a fresh database, two `repro-worker`
/// processes training the real scikit-learn example, the `repro` CLI submitting it, and the report
/// checked against the run rows.
@Suite("End to end", .serialized)
struct ExampleStudyEndToEndTests {
    @Test("the example study runs on two workers and its report matches its runs", .timeLimit(.minutes(20)))
    func exampleStudy() async throws {
        let database = try await TestDatabase.create()
        let cluster = try Cluster(databaseURL: database.url)
        do {
            try await run(cluster)
        } catch {
            Issue.record("end-to-end run failed: \(error)\n\(cluster.dumpLogs())")
        }
        await cluster.stopAll()
        for worker in cluster.workers {
            #expect(worker.exitStatus == 0, "\(worker.name) stopped with status \(worker.exitStatus)")
        }
        for coordinator in cluster.coordinators {
            #expect(coordinator.exitStatus == 0, "\(coordinator.name) stopped with status \(coordinator.exitStatus)")
        }
        try await database.drop()
    }

    func run(_ cluster: Cluster) async throws {
        let url = try await cluster.startCoordinator()
        try await cluster.createKeys()
        try cluster.startWorker(name: "alpha")
        try cluster.startWorker(name: "beta")

        let submitted = try await cluster.cli(["submit", Paths.example.appendingPathComponent("study-small.yaml").path])
        let idLine = try #require(submitted.split(separator: "\n").last { UUID(uuidString: String($0)) != nil })
        let studyID = try #require(UUID(uuidString: String(idLine)))

        // The first run on a machine builds the scikit-learn virtualenv (a minute or two); later runs reuse it.
        let client = CoordinatorClient(baseURL: url, key: cluster.researcherKey)
        let deadline = ContinuousClock.now + .seconds(900)
        var status = try await client.study(studyID)
        while !status.isFinished && ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            status = try await client.study(studyID)
        }
        #expect(status.state == .completed)
        #expect(status.tasks.succeeded == 4, "tasks: \(status.tasks)")

        let runs = try await client.runs(studyID)
        let accepted = runs.filter(\.accepted)
        #expect(accepted.count == 4)
        #expect(Set(accepted.map(\.taskID)).count == 4, "one accepted run per task")
        for run in accepted {
            let accuracy = try #require(run.metrics["accuracy"])
            #expect(accuracy > 0.8 && accuracy <= 1.0, "real training gives a real accuracy, got \(accuracy)")
            #expect(run.hardwareClass?.isEmpty == false)
        }

        let reportData = try await client.reportData(studyID)
        let report = try WireCoding.decoder().decode(StudyReport.self, from: reportData)
        #expect(report.acceptedRuns == 4)
        // Every accepted run is listed with the isolation its worker reported, as in the run list.
        let reported = try #require(report.runs)
        #expect(Set(reported.map(\.runID)) == Set(accepted.map(\.id)))
        for run in accepted {
            #expect(run.isolation != nil)
            #expect(reported.first { $0.runID == run.id }?.isolation == run.isolation)
        }
        #expect(report.isolation.map { $0.strict + $0.unsandboxed + $0.unknown } == 4)
        for dataset in ["digits", "wine"] {
            let values = accepted.filter { $0.dataset == dataset }.sorted { $0.seed < $1.seed }.map { $0.metrics["accuracy"]! }
            let entry = try #require(report.summaries.first { $0.dataset == dataset && $0.metric == "accuracy" })
            let n = Double(values.count)
            let mean = values.reduce(0, +) / n
            let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
            #expect(entry.summary.n == 2)
            #expect(abs(entry.summary.mean! - mean) < 1e-12)
            #expect(abs(entry.summary.sd! - sd) < 1e-12)
            // t(0.975, 1) = 12.706204736174707 (scipy.stats.t.ppf(0.975, 1)).
            let half = 12.706204736174707 * sd / n.squareRoot()
            #expect(abs(entry.summary.ci95Mean!.lower - (mean - half)) < 1e-9)
            #expect(abs(entry.summary.ci95Mean!.upper - (mean + half)) < 1e-9)
            #expect(entry.summary.min == values.min())
            #expect(entry.summary.max == values.max())
        }
        // Two runs per dataset is below n_min = 5: every claim is insufficient_runs and the score unset.
        #expect(report.claims.count == 2)
        #expect(report.claims.allSatisfy { $0.check.verdict == .insufficientRuns })
        #expect(report.score.score == nil)

        let text = try await cluster.cli(["report", studyID.uuidString])
        #expect(text.contains("Reproducibility report"))
        #expect(text.contains("Dataset digits"))
        #expect(text.contains("isolation: "), "one line per study with the runs' isolation levels")
        let score = try await cluster.cli(["score", "arXiv:2401.01234v3"])
        #expect(score.contains("not yet scored"))
    }
}
