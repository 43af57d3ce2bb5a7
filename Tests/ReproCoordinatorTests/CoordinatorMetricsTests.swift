import Foundation
import ReproCore
import ReproMetrics
import Testing

@testable import ReproCoordinator

/// The coordinator's Prometheus metrics (decision 0012). The registry is one per process and other
/// suites run at the same time, so counters are checked for having moved at least by this test's
/// events, never for exact totals. scripts/steps/30-python.sh scrapes a real coordinator's
/// `--metrics-port` with Prometheus' own parser.
@Suite("Coordinator metrics")
struct CoordinatorMetricsTests {
    /// The sum of the samples of `name` whose label text contains every one of `labels`.
    static func value(_ name: String, _ labels: String...) -> Double {
        MetricsRegistry.exposition().split(separator: "\n").reduce(0) { sum, line in
            guard line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return sum }
            guard labels.allSatisfy({ line.contains($0) }) else { return sum }
            return sum + (Double(line.split(separator: " ").last ?? "") ?? 0)
        }
    }

    @Test("leases, results and requests move their counters; routes are templates, never ids")
    func countersMove() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 2), key: researcher)
            let worker = try await harness.worker(name: "w", slots: 2)
            let leasedBefore = Self.value("reprogrid_leased_tasks_total")
            let acceptedBefore = Self.value("reprogrid_results_total", #"status="accepted""#, #"reason="succeeded""#)
            let refusedBefore = Self.value("reprogrid_results_total", #"status="rejected""#, #"reason="unknown_task""#)

            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 2, wait: 0))
            #expect(leased.leases.count == 2)
            #expect(Self.value("reprogrid_leased_tasks_total") >= leasedBefore + 2)

            var unknown = LeaseLifecycleTests.result(leased.leases[0])
            unknown.taskID = 999_999_999
            let results = leased.leases.map { LeaseLifecycleTests.result($0) } + [unknown]
            let _: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            #expect(Self.value("reprogrid_results_total", #"status="accepted""#, #"reason="succeeded""#) >= acceptedBefore + 2)
            #expect(
                Self.value("reprogrid_results_total", #"status="rejected""#, #"reason="unknown_task""#) >= refusedBefore + 1)

            let _: StudyStatus = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher)
            let text = MetricsRegistry.exposition()
            #expect(!text.contains(created.id.uuidString.lowercased()), "a study id became a label value")
            #expect(text.contains("reprogrid_http_requests_total{"))
            #expect(
                Self.value("reprogrid_http_request_duration_seconds_count", #"method="POST""#, #"status="200""#) >= 1)
            let unmatched = Self.value("reprogrid_http_requests_total", #"route="unmatched""#)
            _ = try await harness.request(.get, "/no/such/\(UUID())", key: nil)
            #expect(Self.value("reprogrid_http_requests_total", #"route="unmatched""#) >= unmatched + 1)
        }
    }

    /// The value of one series of `reprogrid_tasks`.
    static func tasks(_ state: String) -> Double { value("reprogrid_tasks", #"state="\#(state)""#) }

    /// The only test that refreshes the periodic gauges (they are process-wide): the values are this
    /// harness's own.
    @Test("the periodic gauges count every task state; finished states only on the passes that count them")
    func gaugesRefresh() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await harness.worker(name: "w", slots: 4)
            // Three tasks, one attempt each: one succeeds, one fails for good, one stays queued.
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 3, maxAttempts: 1),
                key: researcher)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 2, wait: 0))
            try #require(leased.leases.count == 2)
            let _: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token,
                json: ResultBatch(results: [
                    LeaseLifecycleTests.result(leased.leases[0]), LeaseLifecycleTests.result(leased.leases[1], .failed),
                ]))
            // A second study of two tasks, cancelled before any ran.
            let cancelled = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 2, preprint: "arXiv:2401.01235"),
                key: researcher)
            let _: StudyStatus = try await harness.call(.post, "/v1/studies/\(cancelled.id)/cancel", key: researcher)

            let gauges = QueueGauges(
                database: harness.services.database, interval: .seconds(60), gate: Gate(), logger: .init(label: "test"))
            try await gauges.refresh()
            let text = MetricsRegistry.exposition()
            for name in [
                "reprogrid_oldest_queued_task_age_seconds", "reprogrid_workers_seen_last_minute",
                "reprogrid_scores_stale_preprints", "reprogrid_score_lag_seconds",
            ] {
                #expect(text.contains(name), "\(name) missing")
            }
            #expect(Self.tasks("queued") == 1)
            #expect(Self.tasks("leased") == 0)
            #expect(Self.tasks("held") == 0)
            #expect(Self.tasks("succeeded") == 1)
            #expect(Self.tasks("failed") == 1)
            #expect(Self.tasks("cancelled") == 2)

            // The last queued task succeeds. A pass without the finished count moves only the live
            // states; the next pass that counts them catches up.
            let last: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let _: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token,
                json: ResultBatch(results: [LeaseLifecycleTests.result(try #require(last.leases.first))]))
            try await gauges.refresh(finished: false)
            #expect(Self.tasks("queued") == 0)
            #expect(Self.tasks("succeeded") == 1, "finished states are counted only on their own passes")
            try await gauges.refresh()
            #expect(Self.tasks("succeeded") == 2)
            #expect(Self.tasks("failed") == 1)
            #expect(Self.tasks("cancelled") == 2)
        }
    }

    @Test("receipts map to a fixed set of reasons")
    func reasons() {
        func receipt(_ status: ResultReceipt.Status, _ state: TaskState?, _ detail: String?) -> ResultReceipt {
            ResultReceipt(taskID: 1, leaseID: UUID(), status: status, taskState: state, detail: detail)
        }
        #expect(CoordinatorMetrics.reason(receipt(.accepted, .succeeded, nil)) == "succeeded")
        #expect(CoordinatorMetrics.reason(receipt(.accepted, .succeeded, "already received")) == "duplicate")
        #expect(CoordinatorMetrics.reason(receipt(.recorded, .queued, "will be retried")) == "attempt_failed_retry")
        #expect(CoordinatorMetrics.reason(receipt(.recorded, .failed, "no attempt left")) == "attempt_failed_final")
        #expect(CoordinatorMetrics.reason(receipt(.rejected, nil, "no such task")) == "unknown_task")
        #expect(CoordinatorMetrics.reason(receipt(.rejected, nil, "this lease belongs to another worker")) == "other_worker")
        #expect(CoordinatorMetrics.reason(receipt(.rejected, .leased, "the lease was lost")) == "lease_lost")
        #expect(CoordinatorMetrics.reason(receipt(.rejected, .cancelled, "cancelled")) == "cancelled")
    }
}
