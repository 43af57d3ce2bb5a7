import Foundation
import HTTPTypes
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Input PostgreSQL cannot store — NUL characters, numbers past a 4-byte column, forged cursors — is
/// answered 400 (or 422 for specs) naming the field, never 5xx; a job's own output is stored instead.
@Suite("Bad input the database cannot hold", .serialized)
struct BadInputTests {
    @Test("NUL in a JSON body, a query or a path parameter is 400 with its field")
    func nulIsRefused() async throws {
        try await CoordinatorHarness.run { harness in
            let body = Data(#"{"name": "lab\u0000pool", "roles": ["researcher"]}"#.utf8)
            let account = try await harness.request(.post, "/v1/accounts", key: CoordinatorHarness.adminKey, body: body)
            #expect(account.status == .badRequest)
            #expect(try CoordinatorHarness.problem(account).field == "name")

            let funder = try await harness.key(.funder)
            let query = try await harness.request(.get, "/v1/scores?funder=a%00b", key: funder)
            #expect(query.status == .badRequest)
            #expect(try CoordinatorHarness.problem(query).field == "funder")

            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let spec = CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1)
                .replacingOccurrences(of: #"title: "Small MLPs are enough""#, with: #"title: "Small\0MLPs""#)
            let submitted = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data(spec.utf8), contentType: "application/yaml")
            #expect(submitted.status.code == 422)
            let problem = try CoordinatorHarness.problem(submitted)
            #expect(problem.issues?.contains { $0.path == "preprint.title" } == true)
        }
    }

    @Test("a job's output with NUL is stored, not refused: heartbeat progress")
    func nulInJobOutputIsStored() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            let beat = HeartbeatRequest(leases: [.init(taskID: lease.taskID, leaseID: lease.leaseID, progress: "epoch\u{0}3")])
            let answer: HeartbeatResponse = try await harness.call(.post, "/v1/leases/heartbeat", key: worker.token, json: beat)
            #expect(answer.leases.first?.action == .continue)
            let rows = try await harness.database.client.query("SELECT progress FROM tasks WHERE id = \(lease.taskID)")
            for try await progress in rows.decode(String.self) { #expect(progress == "epoch\u{FFFD}3") }
        }
    }

    @Test("numbers past a 4-byte column and forged cursors are 400 with their field")
    func outOfRangeNumbers() async throws {
        try await CoordinatorHarness.run { harness in
            let volunteer = try await harness.key(.volunteer)
            let registration = WorkerRegistration(
                name: "big", slots: 1, cpus: 1 << 40, memoryBytes: 1 << 30, gpus: 0, hardwareClass: nil)
            let registered = try await harness.request(.post, "/v1/workers", key: volunteer, json: registration)
            #expect(registered.status == .badRequest)
            #expect(try CoordinatorHarness.problem(registered).field == "cpus")

            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            var result = LeaseLifecycleTests.result(lease)
            result.exitCode = 1 << 40
            let sent = try await harness.request(.post, "/v1/results", key: worker.token, json: ResultBatch(results: [result]))
            #expect(sent.status == .badRequest)
            #expect(try CoordinatorHarness.problem(sent).field == "results[0].exit_code")

            let funder = try await harness.key(.funder)
            for (sort, key) in [("runs", 1e300), ("runs", 3e9), ("date", 1e300)] {
                let cursor = ScoreQuery.Cursor(sort: sort, direction: "desc", key: key, id: "2401.01234").encoded()
                let page = try await harness.request(.get, "/v1/scores?sort=\(sort)&cursor=\(cursor)", key: funder)
                #expect(page.status == .badRequest)
                #expect(try CoordinatorHarness.problem(page).field == "cursor")
            }
        }
    }

    @Test("a claim on a metric no run may report is refused with the claim's path")
    func claimMetricFollowsTheRunRule() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let spec = CoordinatorHarness.spec(
                bundle: bundle, datasets: ["digits"], seeds: 1,
                claims: "  - {metric: val/loss, dataset: digits, value: 0.2, direction: lower}")
            let submitted = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data(spec.utf8), contentType: "application/yaml")
            #expect(submitted.status.code == 422)
            let problem = try CoordinatorHarness.problem(submitted)
            #expect(problem.issues?.contains { $0.path == "claims[0].metric" } == true)
        }
    }
}
