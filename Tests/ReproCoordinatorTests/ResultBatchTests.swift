import Foundation
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Result batches recorded set-wise: each result of a batch is answered as if it had been sent alone,
/// and the batch's rows are all written or none.
@Suite("Result batches", .serialized)
struct ResultBatchTests {
    @Test("a mixed batch: success, in-batch repeat, failure, interruption, unknown task, NUL bytes")
    func mixedBatch() async throws {
        // A long backoff, checked in SQL against the result's own time: no dependence on the machine's speed.
        let policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 60, reaperIntervalSeconds: 3600)
        try await CoordinatorHarness.run(policy: policy) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 4), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 4, wait: 0))
            let leases = leased.leases.sorted { $0.taskID < $1.taskID }
            try #require(leases.count == 4)

            var withNul = LeaseLifecycleTests.result(leases[0], accuracy: 0.8)
            withNul.logTail = "epoch 1\u{0}done"
            withNul.fingerprint = .object(["python\u{0}": .string("3.11\u{0}"), "cpu": .string("x86_64")])
            var interrupted = LeaseLifecycleTests.result(leases[3], .interrupted)
            interrupted.error = "the worker shut down"
            let unknown = TaskResult(
                taskID: 9_999_999, leaseID: UUID(), outcome: .succeeded, exitCode: 0, durationSeconds: 1,
                metrics: ["accuracy": 0.5], error: nil, logTail: nil, fingerprint: nil, hardwareClass: nil)
            let batch = ResultBatch(results: [
                withNul, withNul, LeaseLifecycleTests.result(leases[1], .failed),
                LeaseLifecycleTests.result(leases[2], accuracy: 0.7), unknown, interrupted,
            ])
            let answer: ResultBatchReceipt = try await harness.call(.post, "/v1/results", key: worker.token, json: batch)
            let receipts = answer.results
            try #require(receipts.count == 6)
            #expect(receipts[0].status == .accepted && receipts[0].taskState == .succeeded && receipts[0].detail == nil)
            #expect(receipts[1].status == .accepted && receipts[1].detail == "already received")
            #expect(receipts[2].status == .recorded && receipts[2].taskState == .queued)
            #expect(receipts[3].status == .accepted && receipts[3].taskState == .succeeded)
            #expect(receipts[4].status == .rejected && receipts[4].detail == "no such task")
            #expect(receipts[5].status == .recorded && receipts[5].taskState == .queued)

            let counts = try await harness.database.client.query(
                """
                SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM runs WHERE accepted),
                       (SELECT count(*) FROM run_metrics),
                       (SELECT open_tasks FROM studies WHERE id = \(created.id)),
                       (SELECT log_tail FROM runs WHERE lease_id = \(leases[0].leaseID)),
                       (SELECT fingerprint->>'cpu' FROM runs WHERE lease_id = \(leases[0].leaseID))
                """)
            for try await (runs, accepted, metrics, open, logTail, cpu)
                in counts.decode((Int64, Int64, Int64, Int, String, String).self)
            {
                #expect(runs == 4)
                #expect(accepted == 2)
                #expect(metrics == 2)
                #expect(open == 2)
                #expect(logTail == "epoch 1\u{FFFD}done")
                #expect(cpu == "x86_64")
            }
            let tasks = try await harness.database.client.query(
                """
                SELECT id, state, attempts, last_error,
                       -- Backed off from when its result was recorded (60 s ± 25 %), however late this query runs.
                       coalesce(not_before > (SELECT max(created_at) FROM runs WHERE runs.task_id = tasks.id)
                                             + interval '44 seconds', false),
                       lease_expires_at IS NULL
                FROM tasks WHERE study_id = \(created.id) ORDER BY id
                """)
            var rows: [(Int64, String, Int, String?, Bool, Bool)] = []
            for try await row in tasks.decode((Int64, String, Int, String?, Bool, Bool).self) { rows.append(row) }
            try #require(rows.count == 4)
            #expect(rows[0].1 == "succeeded" && rows[0].2 == 1 && rows[0].3 == nil)
            // The failed attempt keeps its count and backs off; the interrupted one gets its attempt back.
            #expect(rows[1].1 == "queued" && rows[1].2 == 1 && rows[1].3 == "exit status 1" && rows[1].4)
            #expect(rows[2].1 == "succeeded")
            #expect(rows[3].1 == "queued" && rows[3].2 == 0 && rows[3].3 == "the worker shut down" && !rows[3].4)
            #expect(rows.allSatisfy { $0.5 })

            // Sending the whole batch again changes nothing and answers the same way.
            let again: ResultBatchReceipt = try await harness.call(.post, "/v1/results", key: worker.token, json: batch)
            #expect(again.results.map(\.status) == [.accepted, .accepted, .recorded, .accepted, .rejected, .recorded])
            #expect(again.results.enumerated().allSatisfy { $0.offset == 4 || $0.element.detail == "already received" })
            let after = try await harness.database.client.query("SELECT count(*) FROM runs")
            for try await total in after.decode(Int64.self) { #expect(total == 4) }
        }
    }

    @Test("result batches racing a cancellation all get an answer; each task ends once")
    func resultsRacingCancellation() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine"], seeds: 30), key: researcher)
            var workers: [(token: String, leases: [TaskLease])] = []
            for index in 0..<6 {
                let worker = try await harness.worker(name: "racer\(index)", slots: 10)
                let leased: LeaseResponse = try await harness.call(
                    .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 10, wait: 0))
                workers.append((worker.token, leased.leases))
            }
            #expect(workers.reduce(0) { $0 + $1.leases.count } == 60)

            // Every worker sends its results in two batches while the owner cancels the study.
            let answers = try await withThrowingTaskGroup(of: (isCancel: Bool, status: UInt).self) { group in
                for worker in workers {
                    for half in [worker.leases.prefix(5), worker.leases.suffix(5)] {
                        group.addTask {
                            let batch = ResultBatch(results: half.map { LeaseLifecycleTests.result($0) })
                            let response = try await harness.request(.post, "/v1/results", key: worker.token, json: batch)
                            return (false, UInt(response.status.code))
                        }
                    }
                }
                group.addTask {
                    let response = try await harness.request(.post, "/v1/studies/\(created.id)/cancel", key: researcher)
                    return (true, UInt(response.status.code))
                }
                var all: [(isCancel: Bool, status: UInt)] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            #expect(answers.count == 13)
            #expect(answers.filter { !$0.isCancel }.allSatisfy { $0.status == 200 })
            // The cancel is refused (409) only when every result landed first and completed the study.
            let cancelStatus = try #require(answers.first { $0.isCancel }?.status)
            #expect(cancelStatus == 200 || cancelStatus == 409)

            let rows = try await harness.database.client.query(
                """
                SELECT (SELECT count(*) FROM tasks WHERE study_id = \(created.id) AND state = 'succeeded'),
                       (SELECT count(*) FROM tasks WHERE study_id = \(created.id) AND state = 'cancelled'),
                       (SELECT count(*) FROM runs WHERE accepted),
                       (SELECT count(*) FROM tasks t WHERE t.state = 'succeeded'
                          AND (SELECT count(*) FROM runs r WHERE r.task_id = t.id AND r.accepted) <> 1),
                       (SELECT count(*) FROM tasks t WHERE t.state = 'cancelled'
                          AND EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id)),
                       (SELECT state FROM studies WHERE id = \(created.id)),
                       (SELECT open_tasks FROM studies WHERE id = \(created.id))
                """)
            for try await (succeeded, cancelled, accepted, badSucceeded, badCancelled, state, open)
                in rows.decode((Int64, Int64, Int64, Int64, Int64, String, Int).self)
            {
                #expect(succeeded + cancelled == 60)
                #expect(accepted == succeeded)
                #expect(badSucceeded == 0)
                #expect(badCancelled == 0)
                // Results may all land before the cancel: then the study completed and the cancel was a no-op.
                #expect(state == (cancelled > 0 ? "cancelled" : "completed"))
                #expect(open == 0)
            }
        }
    }

    @Test("every member of a result sent in a cycle reaches its run's and its task's columns")
    func everyMemberStored() async throws {
        // The runs and task changes travel to the result statement as JSON written by hand (decision 0020): a
        // misspelt key would be NULL in its column without any error.
        let policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 60, reaperIntervalSeconds: 3600)
        try await CoordinatorHarness.run(policy: policy) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            let error = "exit status 3: \"quoted\" \\ é\n"
            let fingerprint = JSONValue.object([
                "python": .string("3.11"), "cpus": .number(2.5), "gpu": .null, "ok": .bool(false),
                "packages": .array([.object(["name": .string("numpy")])]),
            ])
            let result = TaskResult(
                taskID: lease.taskID, leaseID: lease.leaseID, outcome: .failed, exitCode: 3, durationSeconds: 12.25,
                metrics: [:], error: error, logTail: "line\tone\nline two", fingerprint: fingerprint,
                hardwareClass: "cpu-\u{1F600}")
            let answer: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: worker.token, json: CycleRequest(results: [result], max: 0, wait: 0))
            #expect(answer.results.first?.status == .recorded)

            let fingerprintText = String(decoding: try WireCoding.encoder().encode(fingerprint), as: UTF8.self)
            let rows = try await harness.database.client.query(
                """
                SELECT r.task_id, r.study_id = t.study_id, r.worker_id = \(worker.workerID), r.attempt, r.outcome,
                       r.accepted, r.exit_code, r.duration_seconds, r.error, r.log_tail, r.fingerprint = \(fingerprintText)::jsonb,
                       r.hardware_class, t.state, t.attempts, t.last_error, t.not_before > now() + interval '30 seconds'
                FROM runs r JOIN tasks t ON t.id = r.task_id
                WHERE r.lease_id = \(lease.leaseID)
                """)
            var found = false
            typealias Row = (
                Int64, Bool, Bool, Int, String, Bool, Int?, Double, String?, String?, Bool?, String?, String, Int, String?,
                Bool
            )
            for try await row in rows.decode(Row.self) {
                found = true
                #expect(row.0 == lease.taskID && row.1 && row.2 && row.3 == 1)
                #expect(row.4 == "failed" && !row.5 && row.6 == 3 && row.7 == 12.25)
                #expect(row.8 == error && row.9 == "line\tone\nline two" && row.10 == true && row.11 == "cpu-\u{1F600}")
                // Queued again, its attempt counted, its error kept, behind its back-off of about a minute.
                #expect(row.12 == "queued" && row.13 == 1 && row.14 == error && row.15)
            }
            #expect(found)
        }
    }
}
