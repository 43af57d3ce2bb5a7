import Foundation
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// The references that lost their row-level foreign keys in migration 0014 (decision 0017) hold another
/// way: nothing deletes the rows they point at, and every statement that writes one takes it from a row it
/// has just read or locked. These tests check both, and that the database itself no longer would.
@Suite("References kept without row-level foreign keys", .serialized)
struct ForeignKeyInvariantTests {
    /// Every reference that migration 0014 stopped checking row by row, as a query counting the rows whose
    /// reference points at nothing (or at a task of another study).
    static let orphans: [(String, PostgresQuery)] = [
        ("tasks.worker_id", "SELECT count(*) FROM tasks t WHERE t.worker_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = t.worker_id)"),
        ("runs.task_id and runs.study_id", "SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = r.task_id AND t.study_id = r.study_id)"),
        ("runs.worker_id", "SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = r.worker_id)"),
        ("run_metrics.run_id", "SELECT count(*) FROM run_metrics m WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = m.run_id)"),
        ("run_params.run_id", "SELECT count(*) FROM run_params p WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = p.run_id)"),
    ]

    @Test("after leases, results, retries, resends and the reaper, every reference points at its row")
    func referencesHoldAfterConcurrentWork() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine"], seeds: 10), key: researcher)
            let queue = harness.services.queue
            var workers: [WorkerRegistered] = []
            for index in 0..<4 { workers.append(try await harness.worker(name: "w\(index)")) }

            // A lease that expires goes back to the queue through the reaper first.
            let stray = try await harness.worker(name: "stray")
            let lost = try await queue.lease(worker: stray.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0)
            try await harness.database.client.query(
                "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = \(lost[0].taskID)")
            #expect(try await queue.reapExpiredLeases(tick: 1).requeued == 1)

            // Four workers cycle at once: each reports what it holds (every third result a failure, which is
            // retried) and leases more, naming what it holds now and then (resends), until nothing is left.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in workers {
                    group.addTask {
                        var held: [TaskLease] = []
                        for round in 0..<60 {
                            let results = held.enumerated().map { index, lease in
                                LeaseLifecycleTests.result(lease, (index + round) % 3 == 0 ? .failed : .succeeded)
                            }
                            let cycled = try await queue.cycle(
                                results: results, worker: worker.workerID, max: 3, memoryBytes: 8 << 30, gpus: 0,
                                allowNetwork: false, held: round % 5 == 0 ? held.map(\.leaseID) : nil)
                            held = cycled.leases
                            if held.isEmpty && results.isEmpty && round > 0 { break }
                            if held.isEmpty { try await Task.sleep(for: .milliseconds(60)) }
                        }
                    }
                }
                try await group.waitForAll()
            }

            #expect(try await count(harness, "SELECT count(*) FROM runs") > 0)
            for (reference, query) in Self.orphans {
                let rows = try await harness.database.client.query(query)
                for try await orphans in rows.decode(Int64.self) {
                    #expect(orphans == 0, "\(reference): \(orphans) rows refer to nothing")
                }
            }
        }
    }

    @Test("workers, tasks and runs are never deleted or truncated: the database refuses it")
    func deletesAreRefused() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker(name: "kept")
            let leases = try await harness.services.queue.lease(worker: worker.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0)
            _ = try await harness.services.queue.record(results: leases.map { LeaseLifecycleTests.result($0) }, worker: worker.workerID)
            for statement in [
                "DELETE FROM workers", "DELETE FROM tasks", "DELETE FROM runs",
                "TRUNCATE workers CASCADE", "TRUNCATE tasks CASCADE", "TRUNCATE runs CASCADE",
            ] {
                let error = await #expect(throws: PSQLError.self, "\(statement) must be refused") {
                    try await harness.database.client.query(PostgresQuery(unsafeSQL: statement))
                }
                #expect(error?.serverInfo?[.sqlState] == "23503", "\(statement)")
            }
            #expect(try await count(harness, "SELECT count(*) FROM runs") == 1)
            #expect(try await count(harness, "SELECT count(*) FROM workers WHERE id = '\(worker.workerID)'") == 1)
        }
    }

    @Test("a result naming a task that does not exist stores nothing, though the database alone would take it")
    func resultsForUnknownTasksStoreNothing() async throws {
        try await CoordinatorHarness.run { harness in
            let worker = try await harness.worker(name: "stranger")
            let ghost = TaskResult(
                taskID: 987_654_321, leaseID: UUID(), outcome: .succeeded, exitCode: 0, durationSeconds: 1,
                metrics: ["accuracy": 0.9], error: nil, logTail: nil, fingerprint: nil, hardwareClass: nil)
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: [ghost]))
            #expect(receipts.results.map(\.status) == [.rejected])
            #expect(try await count(harness, "SELECT count(*) FROM runs") == 0)
            #expect(try await count(harness, "SELECT count(*) FROM run_metrics") == 0)

            // The boundary is the write path, not the schema: the same row written straight into the table is
            // taken (and rolled back here). A foreign key refused it before migration 0014.
            try await harness.database.client.withConnection { connection in
                try await connection.query("BEGIN", logger: harness.database.logger)
                try await connection.query(
                    """
                    INSERT INTO runs (task_id, study_id, lease_id, worker_id, attempt, outcome, accepted, duration_seconds)
                    VALUES (987654321, \(UUID()), \(UUID()), \(worker.workerID), 1, 'succeeded', false, 1)
                    """, logger: harness.database.logger)
                try await connection.query("ROLLBACK", logger: harness.database.logger)
            }
        }
    }

    func count(_ harness: CoordinatorHarness, _ sql: String) async throws -> Int64 {
        let rows = try await harness.database.client.query(PostgresQuery(unsafeSQL: sql))
        for try await value in rows.decode(Int64.self) { return value }
        return -1
    }
}
