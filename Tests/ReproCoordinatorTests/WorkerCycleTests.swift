import Foundation
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// `POST /v1/leases/cycle` (issue 16): results and a lease request in one request and one transaction,
/// fenced exactly like the separate routes, which keep working.
@Suite("Worker cycle", .serialized)
struct WorkerCycleTests {
    @Test("a cycle records the results and leases new tasks in one transaction")
    func resultsAndLeaseInOneTransaction() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine"], seeds: 3), key: researcher)
            #expect(created.taskCount == 6)
            let worker = try await harness.worker(name: "cycler")

            // The first cycle has nothing to report.
            let first: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: worker.token, json: CycleRequest(results: [], max: 3, wait: 0))
            #expect(first.results.isEmpty)
            #expect(first.lease.leases.count == 3)
            #expect(first.lease.leases.allSatisfy { $0.arguments.contains("--seed") && $0.manifest != nil })

            // Results of the first three and three new leases: one call to the database, one transaction.
            // A queue of its own over the same pool, so the count is this path's alone: the background
            // services (maintainers nudged by the request above, gauges) share the harness's client.
            let shared = harness.services.queue
            let queue = TaskQueue(
                client: DatabaseClient(shared.client.postgres, deadline: shared.client.deadline, logger: shared.logger), policy: shared.policy,
                logger: shared.logger)
            let before = queue.client.calls
            let results = first.lease.leases.map { LeaseLifecycleTests.result($0) }
            let cycle = try await queue.cycle(
                results: results, worker: worker.workerID, max: 3, memoryBytes: 8 << 30, gpus: 0, allowNetwork: false)
            #expect(queue.client.calls - before == 1)
            #expect(cycle.receipts.map(\.status) == [.accepted, .accepted, .accepted])
            #expect(cycle.leases.count == 3)
            #expect(Set(cycle.leases.map(\.taskID)).isDisjoint(with: first.lease.leases.map(\.taskID)))

            // A resent result gets the same receipt again; a result for a lease this worker does not hold
            // is rejected; neither stops the lease part.
            let stranger = try await harness.worker(name: "stranger")
            let forged = TaskResult(
                taskID: cycle.leases[0].taskID, leaseID: UUID(), outcome: .succeeded, exitCode: 0, durationSeconds: 1,
                metrics: ["accuracy": 0.1], error: nil, logTail: nil, fingerprint: nil, hardwareClass: nil)
            let mixed: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: stranger.token,
                json: CycleRequest(results: [forged], max: 1, wait: 0))
            #expect(mixed.results.map(\.status) == [.rejected])
            #expect(mixed.lease.leases.isEmpty, "all six tasks are leased or done")
            let again: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: worker.token, json: CycleRequest(results: [results[0]], max: 0, wait: 0))
            // The same receipt again: a resend is answered as the first delivery was.
            #expect(again.results.map(\.status) == [.accepted])
            #expect(again.results.map(\.taskID) == [results[0].taskID])

            // Report only (max 0), with the old result route beside it.
            let last = cycle.leases.map { LeaseLifecycleTests.result($0) }
            let reported: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: worker.token, json: CycleRequest(results: Array(last.prefix(2)), max: 0, wait: 0))
            #expect(reported.results.map(\.status) == [.accepted, .accepted])
            #expect(reported.lease.leases.isEmpty)
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: [last[2]]))
            #expect(receipts.results.map(\.status) == [.accepted])
            let status: StudyStatus = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher)
            #expect(status.state == .completed)
            #expect(status.tasks.succeeded == 6)
            let rows = try await harness.database.client.query(
                "SELECT count(*), count(*) FILTER (WHERE accepted) FROM runs WHERE study_id = \(created.id)")
            for try await (runs, accepted) in rows.decode((Int64, Int64).self) {
                #expect(runs == 6)
                #expect(accepted == 6)
            }
        }
    }

    @Test("a cycle with bad input is refused whole with a problem naming the field")
    func badCycleIsRefused() async throws {
        try await CoordinatorHarness.run { harness in
            let worker = try await harness.worker(name: "bad")
            for (request, field) in [
                (CycleRequest(results: [], max: 51, wait: 0), "max"),
                (CycleRequest(results: [], max: 1, wait: 31), "wait"),
                (CycleRequest(results: [], max: -1, wait: 0), "max"),
            ] {
                let response = try await harness.request(.post, "/v1/leases/cycle", key: worker.token, json: request)
                #expect(response.status.code == 400)
                #expect(try CoordinatorHarness.problem(response).field == field)
            }
            let bad = TaskResult(
                taskID: 1, leaseID: UUID(), outcome: .succeeded, exitCode: 0, durationSeconds: -1, metrics: ["a": 1],
                error: nil, logTail: nil, fingerprint: nil, hardwareClass: nil)
            let response = try await harness.request(
                .post, "/v1/leases/cycle", key: worker.token, json: CycleRequest(results: [bad], max: 1, wait: 0))
            #expect(response.status.code == 400)
        }
    }
}
