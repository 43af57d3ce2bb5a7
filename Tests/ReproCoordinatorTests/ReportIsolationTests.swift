import Foundation
import ReproCore
import Testing

@testable import ReproCLI
@testable import ReproCoordinator

/// The isolation level each worker reports in its fingerprint shows per run in the study report, the
/// run list and the CLI report.
@Suite("Report isolation")
struct ReportIsolationTests {
    static func result(_ lease: TaskLease, accuracy: Double, isolation: String?) -> TaskResult {
        var fingerprint: [String: JSONValue] = ["os": .string("Linux"), "python": .string("3.11.2")]
        if let isolation { fingerprint["isolation"] = .string(isolation) }
        return TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
            metrics: ["accuracy": accuracy], error: nil, logTail: nil, fingerprint: .object(fingerprint),
            hardwareClass: "test-cpu")
    }

    @Test("each run's isolation comes from its fingerprint; unknown when the fingerprint lacks it")
    func reportShowsIsolationPerRun() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 5), key: researcher)
            let worker = try await harness.worker(name: "w", slots: 5)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 5, wait: 0))
            #expect(leased.leases.count == 5)
            // Seeds 0-2 strict, seed 3 without a sandbox, seed 4 from a worker that does not say.
            let levels: [String?] = ["strict", "strict", "strict", "none", nil]
            let results = leased.leases.sorted { $0.seed < $1.seed }.enumerated().map { index, lease in
                Self.result(lease, accuracy: 0.95 + Double(index) * 0.001, isolation: levels[index])
            }
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            #expect(receipts.results.allSatisfy { $0.status == .accepted })
            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.isolation == IsolationCounts(strict: 3, unsandboxed: 1, unknown: 1))
            let runs = try #require(report.runs)
            #expect(runs.count == 5)
            #expect(runs.map(\.runID) == runs.map(\.runID).sorted())
            #expect(
                runs.sorted { $0.seed < $1.seed }.map(\.isolation) == [
                    .strict, .strict, .strict, .unsandboxed, .unknown,
                ])
            #expect(Set(runs.map(\.workerID)) == [worker.workerID])

            // The JSON says "none" for the unsandboxed run, as the worker wrote it.
            let raw = try await harness.request(.get, "/v1/studies/\(created.id)/report", key: researcher)
            let json = String(decoding: Data(raw.body.readableBytesView), as: UTF8.self)
            #expect(json.contains(#""isolation":{"none":1,"strict":3,"unknown":1}"#))

            let list: RunList = try await harness.call(.get, "/v1/studies/\(created.id)/runs", key: researcher)
            let byRun = Dictionary(uniqueKeysWithValues: runs.map { ($0.runID, $0.isolation) })
            #expect(list.runs.count == 5)
            #expect(list.runs.allSatisfy { $0.isolation == byRun[$0.id] })

            let text = ReportRenderer.render(report)
            #expect(text.contains("isolation: 3 strict, 1 none, 1 unknown"), "\(text)")
        }
    }

    @Test("fingerprints that are not objects or name another level read as unknown")
    func oddFingerprintsAreUnknown() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 3), key: researcher)
            let worker = try await harness.worker(name: "w", slots: 3)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 3, wait: 0))
            let fingerprints: [JSONValue?] = [
                .array([.string("strict")]), .object(["isolation": .number(1)]),
                .object(["isolation": .string("gvisor")]),
            ]
            let results = zip(leased.leases, fingerprints).map { lease, fingerprint in
                var result = Self.result(lease, accuracy: 0.9, isolation: nil)
                result.fingerprint = fingerprint
                return result
            }
            let _: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.isolation == IsolationCounts(strict: 0, unsandboxed: 0, unknown: 3))
            #expect(ReportRenderer.render(report).contains("isolation: 3 unknown"))
        }
    }

    @Test func cliSummaryLine() {
        #expect(
            ReportRenderer.describe(IsolationCounts(strict: 15, unsandboxed: 0, unknown: 0)) == "isolation: 15 strict")
        #expect(
            ReportRenderer.describe(IsolationCounts(strict: 2, unsandboxed: 1, unknown: 4))
                == "isolation: 2 strict, 1 none, 4 unknown")
        #expect(ReportRenderer.describe(IsolationCounts(strict: 0, unsandboxed: 0, unknown: 0)) == nil)
    }
}
