import Foundation
import ReproCore
import ReproStats
import Testing

@testable import ReproCoordinator

/// `POST /v1/plan` and the report's issue 15 fields (Holm verdicts, logit-scale intervals), on real PostgreSQL.
@Suite("Plans and adjusted verdicts")
struct PlanAndHolmTests {
    struct Plans: Decodable {
        let plans: [ClaimPlan]
    }

    static func result(_ lease: TaskLease, _ value: Double) -> TaskResult {
        TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
            metrics: ["accuracy": value], error: nil, logTail: nil, fingerprint: nil, hardwareClass: "test-cpu")
    }

    @Test("plan from an sd matches ClaimPlan (scipy-checked); bad input is a 4xx problem naming the field")
    func planFromSD() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let spec = Data(CoordinatorHarness.spec(bundle: "sha256:" + String(repeating: "a", count: 64)).utf8)
            let answer: Plans = try await harness.call(
                .post, "/v1/plan?sd=0.01", key: researcher, body: spec, contentType: "application/yaml")
            #expect(answer.plans.count == 1)
            // scipy.stats.nct (References/issue15_references.py): sd 0.01, δ 0.01 → 8 / 11 and 10 / 13.
            #expect(answer.plans.first?.reproducedRuns80 == 8)
            #expect(answer.plans.first?.reproducedRuns90 == 11)
            #expect(answer.plans.first?.notReproducedRuns80 == 10)
            #expect(answer.plans.first?.notReproducedRuns90 == 13)

            for (query, field) in [("sd=-1", "sd"), ("sd=abc", "sd"), ("", "sd"), ("sd=0.01&pilot=x", "pilot"),
                ("pilot=not-a-uuid", "pilot")]
            {
                let response = try await harness.request(
                    .post, "/v1/plan?\(query)", key: researcher, body: spec, contentType: "application/yaml")
                #expect(response.status.code == 400, "\(query)")
                #expect(try CoordinatorHarness.problem(response).field == field, "\(query)")
            }
            let invalid = try await harness.request(
                .post, "/v1/plan?sd=0.01", key: researcher, body: Data("matrix: 3".utf8), contentType: "application/yaml")
            #expect(invalid.status.code == 422)
            // Another researcher's study is not a pilot for you (404, as its report would be).
            let other = try await harness.key(.researcher, name: "other")
            let bundle = try await harness.bundle(researcher: other)
            let theirs = try await harness.submit(CoordinatorHarness.spec(bundle: bundle), key: other)
            let hidden = try await harness.request(
                .post, "/v1/plan?pilot=\(theirs.id)", key: researcher, body: spec, contentType: "application/yaml")
            #expect(hidden.status.code == 404)
        }
    }

    @Test("plan from a pilot uses its measured sd; the report shows Holm verdicts and logit intervals")
    func pilotAndReport() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let claims = """
                  - {metric: accuracy, dataset: digits, value: 0.95, direction: higher, tolerance: 0.01}
                  - {metric: accuracy, dataset: wine, value: 0.95, direction: higher, tolerance: 0.01}
                metrics:
                  accuracy: {min: 0, max: 1}
                """
            let yaml = CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine"], seeds: 5, claims: claims)
            let created = try await harness.submit(yaml, key: researcher)
            let worker = try await harness.worker(name: "pilot", slots: 10)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 10, wait: 0))
            #expect(leased.leases.count == 10)
            // digits: far above the claim; wine: just reproduced per claim. Holm is checked against ReproStats'
            // own adjustment of the same checks (its numbers are tested against scipy in HolmTests).
            let digits = [0.99, 0.985, 0.995, 0.99, 0.988]
            let wine = [0.938215, 0.947159, 0.951631, 0.956103, 0.965047]
            var results: [TaskResult] = []
            for dataset in ["digits", "wine"] {
                let leases = leased.leases.filter { $0.dataset == dataset }.sorted { $0.seed < $1.seed }
                results += zip(leases, dataset == "digits" ? digits : wine).map { Self.result($0, $1) }
            }
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            #expect(receipts.results.allSatisfy { $0.status == .accepted })

            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.claims.count == 2)
            for claim in report.claims {
                #expect(claim.check.intervalScale == .logit)
                let interval = try #require(claim.check.ci95Mean)
                #expect(interval.lower >= 0 && interval.upper <= 1)
                #expect(claim.holmVerdict != nil)
            }
            let expected = Holm.verdicts(report.claims.map(\.check))
            #expect(report.claims.map(\.holmVerdict) == expected)

            let answer: Plans = try await harness.call(
                .post, "/v1/plan?pilot=\(created.id)", key: researcher, body: Data(yaml.utf8), contentType: "application/yaml")
            let wineSD = try #require(Summary(values: wine, bootstrap: nil).sd)
            #expect(answer.plans.count == 2)
            let measured = try #require(answer.plans.last?.sd)
            #expect(abs(measured - wineSD) <= 1e-12 * wineSD)
            let local = ClaimPlan(claim: report.claims[1].check.claim, sd: measured)
            #expect(answer.plans.last?.reproducedRuns80 == local.reproducedRuns80)
            #expect(answer.plans.last?.notReproducedRuns90 == local.notReproducedRuns90)
        }
    }
}
