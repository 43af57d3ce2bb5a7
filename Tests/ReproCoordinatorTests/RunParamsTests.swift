import Foundation
import ReproCore
import Testing

@testable import ReproCLI
@testable import ReproCoordinator

/// Params a job logged with MLflow travel with its result, are stored with the accepted run, and show
/// in the run list, the report's runs and the CLI report; what cannot be stored honestly is a 400.
@Suite("Run params (MLflow)")
struct RunParamsTests {
    @Test("params of accepted runs appear in the run list, the report and the CLI runs table; a resend adds nothing")
    func paramsAreStoredAndShown() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 2), key: researcher)
            let worker = try await harness.worker(name: "w", slots: 2)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 2, wait: 0))
            let leases = leased.leases.sorted { $0.seed < $1.seed }
            #expect(leases.count == 2)
            var withParams = LeaseLifecycleTests.result(leases[0])
            withParams.params = ["C": "0.5", "model": "LogisticRegression"]
            let without = LeaseLifecycleTests.result(leases[1])
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: [withParams, without]))
            #expect(receipts.results.allSatisfy { $0.status == .accepted })
            // A resent result (lost answer) is answered the same and stores nothing twice.
            let again: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: [withParams]))
            #expect(again.results.first?.status == .accepted)

            let list: RunList = try await harness.call(.get, "/v1/studies/\(created.id)/runs", key: researcher)
            let bySeed = Dictionary(uniqueKeysWithValues: list.runs.map { ($0.seed, $0) })
            #expect(bySeed[leases[0].seed]?.params == ["C": "0.5", "model": "LogisticRegression"])
            #expect(bySeed[leases[1].seed]?.params == nil)

            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            let runs = try #require(report.runs)
            #expect(runs.first { $0.seed == leases[0].seed }?.params == ["C": "0.5", "model": "LogisticRegression"])
            #expect(runs.first { $0.seed == leases[1].seed }?.params == nil)
            let text = ReportRenderer.render(report)
            #expect(text.contains("Runs (params logged with MLflow)"), "\(text)")
            #expect(text.contains("LogisticRegression"))

            // The dashboard's study page: a params column, each run's params, a dash for the run without.
            let page = String(buffer: try await harness.request(.get, "/studies/\(created.id)", key: researcher).body)
            #expect(page.contains(#"<th scope="col">params (MLflow)</th>"#), "\(page)")
            #expect(page.contains("<td>C=0.5, model=LogisticRegression</td></tr>"))
            #expect(page.contains("</td><td>–</td></tr>"))
        }
    }

    @Test("too many params, long names or values, and NUL are refused with the field named")
    func badParamsAreRefused() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            let cases: [([String: String], String)] = [
                (Dictionary(uniqueKeysWithValues: (0..<201).map { ("p\($0)", "1") }), "results[0].params"),
                ([String(repeating: "k", count: 251): "1"], "results[0].params.\(String(repeating: "k", count: 251))"),
                (["C": String(repeating: "9", count: 8001)], "results[0].params.C"),
                (["C": "a\u{0}b"], "results[0].params.C"),
            ]
            for (params, field) in cases {
                var result = LeaseLifecycleTests.result(lease)
                result.params = params
                let sent = try await harness.request(
                    .post, "/v1/results", key: worker.token, json: ResultBatch(results: [result]))
                #expect(sent.status == .badRequest)
                #expect(try CoordinatorHarness.problem(sent).field == field)
            }
            // Nothing was recorded by the refused batches: the lease still takes a good result.
            let good: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: [LeaseLifecycleTests.result(lease)]))
            #expect(good.results.first?.status == .accepted)
            let list: RunList = try await harness.call(.get, "/v1/studies/\(created.id)/runs", key: researcher)
            #expect(list.runs.count == 1)
        }
    }
}
