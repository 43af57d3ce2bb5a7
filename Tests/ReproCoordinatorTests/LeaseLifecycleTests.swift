import Foundation
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// The lease path against a real PostgreSQL: exclusivity under concurrency, fencing, expiry,
/// retries, cancellation, replicas and wake-ups.
@Suite("Lease lifecycle", .serialized)
struct LeaseLifecycleTests {
    static func result(_ lease: TaskLease, _ outcome: RunOutcome = .succeeded, accuracy: Double = 0.9) -> TaskResult {
        TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: outcome, exitCode: outcome == .succeeded ? 0 : 1,
            durationSeconds: 1.5, metrics: outcome == .succeeded ? ["accuracy": accuracy] : [:],
            error: outcome == .succeeded ? nil : "exit status 1", logTail: "done", fingerprint: nil,
            hardwareClass: "test-cpu")
    }

    @Test("20 concurrent leasers over 500 tasks lease every task exactly once")
    func concurrentLeasersNeverShareATask() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let datasets = (0..<10).map { "d\($0)" }
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: datasets, seeds: 50), key: researcher)
            #expect(created.taskCount == 500)
            var workers: [UUID] = []
            for index in 0..<20 { workers.append(try await harness.worker(name: "w\(index)").workerID) }
            let queue = harness.services.queue

            let leased = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for (index, worker) in workers.enumerated() {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await queue.lease(
                                worker: worker, max: 1 + index % 5, memoryBytes: 8 << 30, gpus: 0)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.taskID)
                        }
                    }
                }
                var all: [Int64] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(leased.count == 500)
            #expect(Set(leased).count == 500)
            let rows = try await harness.database.client.query(
                "SELECT count(*) FILTER (WHERE state = 'leased' AND attempts = 1), count(DISTINCT lease_id) FROM tasks")
            for try await (leasedRows, leaseIDs) in rows.decode((Int64, Int64).self) {
                #expect(leasedRows == 500)
                #expect(leaseIDs == 500)
            }
        }
    }

    @Test("a result is accepted once, a repeat gets the same receipt, a stale lease gets 409")
    func fencedCompletion() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let first = try await harness.worker(name: "first")
            let second = try await harness.worker(name: "second")
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: first.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            #expect(lease.arguments == ["python3", "train.py", "--seed", "0", "--dataset", "digits"])

            // Expire the lease and reap it: the task is queued again but keeps the old lease id.
            try await harness.database.client.query(
                "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = \(lease.taskID)")
            let reaped = try await harness.services.queue.reapExpiredLeases(tick: 1)
            #expect(reaped.requeued == 1)
            let again: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: second.token, json: LeaseRequest(max: 1, wait: 0))
            let newLease = try #require(again.leases.first)
            #expect(newLease.taskID == lease.taskID)
            #expect(newLease.attempt == 2)

            // The first worker's late result: its lease was re-issued, so 409 and nothing changes.
            let late = try await harness.request(
                .post, "/v1/tasks/\(lease.taskID)/result", key: first.token, json: Self.result(lease, accuracy: 0.1))
            #expect(late.status == .conflict)
            #expect(try CoordinatorHarness.problem(late).field == "lease_id")

            // Another worker cannot post for a lease it does not hold.
            let stolen = try await harness.request(
                .post, "/v1/tasks/\(lease.taskID)/result", key: first.token, json: Self.result(newLease))
            #expect(stolen.status == .conflict)

            let receipt: ResultReceipt = try await harness.call(
                .post, "/v1/tasks/\(lease.taskID)/result", key: second.token, json: Self.result(newLease))
            #expect(receipt.status == .accepted)
            let repeated: ResultReceipt = try await harness.call(
                .post, "/v1/tasks/\(lease.taskID)/result", key: second.token, json: Self.result(newLease))
            #expect(repeated.status == .accepted)
            #expect(repeated.detail == "already received")

            let rows = try await harness.database.client.query(
                """
                SELECT (SELECT count(*) FROM runs WHERE task_id = \(lease.taskID)),
                       (SELECT count(*) FROM runs WHERE accepted), (SELECT count(*) FROM run_metrics),
                       (SELECT state FROM studies WHERE id = \(created.id))
                """)
            for try await (runs, accepted, metrics, state) in rows.decode((Int64, Int64, Int64, String).self) {
                #expect(runs == 1)
                #expect(accepted == 1)
                #expect(metrics == 1)
                #expect(state == "completed")
            }
        }
    }

    @Test("a result for the latest expired lease is accepted while the task was not leased again")
    func lateResultOfLatestLease() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            try await harness.database.client.query(
                "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = \(lease.taskID)")
            _ = try await harness.services.queue.reapExpiredLeases(tick: 1)
            let receipts = try await harness.services.queue.record(results: [Self.result(lease)], worker: worker.workerID)
            #expect(receipts[0].status == .accepted)
            #expect(receipts[0].taskState == .succeeded)
        }
    }

    @Test("failed attempts back off and retry; past max_attempts the task fails with its last error")
    func retriesAndMaxAttempts() async throws {
        // A long backoff, and time moved by SQL instead of sleeping: the test does not depend on how
        // fast the machine is.
        let policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 60, reaperIntervalSeconds: 3600)
        try await CoordinatorHarness.run(policy: policy) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1, maxAttempts: 2), key: researcher)
            let worker = try await harness.worker()
            let queue = harness.services.queue

            let first = try #require(try await queue.lease(worker: worker.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0).first)
            let receipt = try await queue.record(results: [Self.result(first, .failed)], worker: worker.workerID)[0]
            #expect(receipt.status == .recorded)
            #expect(receipt.taskState == .queued)
            // Backed off by 60 s ± 25 % from when the result was recorded (however late this query runs),
            // so an immediate lease finds nothing.
            let rows = try await harness.database.client.query(
                """
                SELECT not_before > (SELECT max(created_at) FROM runs WHERE task_id = \(first.taskID)) + interval '44 seconds',
                       last_error
                FROM tasks WHERE id = \(first.taskID)
                """)
            for try await (backedOff, error) in rows.decode((Bool, String?).self) {
                #expect(backedOff)
                #expect(error == "exit status 1")
            }
            #expect(try await queue.lease(worker: worker.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0).isEmpty)
            try await harness.database.client.query("UPDATE tasks SET not_before = now() WHERE id = \(first.taskID)")

            let second = try #require(try await queue.lease(worker: worker.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0).first)
            #expect(second.attempt == 2)
            let last = try await queue.record(results: [Self.result(second, .timedOut)], worker: worker.workerID)[0]
            #expect(last.taskState == .failed)
            let status = try #require(try await harness.services.studies.status(created.id))
            #expect(status.state == .completed)
            #expect(status.tasks.failed == 1)
        }
    }

    @Test("heartbeats extend leases in one batch; cancellation answers stop")
    func heartbeatAndCancel() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 3), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 2, wait: 0))
            #expect(leased.leases.count == 2)
            let beats = leased.leases.map { HeartbeatRequest.Beat(taskID: $0.taskID, leaseID: $0.leaseID, progress: "epoch 3") }
            let answer: HeartbeatResponse = try await harness.call(
                .post, "/v1/leases/heartbeat", key: worker.token, json: HeartbeatRequest(leases: beats))
            #expect(answer.leases.allSatisfy { $0.action == .continue })
            #expect(answer.leases[0].leaseExpiresAt! >= leased.leases[0].leaseExpiresAt)

            // Someone else's worker cannot heartbeat these leases.
            let other = try await harness.worker(name: "other")
            let foreign: HeartbeatResponse = try await harness.call(
                .post, "/v1/leases/heartbeat", key: other.token, json: HeartbeatRequest(leases: beats))
            #expect(foreign.leases.allSatisfy { $0.action == .stop })

            let _: StudyStatus = try await harness.call(.post, "/v1/studies/\(created.id)/cancel", key: researcher)
            let stop: HeartbeatResponse = try await harness.call(
                .post, "/v1/leases/heartbeat", key: worker.token, json: HeartbeatRequest(leases: beats))
            #expect(stop.leases.allSatisfy { $0.action == .stop && $0.reason == "the study was cancelled" })
            let late = try await harness.request(
                .post, "/v1/tasks/\(leased.leases[0].taskID)/result", key: worker.token, json: Self.result(leased.leases[0]))
            #expect(late.status == .conflict)
        }
    }

    /// A heartbeat the worker sent before its result was acknowledged, served after the result requeued the
    /// task. With the statement as it was (any queued task naming the lease taken back) the task went back
    /// to `leased` for a worker that was done with it, until its TTL ran out.
    @Test(
        "a heartbeat served after its lease's result requeued the task leaves it queued; the statement before did not",
        arguments: [true, false])
    func heartbeatAfterItsResult(current: Bool) async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 2), key: researcher)
            let worker = try await harness.worker()
            let queue = harness.services.queue
            let leases = try await queue.lease(worker: worker.workerID, max: 2, memoryBytes: 8 << 30, gpus: 0)
            try #require(leases.count == 2)
            let lease = leases[0]
            if current {
                // What the heartbeat is for: a lease the reaper requeued (no result of it yet) is taken back.
                let requeued = leases[1].taskID
                try await harness.database.client.query(
                    "UPDATE tasks SET state = 'queued', lease_expires_at = now() - interval '1 second' WHERE id = \(requeued)")
                let beat = HeartbeatRequest.Beat(taskID: leases[1].taskID, leaseID: leases[1].leaseID, progress: nil)
                let verdicts = try await queue.heartbeat(worker: worker.workerID, beats: [beat])
                #expect(verdicts.map(\.action) == [.continue], "a requeued lease without a result is taken back")
            }
            let receipt = try await queue.record(results: [Self.result(lease, .failed)], worker: worker.workerID)[0]
            #expect(receipt.taskState == .queued, "queued for its next attempt")
            let beat = HeartbeatRequest.Beat(taskID: lease.taskID, leaseID: lease.leaseID, progress: nil)
            if current {
                let verdicts = try await queue.heartbeat(worker: worker.workerID, beats: [beat])
                #expect(verdicts.map(\.action) == [.stop])
                #expect(verdicts.first?.reason == "the lease has ended: its result is recorded or it was handed back")
            } else {
                try await harness.database.client.query(
                    """
                    UPDATE tasks t SET lease_expires_at = now() + interval '30 seconds', state = 'leased'
                    WHERE t.id = \(lease.taskID) AND t.lease_id = \(lease.leaseID) AND t.worker_id = \(worker.workerID)
                      AND t.state IN ('leased', 'queued')
                    """)
            }
            let rows = try await harness.database.client.query("SELECT state FROM tasks WHERE id = \(lease.taskID)")
            for try await state in rows.decode(String.self) { #expect(state == (current ? "queued" : "leased")) }
        }
    }

    @Test("replicas of one seed go to distinct workers")
    func replicasOnDistinctWorkers() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 4, replicas: 3), key: researcher)
            let queue = harness.services.queue
            var workers: [UUID] = []
            for index in 0..<3 { workers.append(try await harness.worker(name: "r\(index)").workerID) }
            // One worker asking for everything gets one replica per seed, never two.
            let greedy = try await queue.lease(worker: workers[0], max: 12, memoryBytes: 8 << 30, gpus: 0)
            #expect(greedy.count == 4)
            #expect(Set(greedy.map(\.seed)).count == 4)
            let more = try await queue.lease(worker: workers[0], max: 12, memoryBytes: 8 << 30, gpus: 0)
            #expect(more.isEmpty)
            for worker in workers.dropFirst() {
                let batch = try await queue.lease(worker: worker, max: 12, memoryBytes: 8 << 30, gpus: 0)
                #expect(batch.count == 4)
            }
            let rows = try await harness.database.client.query(
                "SELECT count(*) FROM (SELECT seed_group FROM tasks GROUP BY seed_group HAVING count(DISTINCT worker_id) = 3) g")
            for try await groups in rows.decode(Int64.self) { #expect(groups == 4) }
        }
    }

    @Test("tasks that need more memory or GPUs than a worker has are not handed to it")
    func resourceFit() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let small = try await harness.worker(name: "small", memoryBytes: 512 << 20)
            let none: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: small.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(none.leases.isEmpty)
            let big = try await harness.worker(name: "big", memoryBytes: 4 << 30)
            let some: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: big.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(some.leases.count == 1)
        }
    }

    @Test("a waiting lease request is woken by the submit notification, not by polling")
    func wakeUpOnSubmit() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await harness.worker()
            // Let the LISTEN connection come up (it signals once when it does).
            for _ in 0..<100 where harness.services.wakeup.signalCount == 0 { try await Task.sleep(for: .milliseconds(50)) }
            let signalsBefore = harness.services.wakeup.signalCount

            async let waiting: LeaseResponse = harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 30))
            // The request is parked on the wake-up signal; no task exists yet.
            try await Task.sleep(for: .milliseconds(300))
            _ = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let answer = try await waiting
            #expect(answer.leases.count == 1)
            // It came back because a NOTIFY arrived (the signal count moved), not because the wait ran out.
            #expect(harness.services.wakeup.signalCount > signalsBefore)
        }
    }
}
