import Foundation
import ReproCore
import ReproStats
import Testing

@testable import ReproCoordinator

/// Huge but finite values in accepted runs never make a report, score or page fail; values outside a declared
/// range are failed attempts.
@Suite("Extreme metric values")
struct ExtremeMetricValueTests {
    static func result(_ lease: TaskLease, _ metrics: [String: Double]) -> TaskResult {
        TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
            metrics: metrics, error: nil, logTail: nil, fingerprint: nil, hardwareClass: "test-cpu")
    }

    @Test("five accepted runs of ±1e308: report, score, preprint page and scores table answer 200")
    func extremeValuesKeepReportsComputable() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 5), key: researcher)
            let worker = try await harness.worker(name: "huge", slots: 5)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 5, wait: 0))
            let values = [1e308, -1e308, 1.7e308, -1.7e308, 1e308]
            let results = zip(leased.leases.sorted { $0.seed < $1.seed }, values).map { lease, value in
                Self.result(lease, ["accuracy": value, "loss": -value])
            }
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            #expect(receipts.results.allSatisfy { $0.status == .accepted })

            for _ in 0..<2 {  // twice: "for good" meant every later request failed too
                let report = try await harness.request(.get, "/v1/studies/\(created.id)/report", key: researcher)
                #expect(report.status == .ok, "\(String(buffer: report.body))")
                let decoded = try WireCoding.decoder().decode(
                    StudyReport.self, from: Data(report.body.readableBytesView))
                let cell = try #require(decoded.summaries.first { $0.metric == "accuracy" })
                #expect(cell.summary.n == 5)
                #expect(cell.summary.mean != nil)
                #expect(cell.summary.unavailable?["range"] != nil)
                #expect(decoded.claims.count == 1)
            }
            let score = try await harness.request(.get, "/v1/preprints/arXiv:2401.01234/score", key: researcher)
            #expect(score.status == .ok, "\(String(buffer: score.body))")

            // The stored score is recomputed by the background maintainer, which after a pass that took d
            // pauses 9 d (decision 0021): in the loaded full suite a pass over 5 runs took seconds of wall time
            // and the maintainer's next one came after the test's minute (10 s, then 60 s were not enough). The
            // test recomputes too, through the same claim (SKIP LOCKED: never the maintainer's preprint twice).
            let scores = ScoreRepository(
                client: harness.services.database, studies: harness.services.studies, logger: .init(label: "test"))
            var scored = false
            let deadline = ContinuousClock.now + .seconds(60)
            while !scored, ContinuousClock.now < deadline {
                let page: ScorePage = try await harness.call(.get, "/v1/scores", key: researcher)
                scored = page.rows.contains { $0.preprintID.hasSuffix("2401.01234") && $0.runs == 5 }
                if !scored {
                    _ = try await scores.recomputeDirty()
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(scored)
            let csv = try await harness.request(.get, "/v1/scores?format=csv", key: researcher)
            #expect(csv.status == .ok)
            let preprint = try await harness.request(.get, "/v1/preprints/arXiv:2401.01234", key: researcher)
            #expect(preprint.status == .ok)
        }
    }

    @Test("a value outside the declared range is a failed attempt with the reason; an undeclared huge one is accepted")
    func outOfRangeIsAFailedAttempt() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let yaml =
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 2, maxAttempts: 1)
                + "\nmetrics:\n  accuracy: {min: 0, max: 1}\n"
            let created = try await harness.submit(yaml, key: researcher)
            let worker = try await harness.worker(name: "w", slots: 2)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 2, wait: 0))
            #expect(leased.leases.count == 2)
            #expect(leased.leases[0].job.metricRanges?["accuracy"] == MetricRange(min: 0, max: 1))
            let results = [
                Self.result(leased.leases[0], ["accuracy": 7]),
                Self.result(leased.leases[1], ["accuracy": 0.9, "loss": 1e308]),
            ]
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            #expect(receipts.results[0].status == .recorded)
            #expect(receipts.results[0].taskState == .failed)
            #expect(receipts.results[0].detail?.contains("accuracy = 7 is outside its declared range [0, 1]") == true)
            #expect(receipts.results[1].status == .accepted)

            let runs: RunList = try await harness.call(.get, "/v1/studies/\(created.id)/runs", key: researcher)
            let refused = try #require(runs.runs.first { $0.taskID == leased.leases[0].taskID })
            #expect(refused.outcome == .failed && !refused.accepted)
            #expect(refused.error?.contains("metrics.accuracy in the study spec") == true)
            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.acceptedRuns == 1)
            #expect(report.tasks.failed == 1)
        }
    }

    @Test("a report with replicas over two datasets of ±1e308 values encodes strictly and decodes back")
    func reportBuilderWithExtremeReplicas() throws {
        let yaml = CoordinatorHarness.spec(
            bundle: "sha256:" + String(repeating: "ab", count: 32), seeds: 5, replicas: 2)
        let spec = try StudySpec.parse(Data(yaml.utf8))
        var values: [RunValue] = []
        var run: Int64 = 0
        let extremes = [1e308, -1e308, 1.7e308, -1.7e308, 1e308]
        for dataset in ["digits", "wine"] {
            for seed in 0..<5 {
                for replica in 0..<2 {
                    run += 1
                    values.append(
                        RunValue(
                            runID: run, workerID: UUID(), dataset: dataset, configuration: nil, seed: Int64(seed),
                            replica: replica, hardwareClass: replica == 0 ? "cpu-a" : "cpu-b", metric: "accuracy",
                            value: extremes[(seed + replica) % 5]))
                }
            }
        }
        let report = ReportBuilder.build(
            studyID: UUID(), preprintID: "arXiv:2401.01234", title: "t", state: .completed, tasks: TaskCounts(),
            spec: spec, values: values, bootstrap: BootstrapOptions(resamples: 199))
        // The strict encoder (throws on ±∞ and NaN), not the one with the null fallback.
        let data = try WireCoding.encoder().encode(report)
        let decoded = try WireCoding.decoder().decode(StudyReport.self, from: data)
        #expect(decoded.summaries.count == 2)
        #expect(decoded.acceptedRuns == 20)
    }

    @Test("the response encoder writes a stray non-finite number as null instead of failing")
    func nullingEncoder() throws {
        struct Sample: Encodable {
            var a = Double.infinity
            var b = 1.5
            var c = [Double.nan, 2]
            var text = "kept"
        }
        let (data, replaced) = try WireCoding.encodeNullingNonFinite(Sample())
        #expect(replaced)
        #expect(String(decoding: data, as: UTF8.self) == #"{"a":null,"b":1.5,"c":[null,2],"text":"kept"}"#)
        #expect(try WireCoding.encodeNullingNonFinite(["x": 1.0]).replacedNonFinite == false)
    }
}
